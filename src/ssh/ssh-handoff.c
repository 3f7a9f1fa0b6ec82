/*
 * The handoff re-key (design section 5). The agent's side: once the command runs, our
 * KEXINIT offers only what the delegate can do; the delegate makes the ephemeral key, so
 * the agent relays its public half and the server's reply and never knows the new secret;
 * the server must show the host key of the first exchange; our NEWKEYS is the last packet
 * the agent writes, and parsing stops right after the server's. The delegate's side: a
 * client that carries the connection on from the state the agent handed over.
 */
#include <stdio.h>
#include <string.h>

#include "ssh-client-int.h"

int ssh_handoff_fallback(struct ssh_client *c, const char *why)
{
	if (c->cfg.fallback_deny)
		return ssh_fail(c, ERR_DENIED, "%s and the rule's fallback is deny", why);
	snprintf(c->relay_why, sizeof(c->relay_why), "%s", why);
	c->handoff = 0;
	return ERR_OK;
}

int ssh_handoff_begin(struct ssh_client *c)
{
	char kex[256], ciphers[256];
	struct wbuf b;
	int r;

	/* A re-key of the server's is still running: ours follows its NEWKEYS. */
	if (c->kexinit_sent || c->kexinit_received) {
		c->handoff_due = 1;
		return ERR_OK;
	}
	c->handoff_due = 0;
	ssh_namelist_intersect(ssh_kex_names, c->cfg.handoff_kex, kex, sizeof(kex));
	/* chacha20-poly1305 is fine here even without strict KEX: nothing can be injected
	 * inside an exchange that is already encrypted (design section 5). */
	ssh_namelist_intersect(ssh_cipher_names, c->cfg.handoff_ciphers, ciphers, sizeof(ciphers));
	if (kex[0] == '\0' || ciphers[0] == '\0') {
		if (ssh_handoff_fallback(c, "the delegate offers no key exchange or cipher the "
		                         "agent does") != ERR_OK)
			return c->why.code;
		c->state = SSH_RUNNING;
		return ssh_channel_resume(c);
	}
	wbuf_init(&b, 4096);
	if ((r = ssh_kex_kexinit(&c->kex, kex, c->kex.hostkey_alg, ciphers, &b)) != ERR_OK) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building the handoff KEXINIT failed%s", "");
	}
	c->kexinit_sent = 1;
	c->state = SSH_HANDOFF_KEXINIT;
	return ssh_send_payload(c, &b);
}

int ssh_handoff_kexinit(struct ssh_client *c, const struct wbuf *m)
{
	if (ssh_kex_negotiate(&c->kex, wbuf_ptr(m), wbuf_avail(m), &c->why) != ERR_OK) {
		c->state = SSH_FAILED;
		return c->why.code;
	}
	c->kexinit_received = 1;
	c->state = SSH_HANDOFF_SHARE;   /* the delegate's ephemeral key is next */
	return ERR_OK;
}

int ssh_client_handoff_share(struct ssh_client *c, const uint8_t *q_c, size_t len)
{
	int x25519 = strncmp(ssh_kex_method_name(&c->kex), "curve25519", 10) == 0;
	struct wbuf b;
	int r;

	if (c->state != SSH_HANDOFF_SHARE)
		return ssh_fail(c, ERR_FORMAT, "the delegate's key share came out of place%s", "");
	if (x25519 ? len != 32 : len != 65 || q_c[0] != 0x04)
		return ssh_fail(c, ERR_FORMAT, "the delegate's ephemeral key has the wrong length "
		                "for %s", ssh_kex_method_name(&c->kex));
	wbuf_init(&b, 256);
	if ((r = wbuf_put_u8(&b, SSH_MSG_KEX_ECDH_INIT)) || (r = wbuf_put_string(&b, q_c, len))) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building KEX_ECDH_INIT failed%s", "");
	}
	c->state = SSH_HANDOFF_REPLY;
	return ssh_send_payload(c, &b);
}

/* The server's reply goes to the delegate, which alone can check its signature; the agent
 * checks that it names the host key the first exchange verified. */
int ssh_handoff_ecdh_reply(struct ssh_client *c, const struct wbuf *m)
{
	const uint8_t *ks;
	size_t ks_len;
	struct sshpub key;
	struct wbuf v, b;
	uint8_t type;
	int same, r;

	if (c->state != SSH_HANDOFF_REPLY)
		return ssh_fail(c, ERR_FORMAT, "an unexpected KEX_ECDH_REPLY%s", "");
	wbuf_view(&v, wbuf_ptr(m), wbuf_avail(m));
	if (wbuf_get_u8(&v, &type) != ERR_OK || wbuf_get_string(&v, &ks, &ks_len) != ERR_OK ||
	    sshpub_parse(ks, ks_len, &key) != ERR_OK)
		return ssh_fail(c, ERR_FORMAT, "a malformed KEX_ECDH_REPLY in the handoff%s", "");
	same = sshpub_equal(&key, &c->kex.host_key);
	sshpub_free(&key);
	if (!same)
		return ssh_fail(c, ERR_DENIED, "the server showed another host key in the handoff "
		                "re-key than the one verified%s", "");
	wbuf_reset(&c->handoff_reply);
	if (wbuf_put_bytes(&c->handoff_reply, wbuf_ptr(m), wbuf_avail(m)) != ERR_OK)
		return ssh_fail(c, ERR_TOO_LARGE, "the server's KEX_ECDH_REPLY is too large%s", "");
	wbuf_init(&b, 16);
	if ((r = wbuf_put_u8(&b, SSH_MSG_NEWKEYS)) != ERR_OK || (r = ssh_send_payload(c, &b)))
		return ssh_fail(c, r, "sending NEWKEYS failed%s", "");
	/* The last packet the agent writes: the delegate continues the count. */
	c->newkeys_sent = 1;
	c->state = SSH_HANDOFF_NEWKEYS;
	return ERR_OK;
}

int ssh_handoff_newkeys(struct ssh_client *c)
{
	c->state = SSH_HANDED_OFF;
	return ERR_OK;
}

/* What the channel and the owed replies are, in the client and in a handoff alike. */
#define HANDED_OVER(X) X(remote_id) X(remote_window) X(remote_max_packet) X(local_window) \
	X(pty_granted) X(eof_received) X(close_received) X(exit_status) X(deferred_count) \
	X(deferred_failures)

int ssh_client_handoff_state(const struct ssh_client *c, struct ssh_handoff *h)
{
	if (c->state != SSH_HANDED_OFF)
		return ERR_INTERNAL;
	memset(h, 0, sizeof(*h));
	/* Strict KEX resets both counts at every NEWKEYS; otherwise they run on. */
	h->send_seq = c->kex.strict ? 0 : c->pk.send_seq;
	h->recv_seq = c->kex.strict ? 0 : c->pk.recv_seq;
#define TO_HANDOFF(field) h->field = c->field;
	HANDED_OVER(TO_HANDOFF)
	snprintf(h->exit_signal, sizeof(h->exit_signal), "%s", c->exit_signal);
	return ERR_OK;
}

int ssh_client_resume(struct ssh_client *c, const struct ssh_client_config *cfg,
                      struct ssh_kex *kex, const struct ssh_handoff *h)
{
	int r;

	if (h->deferred_count > 16 || h->remote_max_packet < 128 || h->exit_status > 255 ||
	    h->exit_status < -1)
		return ERR_FORMAT;
	if ((r = ssh_client_start(c, cfg)) != ERR_OK)
		return r;
	wbuf_reset(&c->pk.out);         /* no version line: the connection runs already */
	ssh_kex_free(&c->kex);
	c->kex = *kex;                  /* ours now, with the keys of the handoff re-key */
	memset(kex, 0, sizeof(*kex));
	/* Later re-keys must show the host key the agent verified, and offer only its type. */
	c->cfg.trusted = &c->kex.host_key;
	c->cfg.ntrusted = 1;
	ssh_packets_rekey(&c->pk.send, &c->kex.next_send);
	ssh_packets_rekey(&c->pk.recv, &c->kex.next_recv);
	c->pk.send_seq = h->send_seq;
	c->pk.recv_seq = h->recv_seq;
	c->exchanges = 2;
#define FROM_HANDOFF(field) c->field = h->field;
	HANDED_OVER(FROM_HANDOFF)
	snprintf(c->exit_signal, sizeof(c->exit_signal), "%s", h->exit_signal);
	c->key_signed = 1;
	c->state = SSH_RUNNING;
	return ssh_after_kex(c);
}
