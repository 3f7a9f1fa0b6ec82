/* Typed, position-aware access to a libyaml document: every error names file:line:column. */
#ifndef P11G_YAML_WALK_H
#define P11G_YAML_WALK_H

#include <yaml.h>

#include "err.h"

struct ywalk {
	yaml_document_t doc;
	const char *file;
	struct reason *why;
};

/* Parses `text`; a syntax error is reported at its position. */
int yw_load(struct ywalk *w, const char *file, const char *text, size_t len,
            struct reason *why) __attribute__((warn_unused_result));
void yw_free(struct ywalk *w);
yaml_node_t *yw_root(struct ywalk *w);

int yw_error(struct ywalk *w, const yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Requires a mapping whose keys are all in `allowed` (NULL-terminated), each once. */
int yw_mapping(struct ywalk *w, yaml_node_t *n, const char *what,
               const char *const allowed[]) __attribute__((warn_unused_result));
int yw_sequence(struct ywalk *w, yaml_node_t *n, const char *what)
	__attribute__((warn_unused_result));
/* The value node for `key` in a mapping already checked by yw_mapping, or NULL. */
yaml_node_t *yw_get(struct ywalk *w, yaml_node_t *map, const char *key);
/* A scalar's text; `what` names it in the error. */
int yw_string(struct ywalk *w, yaml_node_t *n, const char *what, const char **out)
	__attribute__((warn_unused_result));
/* true or false, as written; anything else is an error naming `what`. */
int yw_bool(struct ywalk *w, yaml_node_t *n, const char *what, int *out)
	__attribute__((warn_unused_result));
size_t yw_seq_len(const yaml_node_t *seq);
yaml_node_t *yw_seq_item(struct ywalk *w, yaml_node_t *seq, size_t i);

#endif
