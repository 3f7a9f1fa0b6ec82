/* Packets in and out: framing, padding, sequence numbers, AEAD. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ssh-packet.h"

#define MIN_PADDING 4

void ssh_packets_init(struct ssh_packets *p)
{
	memset(p, 0, sizeof(*p));
	p->send.info = p->recv.info = ssh_cipher_find("none");
	wbuf_init(&p->in, SSH_PACKET_MAX * 2);
	wbuf_init(&p->out, SSH_OUT_MAX);
}

void ssh_packets_free(struct ssh_packets *p)
{
	ssh_cipher_free(&p->send);
	ssh_cipher_free(&p->recv);
	wbuf_free(&p->in);
	wbuf_free(&p->out);
}

void ssh_packets_rekey(struct ssh_cipher *dir, struct ssh_cipher *next)
{
	ssh_cipher_free(dir);
	*dir = *next;
	OPENSSL_cleanse(next, sizeof(*next));
}

static size_t tag_len(const struct ssh_cipher *c)
{
	return c->info->kind == SSH_CIPHER_NONE ? 0 : SSH_CIPHER_TAG;
}

int ssh_packet_send(struct ssh_packets *p, const struct wbuf *payload)
{
	size_t block = p->send.info->block, len = wbuf_avail(payload), body, pad, total;
	/* AEAD ciphers align what they encrypt, the length field apart; "none" aligns it all. */
	size_t aligned = p->send.info->kind == SSH_CIPHER_NONE ? 5 : 1;
	uint8_t *pkt;
	int r;

	if (len > SSH_PACKET_MAX - 64)
		return ERR_TOO_LARGE;
	pad = block - (aligned + len) % block;
	if (pad < MIN_PADDING)
		pad += block;
	body = 1 + len + pad;
	total = 4 + body + tag_len(&p->send);
	if ((r = wbuf_reserve(&p->out, total, &pkt)) != ERR_OK)
		return r;
	pkt[0] = (uint8_t)(body >> 24);
	pkt[1] = (uint8_t)(body >> 16);
	pkt[2] = (uint8_t)(body >> 8);
	pkt[3] = (uint8_t)body;
	pkt[4] = (uint8_t)pad;
	memcpy(pkt + 5, wbuf_ptr(payload), len);
	if (RAND_bytes(pkt + 5 + len, (int)pad) != 1)
		return ERR_INTERNAL;
	if ((r = ssh_cipher_seal(&p->send, p->send_seq, pkt, 4 + body, pkt + 4 + body)) != ERR_OK)
		return r;
	wbuf_commit(&p->out, total);
	p->send_seq++;
	p->sent_bytes += total;
	return ERR_OK;
}

int ssh_packet_recv(struct ssh_packets *p, struct wbuf *payload)
{
	size_t block = p->recv.info->block, tag = tag_len(&p->recv), avail = wbuf_avail(&p->in);
	size_t aligned = p->recv.info->kind == SSH_CIPHER_NONE ? 4 : 0;
	const uint8_t *data = wbuf_ptr(&p->in);
	uint8_t *pkt;
	uint32_t len;
	uint8_t pad;
	int r;

	if (avail < 4)
		return ERR_INCOMPLETE;
	len = ssh_cipher_length(&p->recv, p->recv_seq, data);
	if (len < 5 || len > SSH_PACKET_MAX || (aligned + len) % block != 0)
		return ERR_FORMAT;
	if (avail < 4 + (size_t)len + tag)
		return ERR_INCOMPLETE;
	if ((pkt = malloc(4 + (size_t)len)) == NULL)
		return ERR_ALLOC;
	memcpy(pkt, data, 4 + (size_t)len);
	if ((r = ssh_cipher_open(&p->recv, p->recv_seq, pkt, 4 + (size_t)len, data + 4 + len)) !=
	    ERR_OK)
		goto out;
	pad = pkt[4];
	if (pad < MIN_PADDING || (size_t)pad + 1 > len) {
		r = ERR_FORMAT;
		goto out;
	}
	wbuf_init(payload, SSH_PACKET_MAX);
	if ((r = wbuf_put_bytes(payload, pkt + 5, len - 1 - pad)) != ERR_OK) {
		wbuf_free(payload);
		goto out;
	}
	if ((r = wbuf_skip(&p->in, 4 + (size_t)len + tag)) != ERR_OK)
		goto out;
	wbuf_compact(&p->in);
	p->recv_seq++;
	p->received_bytes += 4 + (size_t)len + tag;
out:
	OPENSSL_cleanse(pkt, 4 + (size_t)len);
	free(pkt);
	return r;
}
