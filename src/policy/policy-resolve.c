/*
 * Resolving a policy against known_hosts: host names become host keys, and every host key the
 * rules mention gets an index entry listing those rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "policy-index.h"

static const char *const default_known_hosts[] = {
	"~/.ssh/known_hosts", "~/.ssh/known_hosts2", "/etc/ssh/ssh_known_hosts",
	"/etc/ssh/ssh_known_hosts2", NULL
};

static size_t fp_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

const struct policy_index_entry *policy_index_find(const struct policy_index *ix,
                                                   const char *fingerprint)
{
	const struct policy_index_entry *e;

	if (ix == NULL || ix->nbuckets == 0)
		return NULL;
	for (e = ix->buckets[fp_hash(fingerprint) % ix->nbuckets]; e != NULL; e = e->next)
		if (strcmp(e->fingerprint, fingerprint) == 0)
			return e;
	return NULL;
}

static struct policy_index_entry *entry_get(struct policy_index *ix, const char *fp)
{
	size_t b = fp_hash(fp) % ix->nbuckets;
	struct policy_index_entry *e;

	for (e = ix->buckets[b]; e != NULL; e = e->next)
		if (strcmp(e->fingerprint, fp) == 0)
			return e;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	snprintf(e->fingerprint, sizeof(e->fingerprint), "%s", fp);
	e->next = ix->buckets[b];
	ix->buckets[b] = e;
	return e;
}

int rule_list_has(const struct rule_list *l, uint32_t rule)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid] == rule)
			return 1;
		if (l->v[mid] < rule)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Rules are added in ascending order, so appending keeps the list sorted. */
int rule_list_add(struct rule_list *l, uint32_t rule)
{
	if (l->n > 0 && l->v[l->n - 1] == rule)
		return ERR_OK;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		uint32_t *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return ERR_ALLOC;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = rule;
	return ERR_OK;
}

void policy_index_free(struct policy_index *ix)
{
	if (ix == NULL)
		return;
	for (size_t b = 0; b < ix->nbuckets; b++) {
		struct policy_index_entry *e = ix->buckets[b], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			free(e->to.v);
			free(e->via.v);
			free(e->names);
			free(e);
		}
	}
	free(ix->buckets);
	free(ix->no_to.v);
	policy_key_rules_free(ix->key_cache);
	free(ix);
}

static int add_name(struct policy_index_entry *e, const struct kh_entry *k)
{
	char label[512], *joined;

	if (k->hosts != NULL)
		snprintf(label, sizeof(label), "%s", k->hosts);
	else
		snprintf(label, sizeof(label), "hashed entry %s:%u", k->file, k->line);
	if (e->names == NULL)
		joined = strdup(label);
	else if (asprintf(&joined, "%s, %s", e->names, label) < 0)
		joined = NULL;
	if (joined == NULL)
		return ERR_ALLOC;
	free(e->names);
	e->names = joined;
	return ERR_OK;
}

static int index_known_hosts(struct policy *p, struct policy_index *ix)
{
	for (size_t i = 0; i < p->kh.n; i++) {
		const struct kh_entry *k = &p->kh.e[i];
		struct policy_index_entry *e;

		if (k->marker == KH_CERT_AUTHORITY)
			continue;
		if ((e = entry_get(ix, k->key.fingerprint)) == NULL)
			return ERR_ALLOC;
		if (k->marker == KH_REVOKED) {
			e->revoked = k;
		} else if (add_name(e, k) != ERR_OK) {
			return ERR_ALLOC;
		}
	}
	return ERR_OK;
}

/* Puts rule `rule` on the index entry of every host key `h` stands for. */
static int index_host(struct policy *p, struct policy_index *ix, struct policy_host *h,
                      uint32_t rule, int as_via)
{
	struct policy_index_entry *e;

	if (h->kind != HOST_NAME) {
		const char *fp = h->kind == HOST_KEY ? h->key.fingerprint : h->text;

		if ((e = entry_get(ix, fp)) == NULL)
			return ERR_ALLOC;
		return rule_list_add(as_via ? &e->via : &e->to, rule);
	}
	h->nresolved = 0;
	for (size_t i = 0; i < p->kh.n; i++) {
		const struct kh_entry *k = &p->kh.e[i];

		if (k->marker != KH_PLAIN || !kh_entry_names(k, h->text))
			continue;
		if ((e = entry_get(ix, k->key.fingerprint)) == NULL ||
		    rule_list_add(as_via ? &e->via : &e->to, rule) != ERR_OK)
			return ERR_ALLOC;
		h->nresolved++;
	}
	return ERR_OK;
}

int policy_build_index(struct policy *p)
{
	struct policy_index *ix = calloc(1, sizeof(*ix));
	size_t hosts = p->kh.n;
	int r = ERR_OK;

	if (ix == NULL)
		return ERR_ALLOC;
	for (size_t i = 0; i < p->nrules; i++)
		hosts += p->rules[i].to.n + p->rules[i].via.n;
	ix->nbuckets = hosts + 64;
	if ((ix->buckets = calloc(ix->nbuckets, sizeof(*ix->buckets))) == NULL ||
	    index_known_hosts(p, ix) != ERR_OK) {
		policy_index_free(ix);
		return ERR_ALLOC;
	}
	for (uint32_t i = 0; i < p->nrules && r == ERR_OK; i++) {
		struct policy_rule *rule = &p->rules[i];

		if (rule->to.n == 0)
			r = rule_list_add(&ix->no_to, i);
		for (size_t h = 0; h < rule->to.n && r == ERR_OK; h++)
			r = index_host(p, ix, &rule->to.h[h], i, 0);
		for (size_t h = 0; h < rule->via.n && r == ERR_OK; h++)
			r = index_host(p, ix, &rule->via.h[h], i, 1);
	}
	if (r != ERR_OK) {
		policy_index_free(ix);
		return r;
	}
	policy_index_free(p->index);
	p->index = ix;
	return ERR_OK;
}

int policy_resolve(struct policy *p, struct reason *why)
{
	const char *const *files = default_known_hosts;
	char path[4096];
	size_t nfiles = 4;
	int r;

	if (p->nknown_hosts_files > 0) {
		files = (const char *const *)p->known_hosts_files;
		nfiles = p->nknown_hosts_files;
	}
	known_hosts_free(&p->kh);
	for (size_t i = 0; i < nfiles; i++) {
		if (path_expand_home(files[i], path, sizeof(path)) != ERR_OK)
			continue;
		if ((r = known_hosts_load(&p->kh, path, why)) != ERR_OK)
			return r;
	}
	if (policy_build_index(p) != ERR_OK)
		return reason_set(why, ERR_ALLOC, "out of memory");
	return ERR_OK;
}

void policy_host_names(const struct policy *p, const struct sshpub *key, char *out,
                       size_t size)
{
	const struct policy_index_entry *e = policy_index_find(p->index, key->fingerprint);

	snprintf(out, size, "%s", e != NULL && e->names != NULL ? e->names : "");
}
