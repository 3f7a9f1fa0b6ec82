/*
 * Software keys: private keys that ssh-add hands the agent (ADD_IDENTITY), held in
 * OpenSSL's secure heap (locked, wiped on free) and signing with OpenSSL.
 */
#ifndef P11G_SOFTKEY_H
#define P11G_SOFTKEY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keytype.h"
#include "sshagent.h"

struct softkey;

/* Locks the memory that private keys will live in; call once, before any key is added. */
int softkey_init_secure_heap(struct reason *why) __attribute__((warn_unused_result));
/*
 * A key from an ADD_IDENTITY request's fields, certified keys included (their certificate
 * must carry a valid CA signature and certify this key). The private and public parts must
 * agree; a security key or any type outside the key table is refused with a reason.
 */
int softkey_from_request(const struct sshagent_private_key *k, struct softkey **out,
                         struct reason *why) __attribute__((warn_unused_result));
void softkey_free(struct softkey *sk);
/* The key's public part (a certified key's too: signatures are the plain key's). */
const struct key_material *softkey_public(const struct softkey *sk);
/* The certificate the key was added with, or NULL. */
const uint8_t *softkey_certificate(const struct softkey *sk, size_t *len);
/* A raw signature as a token makes it (RSA: the modulus; ECDSA: r || s halves; Ed25519). */
int softkey_sign(const struct softkey *sk, enum sig_alg alg, const uint8_t *data, size_t len,
                 uint8_t *raw, size_t raw_max, size_t *raw_len, struct reason *why)
	__attribute__((warn_unused_result));

#endif
