/*
 * Deciding one request: the first rule whose every selector matches decides. When listing,
 * the user and destination may still be unknown; a rule that might allow then lists the key.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "match.h"
#include "policy-index.h"

enum tri { NO, MAYBE, YES };

static enum tri both(enum tri a, enum tri b)
{
	return a < b ? a : b;
}

/*
 * A destination bound with a host certificate: the name under which the rule allows it,
 * when a principal of the certificate falls under one of the rule's host names and an
 * @cert-authority entry trusts the certificate's CA for that principal. A certificate
 * without principals names no host here (stricter than ssh, which lets it stand for any).
 */
static const char *certified_as(const struct policy *p, const struct policy_rule *rule,
                                const struct sshcert *cert)
{
	if (cert == NULL || !sshcert_host_usable(cert, (uint64_t)time(NULL)))
		return NULL;
	for (size_t h = 0; h < rule->to.n; h++) {
		if (rule->to.h[h].kind != HOST_NAME)
			continue;
		for (size_t c = 0; c < cert->nprincipals; c++) {
			const char *name = cert->principals[c];

			if (!match_pattern(name, rule->to.h[h].text))
				continue;
			for (size_t k = 0; k < p->kh.n; k++)
				if (p->kh.e[k].marker == KH_CERT_AUTHORITY &&
				    sshpub_equal(&p->kh.e[k].key, &cert->ca) &&
				    kh_entry_names(&p->kh.e[k], name))
					return name;
		}
	}
	return NULL;
}

static enum tri dest_matches(const struct policy *p, uint32_t i,
                             const struct policy_request *req)
{
	const struct policy_index_entry *e;

	if (p->rules[i].to.n == 0)
		return YES;
	if (req->dest == NULL)
		return req->listing ? MAYBE : NO;
	e = policy_index_find(p->index, req->dest->fingerprint);
	if (e != NULL && rule_list_has(&e->to, i))
		return YES;
	return certified_as(p, &p->rules[i], req->dest_cert) != NULL ? YES : NO;
}

static enum tri user_matches(const struct policy_rule *rule, const struct policy_request *req)
{
	int positive = 0;

	if (rule->nusers == 0)
		return YES;
	if (req->user == NULL)
		return req->listing ? MAYBE : NO;
	for (size_t i = 0; i < rule->nusers; i++) {
		const char *pat = rule->users[i];

		if (pat[0] == '!') {
			if (match_pattern(req->user, pat + 1))
				return NO;      /* a negation wins over every positive pattern */
		} else if (match_pattern(req->user, pat)) {
			positive = 1;
		}
	}
	return positive ? YES : NO;
}

static enum tri via_matches(const struct policy *p, uint32_t i,
                            const struct policy_request *req)
{
	const struct policy_rule *rule = &p->rules[i];

	if (rule->via_any)
		return YES;
	if (req->nhops == 0)
		return rule->via_direct ? YES : NO;
	/* Every intermediary holding the forwarded socket must be one the rule trusts. */
	for (size_t h = 0; h < req->nhops; h++) {
		const struct policy_index_entry *e =
			policy_index_find(p->index, req->hops[h]->fingerprint);

		if (e == NULL || !rule_list_has(&e->via, i))
			return NO;
	}
	return YES;
}

static enum tri client_matches(const struct policy_rule *rule,
                               const struct policy_request *req)
{
	const char *base;

	if (rule->nclients == 0)
		return YES;
	if (req->client_exe == NULL)
		return NO;
	base = strrchr(req->client_exe, '/');
	base = base ? base + 1 : req->client_exe;
	for (size_t i = 0; i < rule->nclients; i++) {
		const char *c = rule->clients[i];

		if (match_pattern(strchr(c, '/') ? req->client_exe : base, c))
			return YES;
	}
	return NO;
}

/* `key_known`: the caller already knows the rule selects the request's key. */
static enum tri rule_matches(const struct policy *p, uint32_t i,
                             const struct policy_request *req, int key_known)
{
	const struct policy_rule *rule = &p->rules[i];
	enum tri t = via_matches(p, i, req);

	if (t != NO)
		t = both(t, dest_matches(p, i, req));
	if (t != NO)
		t = both(t, user_matches(rule, req));
	if (t != NO)
		t = both(t, client_matches(rule, req));
	if (t != NO && !key_known && !policy_key_selected(rule, req->key))
		t = NO;
	return t;
}

/* The name under which the deciding rule knew the destination. */
static void matched_dest_name(const struct policy *p, const struct policy_rule *rule,
                              const struct policy_request *req, char *out, size_t size)
{
	const char *certified = certified_as(p, rule, req->dest_cert);

	out[0] = '\0';
	if (req->dest == NULL)
		return;
	if (certified != NULL) {
		snprintf(out, size, "%s", certified);
		return;
	}
	for (size_t h = 0; h < rule->to.n; h++) {
		const struct policy_host *host = &rule->to.h[h];

		if (host->kind == HOST_KEY ? sshpub_equal(&host->key, req->dest) :
		    host->kind == HOST_FINGERPRINT ? strcmp(host->text, req->dest->fingerprint) == 0 :
		    0) {
			snprintf(out, size, "%s", host->text);
			return;
		}
		for (size_t k = 0; host->kind == HOST_NAME && k < p->kh.n; k++)
			if (p->kh.e[k].marker == KH_PLAIN &&
			    sshpub_equal(&p->kh.e[k].key, req->dest) &&
			    kh_entry_names(&p->kh.e[k], host->text)) {
				snprintf(out, size, "%s", host->text);
				return;
			}
	}
	policy_host_names(p, req->dest, out, size);
}

static void describe_default(const struct policy *p, const struct policy_request *req,
                             struct policy_decision *d)
{
	char names[200] = "";

	if (req->dest != NULL) {
		policy_host_names(p, req->dest, names, sizeof(names));
		snprintf(d->dest_name, sizeof(d->dest_name), "%s", names);
	}
	snprintf(d->reason, sizeof(d->reason), "no rule allows key %s %s%s%s%s%s%s%s%s",
	         req->key->fingerprint,
	         req->dest == NULL ? "for an unverified destination" : "to host key ",
	         req->dest ? req->dest->fingerprint : "",
	         req->dest ? (names[0] ? " (" : " (in no known_hosts file: unknown or changed "
	                                     "host key") : "",
	         req->dest ? names : "", req->dest ? ")" : "",
	         req->user ? " as user " : "", req->user ? req->user : "",
	         req->nhops ? " through forwarding hops" : "");
}

static int hop_revoked(const struct policy *p, const struct sshpub *key,
                       struct policy_decision *d)
{
	const struct policy_index_entry *e = policy_index_find(p->index, key->fingerprint);

	if (e == NULL || e->revoked == NULL)
		return 0;
	snprintf(d->reason, sizeof(d->reason), "host key %s is @revoked in %s:%u",
	         key->fingerprint, e->revoked->file, e->revoked->line);
	snprintf(d->where, sizeof(d->where), "%s:%u", e->revoked->file, e->revoked->line);
	return 1;
}

static void decide_by(const struct policy *p, uint32_t i, const struct policy_request *req,
                      struct policy_decision *d)
{
	const struct policy_rule *rule = &p->rules[i];

	d->rule = rule;
	d->action = rule->action;
	d->confirm = rule->action == POLICY_ALLOW &&
	             (rule->confirm == CONFIRM_ALWAYS ||
	              (rule->confirm == CONFIRM_FORWARDED && req->nhops > 0));
	snprintf(d->where, sizeof(d->where), "%s:%u", p->file, rule->line);
	matched_dest_name(p, rule, req, d->dest_name, sizeof(d->dest_name));
	snprintf(d->reason, sizeof(d->reason), "%s by rule %s",
	         rule->action == POLICY_ALLOW ? "allowed" : "denied", d->where);
}

void policy_decide(const struct policy *p, const struct policy_request *req,
                   struct policy_decision *d)
{
	static const struct rule_list none;
	const struct rule_list *a = NULL, *b = &none;
	const struct policy_index_entry *e;
	size_t ia = 0, ib = 0;
	int a_selects_key = 1, walk_all;

	memset(d, 0, sizeof(*d));
	d->action = POLICY_DENY;
	if ((req->dest != NULL && hop_revoked(p, req->dest, d)))
		return;
	for (size_t h = 0; h < req->nhops; h++)
		if (hop_revoked(p, req->hops[h], d))
			return;
	/*
	 * Signing walks two ascending lists merged: rules without a destination that select
	 * this key, and rules naming the verified destination. Listing may not know the
	 * destination yet, and a certified destination may be named through its CA, so those
	 * walk every rule.
	 */
	walk_all = req->listing || req->dest_cert != NULL;
	if (!walk_all) {
		if ((a = policy_rules_for_key(p, req->key)) == NULL) {
			a = &p->index->no_to;
			a_selects_key = 0;
		}
		if (req->dest != NULL &&
		    (e = policy_index_find(p->index, req->dest->fingerprint)) != NULL)
			b = &e->to;
	}
	for (uint32_t next = 0;; next++) {
		int from_a = 0;
		enum tri t;
		uint32_t i;

		if (walk_all) {
			if (next >= p->nrules)
				break;
			i = next;
		} else if (ia < a->n && (ib >= b->n || a->v[ia] < b->v[ib])) {
			i = a->v[ia++];
			from_a = a_selects_key;
		} else if (ib < b->n) {
			i = b->v[ib++];
		} else {
			break;
		}
		t = rule_matches(p, i, req, from_a);
		if (t == YES || (t == MAYBE && p->rules[i].action == POLICY_ALLOW)) {
			decide_by(p, i, req, d);
			break;
		}
	}
	if (d->rule == NULL) {
		if (p->default_line > 0)
			snprintf(d->where, sizeof(d->where), "%s:%u", p->file, p->default_line);
		else
			snprintf(d->where, sizeof(d->where), "default");
		describe_default(p, req, d);
	}
}
