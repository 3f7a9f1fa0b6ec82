/*
 * JSON out, built in a bounded wbuf: the audit trail's lines and the CLI's --json. Strings
 * are escaped (quotes, backslashes, control bytes); `ok` falls to 0 for good once the text
 * outgrows the buffer's cap, and the caller then drops it.
 */
#ifndef P11G_JSON_H
#define P11G_JSON_H

#include "err.h"
#include "wire.h"

#define JSON_MAX_DEPTH 8

struct json {
	struct wbuf b;
	int ok;
	int depth;
	int need_comma[JSON_MAX_DEPTH];
};

void json_init(struct json *j, size_t max);
void json_free(struct json *j);
void json_open(struct json *j, char bracket);   /* '{' or '[' */
void json_close(struct json *j, char bracket);  /* '}' or ']' */
/* "name": inside an object; the value follows. */
void json_key(struct json *j, const char *name);
void json_str(struct json *j, const char *s);   /* NULL is null */
void json_num(struct json *j, long long v);
void json_bool(struct json *j, int v);
/* A string field, a number field: key and value. */
void json_field(struct json *j, const char *name, const char *value);
void json_field_num(struct json *j, const char *name, long long v);

#endif
