/*
 * Public keys that arrive on the wire (host keys in session-bind, keys inside constraints and
 * userauth requests): parsed strictly, kept in canonical form, used to verify signatures.
 */
#ifndef P11G_SSHPUB_H
#define P11G_SSHPUB_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "sshkey.h"

struct sshpub {
	struct key_material pub;          /* the components; buffers owned here */
	uint8_t *blob;                  /* canonical re-encoding: equal keys, equal blobs */
	size_t blob_len;
	char fingerprint[SSHKEY_FP_LEN];
};

/* The fields of a plain key of `type` (RFC 4253, 5656, 8709), read from `b`. */
int sshpub_read_fields(struct wbuf *b, const char *type, struct key_material *pub) WUR;
/* Parses a whole public key blob; trailing bytes or unknown types are errors. */
int sshpub_parse(const uint8_t *blob, size_t len, struct sshpub *out) WUR;
void sshpub_free(struct sshpub *k);
int sshpub_equal(const struct sshpub *a, const struct sshpub *b);
int sshpub_copy(const struct sshpub *from, struct sshpub *to) WUR;
/* Verifies an SSH signature blob by `k` over `data`; ERR_DENIED when it does not hold. */
int sshpub_verify(const struct sshpub *k, const uint8_t *sig, size_t sig_len,
                  const uint8_t *data, size_t data_len) WUR;
/*
 * An OpenSSL key of type `name` ("RSA", "EC") from the parameters in `bld`, with
 * `selection` (EVP_PKEY_PUBLIC_KEY, EVP_PKEY_KEYPAIR); NULL when they make no key.
 */
EVP_PKEY *sshpub_pkey_fromdata(const char *name, int selection, OSSL_PARAM_BLD *bld);
/* The blob of "TYPE BASE64 [comment]" (a .pub file's line); the type must be the blob's. */
int sshpub_text_blob(const char *text, uint8_t **blob, size_t *len) WUR;
/* The blob on the first line of a .pub file (a key or a certificate). */
int sshpub_file_blob(const char *path, uint8_t **blob, size_t *len) WUR;
/* "ssh-ed25519 AAAA..." text form, as in known_hosts; the caller frees it. */
int sshpub_parse_text(const char *text, struct sshpub *out) WUR;

#endif
