/*
 * Public key authentication (RFC 4252 section 7): each candidate key is first offered
 * without a signature; the first the server would take (USERAUTH_PK_OK) signs. So a token
 * signs only for a key the server knows, and the policy's order decides which.
 */
#include <string.h>

#include "ssh-client-int.h"

int ssh_userauth_begin(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	if (c->cfg.nkeys == 0)
		return ssh_fail(c, ERR_KEY_NOT_FOUND, "no key to log in with%s", "");
	wbuf_init(&b, 64);
	if ((r = wbuf_put_u8(&b, MSG_SERVICE_REQUEST)) != ERR_OK ||
	    (r = wbuf_put_cstring(&b, "ssh-userauth")) != ERR_OK) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building the service request failed%s", "");
	}
	c->state = SSH_USERAUTH_SERVICE;
	return ssh_send_payload(c, &b);
}

/* The request's common part: user, service, method, whether signed, algorithm, key. */
static int request_head(const struct ssh_client *c, struct wbuf *b, int signed_request)
{
	const struct ssh_user_key *k = &c->cfg.keys[c->key];
	int r;

	if ((r = wbuf_put_u8(b, MSG_USERAUTH_REQUEST)) || (r = wbuf_put_cstring(b, c->cfg.user)) ||
	    (r = wbuf_put_cstring(b, "ssh-connection")) || (r = wbuf_put_cstring(b, "publickey")) ||
	    (r = wbuf_put_u8(b, (uint8_t)signed_request)) || (r = wbuf_put_cstring(b, k->alg)))
		return r;
	return wbuf_put_string(b, k->blob, k->len);
}

static int offer(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, 16384);
	if ((r = request_head(c, &b, 0)) != ERR_OK) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building the userauth query failed%s", "");
	}
	c->state = SSH_USERAUTH;
	c->key_signed = 0;
	return ssh_send_payload(c, &b);
}

/* The signed request: the signature covers the session id and the request itself. */
static int sign_and_send(struct ssh_client *c)
{
	struct wbuf to_sign, sig, b;
	int r;

	wbuf_init(&to_sign, 16384);
	wbuf_init(&sig, 16384);
	wbuf_init(&b, 32768);
	if ((r = wbuf_put_string(&to_sign, c->kex.session_id, c->kex.session_id_len)) ||
	    (r = request_head(c, &to_sign, 1)) || (r = request_head(c, &b, 1))) {
		ssh_fail(c, r, "building the userauth request failed%s", "");
		goto out;
	}
	if ((r = c->cfg.sign(c->cfg.sign_ctx, c->key, wbuf_ptr(&to_sign), wbuf_avail(&to_sign),
	                     &sig, &c->why)) != ERR_OK) {
		c->state = SSH_FAILED;
		goto out;
	}
	if ((r = wbuf_put_string(&b, wbuf_ptr(&sig), wbuf_avail(&sig))) != ERR_OK) {
		ssh_fail(c, r, "building the userauth request failed%s", "");
		goto out;
	}
	c->key_signed = 1;
	r = ssh_packet_send(&c->pk, &b);
out:
	wbuf_free(&to_sign);
	wbuf_free(&sig);
	wbuf_free(&b);
	return r;
}

/* PK_OK names the key it answers: it must be the one offered. */
static int on_pk_ok(struct ssh_client *c, struct wbuf *m)
{
	const struct ssh_user_key *k;
	const uint8_t *blob;
	size_t len;
	int same_alg;

	/* Out of place (no key offered, e.g. after a handoff) before any key is looked at. */
	if (c->state != SSH_USERAUTH || c->key_signed || c->key >= c->cfg.nkeys)
		return ssh_fail(c, ERR_FORMAT, "a USERAUTH_PK_OK for a key we did not offer%s", "");
	k = &c->cfg.keys[c->key];
	if (wbuf_get_string_eq(m, k->alg, &same_alg) != ERR_OK ||
	    wbuf_get_string(m, &blob, &len) != ERR_OK || wbuf_avail(m) != 0 || !same_alg ||
	    len != k->len || memcmp(blob, k->blob, len) != 0)
		return ssh_fail(c, ERR_FORMAT, "a USERAUTH_PK_OK for a key we did not offer%s", "");
	return sign_and_send(c);
}

static int on_failure(struct ssh_client *c, struct wbuf *m)
{
	const uint8_t *p;
	char methods[256];
	size_t n;

	if (c->state != SSH_USERAUTH || wbuf_get_string(m, &p, &n) != ERR_OK)
		return ssh_fail(c, ERR_FORMAT, "an unexpected USERAUTH_FAILURE%s", "");
	ssh_printable(p, n, methods, sizeof(methods));
	if (c->key_signed)
		return ssh_fail(c, ERR_DENIED, "the server refused the signed login (it would take: "
		                "%s)", methods);
	if (++c->key < c->cfg.nkeys)
		return offer(c);
	return ssh_fail(c, ERR_DENIED, "the server did not accept the key (it would take: %s)",
	                methods);
}

int ssh_userauth_message(struct ssh_client *c, uint8_t type, struct wbuf *m)
{
	switch (type) {
	case MSG_SERVICE_ACCEPT:
		if (c->state != SSH_USERAUTH_SERVICE)
			break;
		c->key = 0;
		return offer(c);
	case MSG_USERAUTH_PK_OK:
		return on_pk_ok(c, m);
	case MSG_USERAUTH_FAILURE:
		return on_failure(c, m);
	case MSG_USERAUTH_SUCCESS:
		if (c->state != SSH_USERAUTH || !c->key_signed)
			break;
		return c->handoff && c->cfg.probe_forwarding ? ssh_probes_begin(c) :
		       ssh_channel_open(c);
	}
	return ssh_fail(c, ERR_FORMAT, "an unexpected userauth message%s", "");
}
