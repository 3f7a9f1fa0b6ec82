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

struct policy_index {
	struct policy_index_entry **buckets;
	size_t nbuckets;
	struct rule_list no_to; /* rules for any destination */
};

const struct policy_index_entry *policy_index_find(const struct policy_index *ix,
                                                   const char *fingerprint);
int rule_list_has(const struct rule_list *l, uint32_t rule);
void policy_index_free(struct policy_index *ix);

#endif
