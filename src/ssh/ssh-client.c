/* The client's protocol: which message may come when, and what it answers. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh-client.h"

enum {
	MSG_DISCONNECT = 1, MSG_IGNORE = 2, MSG_UNIMPLEMENTED = 3, MSG_DEBUG = 4,
	MSG_SERVICE_REQUEST = 5, MSG_SERVICE_ACCEPT = 6, MSG_EXT_INFO = 7,
	MSG_USERAUTH_REQUEST = 50, MSG_USERAUTH_FAILURE = 51, MSG_USERAUTH_SUCCESS = 52,
	MSG_USERAUTH_BANNER = 53, MSG_GLOBAL_REQUEST = 80, MSG_REQUEST_FAILURE = 82,
	MSG_CHANNEL_OPEN = 90, MSG_CHANNEL_OPEN_CONFIRMATION = 91, MSG_CHANNEL_OPEN_FAILURE = 92,
	MSG_CHANNEL_WINDOW_ADJUST = 93, MSG_CHANNEL_DATA = 94, MSG_CHANNEL_EXTENDED_DATA = 95,
	MSG_CHANNEL_EOF = 96, MSG_CHANNEL_CLOSE = 97, MSG_CHANNEL_REQUEST = 98,
	MSG_CHANNEL_SUCCESS = 99, MSG_CHANNEL_FAILURE = 100,
};

#define SSH_CLIENT_VERSION "SSH-2.0-p11guard_" PACKAGE_VERSION
#define WINDOW (2 * 1024 * 1024)
#define MAX_PACKET 32768
#define MAX_BANNER_LINES 64
#define DEFAULT_REKEY_BYTES (1ULL << 30)
#define STRICT_S "kex-strict-s-v00@openssh.com"

static int fail(struct ssh_client *c, int code, const char *fmt, const char *arg)
{
	if (c->state != SSH_FAILED) {
		reason_set(&c->why, code, fmt, arg);
		c->state = SSH_FAILED;
	}
	return code;
}

/* Sends a payload as one packet, and frees it. */
static int send_payload(struct ssh_client *c, struct wbuf *b)
{
	int r = ssh_packet_send(&c->pk, b);

	wbuf_free(b);
	return r == ERR_OK ? ERR_OK : fail(c, r, "sending a packet failed%s", "");
}

static int sending_blocked(const struct ssh_client *c)
{
	return c->kexinit_sent && !c->newkeys_sent;
}

static int send_failure(struct ssh_client *c, uint8_t type)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, 16);
	if ((r = wbuf_put_u8(&b, type)) != ERR_OK ||
	    (type == MSG_CHANNEL_FAILURE && (r = wbuf_put_u32(&b, c->remote_id)) != ERR_OK)) {
		wbuf_free(&b);
		return r;
	}
	return send_payload(c, &b);
}

/*
 * A request with want_reply that we decline. Only REQUEST_FAILURE and CHANNEL_FAILURE are
 * ever owed, and only failures: inside our key exchange they wait for our NEWKEYS, in order.
 */
static int refuse_request(struct ssh_client *c, uint8_t type)
{
	if (sending_blocked(c)) {
		c->deferred_failures = c->deferred_failures << 1 | (type == MSG_CHANNEL_FAILURE);
		c->deferred_count++;
		return c->deferred_count > 16 ? fail(c, ERR_LIMIT, "too many requests during a "
		                                     "key exchange%s", "") : ERR_OK;
	}
	return send_failure(c, type);
}

static int open_window(struct ssh_client *c);
static int flush_stdin(struct ssh_client *c);

/* Once our NEWKEYS is out: the replies we owe, the window, the pending input. */
static int after_kex(struct ssh_client *c)
{
	int r;

	while (c->deferred_count > 0) {
		c->deferred_count--;
		if ((r = send_failure(c, (c->deferred_failures >> c->deferred_count) & 1 ? MSG_CHANNEL_FAILURE :
		                      MSG_REQUEST_FAILURE)) != ERR_OK)
			return r;
	}
	c->deferred_failures = 0;
	if ((r = open_window(c)) != ERR_OK)
		return r;
	return flush_stdin(c);
}

static int send_kexinit(struct ssh_client *c)
{
	char algs[512];
	struct wbuf b;
	int r;

	if (ssh_kex_hostkey_algs(c->cfg.trusted, c->cfg.ntrusted, algs, sizeof(algs)) != ERR_OK)
		return fail(c, ERR_CONFIG, "no known host key for the server%s", "");
	wbuf_init(&b, 4096);
	/* Without strict KEX the sequence number can be steered: chacha20 only with it. */
	r = ssh_kex_kexinit(&c->kex, algs, c->kex.strict ? ssh_cipher_names :
	                    ssh_cipher_names_gcm_only, &b);
	if (r != ERR_OK) {
		wbuf_free(&b);
		return fail(c, r, "building KEXINIT failed%s", "");
	}
	c->kexinit_sent = 1;
	return send_payload(c, &b);
}

int ssh_client_start(struct ssh_client *c, const struct ssh_client_config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	if (c->cfg.rekey_bytes == 0)
		c->cfg.rekey_bytes = DEFAULT_REKEY_BYTES;
	c->exit_status = -1;
	ssh_packets_init(&c->pk);
	ssh_kex_init(&c->kex);
	c->kex.omit_strict = cfg->omit_strict_kex;
	wbuf_init(&c->pending_stdin, 4 * 1024 * 1024);
	reason_clear(&c->why);
	snprintf(c->kex.v_c, sizeof(c->kex.v_c), "%s", SSH_CLIENT_VERSION);
	c->state = SSH_VERSION;
	return wbuf_put_bytes(&c->pk.out, SSH_CLIENT_VERSION "\r\n", strlen(SSH_CLIENT_VERSION) + 2);
}

void ssh_client_free(struct ssh_client *c)
{
	ssh_packets_free(&c->pk);
	ssh_kex_free(&c->kex);
	wbuf_free(&c->pending_stdin);
}

/* The server's version line; lines before it are allowed (RFC 4253 section 4.2). */
static int read_version(struct ssh_client *c)
{
	for (;;) {
		const uint8_t *p = wbuf_ptr(&c->pk.in), *nl;
		size_t avail = wbuf_avail(&c->pk.in), len;

		if ((nl = memchr(p, '\n', avail)) == NULL)
			return avail > 255 ? fail(c, ERR_FORMAT, "the server's first line is too "
			                          "long%s", "") : ERR_INCOMPLETE;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len >= 8 && memcmp(p, "SSH-2.0-", 8) == 0) {
			if (len >= sizeof(c->kex.v_s))
				return fail(c, ERR_FORMAT, "the server's version is too long%s", "");
			memcpy(c->kex.v_s, p, len);
			c->kex.v_s[len] = '\0';
			c->state = SSH_KEXINIT;
			return wbuf_skip(&c->pk.in, (size_t)(nl - p) + 1);
		}
		if ((len >= 4 && memcmp(p, "SSH-", 4) == 0) || ++c->banner_lines > MAX_BANNER_LINES)
			return fail(c, ERR_UNSUPPORTED, "the server does not speak SSH-2%s", "");
		if (wbuf_skip(&c->pk.in, (size_t)(nl - p) + 1) != ERR_OK)
			return ERR_INTERNAL;
	}
}

/* Text from the server, for a message: printable bytes only. */
static void printable(const uint8_t *p, size_t n, char *out, size_t size)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < size; i++)
		out[k++] = isprint(p[i]) ? (char)p[i] : '?';
	out[k] = '\0';
}

/* The server's KEXINIT: the first, or a re-key it starts (then we answer with ours). */
static int on_kexinit(struct ssh_client *c, const struct wbuf *m)
{
	struct ssh_kexinit theirs;
	struct wbuf b;

	if (ssh_kexinit_parse(wbuf_ptr(m), wbuf_avail(m), &theirs) != ERR_OK)
		return fail(c, ERR_FORMAT, "malformed KEXINIT from the server%s", "");
	/* Whether the server is strict decides our ciphers: its KEXINIT comes first. */
	if (c->kex.first) {
		c->kex.strict = !c->kex.omit_strict && ssh_namelist_has(theirs.kex, STRICT_S);
		/* Strict KEX: the server's KEXINIT must be the very first packet. */
		if (c->kex.strict && c->pk.recv_seq != 1)
			return fail(c, ERR_FORMAT, "a packet before the strict KEXINIT%s", "");
	}
	if (!c->kexinit_sent && send_kexinit(c) != ERR_OK)
		return c->why.code;
	if (ssh_kex_negotiate(&c->kex, wbuf_ptr(m), wbuf_avail(m), &c->why) != ERR_OK) {
		c->state = SSH_FAILED;
		return c->why.code;
	}
	wbuf_init(&b, 1024);
	if (ssh_kex_ecdh_init(&c->kex, &b) != ERR_OK) {
		wbuf_free(&b);
		return fail(c, ERR_INTERNAL, "making the ephemeral key failed%s", "");
	}
	c->kexinit_received = 1;
	return send_payload(c, &b);
}

static int on_ecdh_reply(struct ssh_client *c, const struct wbuf *m)
{
	struct wbuf b;
	int r;

	if (ssh_kex_ecdh_reply(&c->kex, wbuf_ptr(m), wbuf_avail(m), c->cfg.trusted,
	                       c->cfg.ntrusted, &c->why) != ERR_OK) {
		c->state = SSH_FAILED;
		return c->why.code;
	}
	wbuf_init(&b, 16);
	if ((r = wbuf_put_u8(&b, SSH_MSG_NEWKEYS)) != ERR_OK || (r = send_payload(c, &b)) != ERR_OK)
		return fail(c, r, "sending NEWKEYS failed%s", "");
	ssh_packets_rekey(&c->pk.send, &c->kex.next_send);
	if (c->kex.strict)
		c->pk.send_seq = 0;
	c->pk.sent_bytes = 0;
	c->newkeys_sent = 1;
	return after_kex(c);
}

static int service_request(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, 64);
	if ((r = wbuf_put_u8(&b, MSG_SERVICE_REQUEST)) != ERR_OK ||
	    (r = wbuf_put_cstring(&b, "ssh-userauth")) != ERR_OK) {
		wbuf_free(&b);
		return fail(c, r, "building the service request failed%s", "");
	}
	c->state = SSH_USERAUTH_SERVICE;
	return send_payload(c, &b);
}

static int on_newkeys(struct ssh_client *c)
{
	if (!c->newkeys_sent)
		return fail(c, ERR_FORMAT, "NEWKEYS from the server before ours%s", "");
	ssh_packets_rekey(&c->pk.recv, &c->kex.next_recv);
	if (c->kex.strict)
		c->pk.recv_seq = 0;
	c->pk.received_bytes = 0;
	c->kexinit_sent = c->kexinit_received = c->newkeys_sent = 0;
	c->exchanges++;
	if (!c->kex.first)
		return ERR_OK;
	c->kex.first = 0;
	return service_request(c);
}

/* The publickey request, signed (RFC 4252 section 7). */
static int userauth(struct ssh_client *c)
{
	struct wbuf signed_data, sig, b;
	int r;

	wbuf_init(&signed_data, 16384);
	wbuf_init(&sig, 16384);
	wbuf_init(&b, 32768);
	if ((r = wbuf_put_string(&signed_data, c->kex.session_id, c->kex.session_id_len)) ||
	    (r = wbuf_put_u8(&signed_data, MSG_USERAUTH_REQUEST)) ||
	    (r = wbuf_put_cstring(&signed_data, c->cfg.user)) ||
	    (r = wbuf_put_cstring(&signed_data, "ssh-connection")) ||
	    (r = wbuf_put_cstring(&signed_data, "publickey")) ||
	    (r = wbuf_put_u8(&signed_data, 1)) ||
	    (r = wbuf_put_cstring(&signed_data, c->cfg.key_alg)) ||
	    (r = wbuf_put_string(&signed_data, c->cfg.key, c->cfg.key_len))) {
		fail(c, r, "building the userauth request failed%s", "");
		goto out;
	}
	if ((r = c->cfg.sign(c->cfg.sign_ctx, wbuf_ptr(&signed_data), wbuf_avail(&signed_data),
	                     &sig, &c->why)) != ERR_OK) {
		c->state = SSH_FAILED;
		goto out;
	}
	/* The request is the signed data, less the session id, plus the signature. */
	if ((r = wbuf_skip(&signed_data, 4 + c->kex.session_id_len)) ||
	    (r = wbuf_put_bytes(&b, wbuf_ptr(&signed_data), wbuf_avail(&signed_data))) ||
	    (r = wbuf_put_string(&b, wbuf_ptr(&sig), wbuf_avail(&sig)))) {
		fail(c, r, "building the userauth request failed%s", "");
		goto out;
	}
	c->state = SSH_USERAUTH;
	r = ssh_packet_send(&c->pk, &b);
out:
	wbuf_free(&signed_data);
	wbuf_free(&sig);
	wbuf_free(&b);
	return r;
}

static int open_session(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, 128);
	if ((r = wbuf_put_u8(&b, MSG_CHANNEL_OPEN)) || (r = wbuf_put_cstring(&b, "session")) ||
	    (r = wbuf_put_u32(&b, 0)) || (r = wbuf_put_u32(&b, WINDOW)) ||
	    (r = wbuf_put_u32(&b, MAX_PACKET))) {
		wbuf_free(&b);
		return fail(c, r, "building the channel request failed%s", "");
	}
	c->local_window = WINDOW;
	c->state = SSH_CHANNEL_OPEN;
	return send_payload(c, &b);
}

static int exec_command(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, 16384);
	if ((r = wbuf_put_u8(&b, MSG_CHANNEL_REQUEST)) || (r = wbuf_put_u32(&b, c->remote_id)) ||
	    (r = wbuf_put_cstring(&b, "exec")) || (r = wbuf_put_u8(&b, 1)) ||
	    (r = wbuf_put_cstring(&b, c->cfg.command))) {
		wbuf_free(&b);
		return fail(c, r, "building the exec request failed%s", "");
	}
	c->state = SSH_EXEC;
	return send_payload(c, &b);
}

/* Sends what stdin has pending, as far as the window and packet size allow. */
static int flush_stdin(struct ssh_client *c)
{
	while (c->state == SSH_RUNNING && !sending_blocked(c) &&
	       wbuf_avail(&c->pending_stdin) > 0 &&
	       c->remote_window > 0) {
		size_t n = wbuf_avail(&c->pending_stdin);
		struct wbuf b;
		int r;

		if (n > c->remote_window)
			n = c->remote_window;
		if (n > c->remote_max_packet - 64)
			n = c->remote_max_packet - 64;
		wbuf_init(&b, MAX_PACKET + 64);
		if ((r = wbuf_put_u8(&b, MSG_CHANNEL_DATA)) || (r = wbuf_put_u32(&b, c->remote_id)) ||
		    (r = wbuf_put_string(&b, wbuf_ptr(&c->pending_stdin), n)) ||
		    (r = send_payload(c, &b)) || (r = wbuf_skip(&c->pending_stdin, n))) {
			wbuf_free(&b);         /* idempotent */
			return r;
		}
		wbuf_compact(&c->pending_stdin);
		c->remote_window -= (uint32_t)n;
	}
	if (c->state == SSH_RUNNING && !sending_blocked(c) && c->stdin_eof && !c->eof_sent &&
	    wbuf_avail(&c->pending_stdin) == 0) {
		struct wbuf b;
		int r;

		wbuf_init(&b, 16);
		if ((r = wbuf_put_u8(&b, MSG_CHANNEL_EOF)) || (r = wbuf_put_u32(&b, c->remote_id)) ||
		    (r = send_payload(c, &b))) {
			wbuf_free(&b);         /* idempotent */
			return r;
		}
		c->eof_sent = 1;
	}
	return ERR_OK;
}

int ssh_client_stdin(struct ssh_client *c, const uint8_t *p, size_t n)
{
	if (c->stdin_eof || wbuf_put_bytes(&c->pending_stdin, p, n) != ERR_OK)
		return ERR_TOO_LARGE;
	return flush_stdin(c);
}

int ssh_client_stdin_eof(struct ssh_client *c)
{
	c->stdin_eof = 1;
	return flush_stdin(c);
}

static int send_close(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	if (c->close_sent)
		return ERR_OK;
	wbuf_init(&b, 16);
	if ((r = wbuf_put_u8(&b, MSG_CHANNEL_CLOSE)) || (r = wbuf_put_u32(&b, c->remote_id)) ||
	    (r = send_payload(c, &b))) {
		wbuf_free(&b);         /* idempotent */
		return r;
	}
	c->close_sent = 1;
	return ERR_OK;
}

/* Data for us: handed on, and the window opened again once half of it is used. */
static int on_data(struct ssh_client *c, struct wbuf *m, int stream)
{
	const uint8_t *p;
	size_t n;

	if (wbuf_get_string(m, &p, &n) != ERR_OK || wbuf_avail(m) != 0)
		return fail(c, ERR_FORMAT, "malformed channel data%s", "");
	if (n > c->local_window)
		return fail(c, ERR_FORMAT, "the server sent more than the window allows%s", "");
	c->local_window -= (uint32_t)n;
	if (c->cfg.output != NULL)
		c->cfg.output(c->cfg.output_ctx, stream, p, n);
	return open_window(c);
}

/* Opens our window again once half of it is used (not while our KEXINIT is out). */
static int open_window(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	if (c->local_window > WINDOW / 2 || sending_blocked(c) || c->state < SSH_RUNNING ||
	    c->state >= SSH_DONE)
		return ERR_OK;
	wbuf_init(&b, 16);
	if ((r = wbuf_put_u8(&b, MSG_CHANNEL_WINDOW_ADJUST)) ||
	    (r = wbuf_put_u32(&b, c->remote_id)) ||
	    (r = wbuf_put_u32(&b, WINDOW - c->local_window)) || (r = send_payload(c, &b))) {
		wbuf_free(&b);         /* idempotent */
		return r;
	}
	c->local_window = WINDOW;
	return ERR_OK;
}

static int on_channel_request(struct ssh_client *c, struct wbuf *m)
{
	char *name = NULL, *sig = NULL;
	uint8_t want_reply, core;
	uint32_t status;
	int r = ERR_OK;

	if (wbuf_get_cstring(m, &name) != ERR_OK || wbuf_get_u8(m, &want_reply) != ERR_OK) {
		r = fail(c, ERR_FORMAT, "malformed channel request%s", "");
	} else if (strcmp(name, "exit-status") == 0) {
		if (wbuf_get_u32(m, &status) != ERR_OK || status > 255)
			r = fail(c, ERR_FORMAT, "malformed exit-status%s", "");
		else
			c->exit_status = (int)status;
	} else if (strcmp(name, "exit-signal") == 0) {
		if (wbuf_get_cstring(m, &sig) != ERR_OK || wbuf_get_u8(m, &core) != ERR_OK)
			r = fail(c, ERR_FORMAT, "malformed exit-signal%s", "");
		else
			printable((const uint8_t *)sig, strlen(sig), c->exit_signal,
			          sizeof(c->exit_signal));
		c->exit_status = 255;
	} else if (want_reply) {
		r = refuse_request(c, MSG_CHANNEL_FAILURE);
	}
	free(name);
	free(sig);
	return r;
}

/* Messages about the one channel, once it is open. */
static int on_channel(struct ssh_client *c, uint8_t type, struct wbuf *m)
{
	uint32_t id, n;

	if (wbuf_get_u32(m, &id) != ERR_OK || id != 0)
		return fail(c, ERR_FORMAT, "a message for a channel we did not open%s", "");
	switch (type) {
	case MSG_CHANNEL_SUCCESS:
		if (c->state != SSH_EXEC)
			return fail(c, ERR_FORMAT, "an unexpected CHANNEL_SUCCESS%s", "");
		c->state = SSH_RUNNING;
		return flush_stdin(c);
	case MSG_CHANNEL_FAILURE:
		return fail(c, ERR_DENIED, "the server refused to run the command%s", "");
	case MSG_CHANNEL_WINDOW_ADJUST:
		if (wbuf_get_u32(m, &n) != ERR_OK || (uint64_t)c->remote_window + n > UINT32_MAX)
			return fail(c, ERR_FORMAT, "malformed window adjustment%s", "");
		c->remote_window += n;
		return flush_stdin(c);
	case MSG_CHANNEL_DATA:
		return on_data(c, m, 1);
	case MSG_CHANNEL_EXTENDED_DATA:
		if (wbuf_get_u32(m, &n) != ERR_OK || n != 1)
			return fail(c, ERR_FORMAT, "extended data other than stderr%s", "");
		return on_data(c, m, 2);
	case MSG_CHANNEL_EOF:
		return ERR_OK;
	case MSG_CHANNEL_CLOSE:
		c->close_received = 1;
		if (send_close(c) != ERR_OK)
			return c->why.code;
		c->state = SSH_DONE;
		return ERR_OK;
	case MSG_CHANNEL_REQUEST:
		return on_channel_request(c, m);
	}
	return fail(c, ERR_FORMAT, "an unexpected channel message%s", "");
}

static int on_open_confirmation(struct ssh_client *c, struct wbuf *m)
{
	uint32_t ours;

	if (wbuf_get_u32(m, &ours) != ERR_OK || ours != 0 ||
	    wbuf_get_u32(m, &c->remote_id) != ERR_OK ||
	    wbuf_get_u32(m, &c->remote_window) != ERR_OK ||
	    wbuf_get_u32(m, &c->remote_max_packet) != ERR_OK || c->remote_max_packet < 128)
		return fail(c, ERR_FORMAT, "malformed channel confirmation%s", "");
	if (c->remote_max_packet > MAX_PACKET)
		c->remote_max_packet = MAX_PACKET;
	return exec_command(c);
}

static int on_userauth_failure(struct ssh_client *c, struct wbuf *m)
{
	const uint8_t *p;
	char methods[256];
	size_t n;

	if (wbuf_get_string(m, &p, &n) != ERR_OK)
		return fail(c, ERR_FORMAT, "malformed USERAUTH_FAILURE%s", "");
	printable(p, n, methods, sizeof(methods));
	return fail(c, ERR_DENIED, "the server did not accept the key (it would take: %s)",
	            methods);
}

static int on_global_request(struct ssh_client *c, struct wbuf *m)
{
	const uint8_t *name;
	uint8_t want_reply;
	size_t n;

	if (wbuf_get_string(m, &name, &n) != ERR_OK || wbuf_get_u8(m, &want_reply) != ERR_OK)
		return fail(c, ERR_FORMAT, "malformed global request%s", "");
	if (!want_reply)
		return ERR_OK;          /* hostkeys-00@openssh.com and the like */
	return refuse_request(c, MSG_REQUEST_FAILURE);
}

static int on_disconnect(struct ssh_client *c, struct wbuf *m)
{
	const uint8_t *p = NULL;
	uint32_t code = 0;
	char text[256] = "";
	size_t n = 0;

	if (wbuf_get_u32(m, &code) == ERR_OK && wbuf_get_string(m, &p, &n) == ERR_OK)
		printable(p, n, text, sizeof(text));
	return fail(c, ERR_DENIED, "the server disconnected: %s", text);
}

/* One message, by the state we are in. `m` is the whole payload, type first. */
static int dispatch(struct ssh_client *c, const struct wbuf *m)
{
	struct wbuf v;
	uint8_t type;

	wbuf_view(&v, wbuf_ptr(m), wbuf_avail(m));
	if (wbuf_get_u8(&v, &type) != ERR_OK)
		return fail(c, ERR_FORMAT, "an empty packet%s", "");
	/* Strict KEX: nothing but the key exchange until the first NEWKEYS. */
	if (c->kex.first && c->kex.strict && type != SSH_MSG_KEXINIT &&
	    type != SSH_MSG_KEX_ECDH_REPLY && type != SSH_MSG_NEWKEYS)
		return fail(c, ERR_FORMAT, "a message during the strict key exchange%s", "");
	switch (type) {
	case MSG_DISCONNECT:
		return on_disconnect(c, &v);
	case MSG_IGNORE: case MSG_DEBUG: case MSG_UNIMPLEMENTED:
		return ERR_OK;
	case SSH_MSG_KEXINIT:
		if (c->kexinit_received)
			return fail(c, ERR_FORMAT, "a second KEXINIT in one key exchange%s", "");
		return on_kexinit(c, m);
	case SSH_MSG_KEX_ECDH_REPLY:
		if (!c->kexinit_received || c->newkeys_sent)
			return fail(c, ERR_FORMAT, "an unexpected KEX_ECDH_REPLY%s", "");
		return on_ecdh_reply(c, m);
	case SSH_MSG_NEWKEYS:
		return on_newkeys(c);
	}
	/* Between its KEXINIT and its NEWKEYS the server may send nothing else. */
	if (c->kexinit_received || c->kex.first)
		return fail(c, ERR_FORMAT, "a message inside the key exchange%s", "");
	switch (type) {
	case MSG_EXT_INFO:
	case MSG_USERAUTH_BANNER:
		return ERR_OK;
	case MSG_SERVICE_ACCEPT:
		return c->state == SSH_USERAUTH_SERVICE ? userauth(c) :
		       fail(c, ERR_FORMAT, "an unexpected SERVICE_ACCEPT%s", "");
	case MSG_USERAUTH_SUCCESS:
		return c->state == SSH_USERAUTH ? open_session(c) :
		       fail(c, ERR_FORMAT, "an unexpected USERAUTH_SUCCESS%s", "");
	case MSG_USERAUTH_FAILURE:
		return on_userauth_failure(c, &v);
	case MSG_GLOBAL_REQUEST:
		return on_global_request(c, &v);
	case MSG_CHANNEL_OPEN_CONFIRMATION:
		return c->state == SSH_CHANNEL_OPEN ? on_open_confirmation(c, &v) :
		       fail(c, ERR_FORMAT, "an unexpected channel confirmation%s", "");
	case MSG_CHANNEL_OPEN_FAILURE:
		return fail(c, ERR_DENIED, "the server refused the session channel%s", "");
	}
	if (type >= MSG_CHANNEL_WINDOW_ADJUST && type <= MSG_CHANNEL_FAILURE &&
	    c->state >= SSH_EXEC && c->state != SSH_DONE)
		return on_channel(c, type, &v);
	return fail(c, ERR_FORMAT, "an unexpected message%s", "");
}

/* A re-key of our own once enough has crossed under the same keys. */
static int maybe_rekey(struct ssh_client *c)
{
	if (c->kex.first || c->kexinit_sent || c->kexinit_received ||
	    (c->pk.sent_bytes < c->cfg.rekey_bytes && c->pk.received_bytes < c->cfg.rekey_bytes))
		return ERR_OK;
	return send_kexinit(c);
}

int ssh_client_input(struct ssh_client *c, const uint8_t *p, size_t n)
{
	int r;

	if (c->state == SSH_FAILED)
		return c->why.code;
	if (wbuf_put_bytes(&c->pk.in, p, n) != ERR_OK)
		return fail(c, ERR_TOO_LARGE, "the server sent more than we can hold%s", "");
	if (c->state == SSH_VERSION && (r = read_version(c)) != ERR_OK)
		return r == ERR_INCOMPLETE ? ERR_OK : r;
	while (c->state != SSH_FAILED && c->state != SSH_DONE) {
		struct wbuf m;

		if ((r = ssh_packet_recv(&c->pk, &m)) == ERR_INCOMPLETE)
			break;
		if (r != ERR_OK)
			return fail(c, r, "a packet from the server does not decrypt or is "
			            "malformed%s", "");
		r = dispatch(c, &m);
		wbuf_free(&m);
		if (r != ERR_OK)
			return c->state == SSH_FAILED ? c->why.code : fail(c, r, "%s", "internal error");
		if ((r = maybe_rekey(c)) != ERR_OK)
			return r;
	}
	if (c->state == SSH_RUNNING && !sending_blocked(c))
		return flush_stdin(c);
	return c->state == SSH_FAILED ? c->why.code : ERR_OK;
}
