/* Policy objects: the built-in default, reference counting and freeing. */
#include <stdlib.h>
#include <string.h>

#include "policy-index.h"

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_hosts(struct policy_hosts *hs)
{
	for (size_t i = 0; i < hs->n; i++) {
		free(hs->h[i].text);
		sshpub_free(&hs->h[i].key);
	}
	free(hs->h);
}

static void free_rule(struct policy_rule *r)
{
	free_strings(r->keys, r->nkeys);
	free_strings(r->users, r->nusers);
	free_strings(r->clients, r->nclients);
	free_hosts(&r->to);
	free_hosts(&r->via);
}

static void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++)
		free_rule(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->nguards; i++) {
		struct policy_guard *g = &p->guards[i];

		free_rule(&g->sel);
		free_strings(g->exec, g->nexec);
		free_strings(g->subsystems, g->nsubsystems);
		free_strings(g->env, g->nenv);
	}
	free(p->guards);
	free_strings(p->known_hosts_files, p->nknown_hosts_files);
	known_hosts_free(&p->kh);
	policy_index_free(p->index);
	free(p->file);
	free(p);
}

struct policy *policy_ref(struct policy *p)
{
	if (p != NULL)
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_SEQ_CST);
	return p;
}

void policy_unref(struct policy *p)
{
	if (p != NULL && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_SEQ_CST) == 0)
		policy_free(p);
}

/*
 * Without a policy section: anything on this machine may sign, and a forwarded connection
 * signs only after the user confirms (so it is refused where no prompt can be shown). The
 * agent lets keys with ssh-add -h restrictions follow those alone (agent-policy.c).
 */
struct policy *policy_builtin(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->rules = calloc(2, sizeof(*p->rules))) == NULL ||
	    (p->file = strdup("built-in")) == NULL) {
		if (p != NULL)
			policy_free(p);
		return NULL;
	}
	p->refs = 1;
	p->builtin = 1;
	p->nrules = 2;
	p->rules[0].action = POLICY_ALLOW;
	p->rules[0].via_direct = 1;
	p->rules[0].line = 1;
	p->rules[1].action = POLICY_ALLOW;
	p->rules[1].via_any = 1;
	p->rules[1].confirm = CONFIRM_ALWAYS;
	p->rules[1].line = 2;
	return p;
}
