/*
 * Signing on the token, one mechanism per key type: CKM_RSA_PKCS over a DigestInfo we build
 * (PIV cards offer nothing else), CKM_ECDSA over a digest, CKM_EDDSA over the message. Stale
 * object handles are looked up again and a lost login redone, once. A token found gone in
 * the middle is marked removed and the hot-plug watcher told, so its keys leave the list.
 */
#include <string.h>

#include <openssl/evp.h>

#include "p11-internal.h"

/* DER DigestInfo prefixes from RFC 8017 section 9.2, note 1. */
static const uint8_t prefix_sha1[] = {
	0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
};
static const uint8_t prefix_sha256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00, 0x04, 0x20,
};
static const uint8_t prefix_sha512[] = {
	0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
	0x05, 0x00, 0x04, 0x40,
};

struct sign_plan {
	CK_MECHANISM_TYPE mech;
	enum key_alg key_type;
	const EVP_MD *md;               /* NULL: the token gets the message itself */
	const uint8_t *prefix;
	size_t prefix_len;
};

static int plan_for(enum sig_alg alg, struct sign_plan *p)
{
	memset(p, 0, sizeof(*p));
	switch (alg) {
	case SIG_RSA_SHA1:
		*p = (struct sign_plan){ CKM_RSA_PKCS, KEY_RSA, EVP_sha1(), prefix_sha1,
		                         sizeof(prefix_sha1) };
		return ERR_OK;
	case SIG_RSA_SHA256:
		*p = (struct sign_plan){ CKM_RSA_PKCS, KEY_RSA, EVP_sha256(), prefix_sha256,
		                         sizeof(prefix_sha256) };
		return ERR_OK;
	case SIG_RSA_SHA512:
		*p = (struct sign_plan){ CKM_RSA_PKCS, KEY_RSA, EVP_sha512(), prefix_sha512,
		                         sizeof(prefix_sha512) };
		return ERR_OK;
	case SIG_ECDSA_SHA256:
		*p = (struct sign_plan){ CKM_ECDSA, KEY_ECDSA, EVP_sha256(), NULL, 0 };
		return ERR_OK;
	case SIG_ECDSA_SHA384:
		*p = (struct sign_plan){ CKM_ECDSA, KEY_ECDSA, EVP_sha384(), NULL, 0 };
		return ERR_OK;
	case SIG_ECDSA_SHA512:
		*p = (struct sign_plan){ CKM_ECDSA, KEY_ECDSA, EVP_sha512(), NULL, 0 };
		return ERR_OK;
	case SIG_ED25519:
		*p = (struct sign_plan){ CKM_EDDSA, KEY_ED25519, NULL, NULL, 0 };
		return ERR_OK;
	}
	return ERR_UNSUPPORTED;
}

/* The bytes handed to C_Sign: DigestInfo || hash, a bare hash, or the message. */
static int sign_input(const struct sign_plan *p, const uint8_t *data, size_t len,
                      uint8_t *buf, size_t buf_size, const uint8_t **in, size_t *in_len)
{
	unsigned int md_len;

	if (p->md == NULL) {
		*in = data;
		*in_len = len;
		return ERR_OK;
	}
	if (p->prefix_len + EVP_MAX_MD_SIZE > buf_size)
		return ERR_INTERNAL;
	if (p->prefix_len > 0)  /* ECDSA has no DigestInfo: NULL prefix, never memcpy'd */
		memcpy(buf, p->prefix, p->prefix_len);
	if (EVP_Digest(data, len, buf + p->prefix_len, &md_len, p->md, NULL) != 1)
		return ERR_INTERNAL;
	*in = buf;
	*in_len = p->prefix_len + md_len;
	return ERR_OK;
}

static size_t expected_sig_len(const struct p11_key *k)
{
	switch (k->pub.alg) {
	case KEY_RSA: return (key_material_bits(&k->pub) + 7) / 8;
	case KEY_ECDSA: return 2 * ((key_material_bits(&k->pub) + 7) / 8);
	case KEY_ED25519: return 64;
	}
	return 0;
}

static int find_private(struct p11_key *k, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *out,
                        int *always_auth, struct reason *why)
{
	struct p11_token *t = k->token;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, k->id, k->id_len },
	};
	CK_BBOOL aa = CK_FALSE;
	CK_ATTRIBUTE aa_attr = { CKA_ALWAYS_AUTHENTICATE, &aa, sizeof(aa) };
	CK_OBJECT_HANDLE obj;
	CK_ULONG n = 0;
	CK_RV rv;

	pthread_mutex_lock(&t->lock);
	*out = k->priv;
	*always_auth = k->always_authenticate;
	pthread_mutex_unlock(&t->lock);
	if (*out != CK_INVALID_HANDLE)
		return ERR_OK;

	if ((rv = t->module->fn->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK)
		return p11_fail(why, t, "C_FindObjectsInit", rv);
	rv = t->module->fn->C_FindObjects(s, &obj, 1, &n);
	t->module->fn->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return p11_fail(why, t, "C_FindObjects", rv);
	if (n == 0)
		return reason_set(why, ERR_KEY_NOT_FOUND, "no private key for \"%s\" on token "
		                  "%s #%s", k->label, t->desc.label, t->desc.serial);
	if (t->module->fn->C_GetAttributeValue(s, obj, &aa_attr, 1) != CKR_OK)
		aa = CK_FALSE;
	pthread_mutex_lock(&t->lock);
	k->priv = *out = obj;
	k->always_authenticate = *always_auth = aa == CK_TRUE;
	pthread_mutex_unlock(&t->lock);
	return ERR_OK;
}

static void forget_private(struct p11_key *k)
{
	pthread_mutex_lock(&k->token->lock);
	k->priv = CK_INVALID_HANDLE;
	pthread_mutex_unlock(&k->token->lock);
}

/* One attempt on one session. `*retry` asks for a second attempt on a fresh state. */
static int sign_once(struct p11_key *k, const struct sign_plan *p, const uint8_t *in,
                     size_t in_len, const char *purpose, uint8_t *sig, size_t *sig_len,
                     int *retry, struct reason *why)
{
	struct p11_token *t = k->token;
	CK_MECHANISM mech = { p->mech, NULL, 0 };
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE priv;
	CK_ULONG out_len = P11_MAX_SIG;
	int always_auth, r, dead = 0;
	CK_RV rv;

	*retry = 0;
	if ((r = p11_session_get(t, &s, why)) != ERR_OK)
		return r;
	if ((r = p11_login_ensure(t, s, purpose, why)) != ERR_OK ||
	    (r = find_private(k, s, &priv, &always_auth, why)) != ERR_OK)
		goto out;
	rv = t->module->fn->C_SignInit(s, &mech, priv);
	if (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID ||
	    rv == CKR_USER_NOT_LOGGED_IN) {
		forget_private(k);
		*retry = 1;
	}
	if (rv != CKR_OK) {
		dead = p11_rv_session_dead(rv);
		r = p11_fail(why, t, "C_SignInit", rv);
		goto out;
	}
	if (always_auth && (r = p11_login_context(t, s, purpose, why)) != ERR_OK) {
		/* Ends the pending operation: the session goes back to the pool clean. */
		t->module->fn->C_Sign(s, (CK_BYTE_PTR)in, in_len, NULL, &out_len);
		dead = 1;
		goto out;
	}
	rv = t->module->fn->C_Sign(s, (CK_BYTE_PTR)in, in_len, sig, &out_len);
	if (rv != CKR_OK) {
		*retry = rv == CKR_USER_NOT_LOGGED_IN;
		dead = p11_rv_session_dead(rv) || rv == CKR_BUFFER_TOO_SMALL || *retry;
		r = p11_fail(why, t, "C_Sign", rv);
		goto out;
	}
	if (out_len != expected_sig_len(k)) {
		r = reason_set(why, ERR_TOKEN, "C_Sign returned %lu bytes, expected %zu (key %s)",
		               (unsigned long)out_len, expected_sig_len(k), k->label);
		goto out;
	}
	*sig_len = out_len;
	r = ERR_OK;
out:
	if (dead || *retry) {
		/* The login may have died with the session; login_ensure re-checks cheaply. */
		pthread_mutex_lock(&t->lock);
		t->logged_in = 0;
		pthread_mutex_unlock(&t->lock);
	}
	p11_session_put(t, s, dead);
	return r;
}

/*
 * After a failure: was the token pulled (or replugged, which kills its sessions and login),
 * or has its module lost it? Then it is marked removed, so that no one else tries it, the
 * watcher rescans, and the answer says which (ERR_TOKEN_REMOVED or ERR_TOKEN_UNREACHABLE).
 * ERR_OK when the token is still there and the failure was the request's own.
 */
static int gone_mid_way(struct p11_token *t, int r)
{
	int presence;

	switch (r) {
	case ERR_PIN_INCORRECT: case ERR_PIN_LOCKED: case ERR_PIN_NEEDED: case ERR_PIN_FINAL_TRY:
	case ERR_DENIED: case ERR_MECHANISM: case ERR_UNSUPPORTED: case ERR_KEY_NOT_FOUND:
		return ERR_OK;  /* the token answered: it is there */
	}
	if (p11_token_is_removed(t))
		return ERR_TOKEN_REMOVED;
	presence = r == ERR_TOKEN_REMOVED ? ERR_TOKEN_REMOVED : p11_token_presence(t);
	if (presence == ERR_OK)
		return ERR_OK;
	p11_token_mark_removed(t);
	p11_events_notify();
	return presence;
}

int p11_key_sign(const struct p11_key *key, enum sig_alg alg, const uint8_t *data,
                 size_t len, const char *purpose, uint8_t *sig, size_t *sig_len,
                 struct reason *why)
{
	struct p11_key *k = (struct p11_key *)key;      /* handle cache is ours to update */
	uint8_t buf[128];
	const uint8_t *in;
	struct sign_plan plan;
	size_t in_len;
	int r, retry, gone;

	if (plan_for(alg, &plan) != ERR_OK || plan.key_type != k->pub.alg)
		return reason_set(why, ERR_UNSUPPORTED, "signature algorithm does not fit key %s",
		                  k->label);
	if ((r = sign_input(&plan, data, len, buf, sizeof(buf), &in, &in_len)) != ERR_OK) {
		reason_set(why, r, "hashing the data failed");
		goto out;
	}
	pthread_rwlock_rdlock(&k->token->module->life);
	r = sign_once(k, &plan, in, in_len, purpose, sig, sig_len, &retry, why);
	if (r != ERR_OK && retry)
		r = sign_once(k, &plan, in, in_len, purpose, sig, sig_len, &retry, why);
	if (r != ERR_OK && (gone = gone_mid_way(k->token, r)) != ERR_OK) {
		why->code = r = gone;
		if (strncmp(why->text, err_text(gone), strlen(err_text(gone))) != 0)
			reason_wrap(why, "%s", err_text(gone));
	}
	pthread_rwlock_unlock(&k->token->module->life);
out:
	explicit_bzero(buf, sizeof(buf));
	return r;
}
