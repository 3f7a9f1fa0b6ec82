/* Unit tests for src/ssh: the AEAD ciphers, packet framing, KEXINIT and name-lists. */
#include "check.h"
#include "guard-relay.h"
#include "guard-wire.h"
#include "ssh-kex.h"
#include "ssh-packet.h"

static const char *const names[] = {
	"chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com",
};

/* A sender and a receiver keyed alike, as the two ends of one direction. */
static void keyed_pair(const char *name, struct ssh_packets *tx, struct ssh_packets *rx)
{
	const struct ssh_cipher_info *info = ssh_cipher_find(name);
	struct ssh_cipher enc, dec;
	uint8_t key[64], iv[12];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(iv); i++)
		iv[i] = (uint8_t)(i * 3 + 2);
	ssh_packets_init(tx);
	ssh_packets_init(rx);
	CHECK(info != NULL && ssh_cipher_init(&enc, info, key, iv, 1) == ERR_OK &&
	      ssh_cipher_init(&dec, info, key, iv, 0) == ERR_OK, "%s init", name);
	ssh_packets_rekey(&tx->send, &enc);
	ssh_packets_rekey(&rx->recv, &dec);
}

static void put_payload(struct wbuf *b, size_t len, uint8_t fill)
{
	wbuf_init(b, len + 16);
	for (size_t i = 0; i < len; i++)
		CHECK(wbuf_put_u8(b, (uint8_t)(fill + i)) == ERR_OK, "payload");
}

/* Each cipher carries payloads of many lengths, in order, across sequence numbers. */
static void round_trips(void)
{
	for (size_t c = 0; c < sizeof(names) / sizeof(names[0]); c++) {
		struct ssh_packets tx, rx;

		keyed_pair(names[c], &tx, &rx);
		for (size_t len = 1; len < 300; len += 37) {
			struct wbuf in, out;

			put_payload(&in, len, (uint8_t)len);
			CHECK(ssh_packet_send(&tx, &in) == ERR_OK, "%s send %zu", names[c], len);
			/* Fed one byte at a time, the packet is complete only at its last byte. */
			for (size_t i = 0; i < wbuf_avail(&tx.out); i++) {
				int r;

				CHECK(wbuf_put_u8(&rx.in, wbuf_ptr(&tx.out)[i]) == ERR_OK, "feed");
				r = ssh_packet_recv(&rx, &out);
				if (i + 1 < wbuf_avail(&tx.out))
					CHECK(r == ERR_INCOMPLETE, "%s: whole at byte %zu", names[c], i);
				else
					CHECK(r == ERR_OK && wbuf_avail(&out) == len &&
					      memcmp(wbuf_ptr(&out), wbuf_ptr(&in), len) == 0,
					      "%s: %zu bytes back", names[c], len);
			}
			wbuf_free(&out);
			wbuf_free(&in);
			wbuf_reset(&tx.out);
		}
		CHECK(tx.send_seq == rx.recv_seq && tx.send_seq == 9, "%s sequence numbers", names[c]);
		ssh_packets_free(&tx);
		ssh_packets_free(&rx);
	}
}

/* Any flipped bit, anywhere in a sealed packet, is refused; so is a replay. */
static void tampering(void)
{
	for (size_t c = 0; c < sizeof(names) / sizeof(names[0]); c++) {
		struct ssh_packets tx, rx;
		struct wbuf in, out, copy;
		size_t len;

		keyed_pair(names[c], &tx, &rx);
		put_payload(&in, 40, 1);
		CHECK(ssh_packet_send(&tx, &in) == ERR_OK, "send");
		len = wbuf_avail(&tx.out);
		wbuf_init(&copy, len);
		CHECK(wbuf_put_bytes(&copy, wbuf_ptr(&tx.out), len) == ERR_OK, "copy");
		ssh_packets_free(&tx);
		ssh_packets_free(&rx);
		for (size_t i = 0; i < len; i += 3) {
			struct ssh_packets sender, probe;

			keyed_pair(names[c], &sender, &probe);
			CHECK(wbuf_put_bytes(&probe.in, wbuf_ptr(&copy), len) == ERR_OK, "feed");
			((uint8_t *)probe.in.data)[probe.in.off + i] ^= 0x20;
			CHECK(ssh_packet_recv(&probe, &out) != ERR_OK, "%s: byte %zu flipped, accepted",
			      names[c], i);
			ssh_packets_free(&probe);
			ssh_packets_free(&sender);
		}
		/* The same packet twice: the second has the wrong sequence number. */
		keyed_pair(names[c], &tx, &rx);
		CHECK(wbuf_put_bytes(&rx.in, wbuf_ptr(&copy), len) == ERR_OK &&
		      wbuf_put_bytes(&rx.in, wbuf_ptr(&copy), len) == ERR_OK, "feed twice");
		CHECK(ssh_packet_recv(&rx, &out) == ERR_OK, "%s: first copy", names[c]);
		wbuf_free(&out);
		CHECK(ssh_packet_recv(&rx, &out) != ERR_OK, "%s: a replay accepted", names[c]);
		ssh_packets_free(&tx);
		ssh_packets_free(&rx);
		wbuf_free(&copy);
		wbuf_free(&in);
	}
}

/* Unencrypted packets with bad lengths or padding, as a server could send them. */
static void bad_frames(void)
{
	static const uint8_t frames[][16] = {
		{ 0, 0, 0, 4, 4, 0, 0, 0 },                     /* length below 5 */
		{ 0, 4, 0, 1, 4 },                              /* over 256 KiB */
		{ 0, 0, 0, 7, 4, 1, 2, 3, 4, 5, 6 },            /* not a multiple of 8 */
		{ 0, 0, 0, 12, 3, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0 },    /* padding below 4 */
		{ 0, 0, 0, 12, 12, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0 },   /* padding past the end */
	};
	static const size_t lens[] = { 8, 5, 11, 16, 16 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct ssh_packets rx;
		struct wbuf out;

		ssh_packets_init(&rx);
		CHECK(wbuf_put_bytes(&rx.in, frames[i], lens[i]) == ERR_OK, "feed");
		CHECK(ssh_packet_recv(&rx, &out) == ERR_FORMAT, "bad frame %zu accepted", i);
		ssh_packets_free(&rx);
	}
}

static void kexinit(void)
{
	struct ssh_kexinit ki;
	struct ssh_kex k;
	struct wbuf b;
	uint8_t *p;
	size_t len;

	ssh_kex_init(&k);
	wbuf_init(&b, 4096);
	CHECK(ssh_kex_kexinit(&k, NULL, "ssh-ed25519", ssh_cipher_names, &b) == ERR_OK, "kexinit");
	len = wbuf_avail(&b);
	p = (uint8_t *)b.data + b.off;
	CHECK(ssh_kexinit_parse(p, len, &ki) == ERR_OK, "our KEXINIT parses");
	CHECK(ssh_namelist_has(ki.kex, "kex-strict-c-v00@openssh.com") &&
	      ssh_namelist_has(ki.kex, "ext-info-c") && strcmp(ki.hostkey, "ssh-ed25519") == 0,
	      "markers: %s", ki.kex);
	for (size_t cut = 0; cut < len; cut++)
		CHECK(ssh_kexinit_parse(p, cut, &ki) != ERR_OK, "truncated at %zu", cut);
	p[len - 5] = 2;                 /* first_kex_packet_follows: 2 is not a boolean */
	CHECK(ssh_kexinit_parse(p, len, &ki) == ERR_FORMAT, "a boolean of 2");
	p[len - 5] = 0;
	p[0] = 21;
	CHECK(ssh_kexinit_parse(p, len, &ki) != ERR_OK, "not a KEXINIT");
	wbuf_free(&b);
	ssh_kex_free(&k);

	CHECK(ssh_namelist_has("a,bb,c", "bb") && !ssh_namelist_has("a,bb,c", "b") &&
	      !ssh_namelist_has("", "a") && ssh_namelist_has("a", "a"), "name-lists");
}

static void sample_request(struct guard_request_wire *r)
{
	static const uint8_t modes[] = { 53, 0, 0, 0, 1, 0 };  /* ECHO 1, TTY_OP_END */

	memset(r, 0, sizeof(*r));
	r->version = GUARD_VERSION;
	r->host = (char *)"git.example.com";
	r->port = 2222;
	r->user = (char *)"git";
	r->kind = SSH_SESSION_EXEC;
	r->command = (char *)"git-upload-pack '/srv/app.git'";
	r->pty = 1;
	r->term = (struct ssh_pty){ "xterm-256color", 80, 24, 0, 0, modes, sizeof(modes) };
	r->env[0] = (struct ssh_env){ "GIT_PROTOCOL", "version=2" };
	r->nenv = 1;
	r->kex = (char *)"curve25519-sha256";
	r->ciphers = (char *)"aes256-gcm@openssh.com";
}

/* The request with one field changed: `field` picks which, decoding must refuse it. */
static int decodes_after(void (*change)(struct guard_request_wire *), int *code)
{
	struct guard_request_wire r, back;
	struct reason why;
	struct wbuf b;
	int rc;

	sample_request(&r);
	change(&r);
	wbuf_init(&b, 65536);
	CHECK(guard_request_encode(&r, &b) == ERR_OK, "encode");
	rc = guard_request_decode(wbuf_ptr(&b), wbuf_avail(&b), &back, &why);
	*code = rc;
	guard_request_free(&back);
	wbuf_free(&b);
	return rc == ERR_OK;
}

static void host_space(struct guard_request_wire *r) { r->host = (char *)"a b"; }
static void host_dash(struct guard_request_wire *r) { r->host = (char *)"-oProxyCommand=x"; }
static void port_zero(struct guard_request_wire *r) { r->port = 0; }
static void user_dash(struct guard_request_wire *r) { r->user = (char *)"-x"; }
static void command_newline(struct guard_request_wire *r) { r->command = (char *)"a\nb"; }
static void command_empty(struct guard_request_wire *r) { r->command = (char *)""; }
static void env_digit(struct guard_request_wire *r) { r->env[0].name = "1X"; }
static void term_space(struct guard_request_wire *r) { r->term.term = "x term"; }
static void modes_bad(struct guard_request_wire *r)
{
	static const uint8_t m[] = { 200, 0, 0, 0, 1, 0 };     /* an undefined opcode */

	r->term.modes = m;
}
static void modes_unended(struct guard_request_wire *r)
{
	static const uint8_t m[] = { 53, 0, 0, 0, 1 };         /* no TTY_OP_END */

	r->term.modes = m;
	r->term.modes_len = sizeof(m);
}
static void version_two(struct guard_request_wire *r) { r->version = 2; }
static void nothing(struct guard_request_wire *r) { (void)r; }

static void guard_request(void)
{
	static void (*const refused[])(struct guard_request_wire *) = {
		host_space, host_dash, port_zero, user_dash, command_newline, command_empty,
		env_digit, term_space, modes_bad, modes_unended,
	};
	struct guard_request_wire r, back;
	struct reason why;
	struct wbuf b;
	int code;

	CHECK(decodes_after(nothing, &code), "the sample decodes");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		CHECK(!decodes_after(refused[i], &code) && code == ERR_FORMAT, "change %zu accepted", i);
	CHECK(!decodes_after(version_two, &code) && code == ERR_UNSUPPORTED, "version 2");

	sample_request(&r);
	wbuf_init(&b, 65536);
	CHECK(guard_request_encode(&r, &b) == ERR_OK, "encode");
	CHECK(guard_request_decode(wbuf_ptr(&b), wbuf_avail(&b), &back, &why) == ERR_OK &&
	      strcmp(back.command, r.command) == 0 && back.port == 2222 && back.pty &&
	      back.term.modes_len == 6 && back.nenv == 1 &&
	      strcmp(back.env[0].value, "version=2") == 0, "round trip: %s", why.text);
	guard_request_free(&back);
	for (size_t cut = 0; cut < wbuf_avail(&b); cut++) {
		CHECK(guard_request_decode(wbuf_ptr(&b), cut, &back, &why) != ERR_OK, "cut %zu", cut);
		guard_request_free(&back);
	}
	CHECK(wbuf_put_u8(&b, 0) == ERR_OK, "trailing");
	CHECK(guard_request_decode(wbuf_ptr(&b), wbuf_avail(&b), &back, &why) == ERR_FORMAT,
	      "a trailing byte");
	guard_request_free(&back);
	wbuf_free(&b);
}

static void guard_frames(void)
{
	static const uint8_t bad[][5] = {
		{ 0, 0, 0, 0 },                 /* no type */
		{ 0, 1, 0, 1, GF_STDIN },       /* over 64 KiB */
		{ 0, 0, 0, 1, 0 },              /* type 0 */
		{ 0, 0, 0, 1, GF_LAST + 1 },    /* an unknown type */
	};
	enum guard_frame_type type;
	struct wbuf b, payload;

	wbuf_init(&b, 1 << 20);
	CHECK(guard_frame_put(&b, GF_STDOUT, (const uint8_t *)"hello", 5) == ERR_OK &&
	      guard_frame_put(&b, GF_STDIN_EOF, NULL, 0) == ERR_OK, "put");
	CHECK(guard_frame_get(&b, &type, &payload) == ERR_OK && type == GF_STDOUT &&
	      wbuf_avail(&payload) == 5 && memcmp(wbuf_ptr(&payload), "hello", 5) == 0, "first");
	CHECK(guard_frame_get(&b, &type, &payload) == ERR_OK && type == GF_STDIN_EOF &&
	      wbuf_avail(&payload) == 0, "second");
	CHECK(guard_frame_get(&b, &type, &payload) == ERR_INCOMPLETE, "none left");
	CHECK(guard_frame_put(&b, GF_STDOUT, (const uint8_t *)"x", GUARD_FRAME_MAX) ==
	      ERR_TOO_LARGE, "a frame over 64 KiB is not written");
	wbuf_free(&b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wbuf_view(&b, bad[i], i == 0 ? 4 : 5);
		CHECK(guard_frame_get(&b, &type, &payload) == ERR_FORMAT, "bad frame %zu", i);
	}
	wbuf_view(&b, (const uint8_t *)"\0\0\0\3\x0a", 5);     /* 3 bytes said, 1 there */
	CHECK(guard_frame_get(&b, &type, &payload) == ERR_INCOMPLETE, "a partial frame");
}

/* The first frame the relay sent, and its text when it is an ABORT. */
static enum guard_frame_type last_frame(struct guard_relay *g, char *text, size_t size)
{
	enum guard_frame_type type = 0, t;
	struct wbuf payload, copy;
	uint32_t code;
	char *s = NULL;

	text[0] = '\0';
	wbuf_view(&copy, wbuf_ptr(&g->to_delegate), wbuf_avail(&g->to_delegate));
	while (guard_frame_get(&copy, &t, &payload) == ERR_OK) {
		type = t;
		if (t == GF_ABORT && wbuf_get_u32(&payload, &code) == ERR_OK &&
		    wbuf_get_cstring(&payload, &s) == ERR_OK) {
			snprintf(text, size, "%s", s);
			free(s);
		}
	}
	return type;
}

static void relay_frame(struct guard_relay *g, enum guard_frame_type type, const char *data)
{
	struct wbuf payload;

	wbuf_view(&payload, (const uint8_t *)data, strlen(data));
	CHECK(guard_relay_frame(g, type, &payload) == ERR_OK, "frame %d", type);
}

/* Frames out of order, twice, or of the agent's kinds end the session with a reason. */
static void guard_relay_rules(void)
{
	static const struct {
		enum guard_frame_type first, second;
		const char *want;
	} cases[] = {
		{ GF_STDIN, 0, "a frame before CONNECTED" },
		{ GF_CONNECTED, GF_CONNECTED, "sent twice" },
		{ GF_CONNECTED, GF_TO_SERVER, "may not send" },
		{ GF_CONNECTED, GF_WINDOW, "a malformed WINDOW frame" },
		{ GF_CONNECTED, GF_SERVER_CLOSED, "closed before the command ended" },
		{ GF_CONNECTED, GF_STDIN_EOF, "" },     /* allowed: nothing ends */
		{ GF_CONNECTED, GF_KEX_SHARE, "KEX_SHARE frame out of place" },  /* no KEX_START */
		{ GF_CONNECTED, GF_HANDOFF, "may not send" },   /* the agent's frame */
		{ GF_CONNECTED, GF_RELAYING, "may not send" },
	};
	struct ssh_client_config cfg = { 0 };
	char text[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct guard_relay g;

		CHECK(guard_relay_start(&g, &cfg) == ERR_OK, "start");
		relay_frame(&g, cases[i].first, cases[i].first == GF_STDIN_EOF ? "" : "x");
		if (cases[i].second != 0)
			relay_frame(&g, cases[i].second, cases[i].second == GF_STDIN_EOF ? "" : "x");
		if (cases[i].want[0] != '\0')
			CHECK(last_frame(&g, text, sizeof(text)) == GF_ABORT && g.finished &&
			      strstr(text, cases[i].want) != NULL, "case %zu: %s", i, text);
		else
			CHECK(!g.finished && last_frame(&g, text, sizeof(text)) == GF_TO_SERVER,
			      "case %zu: the version line goes out and the session goes on", i);
		guard_relay_free(&g);
	}
}

/* Name-list intersection: the first list's order; an exact fit kept, one byte less not. */
static void namelists(void)
{
	char out[sizeof("b,c")];

	ssh_namelist_intersect("a,b,c", "c,b", out, sizeof(out));
	CHECK(strcmp(out, "b,c") == 0, "intersection: \"%s\"", out);
	ssh_namelist_intersect("a,b,c", "c,b", out, sizeof(out) - 1);
	CHECK(strcmp(out, "b") == 0, "one byte short: \"%s\"", out);
	ssh_namelist_intersect("a,b", NULL, out, sizeof(out));
	CHECK(out[0] == '\0', "nothing offered: \"%s\"", out);
}

int main(void)
{
	namelists();
	guard_relay_rules();
	guard_request();
	guard_frames();
	round_trips();
	tampering();
	bad_frames();
	kexinit();
	CHECK_DONE();
}
