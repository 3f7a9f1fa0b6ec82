/* OpenSSH's pattern language ('*' and '?', comma lists with '!' negation) for names and users. */
#ifndef P11G_MATCH_H
#define P11G_MATCH_H

/* Whether `s` matches one pattern of '*' and '?' wildcards (case-sensitive). */
int match_pattern(const char *s, const char *pattern);
/*
 * Matches `s` against a comma-separated list: 1 when a positive pattern matches and no
 * negated one does, -1 when a negated pattern matches, 0 otherwise.
 */
int match_pattern_list(const char *s, const char *list);

#endif
