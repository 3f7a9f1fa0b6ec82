/*
 * p11guard-agent as an implementation of libsshagent's operations: tokens, policy, prompts
 * and audit. The library owns the socket, framing, workers and session-bind; the
 * operations run on its worker threads and never touch sockets.
 */
#ifndef P11G_AGENT_H
#define P11G_AGENT_H

#include <signal.h>
#include <sys/types.h>

#include "agent-proto.h"
#include "agent-refusals.h"
#include "audit.h"
#include "config.h"
#include "hotplug.h"
#include "keystore.h"
#include "policy.h"
#include "session-bind.h"
#include "sshagent.h"

/* What we know about the process at the other end of a connection, and where it goes. */
struct agent_client {
	struct sshagent_conn *conn;
	uid_t uid;
	pid_t pid;
	char exe[256];                  /* the peer's executable, or "" when unknown */
	const struct bindings *bindings;        /* the library's, verified, in order */
	/* A PIN prompt declined or a wrong PIN here: the token, why, and until when it holds. */
	struct agent_pin_failure {
		char token[96];         /* "" when none */
		struct reason why;
		struct timespec until;
	} pin_failure;
	/* The signature request in hand: its key, destination and deciding rule, for `why`. */
	struct refusal_context about;
	/* Keys already reported hidden on this connection while it had `hidden_bindings`
	 * bindings: a client that lists again makes no second audit event. */
	char hidden[16][SSHKEY_FP_LEN];
	size_t nhidden, hidden_bindings;
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
	int software_keys_denied;       /* software_keys: deny, under policy_lock */
	int notify_refusals;            /* notify: { refusals: true }, under policy_lock */
	struct refusals refusals;       /* the last ones, for `p11guard why` */
	char socket_path[4096];         /* where clients reach us, for `p11guard status` */
	time_t started, config_loaded;  /* for `p11guard status` */
	char last_reload_error[384];    /* "" when the last reload worked */
	struct audit audit;
	struct hotplug hotplug;
	/* The event loop's signals: reload (SIGHUP), and a process whose end ends us. */
	volatile sig_atomic_t *reload;
	volatile sig_atomic_t *remove_all;      /* SIGUSR1 */
	/* The configured tokens served, as their entries were (agent-tokens.c). */
	struct agent_served {
		char *name;
		char *definition;
	} *served;
	size_t nserved;
	pid_t watch_pid;
	/* Start-up: called once serving (foreground: print the environment), then the report to
	 * a waiting parent (-1: none) and to systemd (agent-service.c). */
	void (*on_serving)(void *arg);
	void *on_serving_arg;
	int startup_fd;
};

/* libsshagent's operations, with a struct agent as their context (agent-ops.c). */
extern const struct sshagent_ops agent_ops;

int agent_init(struct agent *a, const char *allowed_providers, uint32_t default_lifetime);
void agent_free(struct agent *a);


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
int agent_may_list(struct agent *a, struct agent_client *c, const struct policy *pol,
                   const struct ks_identity *id);

/* The operations (agent-*.c); each returns ERR_OK or a code with `why` set. */
int agent_is_locked(struct agent *a);
int agent_pin_source(void *ctx, const struct p11_token *t, const char *purpose, char *pin,
                     size_t pin_max, struct reason *why);
int agent_list(struct agent *a, struct agent_client *c, struct sshagent_reply *r,
               struct reason *why) __attribute__((warn_unused_result));
int agent_remove(struct agent *a, const struct sshagent_request *req, struct reason *why)
	__attribute__((warn_unused_result));
int agent_sign(struct agent *a, struct agent_client *c, const struct sshagent_request *req,
               struct sshagent_reply *r, struct reason *why)
	__attribute__((warn_unused_result));
int agent_smartcard(struct agent *a, const struct sshagent_request *req, struct reason *why)
	__attribute__((warn_unused_result));
int agent_add_software(struct agent *a, const struct sshagent_request *req,
                       struct reason *why) __attribute__((warn_unused_result));
int agent_software_allowed(struct agent *a);
/* A configured token's certificate files, read; NULL when it names none (agent-certfiles.c). */
struct ks_certs *agent_read_certificates(const struct config_token *ct);
/*
 * Serves the configuration's tokens: new entries, changed ones anew, ones ssh-add -D took
 * back; drops removed ones; an unchanged one keeps its keys and PINs (agent-tokens.c).
 */
void agent_serve_tokens(struct agent *a, const struct config *cfg);
void agent_forget_served(struct agent *a);
/* Remembers a refusal for `p11guard why`, with a desktop notice if configured (agent-ops.c). */
void agent_note_refusal(struct agent *a, const struct refusal *f);
/* The listed source of a configured token, referenced; NULL when it is not listed. */
struct ks_source *agent_configured_source(struct agent *a, const char *name);
/* `p11guard status` and `p11guard why`: the answers' bodies (agent-report.c). */
int agent_report_status(struct agent *a, struct wbuf *out);
int agent_report_refusals(struct agent *a, const struct sshagent_bytes *filters,
                          struct wbuf *out, struct reason *why);
/* Lifetime, confirm and ssh-add -h restrictions of an add request, put on its source. */
int agent_apply_constraints(struct agent *a, const struct sshagent_constraints *c,
                            struct ks_source *src, struct reason *why)
	__attribute__((warn_unused_result));
int agent_lock(struct agent *a, struct agent_client *c, const struct sshagent_request *req,
               struct reason *why) __attribute__((warn_unused_result));
/* A signature by `id` over `data` as an SSH signature blob (agent-sign.c): the token (with
 * its PIN prompt and touch notice) or the software key; no policy is asked here. */
int agent_sign_data(const struct ks_identity *id, uint32_t flags, const uint8_t *data,
                    size_t len, const char *purpose, struct wbuf *sig, const char **alg_name,
                    struct reason *why) __attribute__((warn_unused_result));
/* guarded-exec@p11guard (agent-guard.c): decide, accept, and run the session. */
int agent_guarded_exec(struct agent *a, struct agent_client *c,
                       const struct sshagent_request *req, struct sshagent_reply *r,
                       struct reason *why);
/* Whether `sid` is the SSH session id of a running guarded session: the agent alone signs
 * for it, and no connection may bind to it. */
int agent_guard_owns_session(const uint8_t *sid, size_t len);
/* For status: uint32 count, then per running guarded session its id, server, user and
 * command (strings). */
int agent_guard_report(struct wbuf *out) __attribute__((warn_unused_result));
/* At the agent's exit: running guarded sessions end, each with an ABORT that says so; waits
 * up to 5 s for them. -1 when some still run (then the agent's state must not be freed). */
int agent_guard_stop(void);
/* Where a confirmation for keys of this source is asked (agent-policy.c). */
void agent_confirm_prompt(struct agent *a, const struct ks_pin_spec *pin,
                          struct confirm_prompt *how, char *program, size_t size);
int agent_extension(struct agent *a, struct agent_client *c,
                    const struct sshagent_request *req, struct sshagent_reply *r,
                    struct reason *why) __attribute__((warn_unused_result));

#endif
