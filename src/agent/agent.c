/* The agent's state: policy and audit in force, reloads, and serving the configured tokens. */
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "notice.h"
#include "prompt.h"

int agent_init(struct agent *a, const char *allowed_providers, uint32_t default_lifetime)
{
	struct reason why;

	memset(a, 0, sizeof(*a));
	a->startup_fd = -1;
	a->started = time(NULL);
	refusals_init(&a->refusals);
	keystore_init(&a->keys);
	pthread_mutex_init(&a->lock.mutex, NULL);
	pthread_mutex_init(&a->policy_lock, NULL);
	audit_init(&a->audit);
	a->default_lifetime = default_lifetime;
	if ((a->allowed_providers = strdup(allowed_providers)) == NULL ||
	    (a->policy = policy_builtin()) == NULL)
		return ERR_ALLOC;
	return policy_resolve(a->policy, &why);
}

void agent_free(struct agent *a)
{
	if (agent_guard_stop() != 0)
		return;         /* a session thread still uses it; the exit frees all */
	hotplug_stop(&a->hotplug);
	keystore_clear(&a->keys);
	pthread_mutex_destroy(&a->lock.mutex);
	pthread_mutex_destroy(&a->policy_lock);
	policy_unref(a->policy);
	audit_close(&a->audit);
	refusals_free(&a->refusals);
	free(a->allowed_providers);
	free(a->config_path);
	free(a->confirm_program);
	agent_forget_served(a);
	explicit_bzero(a->lock.hash, sizeof(a->lock.hash));
}

int agent_software_allowed(struct agent *a)
{
	int denied;

	pthread_mutex_lock(&a->policy_lock);
	denied = a->software_keys_denied;
	pthread_mutex_unlock(&a->policy_lock);
	return !denied;
}

struct policy *agent_policy(struct agent *a)
{
	struct policy *p;

	pthread_mutex_lock(&a->policy_lock);
	p = policy_ref(a->policy);
	pthread_mutex_unlock(&a->policy_lock);
	return p;
}

/* Puts a new policy (or the built-in one) and audit settings in force, all or nothing. */
static int apply_config(struct agent *a, const struct config *cfg, struct reason *why)
{
	struct policy *p = cfg->policy ? policy_ref(cfg->policy) : policy_builtin();
	char *confirm_program = NULL;
	struct policy *old;
	int r;

	if (p == NULL || (cfg->confirm.program != NULL &&
	                  (confirm_program = strdup(cfg->confirm.program)) == NULL)) {
		policy_unref(p);
		return reason_set(why, ERR_ALLOC, "out of memory");
	}
	if ((cfg->policy == NULL && (r = policy_resolve(p, why)) != ERR_OK) ||
	    (r = audit_configure(&a->audit, &cfg->audit, why)) != ERR_OK ||
	    (r = notice_configure(cfg->notify.after_ms, cfg->notify.command, why)) != ERR_OK) {
		policy_unref(p);
		free(confirm_program);
		return r;
	}
	prompt_set_timeout(cfg->prompt_timeout ? cfg->prompt_timeout : PROMPT_TIMEOUT_DEFAULT);
	pthread_mutex_lock(&a->policy_lock);
	old = a->policy;
	a->policy = p;
	a->confirm_via = cfg->confirm.via;
	a->software_keys_denied = cfg->software_keys_deny;
	a->notify_refusals = cfg->notify.refusals;
	a->config_loaded = time(NULL);
	free(a->confirm_program);
	a->confirm_program = confirm_program;
	pthread_mutex_unlock(&a->policy_lock);
	policy_unref(old);
	log_info("policy in force: %s, %zu rule(s)%s", p->file, p->nrules,
	         cfg->policy ? "" : " (built-in: local use allowed, forwarded use confirmed)");
	return ERR_OK;
}

int agent_reload(struct agent *a, struct reason *why)
{
	struct config cfg;
	int r;

	audit_reopen(&a->audit);
	if (a->config_path == NULL)
		return ERR_OK;
	if ((r = config_load_file(a->config_path, &cfg, why)) == ERR_OK) {
		if ((r = apply_config(a, &cfg, why)) == ERR_OK)
			agent_serve_tokens(a, &cfg);
		config_free(&cfg);
	}
	if (r != ERR_OK)
		reason_wrap(why, "reload failed, the previous policy stays in force");
	/* For `p11guard status`: the last reload's failure, or none. */
	pthread_mutex_lock(&a->policy_lock);
	snprintf(a->last_reload_error, sizeof(a->last_reload_error), "%s",
	         r != ERR_OK ? why->text : "");
	pthread_mutex_unlock(&a->policy_lock);
	return r;
}

int agent_load_config(struct agent *a, const struct config *cfg, struct reason *why)
{
	int r;

	free(a->config_path);
	a->config_path = NULL;
	/* The built-in configuration has no file to re-read. */
	if (cfg->path[0] != '<' && (a->config_path = strdup(cfg->path)) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	if ((r = apply_config(a, cfg, why)) != ERR_OK)
		return r;
	agent_serve_tokens(a, cfg);
	if (hotplug_start(&a->hotplug, &a->keys, cfg->rescan_interval) != ERR_OK)
		return reason_set(why, ERR_SYSTEM, "could not start the hot-plug thread");
	return ERR_OK;
}
