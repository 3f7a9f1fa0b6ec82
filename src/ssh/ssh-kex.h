/*
 * The SSH key exchange, client side (RFC 4253 sections 7-8, RFC 5656, RFC 8731): KEXINIT
 * built and read, algorithms negotiated, curve25519-sha256 (and @libssh.org) or
 * ecdh-sha2-nistp256, the server's host key checked against the keys the caller trusts and
 * its signature over the exchange hash verified, keys derived (RFC 4253 section 7.2).
 * OpenSSH's strict KEX (kex-strict-c/s-v00@openssh.com) and ext-info-c are offered.
 */
#ifndef P11G_SSH_KEX_H
#define P11G_SSH_KEX_H

#include <openssl/evp.h>

#include "ssh-cipher.h"
#include "sshpub.h"
#include "wire.h"

#define SSH_MSG_KEXINIT 20
#define SSH_MSG_NEWKEYS 21
#define SSH_MSG_KEX_ECDH_INIT 30
#define SSH_MSG_KEX_ECDH_REPLY 31
#define SSH_KEX_MAX_HASH 64
#define SSH_KEX_MAX_NAMELIST 1024

/* A KEXINIT as read: the name-lists we look at. */
struct ssh_kexinit {
	char kex[SSH_KEX_MAX_NAMELIST], hostkey[SSH_KEX_MAX_NAMELIST];
	char cipher_cs[SSH_KEX_MAX_NAMELIST], cipher_sc[SSH_KEX_MAX_NAMELIST];
	char comp_cs[SSH_KEX_MAX_NAMELIST], comp_sc[SSH_KEX_MAX_NAMELIST];
	int first_kex_follows;
};

struct ssh_kex_method;

struct ssh_kex {
	char v_c[256], v_s[256];                /* version lines, without CR LF */
	struct wbuf i_c, i_s;                   /* the two KEXINIT payloads */
	const struct ssh_kex_method *method;
	char hostkey_alg[64];
	const struct ssh_cipher_info *cipher_cs, *cipher_sc;
	int strict;                             /* both sides: strict KEX, for good */
	int omit_strict;                        /* tests of the non-strict path only */
	int first;                              /* this is the connection's first exchange */
	EVP_PKEY *ephemeral;
	uint8_t q_c[133];
	size_t q_c_len;
	uint8_t session_id[SSH_KEX_MAX_HASH];
	size_t session_id_len;
	struct sshpub host_key;                 /* K_S of the first exchange, pinned */
	struct ssh_cipher next_send, next_recv; /* keys waiting for NEWKEYS */
};

void ssh_kex_init(struct ssh_kex *k);
void ssh_kex_free(struct ssh_kex *k);

/* The key exchange methods we do, best first, as an SSH name-list. */
extern const char ssh_kex_names[];
/* Our KEXINIT, kept as I_C: the methods `kex_algs` (NULL: all we do), `hostkey_algs` (from
 * the trusted keys) and `ciphers`. The strict and ext-info markers go only into the first. */
int ssh_kex_kexinit(struct ssh_kex *k, const char *kex_algs, const char *hostkey_algs,
                    const char *ciphers, struct wbuf *out) WUR_SSH;
int ssh_kexinit_parse(const uint8_t *p, size_t len, struct ssh_kexinit *ki) WUR_SSH;
/* Keeps the server's KEXINIT as I_S and chooses the algorithms; a reason when nothing fits. */
int ssh_kex_negotiate(struct ssh_kex *k, const uint8_t *p, size_t len,
                      struct reason *why) WUR_SSH;
/* Our ephemeral key and KEX_ECDH_INIT. */
int ssh_kex_ecdh_init(struct ssh_kex *k, struct wbuf *out) WUR_SSH;
/*
 * The server's KEX_ECDH_REPLY: K_S must be one of `trusted` (and, after the first
 * exchange, the pinned key), its signature over H must hold; then the next keys are derived
 * into next_send and next_recv.
 */
int ssh_kex_ecdh_reply(struct ssh_kex *k, const uint8_t *p, size_t len,
                       const struct sshpub *trusted, size_t ntrusted,
                       struct reason *why) WUR_SSH;
/* The host key algorithm names for keys of these types, without duplicates. */
int ssh_kex_hostkey_algs(const struct sshpub *keys, size_t n, char *out, size_t size) WUR_SSH;
/* The negotiated key exchange method's name. */
const char *ssh_kex_method_name(const struct ssh_kex *k);
/* Whether `name` is in the name-list `list`. */
int ssh_namelist_has(const char *list, const char *name);
/* The names of `first` that `second` (NULL: none) also has, in `first`'s order, as a
 * name-list into `out` ("" when none, or when they do not fit). */
void ssh_namelist_intersect(const char *first, const char *second, char *out, size_t size);

#endif
