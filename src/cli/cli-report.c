/* Reading the agent's status and refusal reports; their layout is in p11guard-agent(1). */
#include <stdlib.h>
#include <string.h>

#include "cli-report.h"
#include "wire.h"

#define STATUS_VERSION 2

static int get_flag(struct wbuf *b, int *v)
{
	uint8_t u;
	int r;

	if ((r = wbuf_get_u8(b, &u)) != ERR_OK)
		return r;
	if (u > 1)
		return ERR_FORMAT;
	*v = u;
	return ERR_OK;
}

/* A count of rows that cannot be more than the bytes left could hold. */
static int get_count(struct wbuf *b, size_t min_row, size_t *n)
{
	uint32_t v;
	int r;

	if ((r = wbuf_get_u32(b, &v)) != ERR_OK)
		return r;
	if (v > REPORT_MAX_ROWS || (size_t)v * min_row > wbuf_avail(b))
		return ERR_FORMAT;
	*n = v;
	return ERR_OK;
}

static int get_token(struct wbuf *b, struct status_token *t)
{
	int r;

	if ((r = wbuf_get_cstring(b, &t->name)) != ERR_OK ||
	    (r = get_flag(b, &t->present)) != ERR_OK ||
	    (r = wbuf_get_cstring(b, &t->label)) != ERR_OK ||
	    (r = wbuf_get_cstring(b, &t->pin)) != ERR_OK)
		return r;
	return wbuf_get_cstring(b, &t->tries);
}

int status_decode(const uint8_t *p, size_t len, struct agent_status *st, struct reason *why)
{
	struct wbuf b;
	uint32_t version;
	int r;

	memset(st, 0, sizeof(*st));
	wbuf_view(&b, p, len);
	if ((r = wbuf_get_u32(&b, &version)) != ERR_OK)
		goto bad;
	if (version != STATUS_VERSION)
		return reason_set(why, ERR_UNSUPPORTED, "the agent's status is version %u; this "
		                  "p11guard reads version %u (the two come from different releases)",
		                  version, STATUS_VERSION);
	if ((r = wbuf_get_u32(&b, &st->pid)) != ERR_OK ||
	    (r = wbuf_get_cstring(&b, &st->socket)) != ERR_OK ||
	    (r = wbuf_get_u64(&b, &st->started)) != ERR_OK ||
	    (r = wbuf_get_cstring(&b, &st->config)) != ERR_OK ||
	    (r = wbuf_get_u64(&b, &st->config_loaded)) != ERR_OK ||
	    (r = wbuf_get_cstring(&b, &st->reload_error)) != ERR_OK ||
	    (r = wbuf_get_cstring(&b, &st->policy_file)) != ERR_OK ||
	    (r = wbuf_get_u32(&b, &st->rules)) != ERR_OK ||
	    (r = get_flag(&b, &st->builtin)) != ERR_OK ||
	    (r = get_count(&b, 17, &st->ntokens)) != ERR_OK)
		goto bad;
	if (st->ntokens > 0 && (st->tokens = calloc(st->ntokens, sizeof(*st->tokens))) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	for (size_t i = 0; i < st->ntokens; i++)
		if ((r = get_token(&b, &st->tokens[i])) != ERR_OK)
			goto bad;
	if ((r = get_flag(&b, &st->locked)) != ERR_OK ||
	    (r = get_count(&b, 16, &st->nsessions)) != ERR_OK)
		goto bad;
	if (st->nsessions > 0 &&
	    (st->sessions = calloc(st->nsessions, sizeof(*st->sessions))) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	for (size_t i = 0; i < st->nsessions; i++) {
		struct status_session *s = &st->sessions[i];

		if ((r = wbuf_get_cstring(&b, &s->id)) != ERR_OK ||
		    (r = wbuf_get_cstring(&b, &s->server)) != ERR_OK ||
		    (r = wbuf_get_cstring(&b, &s->user)) != ERR_OK ||
		    (r = wbuf_get_cstring(&b, &s->command)) != ERR_OK)
			goto bad;
	}
	if (wbuf_avail(&b) == 0)
		return ERR_OK;
	r = ERR_FORMAT;
bad:
	return reason_set(why, r, "the agent's status answer is malformed");
}

void status_free(struct agent_status *st)
{
	for (size_t i = 0; st->tokens != NULL && i < st->ntokens; i++) {
		free(st->tokens[i].name);
		free(st->tokens[i].label);
		free(st->tokens[i].pin);
		free(st->tokens[i].tries);
	}
	free(st->tokens);
	for (size_t i = 0; st->sessions != NULL && i < st->nsessions; i++) {
		free(st->sessions[i].id);
		free(st->sessions[i].server);
		free(st->sessions[i].user);
		free(st->sessions[i].command);
	}
	free(st->sessions);
	free(st->socket);
	free(st->config);
	free(st->reload_error);
	free(st->policy_file);
	memset(st, 0, sizeof(*st));
}

static int get_row(struct wbuf *b, struct refusal_row *f)
{
	int r;

	if ((r = wbuf_get_u64(b, &f->when)) != ERR_OK || (r = wbuf_get_u32(b, &f->pid)) != ERR_OK ||
	    (r = wbuf_get_u32(b, &f->uid)) != ERR_OK ||
	    (r = wbuf_get_cstring(b, &f->what)) != ERR_OK ||
	    (r = wbuf_get_cstring(b, &f->key)) != ERR_OK ||
	    (r = wbuf_get_cstring(b, &f->key_label)) != ERR_OK ||
	    (r = wbuf_get_cstring(b, &f->dest)) != ERR_OK ||
	    (r = wbuf_get_cstring(b, &f->rule)) != ERR_OK)
		return r;
	return wbuf_get_cstring(b, &f->reason);
}

int refusals_decode(const uint8_t *p, size_t len, struct refusal_rows *rows,
                    struct reason *why)
{
	struct wbuf b;
	int r;

	memset(rows, 0, sizeof(*rows));
	wbuf_view(&b, p, len);
	if ((r = get_count(&b, 40, &rows->n)) != ERR_OK)
		return reason_set(why, r, "the agent's refusal list is malformed");
	if (rows->n > 0 && (rows->row = calloc(rows->n, sizeof(*rows->row))) == NULL) {
		rows->n = 0;
		return reason_set(why, ERR_ALLOC, "out of memory");
	}
	for (size_t i = 0; i < rows->n; i++)
		if ((r = get_row(&b, &rows->row[i])) != ERR_OK)
			return reason_set(why, r, "the agent's refusal list is malformed");
	if (wbuf_avail(&b) != 0)
		return reason_set(why, ERR_FORMAT, "the agent's refusal list is malformed");
	return ERR_OK;
}

void refusals_rows_free(struct refusal_rows *rows)
{
	for (size_t i = 0; rows->row != NULL && i < rows->n; i++) {
		struct refusal_row *f = &rows->row[i];

		free(f->what);
		free(f->key);
		free(f->key_label);
		free(f->dest);
		free(f->rule);
		free(f->reason);
	}
	free(rows->row);
	memset(rows, 0, sizeof(*rows));
}
