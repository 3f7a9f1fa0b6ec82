/*
 * The handoff's frames (guard-handoff-wire.c): KEX_START, KEX_SHARE and HANDOFF round trips,
 * every cut and a trailing byte refused, and each field out of range refused.
 */
#include "check.h"
#include "guard-wire.h"

typedef int (*decoder)(const struct wbuf *payload);

static int decode_start(const struct wbuf *p)
{
	struct guard_kex_start s;

	return guard_kex_start_decode(p, &s);
}

static int decode_share(const struct wbuf *p)
{
	struct wbuf q;
	uint64_t keep;

	return guard_kex_share_decode(p, &q, &keep);
}

static int decode_handoff(const struct wbuf *p)
{
	struct guard_handoff h;

	return guard_handoff_decode(p, &h);
}

/* Every prefix of `b` and `b` with a byte more are refused. */
static void cuts_refused(const struct wbuf *b, decoder decode, const char *what)
{
	struct wbuf v, longer;

	for (size_t cut = 0; cut < wbuf_avail(b); cut++) {
		wbuf_view(&v, wbuf_ptr(b), cut);
		CHECK(decode(&v) == ERR_FORMAT, "%s cut at %zu", what, cut);
	}
	wbuf_init(&longer, 1 << 20);
	CHECK(wbuf_put_bytes(&longer, wbuf_ptr(b), wbuf_avail(b)) == ERR_OK &&
	      wbuf_put_u8(&longer, 0) == ERR_OK, "copy");
	CHECK(decode(&longer) == ERR_FORMAT, "%s with a trailing byte", what);
	wbuf_free(&longer);
}

static void sample_kex(struct ssh_kex *k)
{
	ssh_kex_init(k);
	snprintf(k->v_c, sizeof(k->v_c), "SSH-2.0-p11guard_test");
	snprintf(k->v_s, sizeof(k->v_s), "SSH-2.0-OpenSSH_9.2p1 Debian-2");
	CHECK(wbuf_put_bytes(&k->i_c, "\x14" "client kexinit", 15) == ERR_OK &&
	      wbuf_put_bytes(&k->i_s, "\x14" "server kexinit", 15) == ERR_OK, "kexinits");
	CHECK(sshpub_parse_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOrfEp7l62aKBD4MxFeQPgVNDpUT"
	                        "DYfsLq+mF4XwvTs", &k->host_key) == ERR_OK, "host key");
	memset(k->session_id, 0xab, 32);
	k->session_id_len = 32;
	k->strict = 1;
}

static void kex_start(void)
{
	struct guard_kex_start s;
	struct ssh_kex k;
	struct wbuf b;

	sample_kex(&k);
	wbuf_init(&b, 1 << 20);
	CHECK(guard_kex_start_encode(&k, &b) == ERR_OK, "encode");
	CHECK(guard_kex_start_decode(&b, &s) == ERR_OK && s.strict == 1 &&
	      wbuf_avail(&s.session_id) == 32 && wbuf_avail(&s.i_c) == 15 &&
	      wbuf_avail(&s.k_s) == k.host_key.blob_len &&
	      memcmp(wbuf_ptr(&s.v_s), k.v_s, strlen(k.v_s)) == 0, "round trip");
	cuts_refused(&b, decode_start, "KEX_START");
	/* The strict flag is the last byte: 2 is no flag. */
	b.data[b.len - 1] = 2;
	CHECK(guard_kex_start_decode(&b, &s) == ERR_FORMAT, "strict 2");
	wbuf_free(&b);

	/* A version line with CR LF (it would change the hash), a short session id. */
	snprintf(k.v_s, sizeof(k.v_s), "SSH-2.0-x\r");
	wbuf_init(&b, 1 << 20);
	CHECK(guard_kex_start_encode(&k, &b) == ERR_OK &&
	      guard_kex_start_decode(&b, &s) == ERR_FORMAT, "a CR in V_S");
	wbuf_free(&b);
	snprintf(k.v_s, sizeof(k.v_s), "SSH-2.0-x");
	k.session_id_len = 20;
	wbuf_init(&b, 1 << 20);
	CHECK(guard_kex_start_encode(&k, &b) == ERR_OK &&
	      guard_kex_start_decode(&b, &s) == ERR_FORMAT, "a 20-byte session id");
	wbuf_free(&b);
	ssh_kex_free(&k);
}

static void kex_share(void)
{
	static const uint8_t q[32] = { 9 };
	struct wbuf b, got;
	uint64_t keep = 0;

	wbuf_init(&b, 1024);
	CHECK(guard_kex_share_encode(q, sizeof(q), 123456789012ULL, &b) == ERR_OK, "encode");
	CHECK(guard_kex_share_decode(&b, &got, &keep) == ERR_OK && wbuf_avail(&got) == 32 &&
	      keep == 123456789012ULL, "round trip");
	cuts_refused(&b, decode_share, "KEX_SHARE");
	wbuf_free(&b);
}

static void sample_handoff(struct guard_handoff *h)
{
	memset(h, 0, sizeof(*h));
	h->server_offset = 4000;
	h->bytes_written = 2000;
	h->state = (struct ssh_handoff){
		.send_seq = 0, .recv_seq = 0, .remote_id = 7, .remote_window = 2097152,
		.remote_max_packet = 32768, .local_window = 0, .pty_granted = 1, .exit_status = -1,
		.deferred_count = 2, .deferred_failures = 2,
	};
}

/* `h` changed by `change` encodes to something the decoder refuses. */
static int refused_after(void (*change)(struct guard_handoff *))
{
	struct guard_handoff h, back;
	struct wbuf b;
	int r;

	sample_handoff(&h);
	change(&h);
	wbuf_init(&b, 4096);
	r = guard_handoff_encode(&h, &b) == ERR_OK && guard_handoff_decode(&b, &back) == ERR_FORMAT;
	wbuf_free(&b);
	return r;
}

static void too_many_owed(struct guard_handoff *h) { h->state.deferred_count = 17; }
static void bits_beyond(struct guard_handoff *h) { h->state.deferred_failures = 4; }
static void status_256(struct guard_handoff *h) { h->state.exit_status = 256; }
static void pty_two(struct guard_handoff *h) { h->state.pty_granted = 2; }

static void handoff(void)
{
	static void (*const refused[])(struct guard_handoff *) = {
		too_many_owed, bits_beyond, status_256, pty_two,
	};
	struct guard_handoff h, back;
	struct wbuf b;

	sample_handoff(&h);
	snprintf(h.state.exit_signal, sizeof(h.state.exit_signal), "TERM");
	wbuf_init(&b, 4096);
	CHECK(guard_handoff_encode(&h, &b) == ERR_OK, "encode");
	CHECK(guard_handoff_decode(&b, &back) == ERR_OK && back.server_offset == 4000 &&
	      back.bytes_written == 2000 && back.state.remote_id == 7 &&
	      back.state.exit_status == -1 && back.state.pty_granted == 1 &&
	      back.state.deferred_count == 2 && back.state.deferred_failures == 2 &&
	      strcmp(back.state.exit_signal, "TERM") == 0, "round trip");
	cuts_refused(&b, decode_handoff, "HANDOFF");
	wbuf_free(&b);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		CHECK(refused_after(refused[i]), "change %zu accepted", i);
}

int main(void)
{
	kex_start();
	kex_share();
	handoff();
	CHECK_DONE();
}
