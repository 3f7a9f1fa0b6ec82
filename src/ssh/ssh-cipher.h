/*
 * The SSH transport's AEAD ciphers, one direction each: aes128-gcm@openssh.com and
 * aes256-gcm@openssh.com (RFC 5647 as OpenSSH does it: the length in clear as additional
 * data, a 12-byte nonce whose last 8 bytes count packets) and chacha20-poly1305@openssh.com
 * (OpenSSH's PROTOCOL.chacha20poly1305: the length encrypted under its own key, the
 * sequence number as nonce, a Poly1305 tag over both ciphertexts). Nothing else: no MAC
 * ciphers, so that every packet is authenticated as one piece.
 */
#ifndef P11G_SSH_CIPHER_H
#define P11G_SSH_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#ifndef WUR_SSH
#define WUR_SSH __attribute__((warn_unused_result))
#endif

#define SSH_CIPHER_TAG 16
#define SSH_CIPHER_MAX_KEY 64
#define SSH_CIPHER_MAX_IV 12

enum ssh_cipher_kind { SSH_CIPHER_NONE, SSH_CIPHER_AES_GCM, SSH_CIPHER_CHACHA };

struct ssh_cipher_info {
	const char *name;
	enum ssh_cipher_kind kind;
	size_t key_len, iv_len, block;
};

struct ssh_cipher {
	const struct ssh_cipher_info *info;
	uint8_t key[SSH_CIPHER_MAX_KEY];
	uint8_t iv[SSH_CIPHER_MAX_IV];
	int encrypt;
	void *ctx;              /* the AES-GCM context; NULL otherwise */
};

/* The cipher of that name, or NULL. "none" is the one before the first NEWKEYS. */
const struct ssh_cipher_info *ssh_cipher_find(const char *name);
/* The names we offer, best first, as an SSH name-list. */
extern const char ssh_cipher_names[];
extern const char ssh_cipher_names_gcm_only[];

int ssh_cipher_init(struct ssh_cipher *c, const struct ssh_cipher_info *info,
                    const uint8_t *key, const uint8_t *iv, int encrypt) WUR_SSH;
/* Wipes the keys. */
void ssh_cipher_free(struct ssh_cipher *c);

/*
 * Sealing a packet: `pkt` holds the 4-byte length, then `len - 4` bytes (padding length,
 * payload, padding); they are encrypted in place and the tag written to `tag`.
 */
int ssh_cipher_seal(struct ssh_cipher *c, uint32_t seq, uint8_t *pkt, size_t len,
                    uint8_t tag[SSH_CIPHER_TAG]) WUR_SSH;
/* The packet length from the first 4 bytes as received (decrypted for chacha). */
uint32_t ssh_cipher_length(const struct ssh_cipher *c, uint32_t seq, const uint8_t first4[4]);
/*
 * Opening: `pkt` as received (4 + length bytes) and its tag; checks the tag before anything
 * is decrypted, then decrypts in place (the length field stays as received).
 */
int ssh_cipher_open(struct ssh_cipher *c, uint32_t seq, uint8_t *pkt, size_t len,
                    const uint8_t tag[SSH_CIPHER_TAG]) WUR_SSH;

#endif
