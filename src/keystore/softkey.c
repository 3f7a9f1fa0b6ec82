/*
 * Software keys from ADD_IDENTITY. Private numbers go straight into OpenSSL's secure heap
 * (mlocked, cleared on free); the key is checked for consistency before it is kept.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "softkey.h"
#include "sshcert.h"
#include "sshpub.h"

/* OpenSSH's bounds on RSA moduli. */
#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 16384
/* Locked memory for about a thousand keys of the largest kind; a power of two. */
#define SECURE_HEAP_BYTES (4 * 1024 * 1024)
#define SECURE_HEAP_MIN 32

struct softkey {
	EVP_PKEY *pkey;
	struct key_material pub;
	uint8_t *cert;          /* the certificate it was added with; NULL: a plain key */
	size_t cert_len;
};

static int heap_locked;

int softkey_init_secure_heap(struct reason *why)
{
	int r = CRYPTO_secure_malloc_init(SECURE_HEAP_BYTES, SECURE_HEAP_MIN);

	/* 2: the heap exists but mlock failed, so keys could reach swap. */
	heap_locked = r == 1;
	if (r == 0)
		return reason_set(why, ERR_SYSTEM, "no secure heap for software keys");
	if (r == 2)
		return reason_set(why, ERR_SYSTEM, "cannot lock %d MiB for software keys "
		                  "(raise RLIMIT_MEMLOCK)", SECURE_HEAP_BYTES >> 20);
	return ERR_OK;
}

static int copy_public(struct sshagent_bytes b, uint8_t **out, size_t *len)
{
	if ((*out = malloc(b.len ? b.len : 1)) == NULL)
		return ERR_ALLOC;
	memcpy(*out, b.data, b.len);
	*len = b.len;
	return ERR_OK;
}

/* A private number in the secure heap. */
static BIGNUM *secret_bn(struct sshagent_bytes b)
{
	BIGNUM *bn = BN_secure_new();

	if (bn != NULL && BN_bin2bn(b.data, (int)b.len, bn) == NULL) {
		BN_clear_free(bn);
		bn = NULL;
	}
	return bn;
}

/* d mod (prime - 1): the CRT exponents OpenSSH does not send. */
static BIGNUM *crt_exponent(const BIGNUM *d, const BIGNUM *prime, BN_CTX *ctx)
{
	BIGNUM *pm1 = BN_secure_new(), *out = BN_secure_new();

	if (pm1 == NULL || out == NULL || BN_sub(pm1, prime, BN_value_one()) != 1 ||
	    BN_mod(out, d, pm1, ctx) != 1) {
		BN_clear_free(out);
		out = NULL;
	}
	BN_clear_free(pm1);
	return out;
}

static EVP_PKEY *rsa_key(const struct sshagent_private_key *k)
{
	BIGNUM *n = BN_bin2bn(k->rsa_n.data, (int)k->rsa_n.len, NULL);
	BIGNUM *e = BN_bin2bn(k->rsa_e.data, (int)k->rsa_e.len, NULL);
	BIGNUM *d = secret_bn(k->rsa_d), *p = secret_bn(k->rsa_p), *q = secret_bn(k->rsa_q);
	BIGNUM *iqmp = secret_bn(k->rsa_iqmp), *dmp1 = NULL, *dmq1 = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BN_CTX *ctx = BN_CTX_secure_new();
	EVP_PKEY *pkey = NULL;

	if (n != NULL && e != NULL && d != NULL && p != NULL && q != NULL && iqmp != NULL &&
	    bld != NULL && ctx != NULL && !BN_is_zero(p) && !BN_is_zero(q) &&
	    (dmp1 = crt_exponent(d, p, ctx)) != NULL && (dmq1 = crt_exponent(d, q, ctx)) != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp) == 1)
		pkey = sshpub_pkey_fromdata("RSA", EVP_PKEY_KEYPAIR, bld);
	BN_free(n);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(p);
	BN_clear_free(q);
	BN_clear_free(iqmp);
	BN_clear_free(dmp1);
	BN_clear_free(dmq1);
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_free(ctx);
	return pkey;
}

static EVP_PKEY *ecdsa_key(const struct sshagent_private_key *k, const struct keytype *kt)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *d = secret_bn(k->ecdsa_d);
	EVP_PKEY *pkey = NULL;

	if (bld != NULL && d != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, kt->group, 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, k->ecdsa_q.data,
	                                     k->ecdsa_q.len) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) == 1)
		pkey = sshpub_pkey_fromdata("EC", EVP_PKEY_KEYPAIR, bld);
	BN_clear_free(d);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* The seed is the first half of OpenSSH's 64-byte private key; the public key must match. */
static EVP_PKEY *ed25519_key(const struct sshagent_private_key *k)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	                                              k->ed25519_sk.data, 32);
	uint8_t pk[32];
	size_t len = sizeof(pk);

	if (pkey != NULL && (EVP_PKEY_get_raw_public_key(pkey, pk, &len) != 1 || len != 32 ||
	                     memcmp(pk, k->ed25519_pk.data, 32) != 0 ||
	                     memcmp(pk, k->ed25519_sk.data + 32, 32) != 0)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

/* RSA and ECDSA: the private key must be the public key's. */
static int pair_consistent(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
	int ok = ctx != NULL && EVP_PKEY_pairwise_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static int fill_public(const struct sshagent_private_key *k, const struct keytype *kt,
                       struct key_material *pub)
{
	int r;

	pub->alg = kt->alg;
	pub->curve = kt->curve;
	switch (kt->alg) {
	case KEY_RSA:
		if ((r = copy_public(k->rsa_n, &pub->modulus, &pub->modulus_len)) != ERR_OK)
			return r;
		return copy_public(k->rsa_e, &pub->exponent, &pub->exponent_len);
	case KEY_ECDSA:
		return copy_public(k->ecdsa_q, &pub->point, &pub->point_len);
	case KEY_ED25519:
		return copy_public(k->ed25519_pk, &pub->point, &pub->point_len);
	}
	return ERR_UNSUPPORTED;
}

/* A plain key from its fields. */
static int plain_key(const struct sshagent_private_key *k, struct softkey **out,
                     struct reason *why)
{
	const struct keytype *kt = keytype_by_ssh_name(k->type);
	struct softkey *sk;
	unsigned bits;

	if (kt == NULL)
		return reason_set(why, ERR_UNSUPPORTED, "key type %s is not supported", k->type);
	if (!heap_locked)
		return reason_set(why, ERR_SYSTEM, "software keys need locked memory, and none "
		                  "could be had (RLIMIT_MEMLOCK)");
	if ((sk = calloc(1, sizeof(*sk))) == NULL || fill_public(k, kt, &sk->pub) != ERR_OK) {
		softkey_free(sk);
		return reason_set(why, ERR_ALLOC, "out of memory");
	}
	bits = key_material_bits(&sk->pub);
	if (kt->alg == KEY_RSA && (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)) {
		softkey_free(sk);
		return reason_set(why, ERR_UNSUPPORTED, "an RSA key of %u bits (%d to %d are "
		                  "accepted)", bits, RSA_MIN_BITS, RSA_MAX_BITS);
	}
	sk->pkey = kt->alg == KEY_RSA ? rsa_key(k) : kt->alg == KEY_ECDSA ? ecdsa_key(k, kt) :
	           ed25519_key(k);
	if (sk->pkey == NULL || (kt->alg != KEY_ED25519 && !pair_consistent(sk->pkey))) {
		softkey_free(sk);
		return reason_set(why, ERR_FORMAT, "the %s private key does not match its public "
		                  "key, or is malformed", k->type);
	}
	*out = sk;
	return ERR_OK;
}

static struct sshagent_bytes view(const uint8_t *p, size_t n)
{
	return (struct sshagent_bytes){ p, n };
}

/*
 * A certified key: the public fields ssh-add leaves out come from the certificate, which
 * must parse and carry a valid CA signature. The pairwise check then proves that the
 * certificate certifies this very private key.
 */
static int from_certificate(const struct sshagent_private_key *k, struct sshcert *cert,
                            struct sshagent_private_key *plain, struct reason *why)
{
	const struct key_material *pub;
	const struct keytype *kt;

	if (sshcert_parse(k->cert.data, k->cert.len, cert) != ERR_OK)
		return reason_set(why, ERR_FORMAT, "the %s certificate is malformed, or its CA "
		                  "signature does not verify", k->type);
	pub = &cert->key.pub;
	kt = keytype_of(pub->alg, pub->curve);
	*plain = *k;
	plain->cert = view(NULL, 0);
	if (kt == NULL || strncmp(k->type, kt->ssh_name, strlen(kt->ssh_name)) != 0 ||
	    k->type[strlen(kt->ssh_name)] != '-')
		return reason_set(why, ERR_FORMAT, "a %s certificate for a %s key", k->type,
		                  kt ? kt->ssh_name : "unknown");
	snprintf(plain->type, sizeof(plain->type), "%s", kt->ssh_name);
	if (kt->alg == KEY_RSA) {
		plain->rsa_n = view(pub->modulus, pub->modulus_len);
		plain->rsa_e = view(pub->exponent, pub->exponent_len);
	} else if (kt->alg == KEY_ECDSA) {
		plain->ecdsa_curve = view((const uint8_t *)kt->ssh_curve, strlen(kt->ssh_curve));
		plain->ecdsa_q = view(pub->point, pub->point_len);
	} else if (pub->point_len != k->ed25519_pk.len ||
	           memcmp(pub->point, k->ed25519_pk.data, pub->point_len) != 0) {
		return reason_set(why, ERR_FORMAT, "the certificate is for another key");
	}
	return ERR_OK;
}

static int keep_certificate(struct softkey *sk, const struct sshcert *cert)
{
	if ((sk->cert = malloc(cert->blob_len)) == NULL)
		return ERR_ALLOC;
	memcpy(sk->cert, cert->blob, cert->blob_len);
	sk->cert_len = cert->blob_len;
	return ERR_OK;
}

int softkey_from_request(const struct sshagent_private_key *request, struct softkey **out,
                         struct reason *why)
{
	struct sshagent_private_key certified;
	const struct sshagent_private_key *k = request;
	struct sshcert cert;
	int r;

	*out = NULL;
	memset(&cert, 0, sizeof(cert));
	if (request->cert.len > 0) {
		if ((r = from_certificate(request, &cert, &certified, why)) != ERR_OK) {
			sshcert_free(&cert);
			return r;
		}
		k = &certified;
	}
	if ((r = plain_key(k, out, why)) == ERR_OK && request->cert.len > 0 &&
	    keep_certificate(*out, &cert) != ERR_OK) {
		softkey_free(*out);
		*out = NULL;
		r = reason_set(why, ERR_ALLOC, "out of memory");
	}
	sshcert_free(&cert);
	explicit_bzero(&certified, sizeof(certified));
	return r;
}

void softkey_free(struct softkey *sk)
{
	if (sk == NULL)
		return;
	EVP_PKEY_free(sk->pkey);        /* OpenSSL clears the secure heap's blocks */
	key_material_clear(&sk->pub);
	free(sk->cert);
	free(sk);
}

const struct key_material *softkey_public(const struct softkey *sk)
{
	return &sk->pub;
}

const uint8_t *softkey_certificate(const struct softkey *sk, size_t *len)
{
	*len = sk->cert_len;
	return sk->cert;
}

static const EVP_MD *digest_for(const struct softkey *sk, enum sig_alg alg)
{
	const struct keytype *kt = keytype_of(sk->pub.alg, sk->pub.curve);

	switch (alg) {
	case SIG_RSA_SHA1: return EVP_sha1();
	case SIG_RSA_SHA256: return EVP_sha256();
	case SIG_RSA_SHA512: return EVP_sha512();
	default: return kt != NULL && kt->hash != NULL ? EVP_get_digestbyname(kt->hash) : NULL;
	}
}

/* ECDSA: the DER signature OpenSSL makes becomes r || s, each half the curve's size. */
static int ecdsa_halves(const uint8_t *der, size_t der_len, unsigned bits, uint8_t *raw,
                        size_t raw_max, size_t *raw_len)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	int half = (int)((bits + 7) / 8), r = ERR_INTERNAL;

	if (sig != NULL && (size_t)half * 2 <= raw_max &&
	    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, half) == half &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + half, half) == half) {
		*raw_len = (size_t)half * 2;
		r = ERR_OK;
	}
	ECDSA_SIG_free(sig);
	return r;
}

int softkey_sign(const struct softkey *sk, enum sig_alg alg, const uint8_t *data, size_t len,
                 uint8_t *raw, size_t raw_max, size_t *raw_len, struct reason *why)
{
	const EVP_MD *md = sk->pub.alg == KEY_ED25519 ? NULL : digest_for(sk, alg);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[256];
	size_t n = sizeof(der);
	int r = ERR_INTERNAL;

	if (ctx == NULL || (sk->pub.alg != KEY_ED25519 && md == NULL) ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, sk->pkey) != 1)
		goto out;
	if (sk->pub.alg == KEY_ECDSA) {
		if (EVP_DigestSign(ctx, der, &n, data, len) == 1)
			r = ecdsa_halves(der, n, key_material_bits(&sk->pub), raw, raw_max, raw_len);
	} else {
		*raw_len = raw_max;
		if (EVP_DigestSign(ctx, raw, raw_len, data, len) == 1)
			r = ERR_OK;
	}
out:
	EVP_MD_CTX_free(ctx);
	if (r != ERR_OK)
		return reason_set(why, ERR_INTERNAL, "signing with the software key failed");
	return ERR_OK;
}
