/*
 * Request handling: one parsed agent request in, one reply out. Runs on worker threads and
 * never touches sockets; the event loop hands it messages and sends what it writes.
 */
#ifndef P11G_AGENT_H
#define P11G_AGENT_H

#include <sys/types.h>

#include "agent-proto.h"
#include "audit.h"
#include "config.h"
#include "hotplug.h"
#include "keystore.h"
#include "policy.h"
#include "session-bind.h"

/* What we know about the process at the other end of a connection, and where it goes. */
struct agent_client {
	uid_t uid;
	pid_t pid;
	char exe[256];                  /* the peer's executable, or "" when unknown */
	struct bindings bindings;       /* session-bind@openssh.com, in order */
	char last_refusal[384];         /* why this connection's last request was refused */
};

struct agent_lock_state {
	pthread_mutex_t mutex;
	int locked;
	uint8_t salt[16];
	uint8_t hash[32];
	unsigned failures;
	struct timespec retry_after;
};

struct agent {
	struct keystore keys;
	struct agent_lock_state lock;
	char *allowed_providers;        /* -P: comma-separated patterns */
	uint32_t default_lifetime;      /* -t, seconds */
	pthread_mutex_t policy_lock;    /* guards the pointer; the policy itself is immutable */
	struct policy *policy;
	char *config_path;              /* re-read on reload; NULL: the built-in default */
	/* The top-level confirm_prompt, under policy_lock; UNSET: each source's own default. */
	enum confirm_via confirm_via;
	char *confirm_program;
	struct audit audit;
	struct hotplug hotplug;
};

int agent_init(struct agent *a, const char *allowed_providers, uint32_t default_lifetime);
void agent_free(struct agent *a);

void agent_client_init(struct agent_client *c, uid_t uid, pid_t pid);
void agent_client_clear(struct agent_client *c);

/*
 * Takes the policy and audit settings of `cfg`, serves its tokens and starts following
 * hot-plug. Token failures are logged, not fatal; a policy or audit failure is.
 */
int agent_load_config(struct agent *a, const struct config *cfg, struct reason *why)
	__attribute__((warn_unused_result));
/* Re-reads the configuration file's policy and audit settings; on error the old ones stay. */
int agent_reload(struct agent *a, struct reason *why) __attribute__((warn_unused_result));
/* The policy in force, referenced; release with policy_unref. */
struct policy *agent_policy(struct agent *a);

/* The policy decision point (agent-policy.c). */
/* On success `purpose` says what the signature is for, for a PIN prompt. */
int agent_authorize_sign(struct agent *a, struct agent_client *c,
                         const struct ks_identity *id, const uint8_t *data, size_t len,
                         char *purpose, size_t purpose_size, struct reason *why)
	__attribute__((warn_unused_result));
int agent_may_list(struct agent *a, const struct agent_client *c, const struct policy *pol,
                   const struct ks_identity *id);

/* Handles one message body; appends exactly one framed reply to `reply`. */
int agent_handle(struct agent *a, struct agent_client *c, struct wbuf *msg,
                 struct wbuf *reply);

/* Internal to the request handlers (agent-*.c). */
int agent_refuse(struct agent_client *c, struct wbuf *reply, uint8_t type,
                 const struct reason *why, const char *what);
int agent_is_locked(struct agent *a);
int agent_pin_source(void *ctx, const struct p11_token *t, const char *purpose, char *pin,
                     size_t pin_max, struct reason *why);

int agent_handle_identities(struct agent *a, struct agent_client *c,
                            const struct agent_request *req, struct wbuf *reply);
int agent_handle_sign(struct agent *a, struct agent_client *c,
                      const struct agent_request *req, struct wbuf *reply);
int agent_handle_smartcard(struct agent *a, struct agent_client *c,
                           const struct agent_request *req, struct wbuf *reply);
int agent_handle_lock(struct agent *a, struct agent_client *c,
                      const struct agent_request *req, struct wbuf *reply);
int agent_handle_extension(struct agent *a, struct agent_client *c,
                           const struct agent_request *req, struct wbuf *reply);

#endif
