/* The key exchange: KEXINIT, ECDH over X25519 or P-256, the exchange hash, keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ssh-kex.h"

struct ssh_kex_method {
	const char *name;
	int x25519;             /* else ECDH on P-256 */
};

static const struct ssh_kex_method methods[] = {
	{ "curve25519-sha256", 1 },
	{ "curve25519-sha256@libssh.org", 1 },
	{ "ecdh-sha2-nistp256", 0 },
};

#define KEX_NAMES "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256"
const char ssh_kex_names[] = KEX_NAMES;
#define STRICT_C "kex-strict-c-v00@openssh.com"
#define STRICT_S "kex-strict-s-v00@openssh.com"
/* Ignored with AEAD ciphers, but the list must be a real one. */
#define MAC_NAMES "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"

void ssh_kex_init(struct ssh_kex *k)
{
	memset(k, 0, sizeof(*k));
	wbuf_init(&k->i_c, 4096);
	wbuf_init(&k->i_s, 65536);
	k->first = 1;
}

void ssh_kex_free(struct ssh_kex *k)
{
	wbuf_free(&k->i_c);
	wbuf_free(&k->i_s);
	EVP_PKEY_free(k->ephemeral);
	sshpub_free(&k->host_key);
	ssh_cipher_free(&k->next_send);
	ssh_cipher_free(&k->next_recv);
	OPENSSL_cleanse(k, sizeof(*k));
}

const char *ssh_kex_method_name(const struct ssh_kex *k)
{
	return k->method != NULL ? k->method->name : "none";
}

int ssh_namelist_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

void ssh_namelist_intersect(const char *first, const char *second, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (const char *p = first; *p != '\0';) {
		size_t len = strcspn(p, ",");
		char name[128];

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		if (len < sizeof(name) && second != NULL && ssh_namelist_has(second, name) &&
		    used + (used > 0) + len < size)      /* a comma, the name and the NUL fit */
			used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "," : "", name);
		p += len + (p[len] == ',');
	}
}

int ssh_kex_hostkey_algs(const struct sshpub *keys, size_t n, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *type = sshkey_type_name(&keys[i].pub);
		/* RSA keys sign with SHA-2 here; ssh-rsa (SHA-1) is never offered. */
		const char *names = strcmp(type, "ssh-rsa") == 0 ? "rsa-sha2-512,rsa-sha2-256" : type;
		int w;

		if (ssh_namelist_has(out, strcmp(type, "ssh-rsa") == 0 ? "rsa-sha2-512" : type))
			continue;
		w = snprintf(out + used, size - used, "%s%s", used ? "," : "", names);
		if (w < 0 || (size_t)w >= size - used)
			return ERR_TOO_LARGE;
		used += (size_t)w;
	}
	return used > 0 ? ERR_OK : ERR_KEY_NOT_FOUND;
}

int ssh_kex_kexinit(struct ssh_kex *k, const char *kex_algs, const char *hostkey_algs,
                    const char *ciphers, struct wbuf *out)
{
	uint8_t cookie[16];
	char kex[256];
	int r;

	snprintf(kex, sizeof(kex), "%s%s%s", kex_algs ? kex_algs : KEX_NAMES, k->first ? ",ext-info-c" : "",
	         k->first && !k->omit_strict ? "," STRICT_C : "");
	if (RAND_bytes(cookie, sizeof(cookie)) != 1)
		return ERR_INTERNAL;
	wbuf_reset(&k->i_c);
	if ((r = wbuf_put_u8(&k->i_c, SSH_MSG_KEXINIT)) != ERR_OK ||
	    (r = wbuf_put_bytes(&k->i_c, cookie, sizeof(cookie))) != ERR_OK ||
	    (r = wbuf_put_cstring(&k->i_c, kex)) != ERR_OK ||
	    (r = wbuf_put_cstring(&k->i_c, hostkey_algs)) != ERR_OK ||
	    (r = wbuf_put_cstring(&k->i_c, ciphers)) != ERR_OK ||
	    (r = wbuf_put_cstring(&k->i_c, ciphers)) != ERR_OK ||
	    (r = wbuf_put_cstring(&k->i_c, MAC_NAMES)) != ERR_OK ||
	    (r = wbuf_put_cstring(&k->i_c, MAC_NAMES)) != ERR_OK ||
	    (r = wbuf_put_cstring(&k->i_c, "none")) != ERR_OK ||
	    (r = wbuf_put_cstring(&k->i_c, "none")) != ERR_OK ||
	    (r = wbuf_put_cstring(&k->i_c, "")) != ERR_OK ||
	    (r = wbuf_put_cstring(&k->i_c, "")) != ERR_OK ||
	    (r = wbuf_put_u8(&k->i_c, 0)) != ERR_OK ||
	    (r = wbuf_put_u32(&k->i_c, 0)) != ERR_OK)
		return r;
	return wbuf_put_bytes(out, wbuf_ptr(&k->i_c), wbuf_avail(&k->i_c));
}

static int get_namelist(struct wbuf *b, char *out)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = wbuf_get_string(b, &p, &n)) != ERR_OK)
		return r;
	if (n >= SSH_KEX_MAX_NAMELIST || memchr(p, '\0', n) != NULL)
		return ERR_FORMAT;
	memcpy(out, p, n);
	out[n] = '\0';
	return ERR_OK;
}

int ssh_kexinit_parse(const uint8_t *p, size_t len, struct ssh_kexinit *ki)
{
	char mac[SSH_KEX_MAX_NAMELIST], lang[SSH_KEX_MAX_NAMELIST];
	const uint8_t *cookie;
	struct wbuf b;
	uint8_t type, follows;
	uint32_t reserved;
	int r;

	memset(ki, 0, sizeof(*ki));
	wbuf_view(&b, p, len);
	if ((r = wbuf_get_u8(&b, &type)) != ERR_OK || type != SSH_MSG_KEXINIT ||
	    (r = wbuf_get_bytes(&b, 16, &cookie)) != ERR_OK ||
	    (r = get_namelist(&b, ki->kex)) != ERR_OK ||
	    (r = get_namelist(&b, ki->hostkey)) != ERR_OK ||
	    (r = get_namelist(&b, ki->cipher_cs)) != ERR_OK ||
	    (r = get_namelist(&b, ki->cipher_sc)) != ERR_OK ||
	    (r = get_namelist(&b, mac)) != ERR_OK || (r = get_namelist(&b, mac)) != ERR_OK ||
	    (r = get_namelist(&b, ki->comp_cs)) != ERR_OK ||
	    (r = get_namelist(&b, ki->comp_sc)) != ERR_OK ||
	    (r = get_namelist(&b, lang)) != ERR_OK || (r = get_namelist(&b, lang)) != ERR_OK ||
	    (r = wbuf_get_u8(&b, &follows)) != ERR_OK || (r = wbuf_get_u32(&b, &reserved)) != ERR_OK)
		return r != ERR_OK ? r : ERR_FORMAT;
	/* RFC 4253 allows nothing after the reserved field. */
	if (wbuf_avail(&b) != 0 || follows > 1)
		return ERR_FORMAT;
	ki->first_kex_follows = follows;
	return ERR_OK;
}

/* The first name of `ours` that `theirs` has (RFC 4253 section 7.1: the client's order). */
static int choose(const char *ours, const char *theirs, char *out, size_t size)
{
	for (const char *p = ours; *p != '\0';) {
		size_t len = strcspn(p, ",");
		char name[128];

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		if (len < sizeof(name) && ssh_namelist_has(theirs, name)) {
			snprintf(out, size, "%s", name);
			return ERR_OK;
		}
		p += len + (p[len] == ',');
	}
	return ERR_UNSUPPORTED;
}

int ssh_kex_negotiate(struct ssh_kex *k, const uint8_t *p, size_t len, struct reason *why)
{
	struct ssh_kexinit ours, theirs;
	char name[128], known[sizeof(KEX_NAMES)];

	if (ssh_kexinit_parse(p, len, &theirs) != ERR_OK ||
	    ssh_kexinit_parse(wbuf_ptr(&k->i_c), wbuf_avail(&k->i_c), &ours) != ERR_OK)
		return reason_set(why, ERR_FORMAT, "malformed KEXINIT from the server");
	wbuf_reset(&k->i_s);
	if (wbuf_put_bytes(&k->i_s, p, len) != ERR_OK)
		return reason_set(why, ERR_TOO_LARGE, "the server's KEXINIT is too large");
	if (k->first)
		k->strict = !k->omit_strict && ssh_namelist_has(theirs.kex, STRICT_S);
	/* The first method of our KEXINIT that the server has (the markers are no methods). */
	ssh_namelist_intersect(ours.kex, KEX_NAMES, known, sizeof(known));
	k->method = NULL;
	if (choose(known, theirs.kex, name, sizeof(name)) == ERR_OK)
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (strcmp(methods[i].name, name) == 0)
				k->method = &methods[i];
	if (k->method == NULL)
		return reason_set(why, ERR_UNSUPPORTED, "no key exchange in common with the server "
		                  "(it offers %s; we do %s)", theirs.kex, ours.kex);
	if (choose(ours.hostkey, theirs.hostkey, k->hostkey_alg, sizeof(k->hostkey_alg)) != ERR_OK)
		return reason_set(why, ERR_UNSUPPORTED, "the server offers no host key of a type "
		                  "we trust for it (it offers %s; we know %s)", theirs.hostkey,
		                  ours.hostkey);
	if (choose(ours.cipher_cs, theirs.cipher_cs, name, sizeof(name)) != ERR_OK ||
	    (k->cipher_cs = ssh_cipher_find(name)) == NULL ||
	    choose(ours.cipher_cs, theirs.cipher_sc, name, sizeof(name)) != ERR_OK ||
	    (k->cipher_sc = ssh_cipher_find(name)) == NULL)
		return reason_set(why, ERR_UNSUPPORTED, "no cipher in common with the server (it "
		                  "offers %s; we do %s)", theirs.cipher_cs, ours.cipher_cs);
	if (!ssh_namelist_has(theirs.comp_cs, "none") || !ssh_namelist_has(theirs.comp_sc, "none"))
		return reason_set(why, ERR_UNSUPPORTED, "the server insists on compression");
	/* A guessed exchange packet would follow; no OpenSSH server guesses, and a transport
	 * that writes every packet itself takes no packet it did not ask for. */
	if (theirs.first_kex_follows)
		return reason_set(why, ERR_UNSUPPORTED, "the server sends a guessed key exchange "
		                  "packet (first_kex_packet_follows)");
	return ERR_OK;
}

int ssh_kex_ecdh_init(struct ssh_kex *k, struct wbuf *out)
{
	size_t len = sizeof(k->q_c);
	int r;

	EVP_PKEY_free(k->ephemeral);
	k->ephemeral = k->method->x25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "X25519") :
	               EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (k->ephemeral == NULL)
		return ERR_INTERNAL;
	if (k->method->x25519 ?
	    EVP_PKEY_get_raw_public_key(k->ephemeral, k->q_c, &len) != 1 :
	    EVP_PKEY_get_octet_string_param(k->ephemeral, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
	                                    k->q_c, sizeof(k->q_c), &len) != 1)
		return ERR_INTERNAL;
	k->q_c_len = len;
	if ((r = wbuf_put_u8(out, SSH_MSG_KEX_ECDH_INIT)) != ERR_OK)
		return r;
	return wbuf_put_string(out, k->q_c, k->q_c_len);
}

/* The server's ephemeral public key as an OpenSSL key, checked to be on the curve. */
static EVP_PKEY *peer_key(const struct ssh_kex *k, const uint8_t *q, size_t len)
{
	OSSL_PARAM_BLD *bld;
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *check;

	if (k->method->x25519)
		return len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, q, len) : NULL;
	if (len != 65 || q[0] != 0x04 || (bld = OSSL_PARAM_BLD_new()) == NULL)
		return NULL;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, len) == 1)
		pk = sshpub_pkey_fromdata("EC", EVP_PKEY_PUBLIC_KEY, bld);
	OSSL_PARAM_BLD_free(bld);
	if (pk != NULL) {
		check = EVP_PKEY_CTX_new(pk, NULL);
		if (check == NULL || EVP_PKEY_public_check(check) != 1) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		EVP_PKEY_CTX_free(check);
	}
	return pk;
}

/* The shared secret K, as the mpint the hash and the key derivation take. */
static int shared_secret(struct ssh_kex *k, EVP_PKEY *peer, struct wbuf *mpint_k)
{
	uint8_t secret[66], zero[32] = { 0 };
	size_t len = sizeof(secret);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->ephemeral, NULL);
	int ok;

	ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
	     EVP_PKEY_derive_set_peer(ctx, peer) == 1 && EVP_PKEY_derive(ctx, secret, &len) == 1;
	EVP_PKEY_CTX_free(ctx);
	/* An all-zero X25519 result means a small-order point: no secret at all. */
	if (ok && k->method->x25519 && (len != 32 || CRYPTO_memcmp(secret, zero, 32) == 0))
		ok = 0;
	if (ok)
		ok = wbuf_put_mpint_unsigned(mpint_k, secret, len) == ERR_OK;
	OPENSSL_cleanse(secret, sizeof(secret));
	return ok ? ERR_OK : ERR_DENIED;
}

static int digest(const struct wbuf *in, uint8_t *out, size_t *len)
{
	unsigned int n = 0;
	int ok = EVP_Digest(wbuf_ptr(in), wbuf_avail(in), out, &n, EVP_sha256(), NULL) == 1;

	*len = n;
	return ok ? ERR_OK : ERR_INTERNAL;
}

/* H = HASH(V_C || V_S || I_C || I_S || K_S || Q_C || Q_S || K), every part length-prefixed. */
static int exchange_hash(const struct ssh_kex *k, const uint8_t *ks, size_t ks_len,
                         const uint8_t *qs, size_t qs_len, const struct wbuf *mpint_k,
                         uint8_t *h, size_t *h_len)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, 1 << 20);
	if ((r = wbuf_put_cstring(&b, k->v_c)) == ERR_OK &&
	    (r = wbuf_put_cstring(&b, k->v_s)) == ERR_OK &&
	    (r = wbuf_put_string(&b, wbuf_ptr(&k->i_c), wbuf_avail(&k->i_c))) == ERR_OK &&
	    (r = wbuf_put_string(&b, wbuf_ptr(&k->i_s), wbuf_avail(&k->i_s))) == ERR_OK &&
	    (r = wbuf_put_string(&b, ks, ks_len)) == ERR_OK &&
	    (r = wbuf_put_string(&b, k->q_c, k->q_c_len)) == ERR_OK &&
	    (r = wbuf_put_string(&b, qs, qs_len)) == ERR_OK &&
	    (r = wbuf_put_bytes(&b, wbuf_ptr(mpint_k), wbuf_avail(mpint_k))) == ERR_OK)
		r = digest(&b, h, h_len);
	wbuf_free(&b);
	return r;
}

/* RFC 4253 section 7.2: HASH(K || H || letter || session_id), extended by HASH(K || H || so far). */
static int derive(const struct ssh_kex *k, const struct wbuf *mpint_k, const uint8_t *h,
                  size_t h_len, char letter, uint8_t *out, size_t need)
{
	uint8_t block[SSH_KEX_MAX_HASH], all[SSH_CIPHER_MAX_KEY + SSH_KEX_MAX_HASH];
	size_t have = 0, n;
	struct wbuf b;
	int r = ERR_OK;

	while (have < need && r == ERR_OK) {
		wbuf_init(&b, 4096);
		if ((r = wbuf_put_bytes(&b, wbuf_ptr(mpint_k), wbuf_avail(mpint_k))) == ERR_OK &&
		    (r = wbuf_put_bytes(&b, h, h_len)) == ERR_OK) {
			if (have > 0)
				r = wbuf_put_bytes(&b, all, have);
			else if ((r = wbuf_put_u8(&b, (uint8_t)letter)) == ERR_OK)
				r = wbuf_put_bytes(&b, k->session_id, k->session_id_len);
		}
		if (r == ERR_OK && (r = digest(&b, block, &n)) == ERR_OK) {
			memcpy(all + have, block, n);
			have += n;
		}
		wbuf_free(&b);
	}
	memcpy(out, all, need);
	OPENSSL_cleanse(all, sizeof(all));
	OPENSSL_cleanse(block, sizeof(block));
	return r;
}

static int next_keys(struct ssh_kex *k, const struct wbuf *mpint_k, const uint8_t *h,
                     size_t h_len)
{
	uint8_t iv[SSH_CIPHER_MAX_IV], key[SSH_CIPHER_MAX_KEY];
	int r;

	if ((r = derive(k, mpint_k, h, h_len, 'A', iv, k->cipher_cs->iv_len)) != ERR_OK ||
	    (r = derive(k, mpint_k, h, h_len, 'C', key, k->cipher_cs->key_len)) != ERR_OK ||
	    (r = ssh_cipher_init(&k->next_send, k->cipher_cs, key, iv, 1)) != ERR_OK ||
	    (r = derive(k, mpint_k, h, h_len, 'B', iv, k->cipher_sc->iv_len)) != ERR_OK ||
	    (r = derive(k, mpint_k, h, h_len, 'D', key, k->cipher_sc->key_len)) != ERR_OK)
		goto out;
	r = ssh_cipher_init(&k->next_recv, k->cipher_sc, key, iv, 0);
out:
	OPENSSL_cleanse(iv, sizeof(iv));
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

static int trusted_key(const struct ssh_kex *k, const struct sshpub *key,
                       const struct sshpub *trusted, size_t ntrusted)
{
	/* Re-keys must show the very key of the first exchange. */
	if (!k->first)
		return sshpub_equal(key, &k->host_key);
	for (size_t i = 0; i < ntrusted; i++)
		if (sshpub_equal(key, &trusted[i]))
			return 1;
	return 0;
}

int ssh_kex_ecdh_reply(struct ssh_kex *k, const uint8_t *p, size_t len,
                       const struct sshpub *trusted, size_t ntrusted, struct reason *why)
{
	const uint8_t *ks, *qs, *sig;
	size_t ks_len, qs_len, sig_len, h_len = 0;
	uint8_t h[SSH_KEX_MAX_HASH], type;
	struct sshpub key;
	struct wbuf b, mpint_k, sigb;
	EVP_PKEY *peer = NULL;
	char *sig_alg = NULL;
	int r;

	memset(&key, 0, sizeof(key));
	wbuf_init(&mpint_k, 256);
	wbuf_view(&b, p, len);
	if (wbuf_get_u8(&b, &type) != ERR_OK || type != SSH_MSG_KEX_ECDH_REPLY ||
	    wbuf_get_string(&b, &ks, &ks_len) != ERR_OK ||
	    wbuf_get_string(&b, &qs, &qs_len) != ERR_OK ||
	    wbuf_get_string(&b, &sig, &sig_len) != ERR_OK || wbuf_avail(&b) != 0) {
		r = reason_set(why, ERR_FORMAT, "malformed KEX_ECDH_REPLY from the server");
		goto out;
	}
	if (sshpub_parse(ks, ks_len, &key) != ERR_OK) {
		r = reason_set(why, ERR_FORMAT, "the server's host key does not parse");
		goto out;
	}
	if (!trusted_key(k, &key, trusted, ntrusted)) {
		r = reason_set(why, ERR_DENIED, "the server's host key %s is not the one known for "
		               "it%s", key.fingerprint, k->first ? "" : " (it changed in a re-key)");
		goto out;
	}
	wbuf_view(&sigb, sig, sig_len);
	if (wbuf_get_cstring(&sigb, &sig_alg) != ERR_OK || strcmp(sig_alg, k->hostkey_alg) != 0) {
		r = reason_set(why, ERR_DENIED, "the server signed with %s, not the negotiated %s",
		               sig_alg ? sig_alg : "(unreadable)", k->hostkey_alg);
		goto out;
	}
	if ((peer = peer_key(k, qs, qs_len)) == NULL ||
	    shared_secret(k, peer, &mpint_k) != ERR_OK) {
		r = reason_set(why, ERR_DENIED, "the server's ephemeral key is not a valid %s point",
		               k->method->x25519 ? "X25519" : "P-256");
		goto out;
	}
	if ((r = exchange_hash(k, ks, ks_len, qs, qs_len, &mpint_k, h, &h_len)) != ERR_OK) {
		reason_set(why, r, "computing the exchange hash failed");
		goto out;
	}
	if (sshpub_verify(&key, sig, sig_len, h, h_len) != ERR_OK) {
		r = reason_set(why, ERR_DENIED, "the server's signature over the exchange hash does "
		               "not hold for host key %s", key.fingerprint);
		goto out;
	}
	if (k->first) {
		memcpy(k->session_id, h, h_len);
		k->session_id_len = h_len;
		sshpub_free(&k->host_key);
		if ((r = sshpub_copy(&key, &k->host_key)) != ERR_OK)
			goto out;
	}
	if ((r = next_keys(k, &mpint_k, h, h_len)) != ERR_OK)
		reason_set(why, r, "deriving the keys failed");
out:
	EVP_PKEY_free(peer);
	EVP_PKEY_free(k->ephemeral);
	k->ephemeral = NULL;
	free(sig_alg);
	sshpub_free(&key);
	wbuf_free(&mpint_k);            /* wipes K */
	OPENSSL_cleanse(h, sizeof(h));
	return r;
}
