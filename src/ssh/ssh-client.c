/*
 * The client's transport side: the version exchange, key exchanges and re-keys, and which
 * message may come when; userauth and the channel are in ssh-userauth.c and ssh-channel.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh-client-int.h"

#define SSH_CLIENT_VERSION "SSH-2.0-p11guard_" PACKAGE_VERSION
#define MAX_BANNER_LINES 64
#define DEFAULT_REKEY_BYTES (1ULL << 30)
#define STRICT_S "kex-strict-s-v00@openssh.com"

int ssh_fail(struct ssh_client *c, int code, const char *fmt, const char *arg)
{
	if (c->state != SSH_FAILED) {
		reason_set(&c->why, code, fmt, arg);
		c->state = SSH_FAILED;
	}
	return code;
}

/* Sends a payload as one packet, and frees it. */
int ssh_send_payload(struct ssh_client *c, struct wbuf *b)
{
	int r = ssh_packet_send(&c->pk, b);

	wbuf_free(b);
	return r == ERR_OK ? ERR_OK : ssh_fail(c, r, "sending a packet failed%s", "");
}

int ssh_sending_blocked(const struct ssh_client *c)
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
	return ssh_send_payload(c, &b);
}

/*
 * A request with want_reply that we decline. Only REQUEST_FAILURE and CHANNEL_FAILURE are
 * ever owed, and only failures: inside our key exchange they wait for our NEWKEYS, in order.
 */
int ssh_refuse_request(struct ssh_client *c, uint8_t type)
{
	if (ssh_sending_blocked(c)) {
		c->deferred_failures = c->deferred_failures << 1 | (type == MSG_CHANNEL_FAILURE);
		c->deferred_count++;
		return c->deferred_count > 16 ? ssh_fail(c, ERR_LIMIT, "too many requests during a "
		                                     "key exchange%s", "") : ERR_OK;
	}
	return send_failure(c, type);
}

int ssh_after_kex(struct ssh_client *c)
{
	int r;

	while (c->deferred_count > 0) {
		c->deferred_count--;
		if ((r = send_failure(c, (c->deferred_failures >> c->deferred_count) & 1 ?
		                      MSG_CHANNEL_FAILURE : MSG_REQUEST_FAILURE)) != ERR_OK)
			return r;
	}
	c->deferred_failures = 0;
	return ssh_channel_resume(c);
}

static int send_kexinit(struct ssh_client *c)
{
	char algs[512];
	struct wbuf b;
	int r;

	if (ssh_kex_hostkey_algs(c->cfg.trusted, c->cfg.ntrusted, algs, sizeof(algs)) != ERR_OK)
		return ssh_fail(c, ERR_CONFIG, "no known host key for the server%s", "");
	wbuf_init(&b, 4096);
	/* Without strict KEX the sequence number can be steered: chacha20 only with it. */
	r = ssh_kex_kexinit(&c->kex, NULL, algs, c->kex.strict ? ssh_cipher_names :
	                    ssh_cipher_names_gcm_only, &b);
	if (r != ERR_OK) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building KEXINIT failed%s", "");
	}
	c->kexinit_sent = 1;
	return ssh_send_payload(c, &b);
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
	wbuf_init(&c->pending_stdin, SSH_STDIN_MAX);
	wbuf_init(&c->handoff_reply, SSH_PACKET_MAX);
	c->handoff = cfg->handoff;
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
	wbuf_free(&c->handoff_reply);
}

/* The server's version line; lines before it are allowed (RFC 4253 section 4.2). */
static int read_version(struct ssh_client *c)
{
	for (;;) {
		const uint8_t *p = wbuf_ptr(&c->pk.in), *nl;
		size_t avail = wbuf_avail(&c->pk.in), len;

		if (avail == 0 || (nl = memchr(p, '\n', avail)) == NULL)
			return avail > 255 ? ssh_fail(c, ERR_FORMAT, "the server's first line is too "
			                          "long%s", "") : ERR_INCOMPLETE;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len >= 8 && memcmp(p, "SSH-2.0-", 8) == 0) {
			if (len >= sizeof(c->kex.v_s))
				return ssh_fail(c, ERR_FORMAT, "the server's version is too long%s", "");
			memcpy(c->kex.v_s, p, len);
			c->kex.v_s[len] = '\0';
			c->state = SSH_KEXINIT;
			return wbuf_skip(&c->pk.in, (size_t)(nl - p) + 1);
		}
		if ((len >= 4 && memcmp(p, "SSH-", 4) == 0) || ++c->banner_lines > MAX_BANNER_LINES)
			return ssh_fail(c, ERR_UNSUPPORTED, "the server does not speak SSH-2%s", "");
		if (wbuf_skip(&c->pk.in, (size_t)(nl - p) + 1) != ERR_OK)
			return ERR_INTERNAL;
	}
}

/* Text from the server, for a message: printable bytes only. */
void ssh_printable(const uint8_t *p, size_t n, char *out, size_t size)
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
		return ssh_fail(c, ERR_FORMAT, "malformed KEXINIT from the server%s", "");
	/* Whether the server is strict decides our ciphers: its KEXINIT comes first. */
	if (c->kex.first) {
		c->kex.strict = !c->kex.omit_strict && ssh_namelist_has(theirs.kex, STRICT_S);
		/* Strict KEX: the server's KEXINIT must be the very first packet. */
		if (c->kex.strict && c->pk.recv_seq != 1)
			return ssh_fail(c, ERR_FORMAT, "a packet before the strict KEXINIT%s", "");
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
		return ssh_fail(c, ERR_INTERNAL, "making the ephemeral key failed%s", "");
	}
	c->kexinit_received = 1;
	return ssh_send_payload(c, &b);
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
	if ((r = wbuf_put_u8(&b, SSH_MSG_NEWKEYS)) != ERR_OK || (r = ssh_send_payload(c, &b)) != ERR_OK)
		return ssh_fail(c, r, "sending NEWKEYS failed%s", "");
	ssh_packets_rekey(&c->pk.send, &c->kex.next_send);
	if (c->kex.strict)
		c->pk.send_seq = 0;
	c->pk.sent_bytes = 0;
	c->newkeys_sent = 1;
	return ssh_after_kex(c);
}

static int on_newkeys(struct ssh_client *c)
{
	if (!c->newkeys_sent)
		return ssh_fail(c, ERR_FORMAT, "NEWKEYS from the server before ours%s", "");
	if (c->state == SSH_HANDOFF_NEWKEYS)
		return ssh_handoff_newkeys(c);
	ssh_packets_rekey(&c->pk.recv, &c->kex.next_recv);
	if (c->kex.strict)
		c->pk.recv_seq = 0;
	c->pk.received_bytes = 0;
	c->kexinit_sent = c->kexinit_received = c->newkeys_sent = 0;
	c->exchanges++;
	if (c->handoff_due)
		return ssh_handoff_begin(c);
	if (!c->kex.first)
		return ERR_OK;
	c->kex.first = 0;
	return ssh_userauth_begin(c);
}

static int on_global_request(struct ssh_client *c, struct wbuf *m)
{
	const uint8_t *name;
	uint8_t want_reply;
	size_t n;

	if (wbuf_get_string(m, &name, &n) != ERR_OK || wbuf_get_u8(m, &want_reply) != ERR_OK)
		return ssh_fail(c, ERR_FORMAT, "malformed global request%s", "");
	if (!want_reply)
		return ERR_OK;          /* hostkeys-00@openssh.com and the like */
	return ssh_refuse_request(c, MSG_REQUEST_FAILURE);
}

static int on_disconnect(struct ssh_client *c, struct wbuf *m)
{
	const uint8_t *p = NULL;
	uint32_t code = 0;
	char text[256] = "";
	size_t n = 0;

	if (wbuf_get_u32(m, &code) == ERR_OK && wbuf_get_string(m, &p, &n) == ERR_OK)
		ssh_printable(p, n, text, sizeof(text));
	return ssh_fail(c, ERR_DENIED, "the server disconnected: %s", text);
}

/* One message, by the state we are in. `m` is the whole payload, type first. */
static int dispatch(struct ssh_client *c, const struct wbuf *m)
{
	struct wbuf v;
	uint8_t type;

	wbuf_view(&v, wbuf_ptr(m), wbuf_avail(m));
	if (wbuf_get_u8(&v, &type) != ERR_OK)
		return ssh_fail(c, ERR_FORMAT, "an empty packet%s", "");
	/* Strict KEX: nothing but the key exchange until the first NEWKEYS. */
	if (c->kex.first && c->kex.strict && type != SSH_MSG_KEXINIT &&
	    type != SSH_MSG_KEX_ECDH_REPLY && type != SSH_MSG_NEWKEYS)
		return ssh_fail(c, ERR_FORMAT, "a message during the strict key exchange%s", "");
	switch (type) {
	case MSG_DISCONNECT:
		return on_disconnect(c, &v);
	case MSG_DEBUG:
		return c->state == SSH_PROBING ? ssh_probe_debug(c, &v) : ERR_OK;
	case MSG_IGNORE: case MSG_UNIMPLEMENTED:
		return ERR_OK;
	case SSH_MSG_KEXINIT:
		if (c->kexinit_received)
			return ssh_fail(c, ERR_FORMAT, "a second KEXINIT in one key exchange%s", "");
		if (c->state == SSH_HANDOFF_KEXINIT)
			return ssh_handoff_kexinit(c, m);
		return on_kexinit(c, m);
	case SSH_MSG_KEX_ECDH_REPLY:
		if (!c->kexinit_received || c->newkeys_sent)
			return ssh_fail(c, ERR_FORMAT, "an unexpected KEX_ECDH_REPLY%s", "");
		if (c->state >= SSH_HANDOFF_KEXINIT)
			return ssh_handoff_ecdh_reply(c, m);
		return on_ecdh_reply(c, m);
	case SSH_MSG_NEWKEYS:
		return on_newkeys(c);
	}
	/* Between its KEXINIT and its NEWKEYS the server may send nothing else. */
	if (c->kexinit_received || c->kex.first)
		return ssh_fail(c, ERR_FORMAT, "a message inside the key exchange%s", "");
	switch (type) {
	case MSG_EXT_INFO:
	case MSG_USERAUTH_BANNER:
		return ERR_OK;
	case MSG_SERVICE_ACCEPT:
	case MSG_USERAUTH_FAILURE:
	case MSG_USERAUTH_SUCCESS:
	case MSG_USERAUTH_PK_OK:
		return ssh_userauth_message(c, type, &v);
	case MSG_GLOBAL_REQUEST:
		return on_global_request(c, &v);
	case MSG_REQUEST_SUCCESS:
	case MSG_REQUEST_FAILURE:
		/* Before the session runs: probes and no-more-sessions; then only keepalives. */
		if (c->nglobal > 0)
			return ssh_global_reply(c, type == MSG_REQUEST_SUCCESS, &v);
		if (c->keepalives == 0)
			return ssh_fail(c, ERR_FORMAT, "an answer to a request never made%s", "");
		c->keepalives--;
		return ERR_OK;
	}
	if (type >= MSG_CHANNEL_OPEN_CONFIRMATION && type <= MSG_CHANNEL_FAILURE)
		return c->state == SSH_PROBING ? ssh_probe_channel(c, type, &v) :
		       ssh_channel_message(c, type, &v);
	return ssh_fail(c, ERR_FORMAT, "an unexpected message%s", "");
}

int ssh_client_keepalive(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	if (c->state != SSH_RUNNING || ssh_sending_blocked(c))
		return ERR_OK;
	wbuf_init(&b, 64);
	if ((r = wbuf_put_u8(&b, MSG_GLOBAL_REQUEST)) ||
	    (r = wbuf_put_cstring(&b, "keepalive@openssh.com")) || (r = wbuf_put_u8(&b, 1))) {
		wbuf_free(&b);
		return r;
	}
	c->keepalives++;
	return ssh_send_payload(c, &b);
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
		return ssh_fail(c, ERR_TOO_LARGE, "the server sent more than we can hold%s", "");
	if (c->state == SSH_VERSION && (r = read_version(c)) != ERR_OK)
		return r == ERR_INCOMPLETE ? ERR_OK : r;
	/* After the server's NEWKEYS of a handoff the bytes are the delegate's: not one more. */
	while (c->state != SSH_FAILED && c->state != SSH_DONE && c->state != SSH_HANDED_OFF) {
		struct wbuf m;

		if ((r = ssh_packet_recv(&c->pk, &m)) == ERR_INCOMPLETE)
			break;
		if (r != ERR_OK)
			return ssh_fail(c, r, "a packet from the server does not decrypt or is "
			            "malformed%s", "");
		r = dispatch(c, &m);
		wbuf_free(&m);
		if (r != ERR_OK)
			return c->state == SSH_FAILED ? c->why.code : ssh_fail(c, r, "%s", "internal error");
		if ((r = maybe_rekey(c)) != ERR_OK)
			return r;
	}
	if (c->state == SSH_RUNNING && !ssh_sending_blocked(c))
		return ssh_channel_resume(c);
	return c->state == SSH_FAILED ? c->why.code : ERR_OK;
}
