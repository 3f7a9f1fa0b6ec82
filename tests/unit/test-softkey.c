/*
 * Unit tests for src/keystore/softkey.c and the keystore's software keys: keys built from
 * ADD_IDENTITY fields sign what their public keys verify; mismatched, short, certified and
 * unknown keys are refused; the same key added again replaces itself; 1,000 at most.
 */
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "check.h"
#include "keystore.h"
#include "softkey.h"
#include "sshpub.h"

static struct sshagent_bytes view(const uint8_t *p, size_t n)
{
	return (struct sshagent_bytes){ p, n };
}

/* An Ed25519 key's fields as ssh-add sends them: pk, and seed || pk. */
static void ed25519_fields(EVP_PKEY *k, uint8_t pk[32], uint8_t sk[64],
                           struct sshagent_private_key *f)
{
	size_t len = 32;

	if (EVP_PKEY_get_raw_public_key(k, pk, &len) != 1 ||
	    EVP_PKEY_get_raw_private_key(k, sk, &len) != 1)
		abort();
	memcpy(sk + 32, pk, 32);
	memset(f, 0, sizeof(*f));
	strcpy(f->type, "ssh-ed25519");
	f->ed25519_pk = view(pk, 32);
	f->ed25519_sk = view(sk, 64);
}

/* A big number of an OpenSSL key as a magnitude in `buf`. */
static struct sshagent_bytes bn_field(EVP_PKEY *k, const char *name, uint8_t *buf)
{
	BIGNUM *bn = NULL;
	int n;

	if (EVP_PKEY_get_bn_param(k, name, &bn) != 1 || (n = BN_bn2bin(bn, buf)) <= 0)
		abort();
	BN_clear_free(bn);
	return view(buf, (size_t)n);
}

/* Signs "data" with the key and checks the SSH signature against its public key. */
static int signs_and_verifies(const struct softkey *sk, enum sig_alg alg, const char *name)
{
	uint8_t raw[2048];
	size_t raw_len = 0;
	struct reason why;
	struct sshpub pub;
	struct wbuf blob, sig;
	int ok;

	wbuf_init(&blob, 4096);
	wbuf_init(&sig, 4096);
	ok = softkey_sign(sk, alg, (const uint8_t *)"data", 4, raw, sizeof(raw), &raw_len,
	                  &why) == ERR_OK &&
	     sshkey_signature(softkey_public(sk), name, raw, raw_len, &sig) == ERR_OK &&
	     sshkey_blob(softkey_public(sk), &blob) == ERR_OK &&
	     sshpub_parse(wbuf_ptr(&blob), wbuf_avail(&blob), &pub) == ERR_OK;
	if (ok) {
		ok = sshpub_verify(&pub, wbuf_ptr(&sig), wbuf_avail(&sig), (const uint8_t *)"data",
		                   4) == ERR_OK;
		sshpub_free(&pub);
	}
	wbuf_free(&blob);
	wbuf_free(&sig);
	return ok;
}

static void test_ed25519(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct sshagent_private_key f;
	uint8_t pk[32], sk[64];
	struct softkey *key;
	struct reason why;

	ed25519_fields(k, pk, sk, &f);
	CHECK(softkey_from_request(&f, &key, &why) == ERR_OK, "ed25519: %s", why.text);
	CHECK(signs_and_verifies(key, SIG_ED25519, "ssh-ed25519"), "ed25519 signs");
	softkey_free(key);
	pk[0] ^= 1;
	CHECK(softkey_from_request(&f, &key, &why) == ERR_FORMAT && key == NULL,
	      "an ed25519 public key that is not the private key's");
	pk[0] ^= 1;
	f.cert = view((const uint8_t *)"cert", 4);
	CHECK(softkey_from_request(&f, &key, &why) == ERR_FORMAT &&
	      strstr(why.text, "certificate is malformed") != NULL,
	      "a malformed certificate is refused, saying so");
	EVP_PKEY_free(k);
}

static void test_ecdsa(void)
{
	static const char *const names[] = { "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	                                     "ecdsa-sha2-nistp521" };
	static const char *const groups[] = { "P-256", "P-384", "P-521" };

	for (int i = 0; i < 3; i++) {
		const struct keytype *kt = keytype_by_ssh_name(names[i]);
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", groups[i]);
		struct sshagent_private_key f;
		uint8_t q[200], d[100];
		size_t qlen = 0;
		struct softkey *key;
		struct reason why;

		if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, q, sizeof(q),
		                                    &qlen) != 1)
			abort();
		memset(&f, 0, sizeof(f));
		strcpy(f.type, names[i]);
		f.ecdsa_curve = view((const uint8_t *)kt->ssh_curve, strlen(kt->ssh_curve));
		f.ecdsa_q = view(q, qlen);
		f.ecdsa_d = bn_field(k, OSSL_PKEY_PARAM_PRIV_KEY, d);
		CHECK(softkey_from_request(&f, &key, &why) == ERR_OK, "%s: %s", names[i], why.text);
		CHECK(signs_and_verifies(key, kt->sig, names[i]), "%s signs", names[i]);
		softkey_free(key);
		d[f.ecdsa_d.len - 1] ^= 1;
		CHECK(softkey_from_request(&f, &key, &why) == ERR_FORMAT,
		      "%s: a private key that is not the public key's", names[i]);
		EVP_PKEY_free(k);
	}
}

static void test_rsa(void)
{
	static const char *const params[] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1, OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2,
	};
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
	struct sshagent_bytes *fields[6];
	struct sshagent_private_key f;
	uint8_t buf[6][512];
	struct softkey *key;
	struct reason why;

	memset(&f, 0, sizeof(f));
	strcpy(f.type, "ssh-rsa");
	fields[0] = &f.rsa_n, fields[1] = &f.rsa_e, fields[2] = &f.rsa_d;
	fields[3] = &f.rsa_iqmp, fields[4] = &f.rsa_p, fields[5] = &f.rsa_q;
	for (int i = 0; i < 6; i++)
		*fields[i] = bn_field(k, params[i], buf[i]);
	CHECK(softkey_from_request(&f, &key, &why) == ERR_OK, "rsa: %s", why.text);
	CHECK(signs_and_verifies(key, SIG_RSA_SHA1, "ssh-rsa") &&
	      signs_and_verifies(key, SIG_RSA_SHA256, "rsa-sha2-256") &&
	      signs_and_verifies(key, SIG_RSA_SHA512, "rsa-sha2-512"), "rsa signs all three");
	softkey_free(key);
	buf[2][f.rsa_d.len - 1] ^= 2;
	CHECK(softkey_from_request(&f, &key, &why) == ERR_FORMAT, "rsa: a wrong private exponent");
	for (int i = 0; i < 6; i++)
		*fields[i] = bn_field(small, params[i], buf[i]);
	CHECK(softkey_from_request(&f, &key, &why) == ERR_UNSUPPORTED &&
	      strstr(why.text, "512 bits") != NULL, "a 512-bit RSA key is refused: %s", why.text);
	EVP_PKEY_free(k);
	EVP_PKEY_free(small);
}

static struct ks_source *software_source(EVP_PKEY *k)
{
	struct sshagent_private_key f;
	uint8_t pk[32], sk[64];
	struct ks_source *src;
	struct softkey *key;
	struct reason why;

	ed25519_fields(k, pk, sk, &f);
	if (softkey_from_request(&f, &key, &why) != ERR_OK ||
	    ks_source_software(key, "comment", &src, &why) != ERR_OK)
		abort();
	return src;
}

static int count(void *ctx, const struct ks_identity *id)
{
	(void)id;
	(*(int *)ctx)++;
	return ERR_OK;
}

static void test_keystore_cap(void)
{
	EVP_PKEY *first = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *k;
	struct keystore ks;
	struct reason why;
	int n = 0, r = ERR_OK;

	keystore_init(&ks);
	for (int i = 0; i < KEYSTORE_MAX_SOFTWARE_KEYS && r == ERR_OK; i++) {
		k = i == 0 ? first : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		r = keystore_add(&ks, software_source(k), &why);
		if (k != first)
			EVP_PKEY_free(k);
	}
	CHECK(r == ERR_OK, "1,000 software keys: %s", why.text);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct ks_source *extra = software_source(k);
	CHECK(keystore_add(&ks, extra, &why) == ERR_LIMIT &&
	      strstr(why.text, "1000 software keys") != NULL, "the 1,001st is refused: %s",
	      why.text);
	ks_source_unref(extra);
	EVP_PKEY_free(k);
	CHECK(keystore_add(&ks, software_source(first), &why) == ERR_OK,
	      "the same key again replaces itself, even at the cap");
	CHECK(keystore_foreach(&ks, count, &n) == ERR_OK && n == KEYSTORE_MAX_SOFTWARE_KEYS,
	      "still 1,000 keys (%d)", n);
	keystore_clear(&ks);
	EVP_PKEY_free(first);
}

int main(void)
{
	struct reason why;

	CHECK(softkey_init_secure_heap(&why) == ERR_OK, "secure heap: %s", why.text);
	test_ed25519();
	test_ecdsa();
	test_rsa();
	test_keystore_cap();
	CHECK_DONE();
}
