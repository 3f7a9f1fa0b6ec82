/* The one place where token keys and signatures get their SSH encodings (RFC 4253, 5656, 8709). */
#ifndef P11G_SSHKEY_H
#define P11G_SSHKEY_H

#include "p11.h"
#include "wire.h"

/* Room for "SHA256:" and 43 base64 characters. */
#define SSHKEY_FP_LEN 64

const char *sshkey_type_name(const struct p11_pubkey *pub);
int sshkey_blob(const struct p11_pubkey *pub, struct wbuf *out) WUR;
void sshkey_fingerprint(const uint8_t *blob, size_t len, char out[SSHKEY_FP_LEN]);
/* "TYPE BASE64 COMMENT": an authorized_keys line; the caller frees it. */
char *sshkey_authorized_line(const struct p11_pubkey *pub, const char *comment);
/* Picks the token algorithm and SSH signature name for a key and the agent's flags. */
int sshkey_sigalg(const struct p11_pubkey *pub, uint32_t flags, enum p11_sigalg *alg,
                  const char **name) WUR;
/* The SSH signature blob for a raw token signature. */
int sshkey_signature(const struct p11_pubkey *pub, const char *name, const uint8_t *raw,
                     size_t raw_len, struct wbuf *out) WUR;

#endif
