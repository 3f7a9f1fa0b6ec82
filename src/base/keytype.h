/*
 * The one table of key types and curves: SSH names, OIDs, OpenSSL groups, point lengths,
 * hashes and sizes. Every layer asks it instead of keeping its own copy of these facts.
 */
#ifndef P11G_KEYTYPE_H
#define P11G_KEYTYPE_H

#include <stddef.h>
#include <stdint.h>

enum key_alg { KEY_RSA, KEY_ECDSA, KEY_ED25519 };

enum key_curve { CURVE_NONE, CURVE_P256, CURVE_P384, CURVE_P521 };

/* A signature algorithm: the key's algorithm and the hash it signs. */
enum sig_alg {
	SIG_RSA_SHA1, SIG_RSA_SHA256, SIG_RSA_SHA512,
	SIG_ECDSA_SHA256, SIG_ECDSA_SHA384, SIG_ECDSA_SHA512,
	SIG_ED25519,
};

struct keytype {
	enum key_alg alg;
	enum key_curve curve;
	const char *ssh_name;   /* the key type on the SSH wire */
	const char *ssh_curve;  /* the curve's name inside an ECDSA blob; NULL otherwise */
	const char *oid;        /* the curve's OID (CKA_EC_PARAMS, X.509); NULL for RSA */
	const char *oid_alias;  /* another OID some tokens use; NULL: none */
	const char *group;      /* OpenSSL's group name; NULL for RSA and Ed25519 */
	const char *nist;       /* the NIST name OpenSSL may also report; NULL: none */
	size_t point_len;       /* public point bytes (ECDSA uncompressed); 0 for RSA */
	enum sig_alg sig;       /* the signature it makes; RSA picks its hash per request */
	const char *hash;       /* the hash of that signature (OpenSSL name); NULL: none or RSA */
	unsigned bits;          /* 0 for RSA: the modulus decides */
};

/* Lookups; each returns NULL for a type the table does not know. */
const struct keytype *keytype_of(enum key_alg alg, enum key_curve curve);
const struct keytype *keytype_by_ssh_name(const char *name);
const struct keytype *keytype_by_oid(const char *oid);
/* By OpenSSL group name or NIST name ("prime256v1" or "P-256"). */
const struct keytype *keytype_by_group(const char *name);

/* Public key material exactly as a token or a wire blob holds it. */
struct key_material {
	enum key_alg alg;
	enum key_curve curve;           /* ECDSA only */
	uint8_t *modulus, *exponent;    /* RSA: big-endian magnitudes */
	size_t modulus_len, exponent_len;
	uint8_t *point;                 /* ECDSA: uncompressed point; Ed25519: 32 bytes */
	size_t point_len;
};

/* Frees the buffers and zeroes the struct. */
void key_material_clear(struct key_material *k);
/* The key size in bits: the modulus for RSA, the curve otherwise. */
unsigned key_material_bits(const struct key_material *k);

#endif
