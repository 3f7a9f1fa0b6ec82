/* Session binding: verify the host key's signature, then follow OpenSSH's rules for repeats. */
#include <stdlib.h>
#include <string.h>

#include "session-bind.h"

static int sid_equal(const struct binding *b, const uint8_t *sid, size_t len)
{
	return b->sid_len == len && memcmp(b->sid, sid, len) == 0;
}

static int record(struct bindings *bs, const struct sshpub *key, struct sshcert **cert,
                  const uint8_t *sid, size_t sid_len, int forwarded, struct reason *why)
{
	for (size_t i = 0; i < bs->n; i++) {
		const struct binding *b = &bs->hop[i];

		/* Once a connection authenticated somewhere, it can never be re-bound. */
		if (!b->forwarded)
			return reason_set(why, ERR_DENIED, "connection already bound to %s for "
			                  "authentication", b->hostkey.fingerprint);
		if (sid_equal(b, sid, sid_len)) {
			if (sshpub_equal(&b->hostkey, key))
				return ERR_OK;  /* the same hop again: nothing new */
			return reason_set(why, ERR_DENIED, "session id already bound to host key %s",
			                  b->hostkey.fingerprint);
		}
	}
	if (bs->n >= BIND_MAX)
		return reason_set(why, ERR_LIMIT, "more than %d session bindings", BIND_MAX);
	if (sshpub_copy(key, &bs->hop[bs->n].hostkey) != ERR_OK)
		return reason_set(why, ERR_ALLOC, "out of memory");
	memcpy(bs->hop[bs->n].sid, sid, sid_len);
	bs->hop[bs->n].sid_len = sid_len;
	bs->hop[bs->n].forwarded = forwarded;
	bs->hop[bs->n].cert = *cert;    /* taken over */
	*cert = NULL;
	bs->n++;
	return ERR_OK;
}

/*
 * The host key a session-bind names: a plain key, or a host certificate whose CA signature
 * holds (its certified key is then the host's key; whether the CA is trusted is for the
 * destination constraints and the policy to say).
 */
int session_host_key(const uint8_t *blob, size_t len, struct sshpub *key,
                     struct sshcert **cert, struct reason *why)
{
	char type[64] = "";
	const uint8_t *t;
	size_t t_len;
	struct wbuf peek;
	int r;

	wbuf_view(&peek, blob, len);
	if (wbuf_get_string(&peek, &t, &t_len) == ERR_OK && t_len < sizeof(type))
		memcpy(type, t, t_len);
	if (!sshcert_is_cert_type(type)) {
		if ((r = sshpub_parse(blob, len, key)) != ERR_OK)
			return reason_set(why, r, "session-bind host key: %s", err_text(r));
		return ERR_OK;
	}
	if ((*cert = calloc(1, sizeof(**cert))) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	if ((r = sshcert_parse(blob, len, *cert)) != ERR_OK)
		return reason_set(why, r, "session-bind host certificate: %s (a bad CA signature, "
		                  "or malformed)", err_text(r));
	if ((*cert)->type != SSHCERT_HOST)
		return reason_set(why, ERR_DENIED, "session-bind names a user certificate as the "
		                  "host key");
	if (sshpub_copy(&(*cert)->key, key) != ERR_OK)
		return reason_set(why, ERR_ALLOC, "out of memory");
	return ERR_OK;
}

void session_cert_free(struct sshcert *cert)
{
	if (cert != NULL)
		sshcert_free(cert);
	free(cert);
}

int session_bind_apply(struct bindings *bs, struct wbuf *body, struct reason *why)
{
	const uint8_t *key_blob, *sid, *sig;
	size_t key_len, sid_len, sig_len;
	struct sshcert *cert = NULL;
	struct sshpub key;
	uint8_t fwd;
	int r;

	if (wbuf_get_string(body, &key_blob, &key_len) != ERR_OK ||
	    wbuf_get_string(body, &sid, &sid_len) != ERR_OK ||
	    wbuf_get_string(body, &sig, &sig_len) != ERR_OK ||
	    wbuf_get_u8(body, &fwd) != ERR_OK || wbuf_avail(body) != 0)
		return reason_set(why, ERR_FORMAT, "malformed session-bind request");
	if (sid_len == 0 || sid_len > BIND_MAX_SID)
		return reason_set(why, ERR_FORMAT, "session id of %zu bytes (1 to %d allowed)",
		                  sid_len, BIND_MAX_SID);
	if (fwd > 1)
		return reason_set(why, ERR_FORMAT, "forwarding flag is not a boolean");
	memset(&key, 0, sizeof(key));
	if ((r = session_host_key(key_blob, key_len, &key, &cert, why)) != ERR_OK)
		;       /* reason set */
	else if ((r = sshpub_verify(&key, sig, sig_len, sid, sid_len)) != ERR_OK)
		r = reason_set(why, ERR_DENIED, "host key %s did not sign this session id",
		               key.fingerprint);
	else
		r = record(bs, &key, &cert, sid, sid_len, fwd, why);
	sshpub_free(&key);
	session_cert_free(cert);
	return r;
}

void bindings_clear(struct bindings *bs)
{
	for (size_t i = 0; i < bs->n; i++) {
		sshpub_free(&bs->hop[i].hostkey);
		session_cert_free(bs->hop[i].cert);
	}
	memset(bs, 0, sizeof(*bs));
}

const struct binding *bindings_last(const struct bindings *bs)
{
	return bs->n > 0 ? &bs->hop[bs->n - 1] : NULL;
}

void bindings_drop_last(struct bindings *bs)
{
	if (bs->n == 0)
		return;
	bs->n--;
	sshpub_free(&bs->hop[bs->n].hostkey);
	session_cert_free(bs->hop[bs->n].cert);
	memset(&bs->hop[bs->n], 0, sizeof(bs->hop[bs->n]));
}
