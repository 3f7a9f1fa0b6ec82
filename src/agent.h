/*
 * Request handling: one parsed agent request in, one reply out. Runs on worker threads and
 * never touches sockets; the event loop hands it messages and sends what it writes.
 */
#ifndef P11G_AGENT_H
#define P11G_AGENT_H

#include <sys/types.h>

#include "agent-proto.h"
#include "keystore.h"

/* What we know about the process at the other end of a connection. */
struct agent_client {
	uid_t uid;
	pid_t pid;
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
};

int agent_init(struct agent *a, const char *allowed_providers, uint32_t default_lifetime);
void agent_free(struct agent *a);

/* Serves the tokens a configuration file names; failures are logged, not fatal. */
void agent_load_config(struct agent *a, const struct config *cfg);

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
