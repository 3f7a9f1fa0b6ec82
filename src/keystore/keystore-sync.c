/*
 * Hot-plug, seen from the identity list: each source's tokens are re-read, and a source
 * whose tokens changed is replaced by a new one, so a worker signing with the old one keeps
 * a consistent view until it is done. Cached PINs expire here too.
 */
#include <stdio.h>
#include <string.h>

#include "keystore.h"
#include "log.h"

static void describe(const struct p11_token *t, char *buf, size_t size)
{
	const struct p11_token_desc *d = p11_token_describe(t);

	snprintf(buf, size, "%s (%s %s #%s)", d->label, d->manufacturer, d->model, d->serial);
}

static int same_listed(struct p11_token *const *list, size_t n, const struct p11_token *t)
{
	for (size_t i = 0; i < n; i++)
		if (p11_token_same(list[i], t))
			return 1;
	return 0;
}

/* Says what came and went; removed tokens that keep their PIN are remembered. */
static void note_changes(const struct ks_source *old, struct ks_source *next)
{
	char name[160];

	for (size_t i = 0; i < old->ntokens; i++) {
		if (p11_tokens_contain(next->tokens, next->ntokens, old->tokens[i]))
			continue;
		describe(old->tokens[i], name, sizeof(name));
		log_info("token \"%s\": %s removed; its keys are withdrawn", old->name, name);
		if (next->cache.keep_on_removal && next->nkept < KS_MAX_KEPT) {
			p11_token_ref(old->tokens[i]);
			next->kept[next->nkept++] = old->tokens[i];
		}
	}
	for (size_t i = 0; i < next->ntokens; i++) {
		if (p11_tokens_contain(old->tokens, old->ntokens, next->tokens[i]))
			continue;
		describe(next->tokens[i], name, sizeof(name));
		log_info("token \"%s\": %s inserted, %zu key(s)", old->name, name,
		         p11_token_nkeys(next->tokens[i]));
		/* A token back in a slot takes the PIN it kept, if any. */
		for (size_t k = 0; k < old->nkept; k++)
			if (p11_token_same(old->kept[k], next->tokens[i]))
				p11_token_take_pin(next->tokens[i], old->kept[k]);
	}
	for (size_t k = 0; k < old->nkept && next->nkept < KS_MAX_KEPT; k++) {
		if (same_listed(next->tokens, next->ntokens, old->kept[k]))
			continue;       /* back: its PIN moved above */
		p11_token_ref(old->kept[k]);
		next->kept[next->nkept++] = old->kept[k];
	}
}

/* Logs a rescan failure once, not at every tick. */
static void note_error(struct ks_source *src, const struct reason *why)
{
	const char *text = why->code == ERR_OK ? "" : why->text;

	if (strcmp(src->last_error, text) == 0)
		return;
	if (text[0] != '\0')
		log_warn("token \"%s\": %s", src->name, text);
	else
		log_info("token \"%s\": module answers again", src->name);
	snprintf(src->last_error, sizeof(src->last_error), "%s", text);
}

static void rescan_source(struct keystore *ks, struct ks_source *src)
{
	struct p11_token **tokens;
	struct ks_source *next;
	struct reason why;
	size_t n;
	int changed;

	reason_clear(&why);
	if (src->module == NULL)
		return;         /* a software key: nothing to rescan */
	if (p11_tokens_refresh(src->module, src->uri, src->tokens, src->ntokens, &tokens, &n,
	                       &changed, &why) != ERR_OK && tokens == NULL) {
		note_error(src, &why);
		return;
	}
	note_error(src, &why);
	if (!changed) {
		p11_tokens_unref(tokens, n);
		return;
	}
	if ((next = ks_source_renew(src, tokens, n)) == NULL) {
		log_error("token \"%s\": out of memory on rescan", src->name);
		return;
	}
	note_changes(src, next);
	if (!keystore_replace(ks, src, next))
		ks_source_unref(next);  /* removed meanwhile (ssh-add -e) */
}

static void expire_pins(const struct ks_source *src, time_t now)
{
	char name[160];

	for (size_t i = 0; i < src->ntokens; i++) {
		if (p11_token_expire_pin(src->tokens[i], now)) {
			describe(src->tokens[i], name, sizeof(name));
			log_info("token \"%s\": %s: PIN cache expired, logged out", src->name, name);
		}
	}
}

void keystore_rescan(struct keystore *ks)
{
	struct ks_source *srcs[KEYSTORE_MAX_SOURCES];
	size_t n = keystore_snapshot(ks, srcs, KEYSTORE_MAX_SOURCES);
	time_t now = time(NULL);

	for (size_t i = 0; i < n; i++) {
		expire_pins(srcs[i], now);
		rescan_source(ks, srcs[i]);
	}
	keystore_release(ks, srcs, n);
}
