/* The `policy:` section: known_hosts files, ordered rules and the stated default. */
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "match.h"
#include "policy-load.h"

static const char *const policy_keys[] = {
	"known_hosts", "rules", "default", "guarded", NULL
};
static const char *const rule_keys[] = {
	"action", "keys", "to", "users", "via", "clients", "confirm", NULL
};
static const char *const guard_keys[] = {
	"action", "keys", "to", "users", "via", "confirm", "exec", "subsystems", "pty", "env",
	"mode", "forwarding", "fallback", NULL
};

/* A field that takes one string or a list of strings. */
static int string_list(struct ywalk *w, yaml_node_t *n, const char *what, char ***out,
                       size_t *count)
{
	size_t len = 1;
	const char *s;
	int r;

	if (n->type == YAML_SEQUENCE_NODE && (len = yw_seq_len(n)) == 0)
		return yw_error(w, n, "expected at least one entry in %s", what);
	if (len > POLICY_MAX_SELECTORS)
		return yw_error(w, n, "too many entries in %s (at most %d)", what,
		                POLICY_MAX_SELECTORS);
	if ((*out = calloc(len, sizeof(**out))) == NULL)
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	for (size_t i = 0; i < len; i++) {
		yaml_node_t *item = n->type == YAML_SEQUENCE_NODE ? yw_seq_item(w, n, i) : n;

		if ((r = yw_string(w, item, what, &s)) != ERR_OK)
			return r;
		if (s[0] == '\0')
			return yw_error(w, item, "expected a non-empty string in %s", what);
		if (((*out)[i] = strdup(s)) == NULL)
			return reason_set(w->why, ERR_ALLOC, "out of memory");
		(*count)++;
	}
	return ERR_OK;
}

static int check_key_selector(struct ywalk *w, yaml_node_t *at, const char *s)
{
	P11KitUri *uri;
	int ok;

	if (strncmp(s, "SHA256:", 7) == 0)
		return strlen(s) == 50 ? ERR_OK :
		       yw_error(w, at, "expected a SHA256: fingerprint of 43 base64 characters, "
		                "not \"%s\"", s);
	if (strncmp(s, "pkcs11:", 7) != 0)
		return ERR_OK;  /* a token name pattern */
	if ((uri = p11_kit_uri_new()) == NULL)
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	ok = p11_kit_uri_parse(s, P11_KIT_URI_FOR_ANY, uri) == P11_KIT_URI_OK &&
	     !p11_kit_uri_any_unrecognized(uri);
	p11_kit_uri_free(uri);
	return ok ? ERR_OK : yw_error(w, at, "expected a pkcs11: URI (RFC 7512) with token and "
	                              "object attributes, not \"%s\"", s);
}

static int parse_host(struct ywalk *w, yaml_node_t *at, const char *s, struct policy_host *h)
{
	h->line = (unsigned)at->start_mark.line + 1;
	h->col = (unsigned)at->start_mark.column + 1;
	if ((h->text = strdup(s)) == NULL)
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	if (strncmp(s, "SHA256:", 7) == 0) {
		h->kind = HOST_FINGERPRINT;
		return strlen(s) == 50 ? ERR_OK :
		       yw_error(w, at, "expected a SHA256: host key fingerprint, not \"%s\"", s);
	}
	if (strchr(s, ' ') != NULL) {
		h->kind = HOST_KEY;
		return sshpub_parse_text(s, &h->key) == ERR_OK ? ERR_OK :
		       yw_error(w, at, "expected a host key (\"ssh-ed25519 AAAA...\"), "
		                "not \"%.40s\"", s);
	}
	h->kind = HOST_NAME;
	return ERR_OK;
}

static int parse_hosts(struct ywalk *w, yaml_node_t *n, const char *what,
                       struct policy_hosts *out, int *via_any, int *via_direct)
{
	char **texts = NULL;
	size_t count = 0;
	int r;

	if ((r = string_list(w, n, what, &texts, &count)) != ERR_OK)
		goto out;
	if ((out->h = calloc(count, sizeof(*out->h))) == NULL) {
		r = reason_set(w->why, ERR_ALLOC, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count && r == ERR_OK; i++) {
		yaml_node_t *at = n->type == YAML_SEQUENCE_NODE ? yw_seq_item(w, n, i) : n;

		if (via_any != NULL && strcmp(texts[i], "any") == 0)
			*via_any = 1;
		else if (via_any != NULL && strcmp(texts[i], "direct") == 0)
			*via_direct = 1;
		else
			r = parse_host(w, at, texts[i], &out->h[out->n++]);
	}
out:
	for (size_t i = 0; i < count; i++)
		free(texts[i]);
	free(texts);
	return r;
}

static int parse_choice(struct ywalk *w, yaml_node_t *n, const char *what,
                        const char *const names[], const char *expected, int *out)
{
	const char *s;
	int r;

	if ((r = yw_string(w, n, what, &s)) != ERR_OK)
		return r;
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return ERR_OK;
		}
	return yw_error(w, n, "expected %s for %s, not \"%s\"", expected, what, s);
}

/* A rule's selectors; `keys` lists the mapping keys allowed (signing or guarded rules). */
static int parse_rule(struct ywalk *w, yaml_node_t *n, struct policy_rule *rule,
                      const char *const keys[])
{
	static const char *const actions[] = { "deny", "allow", NULL };
	static const char *const confirms[] = { "never", "forwarded", "always", NULL };
	yaml_node_t *v;
	int action = 0, confirm = 0, r;

	if ((r = yw_mapping(w, n, "a rule", keys)) != ERR_OK)
		return r;
	rule->line = (unsigned)n->start_mark.line + 1;
	rule->col = (unsigned)n->start_mark.column + 1;
	if ((v = yw_get(w, n, "action")) == NULL)
		return yw_error(w, n, "rule needs an \"action\" (allow or deny)");
	if ((r = parse_choice(w, v, "action", actions, "allow or deny", &action)) != ERR_OK)
		return r;
	rule->action = (enum policy_action)action;
	if ((v = yw_get(w, n, "confirm")) != NULL) {
		if (rule->action == POLICY_DENY)
			return yw_error(w, v, "confirm applies to allow rules only");
		if ((r = parse_choice(w, v, "confirm", confirms, "always, forwarded or never",
		                        &confirm)) != ERR_OK)
			return r;
		rule->confirm = (enum policy_confirm)confirm;
	}
	if ((v = yw_get(w, n, "keys")) != NULL) {
		if ((r = string_list(w, v, "keys", &rule->keys, &rule->nkeys)) != ERR_OK)
			return r;
		for (size_t i = 0; i < rule->nkeys; i++)
			if ((r = check_key_selector(w, v->type == YAML_SEQUENCE_NODE ?
			                            yw_seq_item(w, v, i) : v, rule->keys[i])) != ERR_OK)
				return r;
	}
	if ((v = yw_get(w, n, "to")) != NULL &&
	    (r = parse_hosts(w, v, "to", &rule->to, NULL, NULL)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "users")) != NULL &&
	    (r = string_list(w, v, "users", &rule->users, &rule->nusers)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "clients")) != NULL &&
	    (r = string_list(w, v, "clients", &rule->clients, &rule->nclients)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "via")) == NULL) {
		rule->via_direct = 1;   /* forwarding must be asked for by name */
		return ERR_OK;
	}
	if ((r = parse_hosts(w, v, "via", &rule->via, &rule->via_any, &rule->via_direct)) !=
	    ERR_OK)
		return r;
	if (rule->via_any && (rule->via.n > 0 || rule->via_direct))
		return yw_error(w, v, "\"any\" already covers every hop; list nothing else with it");
	return ERR_OK;
}

static int parse_rules(struct ywalk *w, yaml_node_t *seq, struct policy *p)
{
	size_t n;
	int r;

	if ((r = yw_sequence(w, seq, "rules")) != ERR_OK)
		return r;
	if ((n = yw_seq_len(seq)) > POLICY_MAX_RULES)
		return yw_error(w, seq, "too many rules (at most %d)", POLICY_MAX_RULES);
	if (n > 0 && (p->rules = calloc(n, sizeof(*p->rules))) == NULL)
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	for (size_t i = 0; i < n; i++) {
		p->nrules++;
		if ((r = parse_rule(w, yw_seq_item(w, seq, i), &p->rules[i], rule_keys)) != ERR_OK)
			return r;
	}
	return ERR_OK;
}

/* exec: [] and subsystems: [] may be empty (nothing of that kind is allowed). */
static int maybe_empty_list(struct ywalk *w, yaml_node_t *n, const char *what, char ***out,
                            size_t *count)
{
	if (n->type == YAML_SEQUENCE_NODE && yw_seq_len(n) == 0)
		return ERR_OK;
	return string_list(w, n, what, out, count);
}

static int parse_exec(struct ywalk *w, yaml_node_t *n, struct policy_guard *g)
{
	const char *problem;
	int r;

	if ((r = maybe_empty_list(w, n, "exec", &g->exec, &g->nexec)) != ERR_OK)
		return r;
	for (size_t i = 0; i < g->nexec; i++) {
		yaml_node_t *at = n->type == YAML_SEQUENCE_NODE ? yw_seq_item(w, n, i) : n;

		if (!policy_exec_template_ok(g->exec[i], &problem))
			return yw_error(w, at, "exec \"%.200s\": %s", g->exec[i], problem);
	}
	return ERR_OK;
}

static int parse_guard(struct ywalk *w, yaml_node_t *n, struct policy_guard *g)
{
	static const char *const modes[] = { "relay", "handoff", NULL };
	static const char *const forwardings[] = { "probe", "off-asserted", "ignore", NULL };
	static const char *const fallbacks[] = { "relay", "deny", NULL };
	yaml_node_t *v;
	int choice, r;

	if ((r = parse_rule(w, n, &g->sel, guard_keys)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "exec")) != NULL && (r = parse_exec(w, v, g)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "subsystems")) != NULL &&
	    (r = maybe_empty_list(w, v, "subsystems", &g->subsystems, &g->nsubsystems)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "env")) != NULL &&
	    (r = maybe_empty_list(w, v, "env", &g->env, &g->nenv)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "pty")) != NULL && (r = yw_bool(w, v, "pty", &g->pty)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "mode")) != NULL) {
		if ((r = parse_choice(w, v, "mode", modes, "relay or handoff", &choice)) != ERR_OK)
			return r;
		g->mode = (enum guard_mode)choice;
	}
	if ((v = yw_get(w, n, "forwarding")) != NULL) {
		if ((r = parse_choice(w, v, "forwarding", forwardings, "probe, off-asserted or "
		                      "ignore", &choice)) != ERR_OK)
			return r;
		g->forwarding = (enum guard_forwarding)choice;
	}
	if ((v = yw_get(w, n, "fallback")) != NULL) {
		if ((r = parse_choice(w, v, "fallback", fallbacks, "relay or deny", &choice)) != ERR_OK)
			return r;
		g->fallback = (enum guard_fallback)choice;
	}
	return ERR_OK;
}

static int parse_guards(struct ywalk *w, yaml_node_t *seq, struct policy *p)
{
	size_t n;
	int r;

	if ((r = yw_sequence(w, seq, "guarded")) != ERR_OK)
		return r;
	if ((n = yw_seq_len(seq)) > POLICY_MAX_RULES)
		return yw_error(w, seq, "too many guarded rules (at most %d)", POLICY_MAX_RULES);
	if (n > 0 && (p->guards = calloc(n, sizeof(*p->guards))) == NULL)
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	for (size_t i = 0; i < n; i++) {
		p->nguards++;
		if ((r = parse_guard(w, yw_seq_item(w, seq, i), &p->guards[i])) != ERR_OK)
			return r;
	}
	return ERR_OK;
}

int policy_parse(struct ywalk *w, yaml_node_t *n, struct policy **out)
{
	struct policy *p;
	yaml_node_t *v;
	const char *s;
	int r;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	p->refs = 1;
	if ((p->file = strdup(w->file)) == NULL) {
		r = reason_set(w->why, ERR_ALLOC, "out of memory");
		goto out;
	}
	if ((r = yw_mapping(w, n, "policy", policy_keys)) != ERR_OK)
		goto out;
	/* Fail closed: the file must say what happens when no rule matches, and it is deny. */
	if ((v = yw_get(w, n, "default")) == NULL) {
		r = yw_error(w, n, "policy needs \"default: deny\" (the answer when no rule "
		             "matches)");
		goto out;
	}
	if ((r = yw_string(w, v, "default", &s)) != ERR_OK)
		goto out;
	if (strcmp(s, "deny") != 0) {
		r = yw_error(w, v, "expected deny for default, not \"%s\" (allow what you mean "
		             "with rules)", s);
		goto out;
	}
	p->default_line = (unsigned)v->start_mark.line + 1;
	p->default_col = (unsigned)v->start_mark.column + 1;
	if ((v = yw_get(w, n, "known_hosts")) != NULL) {
		p->known_hosts_line = (unsigned)v->start_mark.line + 1;
		p->known_hosts_col = (unsigned)v->start_mark.column + 1;
		if ((r = string_list(w, v, "known_hosts", &p->known_hosts_files,
		                     &p->nknown_hosts_files)) != ERR_OK)
			goto out;
		if (p->nknown_hosts_files > POLICY_MAX_KNOWN_HOSTS_FILES) {
			r = yw_error(w, v, "too many known_hosts files (at most %d)",
			             POLICY_MAX_KNOWN_HOSTS_FILES);
			goto out;
		}
	}
	if ((v = yw_get(w, n, "rules")) != NULL && (r = parse_rules(w, v, p)) != ERR_OK)
		goto out;
	if ((v = yw_get(w, n, "guarded")) != NULL)
		r = parse_guards(w, v, p);
out:
	if (r != ERR_OK) {
		policy_unref(p);
		return r;
	}
	*out = p;
	return ERR_OK;
}
