/*
 * Which rules can apply to a key: key selectors (fingerprint, token name, pkcs11: URI), and a
 * per-policy cache of the rules without a destination that select each key, so a decision
 * walks only those however long the policy is.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "match.h"
#include "policy-index.h"

struct key_rules {
	char *id;                       /* fingerprint, token and URI: what selectors look at */
	struct rule_list rules;
	struct key_rules *next;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static P11KitUri *parse_key_uri(const struct policy_key *key)
{
	P11KitUri *uri;

	if (key->uri == NULL || (uri = p11_kit_uri_new()) == NULL)
		return NULL;
	if (p11_kit_uri_parse(key->uri, P11_KIT_URI_FOR_ANY, uri) != P11_KIT_URI_OK) {
		p11_kit_uri_free(uri);
		return NULL;
	}
	return uri;
}

/* The key's URI is parsed on the first pkcs11: selector, at most once per caller. */
struct key_uri {
	P11KitUri *uri;
	int parsed;
};

static int uri_selects(const char *selector, const struct policy_key *key, struct key_uri *ku)
{
	P11KitUri *sel, *key_uri;
	CK_ATTRIBUTE *attrs;
	CK_ULONG nattrs = 0;
	int match;

	if (!ku->parsed) {
		ku->uri = parse_key_uri(key);
		ku->parsed = 1;
	}
	if ((key_uri = ku->uri) == NULL || (sel = p11_kit_uri_new()) == NULL)
		return 0;
	attrs = p11_kit_uri_get_attributes(key_uri, &nattrs);
	match = p11_kit_uri_parse(selector, P11_KIT_URI_FOR_ANY, sel) == P11_KIT_URI_OK &&
	        p11_kit_uri_match_token_info(sel, p11_kit_uri_get_token_info(key_uri)) &&
	        p11_kit_uri_match_attributes(sel, attrs, nattrs);
	p11_kit_uri_free(sel);
	return match;
}

static int rule_selects(const struct policy_rule *rule, const struct policy_key *key,
                        struct key_uri *ku)
{
	if (rule->nkeys == 0)
		return 1;
	for (size_t i = 0; i < rule->nkeys; i++) {
		const char *s = rule->keys[i];

		if (strncmp(s, "SHA256:", 7) == 0 ? strcmp(s, key->fingerprint) == 0 :
		    strncmp(s, "pkcs11:", 7) == 0 ? uri_selects(s, key, ku) :
		    key->token != NULL && match_pattern(key->token, s))
			return 1;
	}
	return 0;
}

int policy_key_selected(const struct policy_rule *rule, const struct policy_key *key)
{
	struct key_uri ku = { NULL, 0 };
	int match = rule_selects(rule, key, &ku);

	if (ku.uri != NULL)
		p11_kit_uri_free(ku.uri);
	return match;
}

static struct key_rules *compute(const struct policy *p, const struct policy_key *key,
                                 const char *id)
{
	struct key_rules *kr = calloc(1, sizeof(*kr));
	struct key_uri ku = { NULL, 0 };

	if (kr == NULL || (kr->id = strdup(id)) == NULL) {
		free(kr);
		kr = NULL;
		goto out;
	}
	for (size_t i = 0; i < p->index->no_to.n; i++) {
		uint32_t r = p->index->no_to.v[i];

		if (rule_selects(&p->rules[r], key, &ku) && rule_list_add(&kr->rules, r) != ERR_OK) {
			policy_key_rules_free(kr);
			kr = NULL;
			break;
		}
	}
out:
	if (ku.uri != NULL)
		p11_kit_uri_free(ku.uri);
	return kr;
}

const struct rule_list *policy_rules_for_key(const struct policy *p,
                                             const struct policy_key *key)
{
	struct policy_index *ix = p->index;
	struct key_rules *kr;
	char id[1024];

	snprintf(id, sizeof(id), "%s\n%s\n%s", key->fingerprint, key->token ? key->token : "",
	         key->uri ? key->uri : "");
	pthread_mutex_lock(&cache_lock);
	for (kr = ix->key_cache; kr != NULL; kr = kr->next)
		if (strcmp(kr->id, id) == 0)
			break;
	/* A policy serves a handful of keys; each is worked out once, on first use. */
	if (kr == NULL && ix->key_cache_n < POLICY_KEY_CACHE_MAX &&
	    (kr = compute(p, key, id)) != NULL) {
		kr->next = ix->key_cache;
		ix->key_cache = kr;
		ix->key_cache_n++;
	}
	pthread_mutex_unlock(&cache_lock);
	return kr != NULL ? &kr->rules : NULL;
}

void policy_key_rules_free(struct key_rules *kr)
{
	while (kr != NULL) {
		struct key_rules *next = kr->next;

		free(kr->rules.v);
		free(kr->id);
		free(kr);
		kr = next;
	}
}
