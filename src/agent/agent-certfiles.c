/*
 * A configured token's `certificates:`: the files are read when the token is served and
 * again on every reload, so a renewed certificate is served without a restart.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "sshpub.h"

/* One certificate file's first line, checked and added; a bad file is logged and skipped. */
static void add_file(struct ks_certs *certs, const char *token, const char *path)
{
	struct reason why;
	uint8_t *blob = NULL;
	size_t len;

	reason_clear(&why);
	if (sshpub_file_blob(path, &blob, &len) != ERR_OK)
		log_warn("token \"%s\": certificate %s cannot be read, or is not a key file",
		         token, path);
	else if (ks_certs_add(certs, blob, len, &why) != ERR_OK)
		log_warn("token \"%s\": certificate %s: %s", token, path, why.text);
	free(blob);
}

struct ks_certs *agent_read_certificates(const struct config_token *ct)
{
	struct ks_certs *certs;

	if (ct->ncertificates == 0 || (certs = ks_certs_new(ct->ncertificates, 0)) == NULL)
		return NULL;
	for (size_t i = 0; i < ct->ncertificates; i++)
		add_file(certs, ct->name, ct->certificates[i]);
	return certs;
}

/* The listed source of a configured token, referenced; NULL when it is not listed. */
static struct ks_source *configured_source(struct agent *a, const char *name)
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

void agent_reload_certificates(struct agent *a, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->ntokens; i++) {
		const struct config_token *ct = &cfg->tokens[i];
		struct ks_source *old = configured_source(a, ct->name), *next;

		if (old == NULL)
			continue;
		if ((old->certs != NULL || ct->ncertificates > 0) &&
		    (next = ks_source_with_certs(old, agent_read_certificates(ct))) != NULL) {
			if (keystore_replace(&a->keys, old, next))
				log_info("token \"%s\": %zu certificate(s) served after reload", ct->name,
				         next->certs ? next->certs->n : 0);
			else
				ks_source_unref(next);
		}
		keystore_release(&a->keys, &old, 1);
	}
}
