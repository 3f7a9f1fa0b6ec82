/*
 * A malicious delegate for the tests (design section 9): p11guard-ssh's own relay
 * (src/delegate) with a tamper hook that attacks the session before any handoff. Each
 * attack must end in an abort, and the target's sshd must never start an unapproved command,
 * nor the approved one from bytes that were tampered with.
 *
 *   evil-delegate ATTACK [N] -p PORT USER@HOST COMMAND
 *
 *   flip-to N        flips a byte of the N-th TO_SERVER payload (from 0)
 *   drop-from N      forwards TO_SERVER payloads 0..N-1 only, then nothing
 *   inject-to N      puts a cleartext SSH_MSG_IGNORE packet before the N-th TO_SERVER payload
 *   flip-from N      flips a byte of the N-th read from the server
 *   other-port N     connects to port N instead of the requested one
 *   record FILE      a clean session whose bytes to the server are written to FILE
 *   replay FILE      no agent: sends FILE's bytes to a new connection to PORT, as they were
 *   sign-sid HEX,PUB asks the agent to sign a userauth request for the session whose id is
 *                    HEX (a running guarded session's), with the key of the .pub file PUB
 *   connected-twice, stdin-first, agent-frame, bad-length, server-closed-early
 *                    frames out of order, twice, of the agent's kind, or malformed
 *   handoff-stall    ignores the agent's KEX_START: the handoff never comes
 *   handoff-share-early sends KEX_SHARE before any KEX_START
 *   handoff-bind     a session-bind for the guarded session: the host key and signature
 *                    of the first (cleartext) key exchange, the session id from KEX_START
 *   after a handoff (the rule must allow one), with the connection ours:
 *   handoff-session  opens a second session channel
 *   handoff-requests sends exec, shell, subsystem, env and pty-req on the channel
 *   handoff-forward  opens direct-tcpip to port N and direct-streamlocal, asks for
 *                    tcpip-forward and streamlocal-forward
 *
 * Stalled sessions end after 3 s (EVIL_IDLE_MS) with nothing moving. Exit status as
 * p11guard-ssh's.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "delegate-handoff.h"
#include "delegate.h"
#include "ssh-client-int.h"
#include "sshagent.h"
#include "sshpub.h"

#define IDLE_MS 3000

struct attack {
	const char *name;
	unsigned n;
	FILE *record;
	const char *marker_command;     /* what an injected exec would run */
	struct wbuf seen;               /* handoff-bind: the server's first bytes */
};

static void flip(struct wbuf *b)
{
	if (wbuf_avail(b) > 0)
		((uint8_t *)wbuf_ptr(b))[wbuf_avail(b) / 2] ^= 0x40;
}

/* A cleartext SSH packet: length, padding length, SSH_MSG_IGNORE "x", 4+ padding bytes. */
static void put_ignore_packet(struct wbuf *out)
{
	static const uint8_t payload[] = { 2, 0, 0, 0, 1, 'x' };
	size_t pad = 8 - (5 + sizeof(payload)) % 8;

	if (pad < 4)
		pad += 8;
	if (wbuf_put_u32(out, (uint32_t)(1 + sizeof(payload) + pad)) != ERR_OK ||
	    wbuf_put_u8(out, (uint8_t)pad) != ERR_OK ||
	    wbuf_put_bytes(out, payload, sizeof(payload)) != ERR_OK)
		abort();
	for (size_t i = 0; i < pad; i++)
		if (wbuf_put_u8(out, 0) != ERR_OK)
			abort();
}

static void to_server(void *ctx, unsigned n, struct wbuf *bytes)
{
	struct attack *a = ctx;

	if (a->record != NULL && fwrite(wbuf_ptr(bytes), 1, wbuf_avail(bytes), a->record) !=
	    wbuf_avail(bytes))
		abort();
	if (strcmp(a->name, "flip-to") == 0 && n == a->n)
		flip(bytes);
	if (strcmp(a->name, "drop-from") == 0 && n >= a->n)
		wbuf_reset(bytes);
	if (strcmp(a->name, "inject-to") == 0 && n == a->n) {
		struct wbuf both;

		wbuf_init(&both, 2 * GUARD_FRAME_MAX);
		put_ignore_packet(&both);
		if (wbuf_put_bytes(&both, wbuf_ptr(bytes), wbuf_avail(bytes)) != ERR_OK)
			abort();
		wbuf_reset(bytes);
		if (wbuf_put_bytes(bytes, wbuf_ptr(&both), wbuf_avail(&both)) != ERR_OK)
			abort();
		wbuf_free(&both);
	}
}

static void from_server(void *ctx, unsigned n, struct wbuf *bytes)
{
	struct attack *a = ctx;

	if (strcmp(a->name, "handoff-bind") == 0)
		(void)!wbuf_put_bytes(&a->seen, wbuf_ptr(bytes), wbuf_avail(bytes));

	if (strcmp(a->name, "flip-from") == 0 && n == a->n)
		flip(bytes);
}

static void frame(struct wbuf *out, enum guard_frame_type type, const char *payload)
{
	if (guard_frame_put(out, type, (const uint8_t *)payload, strlen(payload)) != ERR_OK)
		abort();
}

static void before_connected(void *ctx, struct wbuf *out)
{
	struct attack *a = ctx;

	if (strcmp(a->name, "stdin-first") == 0)
		frame(out, GF_STDIN, "id > /tmp/never\n");
}

static void after_connected(void *ctx, struct wbuf *out)
{
	struct attack *a = ctx;

	if (strcmp(a->name, "connected-twice") == 0)
		frame(out, GF_CONNECTED, "127.0.0.1");
	if (strcmp(a->name, "agent-frame") == 0)
		frame(out, GF_TO_SERVER, "SSH-2.0-injected\r\n");
	if (strcmp(a->name, "server-closed-early") == 0)
		frame(out, GF_SERVER_CLOSED, "");
	if (strcmp(a->name, "handoff-share-early") == 0)
		frame(out, GF_KEX_SHARE, "0123456789abcdef0123456789abcdef01234567");
	if (strcmp(a->name, "bad-length") == 0) {
		/* A length past the 64 KiB cap: the agent must not wait for it. */
		static const uint8_t huge[] = { 0x00, 0x10, 0x00, 0x01, GF_SERVER_DATA };

		if (wbuf_put_bytes(out, huge, sizeof(huge)) != ERR_OK)
			abort();
	}
}

/* One packet of our making on a connection that is ours after a handoff. */
static void send_packet(struct ssh_client *c, uint8_t type, const char *fmt, ...)
{
	struct wbuf b;
	va_list ap;
	int r;

	/* fmt: 's' a string, 'u' a uint32, 'b' a byte. */
	wbuf_init(&b, 4096);
	r = wbuf_put_u8(&b, type);
	va_start(ap, fmt);
	for (const char *f = fmt; *f != '\0' && r == ERR_OK; f++)
		r = *f == 's' ? wbuf_put_cstring(&b, va_arg(ap, const char *)) :
		    *f == 'u' ? wbuf_put_u32(&b, va_arg(ap, uint32_t)) :
		    wbuf_put_u8(&b, (uint8_t)va_arg(ap, int));
	va_end(ap);
	if (r != ERR_OK || ssh_send_payload(c, &b) != ERR_OK)
		abort();
	fprintf(stderr, "evil-delegate: sent message %u after the handoff\n", type);
}

/* The first KEX_ECDH_REPLY in the server's cleartext bytes: its K_S and signature. */
static int first_reply(struct wbuf *seen, struct wbuf *k_s, struct wbuf *sig)
{
	const uint8_t *nl = memchr(wbuf_ptr(seen), '\n', wbuf_avail(seen));
	struct wbuf q_s;

	if (nl == NULL || wbuf_skip(seen, (size_t)(nl - wbuf_ptr(seen)) + 1) != ERR_OK)
		return -1;
	for (;;) {
		uint32_t len;
		uint8_t pad, type;
		const uint8_t *body;
		struct wbuf payload;

		if (wbuf_get_u32(seen, &len) != ERR_OK || wbuf_get_u8(seen, &pad) != ERR_OK ||
		    len < (uint32_t)pad + 2 || wbuf_get_bytes(seen, len - 1, &body) != ERR_OK)
			return -1;
		wbuf_view(&payload, body, len - 1 - pad);
		if (wbuf_get_u8(&payload, &type) == ERR_OK && type == SSH_MSG_KEX_ECDH_REPLY)
			return wbuf_get_stringb(&payload, k_s) == ERR_OK &&
			       wbuf_get_stringb(&payload, &q_s) == ERR_OK &&
			       wbuf_get_stringb(&payload, sig) == ERR_OK ? 0 : -1;
	}
}

/* handoff-bind: a session-bind the agent could verify, for the guarded session's id. */
static void bind_to_session(struct attack *a, const struct wbuf *kex_start)
{
	struct sshagent_client *cl = sshagent_client_connect(getenv("SSH_AUTH_SOCK"), NULL);
	struct guard_kex_start ks;
	struct sshagent_reason why;
	struct wbuf k_s, sig, data;
	uint8_t *out = NULL;
	size_t out_len = 0;

	wbuf_init(&data, 8192);
	if (cl == NULL || guard_kex_start_decode(kex_start, &ks) != ERR_OK ||
	    first_reply(&a->seen, &k_s, &sig) != 0 ||
	    wbuf_put_string(&data, wbuf_ptr(&k_s), wbuf_avail(&k_s)) != ERR_OK ||
	    wbuf_put_string(&data, wbuf_ptr(&ks.session_id), wbuf_avail(&ks.session_id)) != ERR_OK ||
	    wbuf_put_string(&data, wbuf_ptr(&sig), wbuf_avail(&sig)) != ERR_OK ||
	    wbuf_put_u8(&data, 0) != ERR_OK)
		fprintf(stderr, "evil-delegate: handoff-bind: nothing to bind with\n");
	else if (sshagent_client_extension(cl, "session-bind@openssh.com", wbuf_ptr(&data),
	                                   wbuf_avail(&data), &out, &out_len, &why) == SSHAGENT_OK)
		fprintf(stderr, "evil-delegate: session-bind accepted\n");
	else
		fprintf(stderr, "evil-delegate: session-bind refused: %s\n", why.text);
	free(out);
	wbuf_free(&data);
	if (cl != NULL)
		sshagent_client_close(cl);
}

static int drop_frame(void *ctx, enum guard_frame_type type, const struct wbuf *payload)
{
	struct attack *a = ctx;

	if (strcmp(a->name, "handoff-bind") == 0 && type == GF_KEX_START)
		bind_to_session(a, payload);
	return strcmp(a->name, "handoff-stall") == 0 && type == GF_KEX_START;
}

static void after_handoff(void *ctx, struct ssh_client *c)
{
	struct attack *a = ctx;
	uint32_t ch = c->remote_id;

	if (strcmp(a->name, "handoff-session") == 0)
		send_packet(c, MSG_CHANNEL_OPEN, "suuu", "session", 7u, 65536u, 32768u);
	if (strcmp(a->name, "handoff-requests") == 0) {
		/* No replies asked for: the server acts on them or not, and says nothing. */
		send_packet(c, MSG_CHANNEL_REQUEST, "usbss", ch, "env", 0, "LD_PRELOAD", "/tmp/x.so");
		send_packet(c, MSG_CHANNEL_REQUEST, "usbsuuuus", ch, "pty-req", 0, "xterm", 80u, 24u,
		            0u, 0u, "");
		send_packet(c, MSG_CHANNEL_REQUEST, "usbs", ch, "exec", 0, a->marker_command);
		send_packet(c, MSG_CHANNEL_REQUEST, "usb", ch, "shell", 0);
		send_packet(c, MSG_CHANNEL_REQUEST, "usbs", ch, "subsystem", 0, "sftp");
	}
	if (strcmp(a->name, "handoff-forward") == 0) {
		send_packet(c, MSG_CHANNEL_OPEN, "suuususu", "direct-tcpip", 8u, 65536u, 32768u,
		            "127.0.0.1", a->n, "127.0.0.1", 40000u);
		send_packet(c, MSG_CHANNEL_OPEN, "suuussu", "direct-streamlocal@openssh.com", 9u,
		            65536u, 32768u, "/tmp/p11guard-evil.sock", "", 0u);
		send_packet(c, MSG_GLOBAL_REQUEST, "sbsu", "tcpip-forward", 0, "127.0.0.1", 0u);
		send_packet(c, MSG_GLOBAL_REQUEST, "sbs", "streamlocal-forward@openssh.com", 0,
		            "/tmp/p11guard-evil-listen.sock");
	}
}

/* Sends the recorded bytes to a fresh connection; prints what the server answered. */
static int replay(const char *file, unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t buf[65536];
	FILE *f = fopen(file, "rb");
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t n, got = 0;
	struct pollfd p;

	if (f == NULL || fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("evil-delegate: replay");
		return 255;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
			break;
	fclose(f);
	p = (struct pollfd){ fd, POLLIN, 0 };
	while (poll(&p, 1, IDLE_MS) == 1) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	fprintf(stderr, "evil-delegate: the server answered %zu bytes to the replay\n", got);
	return 255;
}

/* A signature for someone else's session: the agent must refuse, saying why. */
static int sign_sid(const char *arg, const char *user)
{
	struct sshagent_client *cl = sshagent_client_connect(getenv("SSH_AUTH_SOCK"), NULL);
	const char *comma = strchr(arg, ',');
	struct sshagent_reason why;
	uint8_t sid[64], *blob = NULL, *sig = NULL;
	size_t sid_len = 0, blob_len = 0, sig_len = 0;
	struct wbuf data;
	int r = 255;

	while (comma != NULL && arg + 2 * sid_len + 1 < comma && sid_len < sizeof(sid) &&
	       sscanf(arg + 2 * sid_len, "%2hhx", &sid[sid_len]) == 1)
		sid_len++;
	if (cl == NULL || comma == NULL || sid_len == 0 ||
	    sshpub_file_blob(comma + 1, &blob, &blob_len) != ERR_OK) {
		fprintf(stderr, "evil-delegate: sign-sid: no agent, session id or key\n");
		return 2;
	}
	/* RFC 4252 section 7: what a client signs to log in. */
	wbuf_init(&data, 4096);
	if (wbuf_put_string(&data, sid, sid_len) == ERR_OK && wbuf_put_u8(&data, 50) == ERR_OK &&
	    wbuf_put_cstring(&data, user) == ERR_OK &&
	    wbuf_put_cstring(&data, "ssh-connection") == ERR_OK &&
	    wbuf_put_cstring(&data, "publickey") == ERR_OK && wbuf_put_u8(&data, 1) == ERR_OK &&
	    wbuf_put_cstring(&data, "ssh-ed25519") == ERR_OK &&
	    wbuf_put_string(&data, blob, blob_len) == ERR_OK) {
		if (sshagent_client_sign(cl, blob, blob_len, wbuf_ptr(&data), wbuf_avail(&data), 0,
		                         &sig, &sig_len, &why) == SSHAGENT_OK)
			printf("signed\n");
		else
			fprintf(stderr, "evil-delegate: refused: %s\n", why.text);
		r = sig != NULL ? 0 : 255;
	}
	free(sig);
	free(blob);
	wbuf_free(&data);
	sshagent_client_close(cl);
	return r;
}

int main(int argc, char **argv)
{
	struct attack a = { NULL, 0, NULL, getenv("EVIL_MARKER_COMMAND"), { 0 } };
	struct delegate_tamper t = { .to_server = to_server, .from_server = from_server,
	                             .before_connected = before_connected,
	                             .after_connected = after_connected,
	                             .drop_frame = drop_frame, .after_handoff = after_handoff,
	                             .idle_ms = getenv("EVIL_IDLE_MS") ? atoi(getenv("EVIL_IDLE_MS")) :
	                                        IDLE_MS,
	                             .ctx = &a };
	struct delegate_options o = { .verbose = 1, .tamper = &t };
	struct guard_request_wire g = { .version = GUARD_VERSION, .kind = SSH_SESSION_EXEC,
	                                .relay_only = 1 };
	const char *arg = NULL;
	char *at;
	int i = 2, status;

	if (argc < 2)
		return 2;
	a.name = argv[1];
	if (argc > 2 && argv[2][0] != '-') {
		arg = argv[2];
		a.n = (unsigned)strtoul(arg, NULL, 10);
		i = 3;
	}
	if (argc != i + 4 || strcmp(argv[i], "-p") != 0 || (at = strchr(argv[i + 2], '@')) == NULL) {
		fprintf(stderr, "usage: evil-delegate ATTACK [N] -p PORT USER@HOST COMMAND\n");
		return 2;
	}
	g.port = (uint32_t)strtoul(argv[i + 1], NULL, 10);
	*at = '\0';
	g.user = argv[i + 2];
	g.host = at + 1;
	g.command = argv[i + 3];
	if (strncmp(a.name, "handoff-", 8) == 0) {
		g.kex = (char *)DELEGATE_HANDOFF_KEX;
		g.ciphers = (char *)ssh_cipher_names;
		g.relay_only = 0;
		if (a.marker_command == NULL)
			a.marker_command = "true";
	}
	if (strcmp(a.name, "replay") == 0)
		return replay(arg, g.port);
	if (strcmp(a.name, "sign-sid") == 0)
		return sign_sid(arg, g.user);
	if (strcmp(a.name, "other-port") == 0)
		t.server_port = a.n;
	if (strcmp(a.name, "record") == 0 && (a.record = fopen(arg, "wb")) == NULL)
		return 2;
	wbuf_init(&a.seen, 256 * 1024);
	status = delegate_run(&g, getenv("SSH_AUTH_SOCK"), &o);
	wbuf_free(&a.seen);
	if (a.record != NULL)
		fclose(a.record);
	return status;
}
