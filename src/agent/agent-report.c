/*
 * What the agent tells `p11guard status` and `p11guard why`, in SSH wire encoding (the
 * format is in p11guard-agent(1), EXTENSIONS; src/cli/cli-report.c reads it).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define STATUS_VERSION 2
#define MAX_STATUS_TOKENS 64

static const char *pin_state(struct p11_token *t)
{
	if ((p11_token_describe(t)->flags & P11_LOGIN_REQUIRED) == 0)
		return "not needed";
	switch (p11_token_pin_cached(t)) {
	case 1: return "cached";
	case 0: return "not cached";
	}
	return "logging in";
}

static const char *tries_state(const struct p11_token *t)
{
	unsigned long f = p11_token_describe(t)->flags;

	return f & P11_PIN_LOCKED ? "locked" : f & P11_PIN_FINAL_TRY ? "final try" :
	       f & P11_PIN_COUNT_LOW ? "low" : "ok";
}

/* One row: entry name, present, token label, PIN state, PIN tries. */
static int put_token(struct wbuf *b, const char *name, struct p11_token *t)
{
	int r;

	if ((r = wbuf_put_cstring(b, name)) != ERR_OK ||
	    (r = wbuf_put_u8(b, t != NULL)) != ERR_OK ||
	    (r = wbuf_put_cstring(b, t ? p11_token_describe(t)->label : "")) != ERR_OK ||
	    (r = wbuf_put_cstring(b, t ? pin_state(t) : "")) != ERR_OK)
		return r;
	return wbuf_put_cstring(b, t ? tries_state(t) : "");
}

/* The configured entries, by name; copied under the lock a reload swaps them under. */
static size_t configured_names(struct agent *a, char **names, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&a->policy_lock);
	for (size_t i = 0; i < a->nserved && n < max; i++)
		if ((names[n] = strdup(a->served[i].name)) != NULL)
			n++;
	pthread_mutex_unlock(&a->policy_lock);
	return n;
}

/* Each configured entry's tokens, a row each; an entry with none present is one row. */
static int put_tokens(struct agent *a, struct wbuf *rows, uint32_t *count)
{
	char *names[MAX_STATUS_TOKENS];
	size_t n = configured_names(a, names, MAX_STATUS_TOKENS);
	int r = ERR_OK;

	*count = 0;
	for (size_t i = 0; i < n; i++) {
		struct ks_source *src = agent_configured_source(a, names[i]);
		size_t ntok = src != NULL ? src->ntokens : 0;

		for (size_t k = 0; k < ntok && r == ERR_OK && *count < MAX_STATUS_TOKENS; k++) {
			r = put_token(rows, names[i], src->tokens[k]);
			(*count)++;
		}
		if (ntok == 0 && r == ERR_OK && *count < MAX_STATUS_TOKENS) {
			r = put_token(rows, names[i], NULL);
			(*count)++;
		}
		if (src != NULL)
			keystore_release(&a->keys, &src, 1);
		free(names[i]);
	}
	return r;
}

int agent_report_status(struct agent *a, struct wbuf *out)
{
	struct policy *pol = agent_policy(a);
	struct wbuf rows;
	char error[sizeof(a->last_reload_error)];
	uint32_t ntokens = 0;
	time_t loaded;
	int r;

	wbuf_init(&rows, SSHAGENT_MAX_MESSAGE / 2);
	pthread_mutex_lock(&a->policy_lock);
	loaded = a->config_loaded;
	memcpy(error, a->last_reload_error, sizeof(error));
	pthread_mutex_unlock(&a->policy_lock);
	if ((r = wbuf_put_u32(out, STATUS_VERSION)) != ERR_OK ||
	    (r = wbuf_put_u32(out, (uint32_t)getpid())) != ERR_OK ||
	    (r = wbuf_put_cstring(out, a->socket_path)) != ERR_OK ||
	    (r = wbuf_put_u64(out, (uint64_t)a->started)) != ERR_OK ||
	    (r = wbuf_put_cstring(out, a->config_path ? a->config_path : "<built-in>")) != ERR_OK ||
	    (r = wbuf_put_u64(out, (uint64_t)loaded)) != ERR_OK ||
	    (r = wbuf_put_cstring(out, error)) != ERR_OK ||
	    (r = wbuf_put_cstring(out, pol->file)) != ERR_OK ||
	    (r = wbuf_put_u32(out, (uint32_t)pol->nrules)) != ERR_OK ||
	    (r = wbuf_put_u8(out, pol->builtin != 0)) != ERR_OK ||
	    (r = put_tokens(a, &rows, &ntokens)) != ERR_OK ||
	    (r = wbuf_put_u32(out, ntokens)) != ERR_OK ||
	    (r = wbuf_put_bytes(out, wbuf_ptr(&rows), wbuf_avail(&rows))) != ERR_OK)
		goto out;
	if ((r = wbuf_put_u8(out, agent_is_locked(a) != 0)) == ERR_OK)
		r = agent_guard_report(out);
out:
	wbuf_free(&rows);
	policy_unref(pol);
	return r;
}

static int put_refusal(struct wbuf *b, const struct refusal *f)
{
	int r;

	if ((r = wbuf_put_u64(b, (uint64_t)f->when)) != ERR_OK ||
	    (r = wbuf_put_u32(b, (uint32_t)f->pid)) != ERR_OK ||
	    (r = wbuf_put_u32(b, (uint32_t)f->uid)) != ERR_OK ||
	    (r = wbuf_put_cstring(b, f->what)) != ERR_OK ||
	    (r = wbuf_put_cstring(b, f->ctx.key)) != ERR_OK ||
	    (r = wbuf_put_cstring(b, f->ctx.key_label)) != ERR_OK ||
	    (r = wbuf_put_cstring(b, f->ctx.dest)) != ERR_OK ||
	    (r = wbuf_put_cstring(b, f->ctx.rule)) != ERR_OK)
		return r;
	return wbuf_put_cstring(b, f->reason);
}

/* Filters: none, or two strings (a key's fingerprint or label part, a destination part). */
int agent_report_refusals(struct agent *a, const struct sshagent_bytes *filters,
                          struct wbuf *out, struct reason *why)
{
	struct refusal *list = calloc(REFUSALS_KEPT, sizeof(*list));
	char *key = NULL, *dest = NULL;
	struct wbuf in;
	size_t n = 0;
	int r = ERR_OK;

	if (list == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	wbuf_view(&in, filters->data, filters->len);
	if (filters->len > 0 && (wbuf_get_cstring(&in, &key) != ERR_OK ||
	                         wbuf_get_cstring(&in, &dest) != ERR_OK || wbuf_avail(&in) != 0))
		r = reason_set(why, ERR_FORMAT, "why@p11guard: expected nothing, or two strings "
		               "(key, destination)");
	if (r == ERR_OK)
		n = refusals_newest(&a->refusals, key, dest, list, REFUSALS_KEPT);
	if (r == ERR_OK && wbuf_put_u32(out, (uint32_t)n) != ERR_OK)
		r = reason_set(why, ERR_TOO_LARGE, "the answer is too large");
	for (size_t i = 0; i < n && r == ERR_OK; i++)
		if (put_refusal(out, &list[i]) != ERR_OK)
			r = reason_set(why, ERR_TOO_LARGE, "the answer is too large");
	free(key);
	free(dest);
	free(list);
	return r;
}
