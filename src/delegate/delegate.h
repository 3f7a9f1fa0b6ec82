/*
 * The delegate's side of a guarded session (design section 8): ask the agent, connect to
 * the server only once it accepted, then move bytes until it says the session ended.
 * p11guard-ssh is this and a command line. The tests' malicious delegate is this and a
 * tamper hook; p11guard-ssh never sets one.
 */
#ifndef P11G_DELEGATE_H
#define P11G_DELEGATE_H

#include "guard-wire.h"

#define DELEGATE_FAILED 255     /* its own errors and refusals, as ssh */

struct delegate_tamper {
	/* The n-th TO_SERVER payload (from 0) before it goes to the server: may change it. */
	void (*to_server)(void *ctx, unsigned n, struct wbuf *bytes);
	/* The n-th read from the server before it goes to the agent: may change it. */
	void (*from_server)(void *ctx, unsigned n, struct wbuf *bytes);
	/* Frames to send right before and right after CONNECTED. */
	void (*before_connected)(void *ctx, struct wbuf *to_agent);
	void (*after_connected)(void *ctx, struct wbuf *to_agent);
	/* A frame from the agent: seen first; ignored, as if never sent, when nonzero. */
	int (*drop_frame)(void *ctx, enum guard_frame_type type, const struct wbuf *payload);
	/* Once a handoff made the connection ours: may send what it likes through `client`. */
	void (*after_handoff)(void *ctx, struct ssh_client *client);
	int idle_ms;            /* nonzero: give up after this long with nothing to move */
	unsigned server_port;   /* nonzero: connect here, not to the requested port */
	void *ctx;
};

struct delegate_options {
	int verbose;                            /* the agent's progress on stderr */
	const struct delegate_tamper *tamper;   /* NULL but in tests */
	int family;                             /* AF_UNSPEC, AF_INET, AF_INET6 */
	int connect_timeout;                    /* seconds; 0: the system's */
	int tty;                                /* the request has a pty: raw mode, SIGWINCH */
	int alive_interval, alive_count_max;    /* ServerAliveInterval (0: off), CountMax */
	uint64_t rekey_bytes;                   /* after a handoff: re-key after this; 0: 1 GiB */
};

/* Writes all of `p`, waiting as needed (the command's output: our reader is the user's). */
int delegate_write_all(int fd, const uint8_t *p, size_t n);

/* Asks, connects, relays: the command's exit status, or DELEGATE_FAILED. */
int delegate_run(const struct guard_request_wire *g, const char *sock,
                 const struct delegate_options *o);

#endif
