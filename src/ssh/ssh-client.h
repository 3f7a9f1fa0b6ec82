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

enum ssh_client_state {
	SSH_VERSION, SSH_KEXINIT, SSH_USERAUTH_SERVICE, SSH_USERAUTH, SSH_CHANNEL_OPEN,
	SSH_EXEC, SSH_RUNNING, SSH_DONE, SSH_FAILED,
};

struct ssh_client_config {
	const char *user;
	const char *command;
	const struct sshpub *trusted;           /* the server's known host keys */
	size_t ntrusted;
	const uint8_t *key;                     /* the user's public key blob */
	size_t key_len;
	const char *key_alg;                    /* its signature algorithm (rsa-sha2-256, ...) */
	/* Signs `data` with the user's key: the SSH signature blob into `sig`. */
	int (*sign)(void *ctx, const uint8_t *data, size_t len, struct wbuf *sig,
	            struct reason *why);
	void *sign_ctx;
	/* The command's output: stream 1 is stdout, 2 stderr. */
	void (*output)(void *ctx, int stream, const uint8_t *p, size_t n);
	void *output_ctx;
	uint64_t rekey_bytes;                   /* re-key after this many bytes; 0: 1 GiB */
	int omit_strict_kex;                    /* for tests of the non-strict path only */
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
	struct wbuf pending_stdin;
	int stdin_eof, eof_sent, close_sent, close_received;
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

#endif
