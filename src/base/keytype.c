/* The key-type table and its lookups. */
#include <stdlib.h>
#include <string.h>

#include "keytype.h"

static const struct keytype keytypes[] = {
	{ KEY_RSA, CURVE_NONE, "ssh-rsa", NULL, NULL, NULL, NULL, NULL, 0, SIG_RSA_SHA1, NULL, 0 },
	{ KEY_ECDSA, CURVE_P256, "ecdsa-sha2-nistp256", "nistp256", "1.2.840.10045.3.1.7", NULL,
	  "prime256v1", "P-256", 65, SIG_ECDSA_SHA256, "SHA256", 256 },
	{ KEY_ECDSA, CURVE_P384, "ecdsa-sha2-nistp384", "nistp384", "1.3.132.0.34", NULL,
	  "secp384r1", "P-384", 97, SIG_ECDSA_SHA384, "SHA384", 384 },
	{ KEY_ECDSA, CURVE_P521, "ecdsa-sha2-nistp521", "nistp521", "1.3.132.0.35", NULL,
	  "secp521r1", "P-521", 133, SIG_ECDSA_SHA512, "SHA512", 521 },
	/* The alias is GnuPG's Ed25519 OID, used by some older tokens. */
	{ KEY_ED25519, CURVE_NONE, "ssh-ed25519", NULL, "1.3.101.112", "1.3.6.1.4.1.11591.15.1",
	  NULL, NULL, 32, SIG_ED25519, NULL, 256 },
};

#define NKEYTYPES (sizeof(keytypes) / sizeof(keytypes[0]))

static int same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

const struct keytype *keytype_of(enum key_alg alg, enum key_curve curve)
{
	for (size_t i = 0; i < NKEYTYPES; i++)
		if (keytypes[i].alg == alg && (alg != KEY_ECDSA || keytypes[i].curve == curve))
			return &keytypes[i];
	return NULL;
}

const struct keytype *keytype_by_ssh_name(const char *name)
{
	for (size_t i = 0; i < NKEYTYPES; i++)
		if (same(keytypes[i].ssh_name, name))
			return &keytypes[i];
	return NULL;
}

const struct keytype *keytype_by_oid(const char *oid)
{
	for (size_t i = 0; i < NKEYTYPES; i++)
		if (same(keytypes[i].oid, oid) || same(keytypes[i].oid_alias, oid))
			return &keytypes[i];
	return NULL;
}

const struct keytype *keytype_by_group(const char *name)
{
	for (size_t i = 0; i < NKEYTYPES; i++)
		if (same(keytypes[i].group, name) || same(keytypes[i].nist, name))
			return &keytypes[i];
	return NULL;
}

void key_material_clear(struct key_material *k)
{
	free(k->modulus);
	free(k->exponent);
	free(k->point);
	memset(k, 0, sizeof(*k));
}

unsigned key_material_bits(const struct key_material *k)
{
	const struct keytype *kt = keytype_of(k->alg, k->curve);
	size_t n = k->modulus_len;
	const uint8_t *m = k->modulus;
	unsigned bits;

	if (k->alg != KEY_RSA)
		return kt ? kt->bits : 0;
	while (n > 0 && *m == 0) {
		m++;
		n--;
	}
	if (n == 0)
		return 0;
	bits = (unsigned)(n - 1) * 8;
	for (uint8_t top = m[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}
