/* Parses OpenSSH time intervals (sshd_config(5) TIME FORMATS). */
#include <ctype.h>
#include <stddef.h>

#include "duration.h"

#define DURATION_MAX (366L * 24 * 3600)

static long unit_seconds(char c)
{
	switch (c) {
	case '\0': case 's': case 'S': return 1;
	case 'm': case 'M': return 60;
	case 'h': case 'H': return 3600;
	case 'd': case 'D': return 86400;
	case 'w': case 'W': return 7 * 86400;
	default: return -1;
	}
}

long duration_parse(const char *text)
{
	long total = 0, value, unit;
	const char *p = text;

	if (p == NULL || *p == '\0')
		return -1;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			return -1;
		for (value = 0; isdigit((unsigned char)*p); p++) {
			value = value * 10 + (*p - '0');
			if (value > DURATION_MAX)
				return -1;
		}
		if ((unit = unit_seconds(*p)) < 0)
			return -1;
		if (*p != '\0')
			p++;
		total += value * unit;
		if (total > DURATION_MAX)
			return -1;
	}
	return total;
}
