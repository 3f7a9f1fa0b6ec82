/* The JSON writer. */
#include <stdio.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, size_t max)
{
	memset(j, 0, sizeof(*j));
	wbuf_init(&j->b, max);
	j->ok = 1;
}

void json_free(struct json *j)
{
	wbuf_free(&j->b);
}

static void raw(struct json *j, const char *s, size_t n)
{
	if (wbuf_put_bytes(&j->b, s, n) != ERR_OK)
		j->ok = 0;
}

/* Before a value: a comma when it is not the first in its array (keys put their own). */
static void separate(struct json *j)
{
	if (j->depth > 0 && j->need_comma[j->depth - 1])
		raw(j, ",", 1);
	if (j->depth > 0)
		j->need_comma[j->depth - 1] = 1;
}

void json_open(struct json *j, char bracket)
{
	separate(j);
	raw(j, &bracket, 1);
	if (j->depth >= JSON_MAX_DEPTH) {
		j->ok = 0;
		return;
	}
	j->need_comma[j->depth++] = 0;
}

void json_close(struct json *j, char bracket)
{
	raw(j, &bracket, 1);
	if (j->depth > 0)
		j->depth--;
}

static void quoted(struct json *j, const char *s)
{
	char esc[8];

	raw(j, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			snprintf(esc, sizeof(esc), "\\%c", c);
			raw(j, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			raw(j, esc, 6);
		} else {
			raw(j, (const char *)&c, 1);
		}
	}
	raw(j, "\"", 1);
}

void json_key(struct json *j, const char *name)
{
	separate(j);
	quoted(j, name);
	raw(j, ":", 1);
	/* The value that follows is not a new element. */
	if (j->depth > 0)
		j->need_comma[j->depth - 1] = 0;
}

/* A value ends an element: the next key or value needs a comma. */
static void done(struct json *j)
{
	if (j->depth > 0)
		j->need_comma[j->depth - 1] = 1;
}

void json_str(struct json *j, const char *s)
{
	separate(j);
	if (s == NULL)
		raw(j, "null", 4);
	else
		quoted(j, s);
	done(j);
}

void json_num(struct json *j, long long v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", v);

	separate(j);
	raw(j, num, (size_t)n);
	done(j);
}

void json_bool(struct json *j, int v)
{
	separate(j);
	raw(j, v ? "true" : "false", v ? 4 : 5);
	done(j);
}

void json_field(struct json *j, const char *name, const char *value)
{
	json_key(j, name);
	json_str(j, value);
}

void json_field_num(struct json *j, const char *name, long long v)
{
	json_key(j, name);
	json_num(j, v);
}
