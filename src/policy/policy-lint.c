/* `p11guard policy check`: rule parts that can never match, found before they surprise. */
#include <stdio.h>
#include <string.h>

#include "match.h"
#include "policy-index.h"

static void warn_at(void (*warn)(void *, const char *), void *ctx, const char *file,
                    unsigned line, unsigned col, const char *fmt, const char *arg)
{
	char msg[600], text[400];

	snprintf(text, sizeof(text), fmt, arg);
	snprintf(msg, sizeof(msg), "%s:%u:%u: warning: %s", file, line, col, text);
	warn(ctx, msg);
}

static int is_ca_name(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->kh.n; i++)
		if (p->kh.e[i].marker == KH_CERT_AUTHORITY && kh_entry_names(&p->kh.e[i], name))
			return 1;
	return 0;
}

static void lint_hosts(const struct policy *p, const struct policy_hosts *hs,
                       void (*warn)(void *, const char *), void *ctx)
{
	for (size_t h = 0; h < hs->n; h++) {
		const struct policy_host *host = &hs->h[h];

		/* A name an @cert-authority entry covers matches the hosts that CA certified. */
		if (host->kind != HOST_NAME || host->nresolved > 0 || is_ca_name(p, host->text))
			continue;
		warn_at(warn, ctx, p->file, host->line, host->col,
		        kh_is_pattern(host->text) ?
		        "pattern \"%s\" matches no plain name in any known_hosts file (hashed "
		        "names cannot match patterns); this never matches" :
		        "host \"%s\" is in no known_hosts file; this never matches", host->text);
	}
}

static int token_selected(const char *pattern, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (match_pattern(names[i], pattern))
			return 1;
	return 0;
}

/* An approval that can write files can write ~/.ssh/authorized_keys: one approval becomes
 * lasting access unless the server restricts the key. */
static const char *writes(const char *command)
{
	if (strncmp(command, "git-receive-pack", 16) == 0)
		return "git-receive-pack writes the repository";
	if (strncmp(command, "scp ", 4) == 0 && strstr(command, " -t") != NULL)
		return "scp -t writes files";
	if (strncmp(command, "rsync --server", 14) == 0 && strstr(command, "--sender") == NULL)
		return "rsync --server without --sender receives files";
	return NULL;
}

static void lint_guard(const struct policy *p, const struct policy_guard *g,
                       void (*warn)(void *, const char *), void *ctx)
{
	const char *why;

	lint_hosts(p, &g->sel.to, warn, ctx);
	lint_hosts(p, &g->sel.via, warn, ctx);
	if (g->sel.action == POLICY_DENY)
		return;
	for (size_t k = 0; k < g->nexec; k++) {
		if ((why = writes(g->exec[k])) != NULL)
			warn_at(warn, ctx, p->file, g->sel.line, g->sel.col, "a guarded exec can "
			        "write files, ~/.ssh/authorized_keys too, unless the server restricts "
			        "the key (authorized_keys restrict, or a forced command): %s", why);
		if (strchr(g->exec[k], '*') != NULL)
			warn_at(warn, ctx, p->file, g->sel.line, g->sel.col, "guarded exec \"%s\" is a "
			        "template: check that every word its '*' can become is one you allow",
			        g->exec[k]);
	}
	for (size_t k = 0; k < g->nsubsystems; k++)
		if (strcmp(g->subsystems[k], "sftp") == 0)
			warn_at(warn, ctx, p->file, g->sel.line, g->sel.col, "guarded subsystem %s "
			        "gives full file access as the user, ~/.ssh/authorized_keys included",
			        g->subsystems[k]);
	if (g->sel.to.n == 0)
		warn_at(warn, ctx, p->file, g->sel.line, g->sel.col, "a guarded rule names no "
		        "server (to:): it allows its commands on every host known_hosts has%s", "");
	if (g->mode != GUARD_HANDOFF)
		return;
	if (g->forwarding == GUARD_FWD_PROBE)
		warn_at(warn, ctx, p->file, g->sel.line, g->sel.col, "mode: handoff with forwarding "
		        "probes: a server whose forwarding is limited to a PermitOpen list, or that "
		        "allows local Unix-socket forwarding only, passes the probes, and the "
		        "intermediary can reach those destinations after the handoff; close "
		        "forwarding for the key (authorized_keys restrict, or DisableForwarding yes)%s",
		        "");
	else
		warn_at(warn, ctx, p->file, g->sel.line, g->sel.col, "mode: handoff with forwarding: "
		        "%s hands sessions off unprobed: after the handoff the intermediary can use "
		        "any forwarding the server allows for the key",
		        g->forwarding == GUARD_FWD_IGNORE ? "ignore" : "off-asserted");
}

void policy_lint(const struct policy *p, const char *const *token_names, size_t ntokens,
                 void (*warn)(void *ctx, const char *msg), void *ctx)
{
	for (size_t i = 0; i < p->nknown_hosts_files; i++) {
		int loaded = 0;

		for (size_t f = 0; f < p->kh.nfiles; f++)
			loaded |= strstr(p->kh.files[f], p->known_hosts_files[i] +
			                 (p->known_hosts_files[i][0] == '~' ? 1 : 0)) != NULL;
		if (!loaded)
			warn_at(warn, ctx, p->file, p->known_hosts_line, p->known_hosts_col,
			        "known_hosts file %s does not exist", p->known_hosts_files[i]);
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct policy_rule *rule = &p->rules[i];

		lint_hosts(p, &rule->to, warn, ctx);
		lint_hosts(p, &rule->via, warn, ctx);
		for (size_t k = 0; k < rule->nkeys; k++) {
			const char *s = rule->keys[k];

			if (strncmp(s, "SHA256:", 7) != 0 && strncmp(s, "pkcs11:", 7) != 0 &&
			    !token_selected(s, token_names, ntokens))
				warn_at(warn, ctx, p->file, rule->line, rule->col,
				        "key selector \"%s\" names no configured token; this rule never "
				        "matches a configured key", s);
		}
	}
	for (size_t i = 0; i < p->nguards; i++)
		lint_guard(p, &p->guards[i], warn, ctx);
}
