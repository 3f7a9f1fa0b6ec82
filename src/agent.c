/* Request dispatch, refusals that say why, and serving the configured tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"

int agent_init(struct agent *a, const char *allowed_providers, uint32_t default_lifetime)
{
	memset(a, 0, sizeof(*a));
	keystore_init(&a->keys);
	pthread_mutex_init(&a->lock.mutex, NULL);
	a->default_lifetime = default_lifetime;
	if ((a->allowed_providers = strdup(allowed_providers)) == NULL)
		return ERR_ALLOC;
	return ERR_OK;
}

void agent_free(struct agent *a)
{
	keystore_clear(&a->keys);
	pthread_mutex_destroy(&a->lock.mutex);
	free(a->allowed_providers);
	explicit_bzero(a->lock.hash, sizeof(a->lock.hash));
}

int agent_refuse(struct agent_client *c, struct wbuf *reply, uint8_t type,
                 const struct reason *why, const char *what)
{
	/* A long reason is cut at the end: the cause is last and least needed. */
	if (snprintf(c->last_refusal, sizeof(c->last_refusal), "%s: %s: %s", what,
	             err_name(why->code), why->text[0] ? why->text : err_text(why->code)) < 0)
		c->last_refusal[0] = '\0';
	log_info("refused %s for pid %ld uid %ld: %s", what, (long)c->pid, (long)c->uid,
	         c->last_refusal + strlen(what) + 2);
	return agent_frame_simple(reply, type);
}

static void serve_config_token(struct agent *a, const struct config_token *ct)
{
	struct p11_module *m = NULL;
	struct p11_token **tokens = NULL;
	struct ks_source *src;
	struct reason why;
	size_t n = 0;

	reason_clear(&why);
	if (p11_module_load(ct->module, &m, &why) != ERR_OK ||
	    p11_tokens_open(m, ct->uri, &tokens, &n, &why) != ERR_OK) {
		log_warn("token \"%s\" (config line %u): %s", ct->name, ct->line, why.text);
		p11_module_release(m);
		return;
	}
	p11_module_release(m);     /* each token holds its own reference */
	if (n == 0)
		log_warn("token \"%s\": no token present matches %s", ct->name,
		         ct->uri ? ct->uri : "the module");
	if ((src = ks_source_new(ct->name, NULL, tokens, n)) == NULL) {
		log_error("token \"%s\": out of memory", ct->name);
		return;
	}
	src->pin.kind = ct->pin;
	src->pin.file = ct->pin_file ? strdup(ct->pin_file) : NULL;
	for (size_t i = 0; i < src->ntokens; i++)
		if (ct->pin != PIN_SOURCE_NONE)
			p11_token_set_pin_source(src->tokens[i], agent_pin_source, &src->pin);
	if (keystore_add(&a->keys, src, &why) != ERR_OK) {
		log_error("token \"%s\": %s", ct->name, why.text);
		ks_source_unref(src);
		return;
	}
	log_info("serving %zu key(s) from token \"%s\" (%s)", src->nids, ct->name, ct->module);
}

void agent_load_config(struct agent *a, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->ntokens; i++)
		serve_config_token(a, &cfg->tokens[i]);
}

int agent_handle(struct agent *a, struct agent_client *c, struct wbuf *msg,
                 struct wbuf *reply)
{
	struct agent_request req;
	struct reason why;
	int r;

	if ((r = agent_request_parse(msg, &req)) != ERR_OK) {
		reason_set(&why, r, "message type %u: %s", req.type, err_text(r));
		return agent_refuse(c, reply, req.type == AGENTC_EXTENSION ?
		                    AGENT_EXTENSION_FAILURE : AGENT_FAILURE, &why, "request");
	}
	switch (req.type) {
	case AGENTC_REQUEST_IDENTITIES:
	case AGENTC_REMOVE_IDENTITY:
	case AGENTC_REMOVE_ALL_IDENTITIES:
		return agent_handle_identities(a, c, &req, reply);
	case AGENTC_SIGN_REQUEST:
		return agent_handle_sign(a, c, &req, reply);
	case AGENTC_ADD_SMARTCARD_KEY:
	case AGENTC_ADD_SMARTCARD_KEY_CONSTRAINED:
	case AGENTC_REMOVE_SMARTCARD_KEY:
		return agent_handle_smartcard(a, c, &req, reply);
	case AGENTC_LOCK:
	case AGENTC_UNLOCK:
		return agent_handle_lock(a, c, &req, reply);
	case AGENTC_EXTENSION:
		return agent_handle_extension(a, c, &req, reply);
	case AGENTC_ADD_IDENTITY:
	case AGENTC_ADD_ID_CONSTRAINED:
		reason_set(&why, ERR_UNSUPPORTED, "p11guard keeps keys on tokens only; "
		           "use ssh-add -s MODULE");
		return agent_refuse(c, reply, AGENT_FAILURE, &why, "add identity");
	default:
		reason_set(&why, ERR_UNSUPPORTED, "unknown message type %u", req.type);
		return agent_refuse(c, reply, AGENT_FAILURE, &why, "request");
	}
}
