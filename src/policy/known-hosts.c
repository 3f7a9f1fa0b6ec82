/* Reading known_hosts files and matching their host fields as ssh does. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "known-hosts.h"
#include "match.h"

#define KH_MAX_LINE 65536

static int decode_b64(const char *s, size_t len, uint8_t out[20])
{
	uint8_t buf[32];

	/* A SHA-1 sized value is 28 base64 characters with one '=' of padding. */
	if (len != 28 || EVP_DecodeBlock(buf, (const unsigned char *)s, 28) != 21)
		return ERR_FORMAT;
	memcpy(out, buf, 20);
	return ERR_OK;
}

static int parse_hashed(const char *field, struct kh_entry *e)
{
	const char *bar;

	/* "|1|" base64(salt) "|" base64(HMAC-SHA1(salt, name)) */
	if (strncmp(field, "|1|", 3) != 0 || (bar = strchr(field + 3, '|')) == NULL)
		return ERR_FORMAT;
	if (decode_b64(field + 3, (size_t)(bar - field - 3), e->salt) != ERR_OK ||
	    decode_b64(bar + 1, strlen(bar + 1), e->hash) != ERR_OK)
		return ERR_FORMAT;
	return ERR_OK;
}

/* Splits off the next blank-separated field; NULL at the end of the line. */
static char *next_field(char **p)
{
	char *start = *p + strspn(*p, " \t"), *end;

	if (*start == '\0')
		return NULL;
	end = start + strcspn(start, " \t");
	*p = *end ? end + 1 : end;
	*end = '\0';
	return start;
}

static int parse_line(char *line, struct kh_entry *e)
{
	char *p = line, *field, *keytext;

	memset(e, 0, sizeof(*e));
	line[strcspn(line, "\r\n")] = '\0';
	if ((field = next_field(&p)) == NULL || *field == '#')
		return ERR_INCOMPLETE;          /* blank or comment */
	if (*field == '@') {
		if (strcmp(field, "@cert-authority") == 0)
			e->marker = KH_CERT_AUTHORITY;
		else if (strcmp(field, "@revoked") == 0)
			e->marker = KH_REVOKED;
		else
			return ERR_FORMAT;
		if ((field = next_field(&p)) == NULL)
			return ERR_FORMAT;
	}
	if (*field == '|') {
		if (parse_hashed(field, e) != ERR_OK)
			return ERR_FORMAT;
	} else {
		if ((e->hosts = strdup(field)) == NULL)
			return ERR_ALLOC;
		for (char *c = e->hosts; *c; c++)      /* ssh matches host names in lower case */
			*c = (char)tolower((unsigned char)*c);
	}
	keytext = p + strspn(p, " \t");
	if (sshpub_parse_text(keytext, &e->key) != ERR_OK) {
		free(e->hosts);
		e->hosts = NULL;
		return ERR_FORMAT;
	}
	return ERR_OK;
}

static int add_file_name(struct known_hosts *kh, const char *path, const char **stored)
{
	char **files = realloc(kh->files, (kh->nfiles + 1) * sizeof(*files));

	if (files == NULL)
		return ERR_ALLOC;
	kh->files = files;
	if ((files[kh->nfiles] = strdup(path)) == NULL)
		return ERR_ALLOC;
	*stored = files[kh->nfiles++];
	return ERR_OK;
}

int known_hosts_load(struct known_hosts *kh, const char *path, struct reason *why)
{
	FILE *f;
	int r;

	if ((f = fopen(path, "re")) == NULL)
		return ERR_OK;
	r = known_hosts_read(kh, f, path, why);
	fclose(f);
	return r;
}

int known_hosts_read(struct known_hosts *kh, FILE *f, const char *path, struct reason *why)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned lineno = 0;
	const char *name;
	int r = ERR_OK;

	if (add_file_name(kh, path, &name) != ERR_OK)
		return reason_set(why, ERR_ALLOC, "out of memory");
	while (r == ERR_OK && (got = getline(&line, &cap, f)) >= 0) {
		struct kh_entry e;
		int pr;

		lineno++;
		if (got > KH_MAX_LINE) {
			kh->skipped++;
			continue;
		}
		if ((pr = parse_line(line, &e)) == ERR_INCOMPLETE)
			continue;
		if (pr == ERR_ALLOC) {
			r = reason_set(why, ERR_ALLOC, "out of memory");
		} else if (pr != ERR_OK) {
			kh->skipped++;          /* ssh skips such lines too */
		} else if (kh->n >= KNOWN_HOSTS_MAX_ENTRIES) {
			r = reason_set(why, ERR_LIMIT, "%s: more than %d known host entries", path,
			               KNOWN_HOSTS_MAX_ENTRIES);
			free(e.hosts);
			sshpub_free(&e.key);
		} else {
			if (kh->n % 64 == 0) {
				struct kh_entry *more = realloc(kh->e, (kh->n + 64) * sizeof(*more));

				if (more == NULL) {
					free(e.hosts);
					sshpub_free(&e.key);
					r = reason_set(why, ERR_ALLOC, "out of memory");
					break;
				}
				kh->e = more;
			}
			e.file = name;
			e.line = lineno;
			kh->e[kh->n++] = e;
		}
	}
	free(line);
	return r;
}

void known_hosts_free(struct known_hosts *kh)
{
	for (size_t i = 0; i < kh->n; i++) {
		free(kh->e[i].hosts);
		sshpub_free(&kh->e[i].key);
	}
	for (size_t i = 0; i < kh->nfiles; i++)
		free(kh->files[i]);
	free(kh->e);
	free(kh->files);
	memset(kh, 0, sizeof(*kh));
}

int kh_is_pattern(const char *name)
{
	return strpbrk(name, "*?") != NULL;
}

static int hashed_names(const struct kh_entry *e, const char *name)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (HMAC(EVP_sha1(), e->salt, sizeof(e->salt), (const unsigned char *)name,
	         strlen(name), md, &md_len) == NULL || md_len != sizeof(e->hash))
		return 0;
	return memcmp(md, e->hash, sizeof(e->hash)) == 0;
}

/* A pattern from a policy against each literal, non-negated name in the entry. */
static int pattern_names(const struct kh_entry *e, const char *pattern)
{
	const char *p = e->hosts;
	char one[1024];

	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (*p != '!' && n < sizeof(one)) {
			memcpy(one, p, n);
			one[n] = '\0';
			if (match_pattern(one, pattern))
				return 1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int kh_entry_names(const struct kh_entry *e, const char *name)
{
	char lower[1024];
	size_t i;

	/* ssh compares host names in lower case. */
	for (i = 0; name[i] != '\0' && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	if (name[i] != '\0')
		return 0;
	if (e->hosts == NULL)
		return !kh_is_pattern(lower) && hashed_names(e, lower);
	if (kh_is_pattern(lower))
		return pattern_names(e, lower);
	return match_pattern_list(lower, e->hosts) == 1;
}
