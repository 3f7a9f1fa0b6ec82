/*
 * A small SSH-2 client for one command on one server (RFC 4252, 4254): the version
 * exchange, key exchange and re-keys (ssh-kex.c), publickey authentication with a signature
 * the caller makes (the token, through the agent), one session channel running one exec,
 * its output and exit status. It is fed the bytes the server sent and leaves the bytes to
 * send in `out`: the caller moves them, over a socket or over a delegate's frames.
 */
#ifndef P11G_SSH_CLIENT_H
#define P11G_SSH_CLIENT_H

#include "ssh-kex.h"
#include "ssh-packet.h"

#define SSH_MAX_ENV 32
#define SSH_STDIN_MAX (4 * 1024 * 1024)         /* input held while the window is shut */
_Static_assert(SSH_STDIN_MAX + 4 * SSH_PACKET_MAX <= SSH_OUT_MAX,
               "a burst of all held input must fit the packets not yet handed on");

enum ssh_client_state {
	SSH_VERSION, SSH_KEXINIT, SSH_USERAUTH_SERVICE, SSH_USERAUTH, SSH_PROBING,
	SSH_CHANNEL_OPEN, SSH_NO_MORE_SESSIONS, SSH_EXEC, SSH_RUNNING,
	/* The handoff re-key (ssh-handoff.c): our KEXINIT is out; the server's came and the
	 * delegate's ephemeral key is awaited; KEX_ECDH_INIT is out; our NEWKEYS is out; the
	 * server's NEWKEYS came: the connection is the delegate's from here on. */
	SSH_HANDOFF_KEXINIT, SSH_HANDOFF_SHARE, SSH_HANDOFF_REPLY, SSH_HANDOFF_NEWKEYS,
	SSH_HANDED_OFF,
	SSH_DONE, SSH_FAILED,
};

/* What the forwarding probes saw (design section 6); see ssh-probe.c. */
enum ssh_probe_result { PROBE_NOT_RUN, PROBE_CLOSED, PROBE_OPEN, PROBE_LIMITED };
enum ssh_probe_kind { PROBE_LOCAL_TCP, PROBE_REMOTE_TCP, PROBE_REMOTE_UNIX, SSH_PROBES };

/* A key the user may log in with: its public blob and the signature algorithm to use. */
struct ssh_user_key {
	const uint8_t *blob;
	size_t len;
	const char *alg;                /* ssh-ed25519, ecdsa-sha2-nistp256, rsa-sha2-512, ... */
};

enum ssh_session_kind { SSH_SESSION_EXEC, SSH_SESSION_SUBSYSTEM, SSH_SESSION_SHELL };

/* A terminal for the session (RFC 4254 section 6.2); modes as encoded there. */
struct ssh_pty {
	const char *term;
	uint32_t cols, rows, width_px, height_px;
	const uint8_t *modes;
	size_t modes_len;
};

struct ssh_env {
	const char *name, *value;
};

struct ssh_client_config {
	const char *user;
	const struct sshpub *trusted;           /* the server's known host keys */
	size_t ntrusted;
	/* The keys to try, in order: each is first offered without a signature (RFC 4252
	 * PK_OK); the first the server would take signs. */
	const struct ssh_user_key *keys;
	size_t nkeys;
	/* Signs `data` with keys[key]: the SSH signature blob into `sig`. */
	int (*sign)(void *ctx, size_t key, const uint8_t *data, size_t len, struct wbuf *sig,
	            struct reason *why);
	void *sign_ctx;
	enum ssh_session_kind kind;
	const char *command;                    /* exec: the command; subsystem: its name */
	const struct ssh_pty *pty;              /* NULL: no terminal */
	const struct ssh_env *env;              /* sent as env requests; refusals are reported */
	size_t nenv;
	/* The command's output: stream 1 is stdout, 2 stderr. */
	void (*output)(void *ctx, int stream, const uint8_t *p, size_t n);
	void *output_ctx;
	/* What happened that does not stop the session (an env variable the server refused). */
	void (*progress)(void *ctx, const char *text);
	void *progress_ctx;
	uint64_t rekey_bytes;                   /* re-key after this many bytes; 0: 1 GiB */
	int omit_strict_kex;                    /* for tests of the non-strict path only */
	/*
	 * Handoff (design section 5): the session is prepared to be handed over. The channel
	 * opens with window 0 and no-more-sessions@openssh.com must succeed; once the command
	 * runs, the handoff re-key starts with the delegate's key exchange and cipher lists.
	 * With probe_forwarding the server's forwarding is probed first and only a server that
	 * shows it closed is handed over; otherwise, and without no-more-sessions, the session
	 * runs relayed, or fails when fallback_deny is set.
	 */
	int handoff, probe_forwarding, fallback_deny;
	const char *handoff_kex, *handoff_ciphers;
};

struct ssh_client {
	enum ssh_client_state state;
	struct ssh_client_config cfg;
	struct ssh_packets pk;
	struct ssh_kex kex;
	struct reason why;              /* SSH_FAILED: what went wrong */
	/* This exchange: our KEXINIT sent, the server's received, our NEWKEYS sent. Between
	 * our KEXINIT and our NEWKEYS we send nothing else (RFC 4253 section 7.1); between the
	 * server's KEXINIT and its NEWKEYS it may send nothing else. */
	int kexinit_sent, kexinit_received, newkeys_sent;
	unsigned deferred_failures;     /* request replies owed once our NEWKEYS is out: */
	unsigned deferred_count;        /* a bit each, 1 for CHANNEL_FAILURE, oldest first */
	unsigned banner_lines;
	unsigned exchanges;             /* key exchanges completed, the first included */
	uint32_t remote_id, remote_window, remote_max_packet;
	uint32_t local_window;          /* what the server may still send us */
	size_t key;                     /* the candidate key being offered */
	int key_signed;                 /* its signed request is out */
	/* Channel requests whose replies are awaited, in order: */
	enum { REPLY_PTY = 1, REPLY_ENV, REPLY_COMMAND } awaited[1 + SSH_MAX_ENV + 1];
	size_t awaited_env[1 + SSH_MAX_ENV + 1], nawaited, awaited_first;
	struct wbuf pending_stdin;
	uint64_t stdin_sent;            /* bytes of input passed to the channel so far */
	int stdin_eof, eof_sent, close_sent, close_received;
	unsigned keepalives;            /* our keepalive requests not yet answered */
	/* Handoff: still headed for one, or why the session runs relayed instead. */
	int handoff, handoff_due;       /* due: after the server's re-key now running */
	char relay_why[200];
	enum ssh_probe_result probe[SSH_PROBES];
	unsigned probes_pending;        /* replies and channel closes the probes await */
	int probe_debug_seen;           /* the server's "has disabled ... forwarding" came */
	uint8_t global_awaited[4];      /* what our global requests before the session were */
	unsigned nglobal;
	int pty_granted;
	int eof_received;
	struct wbuf handoff_reply;      /* the server's KEX_ECDH_REPLY, for the delegate */
	int exit_status;                /* -1 until the server says */
	char exit_signal[64];
};

int ssh_client_start(struct ssh_client *c, const struct ssh_client_config *cfg) WUR_SSH;
void ssh_client_free(struct ssh_client *c);
/* Bytes from the server; runs the protocol as far as they allow. ERR_OK, or the error
 * that ended the connection (then state is SSH_FAILED and `why` says why). */
int ssh_client_input(struct ssh_client *c, const uint8_t *p, size_t n) WUR_SSH;
/* The command's input, and its end. */
int ssh_client_stdin(struct ssh_client *c, const uint8_t *p, size_t n) WUR_SSH;
int ssh_client_stdin_eof(struct ssh_client *c) WUR_SSH;
/* The terminal's new size (window-change), once the session runs with a pty. */
int ssh_client_window_change(struct ssh_client *c, uint32_t cols, uint32_t rows,
                             uint32_t width_px, uint32_t height_px) WUR_SSH;
/* A keepalive@openssh.com request with want_reply (ServerAliveInterval): any answer shows
 * the server alive. Nothing while authentication or a key exchange runs. */
int ssh_client_keepalive(struct ssh_client *c) WUR_SSH;

/* What a delegate needs, besides the re-key's keys, to carry the connection on. */
struct ssh_handoff {
	uint32_t send_seq, recv_seq;            /* the next packets' sequence numbers */
	uint32_t remote_id, remote_window, remote_max_packet, local_window;
	int pty_granted, eof_received, close_received;
	int exit_status;                        /* -1: not yet */
	char exit_signal[64];
	unsigned deferred_count, deferred_failures;     /* request failures still owed */
};

/* The agent's side of the handoff re-key: the delegate's ephemeral public key (Q_C). */
int ssh_client_handoff_share(struct ssh_client *c, const uint8_t *q_c, size_t len) WUR_SSH;
/* Once state is SSH_HANDED_OFF: what the delegate carries on with. */
int ssh_client_handoff_state(const struct ssh_client *c, struct ssh_handoff *h) WUR_SSH;
/* The delegate's side: a client on the handed-over connection. `kex` holds the handoff
 * re-key with its keys derived (ssh_kex_ecdh_reply) and becomes the client's. */
int ssh_client_resume(struct ssh_client *c, const struct ssh_client_config *cfg,
                      struct ssh_kex *kex, const struct ssh_handoff *h) WUR_SSH;
/* The name of a forwarding probe, for messages. */
const char *ssh_probe_name(enum ssh_probe_kind k);

#endif
