/* Wildcard matching with the exact semantics OpenSSH uses for hosts and users. */
#include <string.h>

#include "match.h"

int match_pattern(const char *s, const char *pattern)
{
	/* Iterative with one backtrack point: linear-ish time, no recursion to blow up. */
	const char *star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*pattern == '*') {
			star = pattern++;
			resume = s;
		} else if (*pattern == '?' || *pattern == *s) {
			pattern++;
			s++;
		} else if (star != NULL) {
			pattern = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

int match_pattern_list(const char *s, const char *list)
{
	char one[1024];
	int got_positive = 0;

	while (*list != '\0') {
		size_t n = strcspn(list, ",");
		int negated = *list == '!';
		const char *p = list + negated;
		size_t plen = n - (size_t)negated;

		if (plen < sizeof(one)) {
			memcpy(one, p, plen);
			one[plen] = '\0';
			if (match_pattern(s, one)) {
				if (negated)
					return -1;
				got_positive = 1;
			}
		}
		list += n;
		if (*list == ',')
			list++;
	}
	return got_positive;
}
