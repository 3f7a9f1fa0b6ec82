/*
 * Relay mode's engine (design sections 2-4): the agent's side of a guarded session as frames
 * in and frames out. It runs the SSH client over the server bytes a delegate relays
 * (SERVER_DATA in, TO_SERVER out) and carries the command's input and output (STDIN in,
 * STDOUT, STDERR and EXIT out). No socket and no thread here: the agent's session thread
 * moves the frames. Nothing from the delegate reaches the server but through the client,
 * which writes every packet itself: there is no filter to get wrong.
 */
#ifndef P11G_GUARD_RELAY_H
#define P11G_GUARD_RELAY_H

#include "guard-wire.h"
#include "ssh-client.h"

struct guard_relay {
	struct ssh_client client;
	struct ssh_client_config cfg;
	struct wbuf to_delegate;        /* frames for the delegate, in order */
	int connected;                  /* CONNECTED came */
	int finished;                   /* EXIT or ABORT is queued: nothing more happens */
	uint64_t from_server, to_server;        /* bytes, for the audit */
	uint64_t stdin_received, stdin_credited;        /* STDIN bytes: taken, given back */
	char outcome[300];              /* once finished: how, for the audit */
	/* Handoff (guard-handoff.c, when cfg.handoff): the frames of its steps sent. */
	int relaying_sent, kex_start_sent, kex_reply_sent, handed_off;
	uint64_t keep_from;             /* the delegate keeps server bytes from this offset */
};

/* `cfg` as for ssh_client_start, but for output and progress, which become frames. */
int guard_relay_start(struct guard_relay *g, const struct ssh_client_config *cfg) WUR_SSH;
void guard_relay_free(struct guard_relay *g);
/*
 * One frame from the delegate. Frames in the wrong state, twice or malformed end the session
 * with an ABORT that says why; so does any failure of the SSH connection. Returns ERR_OK
 * while the session goes on or has just finished.
 */
int guard_relay_frame(struct guard_relay *g, enum guard_frame_type type,
                      const struct wbuf *payload) WUR_SSH;
/* Ends the session with an ABORT frame saying why (code 3: the delegate broke the rules). */
int guard_relay_abort(struct guard_relay *g, uint32_t code, const char *why) WUR_SSH;

/* For guard-handoff.c: a frame with a code and a text; bytes in as many frames as needed. */
int guard_relay_text(struct guard_relay *g, enum guard_frame_type type, uint32_t code,
                     const char *text) WUR_SSH;
int guard_relay_frames(struct guard_relay *g, enum guard_frame_type type, const uint8_t *p,
                       size_t n) WUR_SSH;
/* guard-handoff.c: the frames of the handoff's steps as the client reaches them, and the
 * delegate's KEX_SHARE. */
int guard_handoff_progress(struct guard_relay *g) WUR_SSH;
int guard_handoff_share(struct guard_relay *g, const struct wbuf *payload) WUR_SSH;

#endif
