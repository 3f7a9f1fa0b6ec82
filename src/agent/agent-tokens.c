/*
 * The configuration's tokens: served at start-up and again on every reload. A reload
 * serves new entries, drops removed ones, replaces changed ones and brings back ones that
 * ssh-add -D took; an entry that stayed keeps its source, its keys and its cached PINs
 * (only its certificate files are read again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"

static void serve_token(struct agent *a, const struct config_token *ct)
{
	struct ks_pin_spec pin = {
		.kind = ct->pin, .path = ct->pin_path, .fn = agent_pin_source,
		.confirm = ct->confirm.via, .confirm_program = ct->confirm.program,
	};
	struct ks_certs *certs;
	struct ks_source *src;
	struct reason why;
	int r;

	reason_clear(&why);
	r = ks_source_open(ct->name, NULL, ct->module, ct->uri, &pin, &ct->cache, &src, &why);
	if (src == NULL) {
		log_warn("token \"%s\" (config line %u): %s", ct->name, ct->line, why.text);
		return;
	}
	if ((certs = agent_read_certificates(ct)) != NULL && ks_source_attach_certs(src, certs))
		log_error("token \"%s\": out of memory for its certificates", ct->name);
	if (r != ERR_OK)
		log_warn("token \"%s\": %s; waiting for it", ct->name, why.text);
	else if (src->ntokens == 0)
		log_warn("token \"%s\": no token present matches %s; waiting for one", ct->name,
		         ct->uri ? ct->uri : "the module");
	if (keystore_add(&a->keys, src, &why) != ERR_OK) {
		log_error("token \"%s\": %s", ct->name, why.text);
		ks_source_unref(src);
		return;
	}
	p11_module_watch(src->module);
	log_info("serving %zu key(s) from token \"%s\" (%s)", src->nids, ct->name, ct->module);
}

struct ks_source *agent_configured_source(struct agent *a, const char *name)
{
	struct ks_source *srcs[KEYSTORE_MAX_SOURCES], *found = NULL;
	size_t n = keystore_snapshot(&a->keys, srcs, KEYSTORE_MAX_SOURCES);

	for (size_t i = 0; i < n && found == NULL; i++) {
		if (srcs[i]->module != NULL && srcs[i]->provider == NULL &&
		    strcmp(srcs[i]->name, name) == 0) {
			/* Its snapshot reference is the caller's; the others are released. */
			found = srcs[i];
			srcs[i] = srcs[--n];
		}
	}
	keystore_release(&a->keys, srcs, n);
	return found;
}

/* Everything of an entry that its source depends on, but its certificates. */
static char *definition(const struct config_token *ct)
{
	char *d;

	if (asprintf(&d, "%s\n%s\n%d\n%s\n%ld %ld %d\n%d\n%s", ct->module, ct->uri ? ct->uri : "",
	             (int)ct->pin, ct->pin_path ? ct->pin_path : "", (long)ct->cache.idle,
	             (long)ct->cache.max, ct->cache.keep_on_removal, (int)ct->confirm.via,
	             ct->confirm.program ? ct->confirm.program : "") < 0)
		return NULL;
	return d;
}

/* What was served for `name`, as (name, definition) pairs; NULL when it was not. */
static const char *served_definition(const struct agent *a, const char *name)
{
	for (size_t i = 0; i < a->nserved; i++)
		if (strcmp(a->served[i].name, name) == 0)
			return a->served[i].definition;
	return NULL;
}

void agent_forget_served(struct agent *a)
{
	for (size_t i = 0; i < a->nserved; i++) {
		free(a->served[i].name);
		free(a->served[i].definition);
	}
	free(a->served);
	a->served = NULL;
	a->nserved = 0;
}

/* An entry already listed as it was: only its certificate files are read again. */
static void recertify(struct agent *a, struct ks_source *old, const struct config_token *ct)
{
	struct ks_source *next;

	if ((old->certs == NULL && ct->ncertificates == 0) ||
	    (next = ks_source_with_certs(old, agent_read_certificates(ct))) == NULL)
		return;
	if (keystore_replace(&a->keys, old, next))
		log_info("token \"%s\": %zu certificate(s) served after reload", ct->name,
		         next->certs ? next->certs->n : 0);
	else
		ks_source_unref(next);
}

/* Unlists a source if it is still listed (it was taken from a snapshot). */
static void drop(struct agent *a, struct ks_source *src, const char *why)
{
	log_info("token \"%s\": %s", src->name, why);
	keystore_remove_source(&a->keys, src);
}

void agent_serve_tokens(struct agent *a, const struct config *cfg)
{
	struct agent_served *now = calloc(cfg->ntokens + 1, sizeof(*now));
	size_t n = 0;

	for (size_t i = 0; i < cfg->ntokens; i++) {
		const struct config_token *ct = &cfg->tokens[i];
		char *def = definition(ct);
		const char *was = served_definition(a, ct->name);
		struct ks_source *old = agent_configured_source(a, ct->name);

		if (old != NULL && was != NULL && def != NULL && strcmp(was, def) == 0) {
			recertify(a, old, ct);
		} else {
			if (old != NULL)
				drop(a, old, "its entry changed; served anew");
			serve_token(a, ct);
		}
		if (old != NULL)
			keystore_release(&a->keys, &old, 1);
		if (now != NULL && def != NULL && (now[n].name = strdup(ct->name)) != NULL)
			now[n++].definition = def;
		else
			free(def);
	}
	/* Entries gone from the file: their tokens are no longer served. */
	for (size_t i = 0; i < a->nserved; i++) {
		int kept = 0;
		struct ks_source *old;

		for (size_t k = 0; k < cfg->ntokens && !kept; k++)
			kept = strcmp(cfg->tokens[k].name, a->served[i].name) == 0;
		if (!kept && (old = agent_configured_source(a, a->served[i].name)) != NULL) {
			drop(a, old, "no longer in the configuration");
			keystore_release(&a->keys, &old, 1);
		}
	}
	/* `p11guard status` reads the list from a worker: swap it under the lock. */
	pthread_mutex_lock(&a->policy_lock);
	agent_forget_served(a);
	a->served = now;
	a->nserved = now != NULL ? n : 0;
	pthread_mutex_unlock(&a->policy_lock);
}
