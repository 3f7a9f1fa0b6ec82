/* Unit tests for src/base/keytype.c: the one table of key types and curves. */
#include "check.h"
#include "keytype.h"

static void test_lookups(void)
{
	const struct keytype *kt;

	kt = keytype_by_ssh_name("ecdsa-sha2-nistp384");
	CHECK(kt != NULL && kt->curve == CURVE_P384 && kt->point_len == 97 &&
	      strcmp(kt->ssh_curve, "nistp384") == 0 && strcmp(kt->hash, "SHA384") == 0 &&
	      kt->sig == SIG_ECDSA_SHA384 && kt->bits == 384, "P-384 by SSH name");
	CHECK(keytype_by_oid("1.2.840.10045.3.1.7") == keytype_of(KEY_ECDSA, CURVE_P256),
	      "P-256 by OID");
	CHECK(keytype_by_oid("1.3.132.0.35")->point_len == 133, "P-521 by OID: 133-byte points");
	CHECK(keytype_by_oid("1.3.101.112") == keytype_of(KEY_ED25519, CURVE_NONE),
	      "Ed25519 by its RFC 8410 OID");
	CHECK(keytype_by_oid("1.3.6.1.4.1.11591.15.1") == keytype_of(KEY_ED25519, CURVE_NONE),
	      "Ed25519 by GnuPG's OID");
	CHECK(keytype_by_group("prime256v1") == keytype_by_group("P-256") &&
	      keytype_by_group("P-256")->curve == CURVE_P256, "OpenSSL and NIST group names");
	CHECK(keytype_of(KEY_RSA, CURVE_P256) == keytype_by_ssh_name("ssh-rsa"),
	      "RSA ignores the curve");
	CHECK(keytype_of(KEY_ECDSA, CURVE_NONE) == NULL, "ECDSA needs a curve");
	CHECK(keytype_by_ssh_name("ssh-dss") == NULL, "DSA is unknown");
	CHECK(keytype_by_ssh_name(NULL) == NULL && keytype_by_oid("") == NULL &&
	      keytype_by_group("secp256k1") == NULL, "unknown names, empty and NULL");
	CHECK(keytype_by_ssh_name("ecdsa-sha2-nistp256\n") == NULL, "no prefix matches");
}

static void test_bits(void)
{
	uint8_t modulus[257] = { 0x00, 0x80 };  /* a leading zero, then a 2048-bit magnitude */
	struct key_material rsa = { .alg = KEY_RSA, .modulus = modulus,
	                            .modulus_len = sizeof(modulus) };
	struct key_material p521 = { .alg = KEY_ECDSA, .curve = CURVE_P521 };
	struct key_material empty = { .alg = KEY_RSA };

	CHECK_EQ_INT(key_material_bits(&rsa), 2048, "RSA bits skip leading zeros");
	modulus[1] = 0x01;
	CHECK_EQ_INT(key_material_bits(&rsa), 2041, "RSA bits count the top byte's bits");
	CHECK_EQ_INT(key_material_bits(&p521), 521, "P-521");
	CHECK_EQ_INT(key_material_bits(&empty), 0, "no modulus");
}

int main(void)
{
	test_lookups();
	test_bits();
	CHECK_DONE();
}
