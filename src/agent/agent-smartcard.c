/*
 * ssh-add -s / -e: adding and removing a PKCS#11 provider. The module path must match the -P
 * allowlist before it is loaded, and a PIN given with it is checked at once.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "log.h"

/* OpenSSH's pattern-list rules: comma separated, '!' negates and wins. */
static int provider_allowed(const char *patterns, const char *path)
{
	char *list = strdup(patterns), *save = NULL, *pat;
	int allowed = 0;

	for (pat = list ? strtok_r(list, ",", &save) : NULL; pat; pat = strtok_r(NULL, ",", &save)) {
		if (pat[0] == '!' && fnmatch(pat + 1, path, 0) == 0) {
			allowed = 0;
			break;
		}
		if (pat[0] != '!' && fnmatch(pat, path, 0) == 0)
			allowed = 1;
	}
	free(list);
	return allowed;
}

/* Checks the given PIN on each token that needs one; an empty PIN means "ask later". */
static int tokens_login(struct ks_source *src, const char *pin, struct reason *why)
{
	int r;

	for (size_t i = 0; i < src->ntokens && pin[0] != '\0'; i++) {
		p11_token_set_pin(src->tokens[i], pin);
		if ((r = p11_token_login(src->tokens[i], why)) != ERR_OK)
			return r;
	}
	return ERR_OK;
}

static int add_provider(struct agent *a, const char *path, const char *pin,
                        const struct sshagent_constraints *c, struct reason *why)
{
	struct ks_pin_spec askpass = { .kind = PIN_SOURCE_ASKPASS, .fn = agent_pin_source };
	struct p11_pin_cache cache = { 0, 0, 0 };
	struct ks_source *src = NULL;
	int r;

	r = ks_source_open(path, path, path, NULL, &askpass, &cache, &src, why);
	if (r == ERR_OK && src->nids == 0)
		r = reason_set(why, ERR_KEY_NOT_FOUND, "no keys found on %zu token(s) of %s",
		               src->ntokens, path);
	if (r == ERR_OK && (r = agent_apply_constraints(a, c, src, why)) == ERR_OK &&
	    src->nids == 0)
		r = reason_set(why, ERR_KEY_NOT_FOUND, "no certificate is for a key of %s, and "
		               "only certificates were asked for", path);
	if (r != ERR_OK) {
		ks_source_unref(src);
		return r;
	}
	if ((r = tokens_login(src, pin, why)) != ERR_OK ||
	    (r = keystore_add(&a->keys, src, why)) != ERR_OK) {
		ks_source_unref(src);
		return r;
	}
	p11_module_watch(src->module);
	log_info("added provider %s: %zu key(s)%s%s", path, src->nids,
	         src->confirm ? ", confirm each use" : "",
	         src->dest ? ", restricted to destinations (ssh-add -h)" : "");
	return ERR_OK;
}

int agent_smartcard(struct agent *a, const struct sshagent_request *req, struct reason *why)
{
	int adding = req->type != SSHAGENTC_REMOVE_SMARTCARD_KEY;
	char *provider = agent_bytes_strdup(req->u.smartcard.provider);
	char *pin = agent_bytes_strdup(req->u.smartcard.pin);
	char *path = NULL;
	int r;

	if (provider == NULL || pin == NULL) {
		r = reason_set(why, ERR_FORMAT, "provider or PIN holds a NUL byte");
	} else if (agent_is_locked(a)) {
		r = reason_set(why, ERR_AGENT_LOCKED, "unlock it first (ssh-add -X)");
	} else if ((r = p11_module_resolve(provider, &path, why)) != ERR_OK) {
		/* reason set */
	} else if (!provider_allowed(a->allowed_providers, path)) {
		r = reason_set(why, ERR_MODULE_NOT_ALLOWED, "provider %s does not match the "
		               "allowlist \"%s\" (-P)", path, a->allowed_providers);
	} else if (!adding) {
		if ((r = keystore_remove_provider(&a->keys, path)) != ERR_OK)
			reason_set(why, r, "provider %s was not added", path);
	} else {
		r = add_provider(a, path, pin, &req->u.smartcard.constraints, why);
	}
	if (pin != NULL) {
		explicit_bzero(pin, strlen(pin));
		free(pin);
	}
	free(provider);
	free(path);
	return r;
}
