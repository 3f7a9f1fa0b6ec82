/*
 * Decoding CKA_EC_PARAMS and CKA_EC_POINT. Tokens disagree on encodings: Ed25519 curves come
 * as an OID or as the PrintableString "edwards25519", and points as a DER OCTET STRING or raw.
 * DER is decoded by OpenSSL; we only decide what the bytes mean.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include "p11-internal.h"

static int decode_curve_oid(const uint8_t *der, size_t len, enum key_alg *type,
                            enum key_curve *curve)
{
	const unsigned char *p = der;
	ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &p, (long)len);
	const struct keytype *kt;
	char text[64];
	int r = ERR_UNSUPPORTED;

	if (obj == NULL)
		return ERR_FORMAT;
	if (p != der + len) {
		ASN1_OBJECT_free(obj);
		return ERR_FORMAT;
	}
	if (OBJ_obj2txt(text, sizeof(text), obj, 1) > 0 && (kt = keytype_by_oid(text)) != NULL) {
		*type = kt->alg;
		*curve = kt->curve;
		r = ERR_OK;
	}
	ASN1_OBJECT_free(obj);
	return r;
}

static int decode_curve_name(const uint8_t *der, size_t len, enum key_alg *type,
                             enum key_curve *curve)
{
	const unsigned char *p = der;
	ASN1_PRINTABLESTRING *s = d2i_ASN1_PRINTABLESTRING(NULL, &p, (long)len);
	int r = ERR_UNSUPPORTED;

	if (s == NULL)
		return ERR_FORMAT;
	if (p == der + len && ASN1_STRING_length(s) == 12 &&
	    memcmp(ASN1_STRING_get0_data(s), "edwards25519", 12) == 0) {
		*type = KEY_ED25519;
		*curve = CURVE_NONE;
		r = ERR_OK;
	} else if (p != der + len) {
		r = ERR_FORMAT;
	}
	ASN1_STRING_free(s);
	return r;
}

int p11_decode_ec_params(const uint8_t *der, size_t len, enum key_alg *type,
                         enum key_curve *curve)
{
	if (der == NULL || len < 2 || len > 256)
		return ERR_FORMAT;
	/* Tag 0x06 is an OBJECT IDENTIFIER, 0x13 a PrintableString. */
	if (der[0] == 0x06)
		return decode_curve_oid(der, len, type, curve);
	if (der[0] == 0x13)
		return decode_curve_name(der, len, type, curve);
	return ERR_UNSUPPORTED;
}

static size_t expected_point_len(enum key_alg type, enum key_curve curve)
{
	const struct keytype *kt = keytype_of(type, curve);

	return kt != NULL ? kt->point_len : 0;
}

static int point_ok(const uint8_t *p, size_t n, enum key_alg type, size_t want)
{
	if (n != want)
		return 0;
	return type == KEY_ED25519 || p[0] == 0x04;  /* uncompressed only */
}

int p11_decode_ec_point(const uint8_t *der, size_t len, enum key_alg type,
                        enum key_curve curve, uint8_t **point, size_t *point_len)
{
	size_t want = expected_point_len(type, curve);
	const unsigned char *p = der;
	ASN1_OCTET_STRING *os;
	const uint8_t *src = NULL;
	size_t n = 0;

	if (want == 0 || der == NULL || len == 0 || len > 1024)
		return ERR_FORMAT;
	os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)len);
	if (os != NULL && p == der + len &&
	    point_ok(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), type, want)) {
		src = ASN1_STRING_get0_data(os);
		n = want;
	} else if (point_ok(der, len, type, want)) {
		src = der;      /* a token that returns the raw point */
		n = want;
	}
	if (src == NULL || (*point = malloc(n)) == NULL) {
		ASN1_OCTET_STRING_free(os);
		return src == NULL ? ERR_FORMAT : ERR_ALLOC;
	}
	memcpy(*point, src, n);
	*point_len = n;
	ASN1_OCTET_STRING_free(os);
	return ERR_OK;
}
