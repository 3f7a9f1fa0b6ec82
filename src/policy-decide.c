/*
 * Deciding one request: the first rule whose every selector matches decides. When listing,
 * the user and destination may still be unknown; a rule that might allow then lists the key.
 */
#include <stdio.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "match.h"
#include "policy-index.h"

enum tri { NO, MAYBE, YES };

static enum tri both(enum tri a, enum tri b)
{
	return a < b ? a : b;
}

/* The key's own URI, parsed once per decision and only when a selector needs it. */
struct key_uri {
	const char *text;
	P11KitUri *uri;
	int tried;
};

static int uri_selects(const char *selector, struct key_uri *k)
{
	P11KitUri *sel;
	CK_ATTRIBUTE *attrs;
	CK_ULONG nattrs = 0;
	int match;

	if (!k->tried) {
		k->tried = 1;
		if (k->text != NULL && (k->uri = p11_kit_uri_new()) != NULL &&
		    p11_kit_uri_parse(k->text, P11_KIT_URI_FOR_ANY, k->uri) != P11_KIT_URI_OK) {
			p11_kit_uri_free(k->uri);
			k->uri = NULL;
		}
	}
	if (k->uri == NULL || (sel = p11_kit_uri_new()) == NULL)
		return 0;
	match = p11_kit_uri_parse(selector, P11_KIT_URI_FOR_ANY, sel) == P11_KIT_URI_OK;
	attrs = p11_kit_uri_get_attributes(k->uri, &nattrs);
	match = match &&
	        p11_kit_uri_match_token_info(sel, p11_kit_uri_get_token_info(k->uri)) &&
	        p11_kit_uri_match_attributes(sel, attrs, nattrs);
	p11_kit_uri_free(sel);
	return match;
}

static enum tri key_matches(const struct policy_rule *rule, const struct policy_key *key,
                            struct key_uri *uri)
{
	if (rule->nkeys == 0)
		return YES;
	for (size_t i = 0; i < rule->nkeys; i++) {
		const char *s = rule->keys[i];

		if (strncmp(s, "SHA256:", 7) == 0) {
			if (strcmp(s, key->fingerprint) == 0)
				return YES;
		} else if (strncmp(s, "pkcs11:", 7) == 0) {
			if (uri_selects(s, uri))
				return YES;
		} else if (key->token != NULL && match_pattern(key->token, s)) {
			return YES;
		}
	}
	return NO;
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
	return e != NULL && rule_list_has(&e->to, i) ? YES : NO;
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

static enum tri rule_matches(const struct policy *p, uint32_t i,
                             const struct policy_request *req, struct key_uri *uri)
{
	const struct policy_rule *rule = &p->rules[i];
	enum tri t = via_matches(p, i, req);

	if (t != NO)
		t = both(t, dest_matches(p, i, req));
	if (t != NO)
		t = both(t, user_matches(rule, req));
	if (t != NO)
		t = both(t, client_matches(rule, req));
	if (t != NO)
		t = both(t, key_matches(rule, req->key, uri));
	return t;
}

/* The name under which the deciding rule knew the destination. */
static void matched_dest_name(const struct policy *p, const struct policy_rule *rule,
                              const struct policy_request *req, char *out, size_t size)
{
	out[0] = '\0';
	if (req->dest == NULL)
		return;
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
	const struct rule_list *a = &p->index->no_to, *b = &none;
	const struct policy_index_entry *e;
	struct key_uri uri = { req->key->uri, NULL, 0 };
	size_t ia = 0, ib = 0;

	memset(d, 0, sizeof(*d));
	d->action = POLICY_DENY;
	if ((req->dest != NULL && hop_revoked(p, req->dest, d)))
		return;
	for (size_t h = 0; h < req->nhops; h++)
		if (hop_revoked(p, req->hops[h], d))
			return;
	if (!req->listing && req->dest != NULL &&
	    (e = policy_index_find(p->index, req->dest->fingerprint)) != NULL)
		b = &e->to;
	/* Signing looks only at rules that can apply; listing may not know the destination. */
	for (uint32_t i = 0; ; i++) {
		enum tri t;

		if (!req->listing) {
			if (ia < a->n && (ib >= b->n || a->v[ia] < b->v[ib]))
				i = a->v[ia++];
			else if (ib < b->n)
				i = b->v[ib++];
			else
				break;
		} else if (i >= p->nrules) {
			break;
		}
		t = rule_matches(p, i, req, &uri);
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
	if (uri.uri != NULL)
		p11_kit_uri_free(uri.uri);
}
