/*
 * Guarded execution's wire (design section 3): the guarded-exec@p11guard request a delegate
 * sends on its agent connection, the agent's acceptance, and the frames both then exchange
 * (uint32 length, byte type, payload; at most 64 KiB). Every field is checked here, so that
 * no text from the delegate reaches the SSH connection unchecked: host and user character
 * sets, a command without NUL, CR or LF, pty modes opcode by opcode, environment names.
 */
#ifndef P11G_GUARD_WIRE_H
#define P11G_GUARD_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "ssh-client.h"
#include "wire.h"

#define GUARD_EXTENSION "guarded-exec@p11guard"
#define GUARD_VERSION 1
#define GUARD_FRAME_MAX (64 * 1024)
#define GUARD_MAX_COMMAND 8192
#define GUARD_MAX_MODES 1024

enum guard_frame_type {
	GF_CONNECTED = 1, GF_SERVER_DATA, GF_SERVER_CLOSED,     /* delegate to agent */
	GF_TO_SERVER, GF_PROGRESS,                              /* agent to delegate */
	GF_ABORT,                                               /* either */
	GF_STDIN, GF_STDIN_EOF, GF_WINDOW,                      /* relay: delegate to agent */
	GF_STDOUT, GF_STDERR, GF_EXIT,                          /* relay: agent to delegate */
	GF_STDIN_CREDIT,                                        /* relay: agent to delegate */
	GF_KEEPALIVE,   /* delegate to agent: ServerAliveInterval passed with no server bytes */
	/* Handoff (design section 5). RELAYING: agent to delegate, a session accepted for a
	 * handoff runs relayed after all (the reason); KEX_START, KEX_REPLY, HANDOFF: agent to
	 * delegate; KEX_SHARE: delegate to agent. */
	GF_RELAYING, GF_KEX_START, GF_KEX_SHARE, GF_KEX_REPLY, GF_HANDOFF,
};
#define GF_LAST GF_HANDOFF

/* The acceptance's mode byte: relay, or a handoff once the session is ready. */
enum guard_mode_byte { GUARD_MODE_RELAY = 0, GUARD_MODE_HANDOFF = 1 };
/* At most this much from the server, and this long (without PIN prompts), before HANDOFF. */
#define GUARD_HANDOFF_MAX_BYTES (256 * 1024)
#define GUARD_HANDOFF_MAX_SECONDS 30
/*
 * Relay mode's input flow control: the delegate may have at most GUARD_STDIN_WINDOW bytes of
 * STDIN sent and not yet passed to the server; STDIN_CREDIT (uint32 bytes) gives room back
 * as the agent sends them on. More aborts the session. Without it a fast producer would
 * fill the agent's memory while the server's channel window is closed.
 */
#define GUARD_STDIN_WINDOW (1024 * 1024)

struct guard_request_wire {
	uint32_t version;
	char *host;
	uint32_t port;
	char *user;
	enum ssh_session_kind kind;
	char *command;                  /* exec: the command; subsystem: its name; shell: "" */
	int pty;
	struct ssh_pty term;            /* term.term and term.modes owned here */
	struct ssh_env env[SSH_MAX_ENV];
	size_t nenv;
	char *kex, *ciphers;            /* name-lists for a handoff */
	int relay_only;
};

/* Reads the extension's data; ERR_UNSUPPORTED for another version (with a reason saying
 * which side to upgrade), ERR_FORMAT with a reason naming the bad field. */
int guard_request_decode(const uint8_t *p, size_t len, struct guard_request_wire *r,
                         struct reason *why) WUR_SSH;
void guard_request_free(struct guard_request_wire *r);
int guard_request_encode(const struct guard_request_wire *r, struct wbuf *out) WUR_SSH;

/* An environment variable the request may carry: a name of letters, digits and '_' not
 * starting with a digit, a value without CR or LF, both of bounded length. */
int guard_env_ok(const char *name, const char *value);

/* One frame into `out`. */
int guard_frame_put(struct wbuf *out, enum guard_frame_type type, const uint8_t *payload,
                    size_t len) WUR_SSH;
/* The next whole frame of `in` (its payload a view into `in`, valid until `in` changes);
 * ERR_INCOMPLETE until one is there; ERR_FORMAT for a bad length or an unknown type. */
int guard_frame_get(struct wbuf *in, enum guard_frame_type *type, struct wbuf *payload)
	WUR_SSH;

/* KEX_START: what the delegate needs for the handoff re-key's exchange hash and keys. */
struct guard_kex_start {
	struct wbuf v_c, v_s, i_c, i_s, k_s, session_id;        /* views into the frame */
	int strict;
};
int guard_kex_start_encode(const struct ssh_kex *k, struct wbuf *out) WUR_SSH;
int guard_kex_start_decode(const struct wbuf *payload, struct guard_kex_start *s) WUR_SSH;

/* KEX_SHARE: Q_C, and the server stream offset from which the delegate keeps the bytes. */
int guard_kex_share_encode(const uint8_t *q_c, size_t len, uint64_t keep_from,
                           struct wbuf *out) WUR_SSH;
int guard_kex_share_decode(const struct wbuf *payload, struct wbuf *q_c, uint64_t *keep_from)
	WUR_SSH;

/* HANDOFF: where the new keys' traffic starts, what the agent wrote, the connection state. */
struct guard_handoff {
	uint64_t server_offset, bytes_written;
	struct ssh_handoff state;
};
int guard_handoff_encode(const struct guard_handoff *h, struct wbuf *out) WUR_SSH;
int guard_handoff_decode(const struct wbuf *payload, struct guard_handoff *h) WUR_SSH;

#endif
