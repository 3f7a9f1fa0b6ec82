/* A small JSON reader for audit lines: objects of strings, numbers, null, true, false. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audit-read.h"

#define MAX_DEPTH 8

/* The bounded cursor: every read checks the end. */
struct cursor {
	const char *p;
	size_t len, at;
};

static int peek(const struct cursor *c)
{
	return c->at < c->len ? (unsigned char)c->p[c->at] : -1;
}

static int next(struct cursor *c)
{
	return c->at < c->len ? (unsigned char)c->p[c->at++] : -1;
}

static void skip_ws(struct cursor *c)
{
	int ch;

	while ((ch = peek(c)) == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
		c->at++;
}

static int expect(struct cursor *c, int want)
{
	skip_ws(c);
	return next(c) == want ? ERR_OK : ERR_FORMAT;
}

static int expect_word(struct cursor *c, const char *word)
{
	for (; *word; word++)
		if (next(c) != (unsigned char)*word)
			return ERR_FORMAT;
	return ERR_OK;
}

static int hex4(struct cursor *c, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int ch = next(c);

		if (ch >= '0' && ch <= '9')
			*v = *v << 4 | (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			*v = *v << 4 | (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			*v = *v << 4 | (unsigned)(ch - 'A' + 10);
		else
			return ERR_FORMAT;
	}
	return ERR_OK;
}

/* Appends a byte if there is room (keeping one for the NUL); a value too long is cut. */
static void put(char *out, size_t size, size_t *n, unsigned char b)
{
	if (out != NULL && *n + 1 < size)
		out[(*n)++] = (char)b;
}

/* A code point as UTF-8; surrogates and NUL are refused. */
static int put_utf8(char *out, size_t size, size_t *n, unsigned u)
{
	if (u == 0 || (u >= 0xd800 && u <= 0xdfff))
		return ERR_FORMAT;
	if (u < 0x80) {
		put(out, size, n, (unsigned char)u);
	} else if (u < 0x800) {
		put(out, size, n, (unsigned char)(0xc0 | u >> 6));
		put(out, size, n, (unsigned char)(0x80 | (u & 0x3f)));
	} else {
		put(out, size, n, (unsigned char)(0xe0 | u >> 12));
		put(out, size, n, (unsigned char)(0x80 | (u >> 6 & 0x3f)));
		put(out, size, n, (unsigned char)(0x80 | (u & 0x3f)));
	}
	return ERR_OK;
}

/* A string after its opening quote, into out (NULL: skipped). */
static int string_body(struct cursor *c, char *out, size_t size)
{
	static const char plain[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";
	size_t n = 0;
	unsigned u;
	int ch;

	for (;;) {
		if ((ch = next(c)) < 0 || ch < 0x20)
			return ERR_FORMAT;
		if (ch == '"')
			break;
		if (ch != '\\') {
			put(out, size, &n, (unsigned char)ch);
			continue;
		}
		if ((ch = next(c)) == 'u') {
			if (hex4(c, &u) != ERR_OK || put_utf8(out, size, &n, u) != ERR_OK)
				return ERR_FORMAT;
		} else if (ch > 0 && strchr(plain, ch) != NULL) {
			put(out, size, &n, (unsigned char)meant[strchr(plain, ch) - plain]);
		} else {
			return ERR_FORMAT;
		}
	}
	if (out != NULL && size > 0)
		out[n] = '\0';
	return ERR_OK;
}

/* An integer (audit numbers are pids, uids and slots); fractions and exponents refused. */
static int number(struct cursor *c, long *v)
{
	int neg = 0, digits = 0, ch;
	long n = 0;

	if (peek(c) == '-') {
		neg = 1;
		c->at++;
	}
	while ((ch = peek(c)) >= '0' && ch <= '9') {
		if (n > (LONG_MAX - (ch - '0')) / 10)
			return ERR_FORMAT;
		n = n * 10 + (ch - '0');
		c->at++;
		digits++;
	}
	if (digits == 0)
		return ERR_FORMAT;
	*v = neg ? -n : n;
	return ERR_OK;
}

static int value(struct cursor *c, int depth, char *out, size_t size, long *num,
                 size_t *elements);

/* An array or object after its bracket; counts elements (hops). */
static int compound(struct cursor *c, int close, int depth, size_t *elements)
{
	size_t n = 0;
	long ignored;

	if (depth >= MAX_DEPTH)
		return ERR_FORMAT;
	skip_ws(c);
	if (peek(c) == close) {
		c->at++;
		goto done;
	}
	for (;;) {
		if (close == '}') {
			if (expect(c, '"') != ERR_OK || string_body(c, NULL, 0) != ERR_OK ||
			    expect(c, ':') != ERR_OK)
				return ERR_FORMAT;
		}
		if (value(c, depth + 1, NULL, 0, &ignored, NULL) != ERR_OK)
			return ERR_FORMAT;
		n++;
		skip_ws(c);
		if (peek(c) == close) {
			c->at++;
			break;
		}
		if (next(c) != ',')
			return ERR_FORMAT;
	}
done:
	if (elements != NULL)
		*elements = n;
	return ERR_OK;
}

static int value(struct cursor *c, int depth, char *out, size_t size, long *num,
                 size_t *elements)
{
	skip_ws(c);
	switch (peek(c)) {
	case '"': c->at++; return string_body(c, out, size);
	case '{': c->at++; return compound(c, '}', depth, elements);
	case '[': c->at++; return compound(c, ']', depth, elements);
	case 'n': return expect_word(c, "null");
	case 't': return expect_word(c, "true");
	case 'f': return expect_word(c, "false");
	}
	return number(c, num);
}

/* 2026-11-29T19:30:01.123Z, in UTC, as audit.c writes it. */
static time_t parse_time(const char *s)
{
	struct tm tm;
	int ms = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

struct known {
	const char *name;
	size_t offset, size;    /* a string field of struct audit_entry */
};

#define FIELD(f) { #f, offsetof(struct audit_entry, f), sizeof(((struct audit_entry *)0)->f) }
static const struct known fields[] = {
	FIELD(time), FIELD(event), FIELD(decision), FIELD(rule), FIELD(reason), FIELD(exe),
	FIELD(key), FIELD(key_comment), FIELD(key_source), FIELD(dest_host_key),
	FIELD(dest_name), FIELD(user),
};

int audit_entry_parse(const char *line, size_t len, struct audit_entry *e)
{
	struct cursor c = { line, len, 0 };
	char name[32];

	memset(e, 0, sizeof(*e));
	if (expect(&c, '{') != ERR_OK)
		return ERR_FORMAT;
	skip_ws(&c);
	if (peek(&c) == '}') {
		c.at++;
		goto end;
	}
	for (;;) {
		const struct known *k = NULL;
		char *out = NULL;
		size_t size = 0, *elements = NULL;
		long num = 0;

		if (expect(&c, '"') != ERR_OK || string_body(&c, name, sizeof(name)) != ERR_OK ||
		    expect(&c, ':') != ERR_OK)
			return ERR_FORMAT;
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && k == NULL; i++)
			if (strcmp(name, fields[i].name) == 0)
				k = &fields[i];
		if (k != NULL) {
			out = (char *)e + k->offset;
			size = k->size;
		}
		if (strcmp(name, "hops") == 0)
			elements = &e->nhops;
		if (value(&c, 1, out, size, &num, elements) != ERR_OK)
			return ERR_FORMAT;
		if (strcmp(name, "pid") == 0)
			e->pid = num;
		else if (strcmp(name, "uid") == 0)
			e->uid = num;
		skip_ws(&c);
		if (peek(&c) == '}') {
			c.at++;
			break;
		}
		if (next(&c) != ',')
			return ERR_FORMAT;
	}
end:
	skip_ws(&c);
	if (c.at != c.len)
		return ERR_FORMAT;
	e->when = parse_time(e->time);
	return ERR_OK;
}
