/* The one place where token keys and signatures get their SSH encodings (RFC 4253, 5656, 8709). */
#ifndef P11G_SSHKEY_H
#define P11G_SSHKEY_H

#include "err.h"
#include "keytype.h"
#include "wire.h"

/* Room for "SHA256:" and 43 base64 characters. */
#define SSHKEY_FP_LEN 64

const char *sshkey_type_name(const struct key_material *pub);
int sshkey_blob(const struct key_material *pub, struct wbuf *out) WUR;
void sshkey_fingerprint(const uint8_t *blob, size_t len, char out[SSHKEY_FP_LEN]);
/* "TYPE BASE64 COMMENT": an authorized_keys line; the caller frees it. */
char *sshkey_authorized_line(const struct key_material *pub, const char *comment);
/*
 * Picks the signature algorithm and its SSH name for a key. `rsa_sig` is the RSA signature
 * asked for (SIG_RSA_SHA1, _SHA256 or _SHA512); other keys have only one.
 */
int sshkey_sigalg(const struct key_material *pub, enum sig_alg rsa_sig, enum sig_alg *alg,
                  const char **name) WUR;
/* The SSH signature blob for a raw token signature. */
int sshkey_signature(const struct key_material *pub, const char *name, const uint8_t *raw,
                     size_t raw_len, struct wbuf *out) WUR;

#endif
