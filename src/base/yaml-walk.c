/* Walking libyaml documents with precise, human errors instead of silent defaults. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "yaml-walk.h"

int yw_load(struct ywalk *w, const char *file, const char *text, size_t len,
            struct reason *why)
{
	yaml_parser_t parser;
	int r = ERR_OK;

	memset(w, 0, sizeof(*w));
	w->file = file;
	w->why = why;
	if (!yaml_parser_initialize(&parser))
		return reason_set(why, ERR_ALLOC, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &w->doc)) {
		r = reason_set(why, ERR_CONFIG, "%s:%zu:%zu: %s%s%s", file,
		               parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		               parser.problem ? parser.problem : "invalid YAML",
		               parser.context ? " " : "", parser.context ? parser.context : "");
		memset(&w->doc, 0, sizeof(w->doc));
	}
	yaml_parser_delete(&parser);
	return r;
}

void yw_free(struct ywalk *w)
{
	yaml_document_delete(&w->doc);
}

yaml_node_t *yw_root(struct ywalk *w)
{
	return yaml_document_get_root_node(&w->doc);
}

int yw_error(struct ywalk *w, const yaml_node_t *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return reason_set(w->why, ERR_CONFIG, "%s:%zu:%zu: %s", w->file,
	                  at ? at->start_mark.line + 1 : 1, at ? at->start_mark.column + 1 : 1, msg);
}

static const char *scalar_text(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void join_allowed(const char *const allowed[], char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; allowed[i] != NULL && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", allowed[i]);
}

int yw_mapping(struct ywalk *w, yaml_node_t *n, const char *what, const char *const allowed[])
{
	yaml_node_pair_t *pair, *prev;
	yaml_node_t *key;
	const char *name;
	char list[256];
	int known;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return yw_error(w, n, "expected a mapping for %s", what);
	join_allowed(allowed, list, sizeof(list));
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		key = yaml_document_get_node(&w->doc, pair->key);
		if ((name = scalar_text(key)) == NULL)
			return yw_error(w, key, "expected a plain key in %s", what);
		known = 0;
		for (size_t i = 0; allowed[i] != NULL; i++)
			known |= strcmp(allowed[i], name) == 0;
		if (!known)
			return yw_error(w, key, "unknown key \"%s\" in %s (expected one of: %s)",
			                name, what, list);
		for (prev = n->data.mapping.pairs.start; prev < pair; prev++)
			if (strcmp(scalar_text(yaml_document_get_node(&w->doc, prev->key)), name) == 0)
				return yw_error(w, key, "duplicate key \"%s\" in %s", name, what);
	}
	return ERR_OK;
}

int yw_sequence(struct ywalk *w, yaml_node_t *n, const char *what)
{
	if (n == NULL || n->type != YAML_SEQUENCE_NODE)
		return yw_error(w, n, "expected a list for %s", what);
	return ERR_OK;
}

yaml_node_t *yw_get(struct ywalk *w, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;
	const char *name;

	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		name = scalar_text(yaml_document_get_node(&w->doc, pair->key));
		if (name != NULL && strcmp(name, key) == 0)
			return yaml_document_get_node(&w->doc, pair->value);
	}
	return NULL;
}

int yw_string(struct ywalk *w, yaml_node_t *n, const char *what, const char **out)
{
	if ((*out = scalar_text(n)) == NULL)
		return yw_error(w, n, "expected a string for %s", what);
	if (**out == '\0')
		return yw_error(w, n, "expected a non-empty string for %s", what);
	return ERR_OK;
}

size_t yw_seq_len(const yaml_node_t *seq)
{
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *yw_seq_item(struct ywalk *w, yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(&w->doc, seq->data.sequence.items.start[i]);
}

int yw_bool(struct ywalk *w, yaml_node_t *n, const char *what, int *out)
{
	const char *s;
	int r;

	if ((r = yw_string(w, n, what, &s)) != ERR_OK)
		return r;
	if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
		return yw_error(w, n, "expected true or false for %s, not \"%s\"", what, s);
	*out = strcmp(s, "true") == 0;
	return ERR_OK;
}
