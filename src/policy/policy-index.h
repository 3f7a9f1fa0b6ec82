/*
 * What policy_resolve builds so a decision touches only the rules that can apply: for each
 * host key, the rules naming it as destination or hop, its known names and revocation.
 */
#ifndef P11G_POLICY_INDEX_H
#define P11G_POLICY_INDEX_H

#include <stdint.h>

#include "policy.h"

struct rule_list {
	uint32_t *v;            /* rule indexes, ascending */
	size_t n, cap;
};

struct policy_index_entry {
	char fingerprint[SSHKEY_FP_LEN];
	struct rule_list to, via;
	char *names;            /* known_hosts names for display, comma-separated */
	const struct kh_entry *revoked;
	struct policy_index_entry *next;
};

struct key_rules;

/* Beyond this many distinct keys, decisions walk the rules without a destination in full. */
#define POLICY_KEY_CACHE_MAX 256

struct policy_index {
	struct policy_index_entry **buckets;
	size_t nbuckets;
	struct rule_list no_to; /* rules for any destination */
	struct key_rules *key_cache;    /* per key: the no_to rules selecting it */
	size_t key_cache_n;
};

const struct policy_index_entry *policy_index_find(const struct policy_index *ix,
                                                   const char *fingerprint);
int rule_list_has(const struct rule_list *l, uint32_t rule);
int rule_list_add(struct rule_list *l, uint32_t rule);
void policy_index_free(struct policy_index *ix);

/* Key selectors (policy-keys.c). */
int policy_key_selected(const struct policy_rule *rule, const struct policy_key *key);
/* The rules without a destination that select `key`, or NULL when they cannot be cached. */
const struct rule_list *policy_rules_for_key(const struct policy *p,
                                             const struct policy_key *key);
void policy_key_rules_free(struct key_rules *kr);

#endif
