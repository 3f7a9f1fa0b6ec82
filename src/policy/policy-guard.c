/*
 * Guarded rules: which command may run where, decided before the agent opens anything.
 * Commands match exactly, or a template whose '*' stays inside one single-quoted word or,
 * unquoted, inside one word of characters a shell gives no meaning: the server runs
 * `$SHELL -c "<command>"`, so a wildcard that could match a quote, a space or a ';' would
 * let the delegate add shell syntax ("'/srv/x'; id; echo '.git'"). No template matches a
 * command with "..".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "policy.h"

int policy_exec_template_ok(const char *t, const char **problem)
{
	int quoted = 0;

	if (t[0] == '\0') {
		*problem = "an empty command";
		return 0;
	}
	for (const char *p = t; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r') {
			*problem = "a command spans lines";
			return 0;
		}
		if (*p == '\'')
			quoted = !quoted;
	}
	if (quoted) {
		*problem = "a single quote is not closed";
		return 0;
	}
	return 1;
}

/* What an unquoted '*' may match: characters with no meaning to a shell, no space. */
#define PLAIN "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./,:=+@%-"

/* Whether a '*' may take in `c`: inside single quotes anything but a quote and a newline
 * (it cannot leave its word); unquoted, only PLAIN characters (no shell syntax, no second
 * word). */
static int may_take(char c, int quoted)
{
	if (c == '\0' || c == '\n' || c == '\'')
		return 0;
	return quoted || strchr(PLAIN, c) != NULL;
}

/*
 * The template as an automaton run over the command once, all positions at a time: time
 * O(template x command), memory O(template), whatever the stars. (Backtracking took
 * exponential time on many stars: the intermediary chooses the command.)
 */
struct exec_run {
	const char *t;
	size_t len;
	uint8_t *quoted;        /* per template index: inside single quotes */
	uint8_t *now, *next;    /* per template index: reached */
};

/* Reaches `i` and, through stars that take nothing, what follows it. */
static void reach(const struct exec_run *r, uint8_t *set, size_t i)
{
	for (set[i] = 1; i < r->len && r->t[i] == '*'; i++)
		set[i + 1] = 1;
}

int policy_exec_matches(const char *t, const char *command)
{
	struct exec_run r = { t, strlen(t), NULL, NULL, NULL };
	int q = 0, matched = 0;

	/* A template never matches "..": a path template must not climb out of its directory. */
	if (strchr(command, '\n') != NULL || (strchr(t, '*') != NULL && strstr(command, "..")) ||
	    (r.quoted = malloc(r.len + 1)) == NULL ||
	    (r.now = calloc(r.len + 1, 1)) == NULL || (r.next = calloc(r.len + 1, 1)) == NULL)
		goto out;       /* no memory: no match, so the request is refused */
	for (size_t i = 0; i <= r.len; i++) {
		r.quoted[i] = (uint8_t)q;
		if (i < r.len && t[i] == '\'')
			q = !q;
	}
	reach(&r, r.now, 0);
	for (const char *c = command; *c != '\0'; c++) {
		int alive = 0;
		uint8_t *swap;

		memset(r.next, 0, r.len + 1);
		for (size_t i = 0; i < r.len; i++) {
			if (r.now[i] == 0)
				continue;
			if (t[i] == '*' ? may_take(*c, r.quoted[i]) : t[i] == *c)
				reach(&r, r.next, t[i] == '*' ? i : i + 1);
		}
		swap = r.now;
		r.now = r.next;
		r.next = swap;
		for (size_t i = 0; i <= r.len && !alive; i++)
			alive = r.now[i] != 0;
		if (!alive)
			goto out;
	}
	matched = r.now[r.len] != 0;
out:
	free(r.quoted);
	free(r.now);
	free(r.next);
	return matched;
}

int policy_guard_env(const struct policy_guard *g, const char *name)
{
	for (size_t i = 0; i < g->nenv; i++)
		if (strcmp(g->env[i], name) == 0)
			return 1;
	return 0;
}

/* The server: a name of `to:` (a pattern, or [host]:port for another port), or a host key
 * that known_hosts gives for it. */
static int host_matches(const struct policy *p, const struct policy_host *h, const char *name)
{
	if (h->kind == HOST_NAME)
		return kh_is_pattern(h->text) ? match_pattern(name, h->text) :
		       strcmp(name, h->text) == 0;
	for (size_t i = 0; i < p->kh.n; i++) {
		const struct kh_entry *e = &p->kh.e[i];

		if (e->marker != KH_PLAIN || !kh_entry_names(e, name))
			continue;
		if (h->kind == HOST_KEY ? sshpub_equal(&e->key, &h->key) :
		    strcmp(e->key.fingerprint, h->text) == 0)
			return 1;
	}
	return 0;
}

/* A hop: a host of `via:` whose known host key (or the key itself) is the hop's. */
static int hop_matches(const struct policy *p, const struct policy_host *h,
                       const struct sshpub *hop)
{
	if (h->kind == HOST_KEY)
		return sshpub_equal(&h->key, hop);
	if (h->kind == HOST_FINGERPRINT)
		return strcmp(h->text, hop->fingerprint) == 0;
	for (size_t i = 0; i < p->kh.n; i++) {
		const struct kh_entry *e = &p->kh.e[i];

		if (e->marker == KH_PLAIN && sshpub_equal(&e->key, hop) && kh_entry_names(e, h->text))
			return 1;
	}
	return 0;
}

static int user_matches(const struct policy_rule *r, const char *user)
{
	int positive = 0;

	if (r->nusers == 0)
		return 1;
	for (size_t i = 0; i < r->nusers; i++) {
		const char *pat = r->users[i];

		if (pat[0] == '!') {
			if (match_pattern(user, pat + 1))
				return 0;       /* a negation wins over every positive pattern */
		} else if (match_pattern(user, pat)) {
			positive = 1;
		}
	}
	return positive;
}

/* Every hop must be one the rule names (only the first is attested: see the design). */
static int via_matches(const struct policy *p, const struct policy_rule *r,
                       const struct guard_request *req)
{
	if (r->via_any)
		return 1;
	if (req->nhops == 0)
		return r->via_direct;
	for (size_t k = 0; k < req->nhops; k++) {
		int found = 0;

		for (size_t i = 0; i < r->via.n && !found; i++)
			found = hop_matches(p, &r->via.h[i], req->hops[k]);
		if (!found)
			return 0;
	}
	return 1;
}

static int what_matches(const struct policy_guard *g, const struct guard_request *req)
{
	if (req->pty && !g->pty)
		return 0;
	if (req->kind == GUARD_EXEC) {
		for (size_t i = 0; i < g->nexec; i++)
			if (policy_exec_matches(g->exec[i], req->command))
				return 1;
		return 0;
	}
	if (req->kind == GUARD_SUBSYSTEM) {
		for (size_t i = 0; i < g->nsubsystems; i++)
			if (strcmp(g->subsystems[i], req->command) == 0)
				return 1;
	}
	return 0;       /* a shell is never guarded: it is not one command */
}

static int guard_matches(const struct policy *p, const struct policy_guard *g,
                         const struct guard_request *req, const char *name)
{
	int to = g->sel.to.n == 0;

	for (size_t i = 0; i < g->sel.to.n && !to; i++)
		to = host_matches(p, &g->sel.to.h[i], name);
	/* A deny rule stops the request whatever it asks to run. */
	return to && user_matches(&g->sel, req->user) && via_matches(p, &g->sel, req) &&
	       (g->sel.action == POLICY_DENY || what_matches(g, req));
}

void policy_hop_list(const struct policy *p, const struct sshpub *const *hops, size_t n,
                     int with_keys, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		const char *sep = i ? " -> " : "";
		char names[256];

		policy_host_names(p, hops[i], names, sizeof(names));
		names[strcspn(names, ",")] = '\0';
		if (names[0] == '\0')
			used += (size_t)snprintf(out + used, size - used, "%s%s", sep,
			                         hops[i]->fingerprint);
		else if (with_keys)
			used += (size_t)snprintf(out + used, size - used, "%s%s (%s)", sep, names,
			                         hops[i]->fingerprint);
		else
			used += (size_t)snprintf(out + used, size - used, "%s%s", sep, names);
	}
}

static void describe(const struct policy *p, const struct guard_request *req,
                     const char *name, char *out, size_t size)
{
	static const char *const kinds[] = { "", "the command", "the subsystem", "a shell" };
	char hops[300];

	policy_hop_list(p, req->hops, req->nhops, 0, hops, sizeof(hops));
	snprintf(out, size, "%s%s%.200s%s as %.64s on %.200s%s%s%.200s", kinds[req->kind],
	         req->kind == GUARD_SHELL ? "" : " \"", req->kind == GUARD_SHELL ? "" :
	         req->command, req->kind == GUARD_SHELL ? "" : "\"", req->user, name,
	         req->pty ? " with a terminal" : "", req->nhops > 0 ? " through " :
	         " from this machine", hops);
}

void policy_decide_guarded(const struct policy *p, const struct guard_request *req,
                           struct guard_decision *d)
{
	char what[600];

	memset(d, 0, sizeof(*d));
	d->action = POLICY_DENY;
	if (req->port == 22)
		snprintf(d->host_name, sizeof(d->host_name), "%.250s", req->host);
	else
		snprintf(d->host_name, sizeof(d->host_name), "[%.250s]:%u", req->host, req->port);
	describe(p, req, d->host_name, what, sizeof(what));
	if (p->nguards == 0) {
		snprintf(d->where, sizeof(d->where), "%s", p->file);
		snprintf(d->reason, sizeof(d->reason), "no guarded: list in the policy, so %.450s is "
		         "refused; allow it with policy: guarded: - { action: allow, to: %.100s, "
		         "users: [ %.40s ], exec: [ \"...\" ] } (p11guard-policy(5))", what,
		         d->host_name, req->user);
		return;
	}
	for (size_t i = 0; i < p->nguards; i++) {
		const struct policy_guard *g = &p->guards[i];

		if (!guard_matches(p, g, req, d->host_name))
			continue;
		d->rule = g;
		d->action = g->sel.action;
		d->confirm = g->sel.confirm == CONFIRM_ALWAYS ||
		             (g->sel.confirm == CONFIRM_FORWARDED && req->nhops > 0);
		snprintf(d->where, sizeof(d->where), "%s:%u", p->file, g->sel.line);
		snprintf(d->reason, sizeof(d->reason), "%s rule %.200s:%u %s %.450s",
		         d->action == POLICY_ALLOW ? "allowed by" : "denied by", p->file,
		         g->sel.line, d->action == POLICY_ALLOW ? "runs" : "refuses", what);
		return;
	}
	snprintf(d->where, sizeof(d->where), "%s:%u", p->file, p->default_line);
	snprintf(d->reason, sizeof(d->reason), "no guarded rule allows %.450s (default: deny, %.200s:%u)",
	         what, p->file, p->default_line);
}
