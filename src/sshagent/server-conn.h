/*
 * Inside the server: a client connection, the reply builder the operations write into, and
 * the handling of one request (serve-request.c) that the event loop (server.c) calls.
 */
#ifndef P11G_SERVER_CONN_H
#define P11G_SERVER_CONN_H

#include <time.h>

#include "agent-proto.h"
#include "err.h"
#include "session-bind.h"
#include "sshagent.h"

struct sshagent_conn {
	int fd;
	uid_t uid;
	pid_t pid;
	struct wbuf in, out, msg;
	struct bindings bindings;       /* session-bind@openssh.com, in order */
	char last_refusal[SSHAGENT_REASON_MAX];
	void *data;                     /* the implementation's, from ops->open */
	sshagent_detach_fn detach;      /* set by an extension that takes the fd */
	void *detach_arg;
	int detached;                   /* the fd is no longer ours */
	int busy;               /* owned by a worker until it comes back on the done list */
	int failed;             /* the worker could not build a reply: close after */
	time_t partial_since;
	struct sshagent_conn *next;
};

struct sshagent_reply {
	struct wbuf *out;
	uint8_t type;           /* the reply this request takes */
	const char *extension;  /* its name, for EXTENSION_RESPONSE */
	size_t mark, count_at;
	uint32_t count;
	int begun;
};

/* What the request handler needs of the server. */
struct serve_config {
	const struct sshagent_ops *ops;
	void *ctx;
	int forwarded_may_change_keys;
};

/*
 * Handles the message in c->msg and appends exactly one framed reply to c->out. Returns
 * ERR_OK, or an error when no reply could be built (the connection is then closed).
 */
int serve_request(const struct serve_config *cfg, struct sshagent_conn *c) WUR;
/* Records a refusal on the connection and tells the implementation. */
void serve_refused(const struct serve_config *cfg, struct sshagent_conn *c, const char *what,
                   const struct reason *why);

#endif
