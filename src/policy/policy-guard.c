/*
 * Guarded rules: which command may run where, decided before the agent opens anything.
 * Commands match exactly, or a template whose '*' stays inside one single-quoted word or,
 * unquoted, inside one word of characters a shell gives no meaning: the server runs
 * `$SHELL -c "<command>"`, so a wildcard that could match a quote, a space or a ';' would
 * let the delegate add shell syntax ("'/srv/x'; id; echo '.git'"). No '*' matches "..".
 */
#include <stdio.h>
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

/*
 * Whether '*' may take in `c` after `from`..`c`: inside single quotes anything but a quote
 * and a newline (it cannot leave its word); unquoted, only PLAIN characters (no shell
 * syntax, no second word). Never "..": a path template must not climb out of its directory.
 */
static int may_take(const char *from, const char *c, int quoted)
{
	if (*c == '\0' || *c == '\n' || *c == '\'')
		return 0;
	if (*c == '.' && c > from && c[-1] == '.')
		return 0;
	return quoted || strchr(PLAIN, *c) != NULL;
}

static int match_from(const char *t, const char *s, int quoted)
{
	for (; *t != '\0'; t++, s++) {
		if (*t == '*') {
			for (const char *end = s;; end++) {
				if (match_from(t + 1, end, quoted))
					return 1;
				if (!may_take(s, end, quoted))
					return 0;
			}
		}
		if (*s != *t)
			return 0;
		if (*t == '\'')
			quoted = !quoted;
	}
	return *s == '\0';
}

int policy_exec_matches(const char *t, const char *command)
{
	return strchr(command, '\n') == NULL && match_from(t, command, 0);
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

static void describe(const struct guard_request *req, const char *name, char *out,
                     size_t size)
{
	static const char *const kinds[] = { "", "the command", "the subsystem", "a shell" };

	snprintf(out, size, "%s%s%.200s%s as %.64s on %.200s%s%s", kinds[req->kind],
	         req->kind == GUARD_SHELL ? "" : " \"", req->kind == GUARD_SHELL ? "" :
	         req->command, req->kind == GUARD_SHELL ? "" : "\"", req->user, name,
	         req->pty ? " with a terminal" : "", req->nhops > 0 ? " through a forwarded agent" :
	         " from this machine");
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
	describe(req, d->host_name, what, sizeof(what));
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
