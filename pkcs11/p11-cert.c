/* Public key material from an X.509 certificate stored on a token (PIV cards hold these). */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "p11-internal.h"

static int bn_param(EVP_PKEY *pkey, const char *name, uint8_t **out, size_t *len)
{
	BIGNUM *bn = NULL;
	int r = ERR_FORMAT;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return ERR_FORMAT;
	*len = (size_t)BN_num_bytes(bn);
	if ((*out = calloc(1, *len + 1)) != NULL) {
		BN_bn2bin(bn, *out);
		r = ERR_OK;
	}
	BN_free(bn);
	return r;
}

static int ec_curve(EVP_PKEY *pkey, enum key_curve *curve)
{
	const struct keytype *kt;
	char group[64];

	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
	                                   sizeof(group), NULL) != 1)
		return ERR_FORMAT;
	if ((kt = keytype_by_group(group)) == NULL || kt->alg != KEY_ECDSA)
		return ERR_UNSUPPORTED;
	*curve = kt->curve;
	return ERR_OK;
}

static int pubkey_from_evp(EVP_PKEY *pkey, struct key_material *pub)
{
	uint8_t point[160];
	size_t n = 0;
	int r;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		pub->alg = KEY_RSA;
		if ((r = bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &pub->modulus,
		                  &pub->modulus_len)) != ERR_OK)
			return r;
		return bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &pub->exponent, &pub->exponent_len);
	case EVP_PKEY_EC:
		pub->alg = KEY_ECDSA;
		if ((r = ec_curve(pkey, &pub->curve)) != ERR_OK)
			return r;
		if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
		                                    point, sizeof(point), &n) != 1)
			return ERR_FORMAT;
		break;
	case EVP_PKEY_ED25519:
		pub->alg = KEY_ED25519;
		n = 32;
		if (EVP_PKEY_get_raw_public_key(pkey, point, &n) != 1 || n != 32)
			return ERR_FORMAT;
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	/* Re-check the point exactly as a token attribute would be checked. */
	return p11_decode_ec_point(point, n, pub->alg, pub->curve, &pub->point,
	                           &pub->point_len);
}

int p11_pubkey_from_cert(const uint8_t *der, size_t len, struct key_material *pub)
{
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, (long)len);
	EVP_PKEY *pkey;
	int r = ERR_FORMAT;

	memset(pub, 0, sizeof(*pub));
	if (cert != NULL && (pkey = X509_get0_pubkey(cert)) != NULL)
		r = pubkey_from_evp(pkey, pub);
	X509_free(cert);
	if (r != ERR_OK)
		key_material_clear(pub);
	return r;
}
