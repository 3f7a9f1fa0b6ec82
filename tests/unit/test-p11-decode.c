/* Unit tests for pkcs11/p11-ecparams.c: both Ed25519 encodings, points DER or raw, junk. */
#include "check.h"
#include "p11.h"

static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };
static const uint8_t oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const uint8_t str_ed25519[] = {
	0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9',
};

static void test_params(void)
{
	static const uint8_t trailing[] = { 0x06, 0x03, 0x2b, 0x65, 0x70, 0x00 };
	static const uint8_t cut[] = { 0x06, 0x08, 0x2a, 0x86, 0x48 };
	static const uint8_t other_str[] = { 0x13, 0x05, 'c', 'u', 'r', 'v', 'e' };
	static const uint8_t secp256k1[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a };
	static const uint8_t seq[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	enum key_alg t;
	enum key_curve c;

	CHECK(p11_decode_ec_params(oid_p256, sizeof(oid_p256), &t, &c) == ERR_OK &&
	      t == KEY_ECDSA && c == CURVE_P256, "P-256 OID");
	CHECK(p11_decode_ec_params(oid_p384, sizeof(oid_p384), &t, &c) == ERR_OK &&
	      c == CURVE_P384, "P-384 OID");
	CHECK(p11_decode_ec_params(oid_p521, sizeof(oid_p521), &t, &c) == ERR_OK &&
	      c == CURVE_P521, "P-521 OID");
	CHECK(p11_decode_ec_params(oid_ed25519, sizeof(oid_ed25519), &t, &c) == ERR_OK &&
	      t == KEY_ED25519, "Ed25519 as OID 1.3.101.112");
	CHECK(p11_decode_ec_params(str_ed25519, sizeof(str_ed25519), &t, &c) == ERR_OK &&
	      t == KEY_ED25519, "Ed25519 as PrintableString edwards25519");
	CHECK(p11_decode_ec_params(trailing, sizeof(trailing), &t, &c) == ERR_FORMAT,
	      "trailing byte after the OID");
	CHECK(p11_decode_ec_params(cut, sizeof(cut), &t, &c) == ERR_FORMAT, "truncated OID");
	CHECK(p11_decode_ec_params(other_str, sizeof(other_str), &t, &c) == ERR_UNSUPPORTED,
	      "unknown curve name");
	CHECK(p11_decode_ec_params(secp256k1, sizeof(secp256k1), &t, &c) == ERR_UNSUPPORTED,
	      "unsupported curve OID");
	CHECK(p11_decode_ec_params(seq, sizeof(seq), &t, &c) == ERR_UNSUPPORTED,
	      "explicit parameters are not supported");
	CHECK(p11_decode_ec_params(NULL, 0, &t, &c) == ERR_FORMAT, "empty");
}

static void test_points(void)
{
	uint8_t raw[65], der[67], ed[34], *pt = NULL;
	size_t n;

	memset(raw, 0x11, sizeof(raw));
	raw[0] = 0x04;
	der[0] = 0x04;
	der[1] = 65;
	memcpy(der + 2, raw, sizeof(raw));
	CHECK(p11_decode_ec_point(der, sizeof(der), KEY_ECDSA, CURVE_P256, &pt, &n) ==
	      ERR_OK && n == 65 && pt[0] == 0x04, "DER-wrapped P-256 point");
	free(pt);
	CHECK(p11_decode_ec_point(raw, sizeof(raw), KEY_ECDSA, CURVE_P256, &pt, &n) ==
	      ERR_OK && n == 65, "raw P-256 point");
	free(pt);
	CHECK(p11_decode_ec_point(der, sizeof(der), KEY_ECDSA, CURVE_P384, &pt, &n) ==
	      ERR_FORMAT, "a P-256 point for a P-384 key");
	raw[0] = 0x02;
	CHECK(p11_decode_ec_point(raw, 33, KEY_ECDSA, CURVE_P256, &pt, &n) == ERR_FORMAT,
	      "compressed point refused");
	CHECK(p11_decode_ec_point(der, 40, KEY_ECDSA, CURVE_P256, &pt, &n) == ERR_FORMAT,
	      "truncated DER point");
	ed[0] = 0x04;
	ed[1] = 32;
	memset(ed + 2, 0xab, 32);
	CHECK(p11_decode_ec_point(ed, sizeof(ed), KEY_ED25519, CURVE_NONE, &pt, &n) ==
	      ERR_OK && n == 32 && pt[0] == 0xab, "DER-wrapped Ed25519 key");
	free(pt);
	CHECK(p11_decode_ec_point(ed + 2, 32, KEY_ED25519, CURVE_NONE, &pt, &n) ==
	      ERR_OK && n == 32, "raw Ed25519 key");
	free(pt);
	CHECK(p11_decode_ec_point(ed, 20, KEY_ED25519, CURVE_NONE, &pt, &n) == ERR_FORMAT,
	      "short Ed25519 key");
}

int main(void)
{
	test_params();
	test_points();
	CHECK_DONE();
}
