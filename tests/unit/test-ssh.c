/* Unit tests for src/ssh: the AEAD ciphers, packet framing, KEXINIT and name-lists. */
#include "check.h"
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
	CHECK(ssh_kex_kexinit(&k, "ssh-ed25519", ssh_cipher_names, &b) == ERR_OK, "kexinit");
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

int main(void)
{
	round_trips();
	tampering();
	bad_frames();
	kexinit();
	CHECK_DONE();
}
