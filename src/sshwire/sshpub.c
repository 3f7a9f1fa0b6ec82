/* Wire public keys: strict parsing, canonical blobs and signature verification with OpenSSL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "sshpub.h"

/* OpenSSH's own bounds on RSA moduli; larger ones would only cost us time. */
#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 16384

static int copy_bytes(const uint8_t *p, size_t n, uint8_t **out, size_t *out_len)
{
	if ((*out = malloc(n ? n : 1)) == NULL)
		return ERR_ALLOC;
	memcpy(*out, p, n);
	*out_len = n;
	return ERR_OK;
}

static int parse_ecdsa(struct wbuf *b, const char *type, struct key_material *pub)
{
	const struct keytype *kt;
	const uint8_t *id, *pt;
	size_t id_len, pt_len;
	int r;

	if ((r = wbuf_get_string(b, &id, &id_len)) != ERR_OK ||
	    (r = wbuf_get_string(b, &pt, &pt_len)) != ERR_OK)
		return r;
	if ((kt = keytype_by_ssh_name(type)) == NULL || kt->alg != KEY_ECDSA)
		return ERR_UNSUPPORTED;
	/* The curve is named twice; both must agree, and the point be uncompressed. */
	if (id_len != strlen(kt->ssh_curve) || memcmp(id, kt->ssh_curve, id_len) != 0 ||
	    pt_len != kt->point_len || pt[0] != 0x04)
		return ERR_FORMAT;
	pub->alg = KEY_ECDSA;
	pub->curve = kt->curve;
	return copy_bytes(pt, pt_len, &pub->point, &pub->point_len);
}

int sshpub_read_fields(struct wbuf *b, const char *type, struct key_material *pub)
{
	const uint8_t *p, *e;
	size_t n, e_len;
	int r;

	if (strcmp(type, "ssh-ed25519") == 0) {
		if ((r = wbuf_get_string(b, &p, &n)) == ERR_OK) {
			pub->alg = KEY_ED25519;
			r = n != 32 ? ERR_FORMAT : copy_bytes(p, n, &pub->point, &pub->point_len);
		}
	} else if (strcmp(type, "ssh-rsa") == 0) {
		if ((r = wbuf_get_mpint_unsigned(b, &e, &e_len)) == ERR_OK &&
		    (r = wbuf_get_mpint_unsigned(b, &p, &n)) == ERR_OK) {
			pub->alg = KEY_RSA;
			if (n * 8 < RSA_MIN_BITS - 7 || n * 8 > RSA_MAX_BITS || e_len == 0 ||
			    e_len > 8)
				r = ERR_FORMAT;
			else if ((r = copy_bytes(p, n, &pub->modulus, &pub->modulus_len)) == ERR_OK)
				r = copy_bytes(e, e_len, &pub->exponent, &pub->exponent_len);
		}
	} else if (strncmp(type, "ecdsa-sha2-", 11) == 0) {
		r = parse_ecdsa(b, type, pub);
	} else {
		r = ERR_UNSUPPORTED;    /* certificates and security keys are not plain keys */
	}
	if (r != ERR_OK)
		key_material_clear(pub);
	return r;
}

static int parse_components(struct wbuf *b, struct key_material *pub)
{
	char *type = NULL;
	int r;

	if ((r = wbuf_get_cstring(b, &type)) != ERR_OK)
		return r;
	r = sshpub_read_fields(b, type, pub);
	free(type);
	if (r == ERR_OK && wbuf_avail(b) != 0)
		r = ERR_FORMAT;
	return r;
}

EVP_PKEY *sshpub_pkey_fromdata(const char *name, int selection, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY *pkey = NULL;

	if (ctx == NULL || params == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1)
		pkey = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* An OpenSSL key for the components; NULL when they do not make a valid key. */
static EVP_PKEY *pkey_new(const struct key_material *pub)
{
	const struct keytype *kt = keytype_of(pub->alg, pub->curve);
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *check = NULL;

	if (pub->alg == KEY_ED25519)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub->point,
		                                   pub->point_len);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return NULL;
	if (pub->alg == KEY_RSA) {
		n = BN_bin2bn(pub->modulus, (int)pub->modulus_len, NULL);
		e = BN_bin2bn(pub->exponent, (int)pub->exponent_len, NULL);
		if (n != NULL && e != NULL &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1)
			pkey = sshpub_pkey_fromdata("RSA", EVP_PKEY_PUBLIC_KEY, bld);
	} else if (kt != NULL && kt->group != NULL &&
	           OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	                                           kt->group, 0) == 1 &&
	           OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub->point,
	                                            pub->point_len) == 1) {
		pkey = sshpub_pkey_fromdata("EC", EVP_PKEY_PUBLIC_KEY, bld);
		/* A point off the curve must never reach a verification. */
		if (pkey != NULL && ((check = EVP_PKEY_CTX_new(pkey, NULL)) == NULL ||
		                     EVP_PKEY_public_check(check) != 1)) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
	EVP_PKEY_CTX_free(check);
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

void sshpub_free(struct sshpub *k)
{
	free(k->pub.modulus);
	free(k->pub.exponent);
	free(k->pub.point);
	free(k->blob);
	memset(k, 0, sizeof(*k));
}

int sshpub_parse(const uint8_t *blob, size_t len, struct sshpub *out)
{
	struct wbuf in, canon;
	EVP_PKEY *pkey = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	wbuf_view(&in, blob, len);
	wbuf_init(&canon, 4096);
	if ((r = parse_components(&in, &out->pub)) != ERR_OK)
		goto out;
	if ((pkey = pkey_new(&out->pub)) == NULL) {
		r = ERR_FORMAT;
		goto out;
	}
	if ((r = sshkey_blob(&out->pub, &canon)) != ERR_OK ||
	    (r = copy_bytes(wbuf_ptr(&canon), wbuf_avail(&canon), &out->blob,
	                    &out->blob_len)) != ERR_OK)
		goto out;
	sshkey_fingerprint(out->blob, out->blob_len, out->fingerprint);
out:
	EVP_PKEY_free(pkey);
	wbuf_free(&canon);
	if (r != ERR_OK)
		sshpub_free(out);
	return r;
}

int sshpub_equal(const struct sshpub *a, const struct sshpub *b)
{
	return a->blob_len == b->blob_len && memcmp(a->blob, b->blob, a->blob_len) == 0;
}

int sshpub_copy(const struct sshpub *from, struct sshpub *to)
{
	return sshpub_parse(from->blob, from->blob_len, to);
}

/* Turns an RFC 5656 (r, s) pair into the DER form OpenSSL verifies. */
static int ecdsa_der(const uint8_t *p, size_t n, uint8_t **der, size_t *der_len)
{
	const uint8_t *rv, *sv;
	size_t r_len, s_len;
	struct wbuf b;
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *out = NULL;
	int len, rc = ERR_FORMAT;

	wbuf_view(&b, p, n);
	if (wbuf_get_mpint_unsigned(&b, &rv, &r_len) != ERR_OK ||
	    wbuf_get_mpint_unsigned(&b, &sv, &s_len) != ERR_OK || wbuf_avail(&b) != 0 ||
	    r_len > 66 || s_len > 66)
		return ERR_FORMAT;
	if ((sig = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(rv, (int)r_len, NULL)) == NULL ||
	    (s = BN_bin2bn(sv, (int)s_len, NULL)) == NULL || ECDSA_SIG_set0(sig, r, s) != 1)
		goto out;
	r = s = NULL;           /* owned by sig now */
	if ((len = i2d_ECDSA_SIG(sig, &out)) <= 0)
		goto out;
	*der = out;
	*der_len = (size_t)len;
	rc = ERR_OK;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return rc;
}

/* The digest an SSH signature name implies for this key, or an error when they disagree. */
static int sig_digest(const struct key_material *pub, const char *alg, const EVP_MD **md)
{
	const struct keytype *kt = keytype_of(pub->alg, pub->curve);

	switch (pub->alg) {
	case KEY_ED25519:
		*md = NULL;
		return strcmp(alg, "ssh-ed25519") == 0 ? ERR_OK : ERR_DENIED;
	case KEY_RSA:
		*md = strcmp(alg, "rsa-sha2-256") == 0 ? EVP_sha256() :
		      strcmp(alg, "rsa-sha2-512") == 0 ? EVP_sha512() :
		      strcmp(alg, "ssh-rsa") == 0 ? EVP_sha1() : NULL;
		return *md != NULL ? ERR_OK : ERR_DENIED;
	case KEY_ECDSA:
		if (kt == NULL || strcmp(alg, kt->ssh_name) != 0)
			return ERR_DENIED;
		*md = EVP_get_digestbyname(kt->hash);
		return *md != NULL ? ERR_OK : ERR_DENIED;
	}
	return ERR_DENIED;
}

int sshpub_verify(const struct sshpub *k, const uint8_t *sig, size_t sig_len,
                  const uint8_t *data, size_t data_len)
{
	struct wbuf b;
	const uint8_t *raw;
	uint8_t *der = NULL, *padded = NULL;
	size_t raw_len, der_len = 0;
	const EVP_MD *md = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	char *alg = NULL;
	int r;

	wbuf_view(&b, sig, sig_len);
	if ((r = wbuf_get_cstring(&b, &alg)) != ERR_OK ||
	    (r = wbuf_get_string(&b, &raw, &raw_len)) != ERR_OK)
		goto out;
	r = ERR_FORMAT;
	if (wbuf_avail(&b) != 0)
		goto out;
	if ((r = sig_digest(&k->pub, alg, &md)) != ERR_OK)
		goto out;
	r = ERR_FORMAT;
	if (k->pub.alg == KEY_ECDSA) {
		if (ecdsa_der(raw, raw_len, &der, &der_len) != ERR_OK)
			goto out;
		raw = der;
		raw_len = der_len;
	} else if (k->pub.alg == KEY_RSA) {
		/* Like OpenSSH, accept a signature shorter than the modulus by left-padding it. */
		if (raw_len > k->pub.modulus_len)
			goto out;
		if ((padded = calloc(1, k->pub.modulus_len)) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		memcpy(padded + k->pub.modulus_len - raw_len, raw, raw_len);
		raw = padded;
		raw_len = k->pub.modulus_len;
	} else if (raw_len != 64) {
		goto out;
	}
	r = ERR_INTERNAL;
	if ((pkey = pkey_new(&k->pub)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) != 1)
		goto out;
	r = EVP_DigestVerify(ctx, raw, raw_len, data, data_len) == 1 ? ERR_OK : ERR_DENIED;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	OPENSSL_free(der);
	free(padded);
	free(alg);
	return r;
}

int sshpub_text_blob(const char *text, uint8_t **out, size_t *out_len)
{
	size_t type_len, b64_len, pad = 0, t_len;
	const char *b64, *end;
	const uint8_t *t;
	uint8_t *blob = NULL;
	struct wbuf peek;
	int n;

	type_len = strcspn(text, " \t");
	b64 = text + type_len + strspn(text + type_len, " \t");
	end = b64 + strcspn(b64, " \t\r\n");
	b64_len = (size_t)(end - b64);
	if (type_len == 0 || b64_len == 0 || b64_len % 4 != 0 || b64_len > 16384)
		return ERR_FORMAT;
	while (pad < 2 && b64[b64_len - 1 - pad] == '=')
		pad++;
	if ((blob = malloc(b64_len / 4 * 3)) == NULL)
		return ERR_ALLOC;
	if ((n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)b64_len)) < 0 ||
	    (size_t)n < pad)
		goto fail;
	/* The type in front must be the type inside, as ssh-keygen checks. */
	wbuf_view(&peek, blob, (size_t)n - pad);
	if (wbuf_get_string(&peek, &t, &t_len) != ERR_OK || t_len != type_len ||
	    memcmp(t, text, type_len) != 0)
		goto fail;
	*out = blob;
	*out_len = (size_t)n - pad;
	return ERR_OK;
fail:
	free(blob);
	return ERR_FORMAT;
}

int sshpub_file_blob(const char *path, uint8_t **blob, size_t *len)
{
	char line[16384];
	FILE *f = fopen(path, "r");
	int r = ERR_FORMAT;

	if (f == NULL)
		return ERR_SYSTEM;
	if (fgets(line, sizeof(line), f) != NULL)
		r = sshpub_text_blob(line, blob, len);
	fclose(f);
	return r;
}

int sshpub_parse_text(const char *text, struct sshpub *out)
{
	uint8_t *blob;
	size_t len;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = sshpub_text_blob(text, &blob, &len)) != ERR_OK)
		return r;
	r = sshpub_parse(blob, len, out);
	free(blob);
	return r;
}
