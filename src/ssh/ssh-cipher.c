/* AES-GCM and chacha20-poly1305@openssh.com for the SSH transport, through OpenSSL 3. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ssh-cipher.h"

static const struct ssh_cipher_info ciphers[] = {
	{ "chacha20-poly1305@openssh.com", SSH_CIPHER_CHACHA, 64, 0, 8 },
	{ "aes256-gcm@openssh.com", SSH_CIPHER_AES_GCM, 32, 12, 16 },
	{ "aes128-gcm@openssh.com", SSH_CIPHER_AES_GCM, 16, 12, 16 },
	{ "none", SSH_CIPHER_NONE, 0, 0, 8 },
};

const char ssh_cipher_names[] =
	"chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com";
/* Without strict KEX, only ciphers whose nonce does not come from the sequence number. */
const char ssh_cipher_names_gcm_only[] = "aes256-gcm@openssh.com,aes128-gcm@openssh.com";

const struct ssh_cipher_info *ssh_cipher_find(const char *name)
{
	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (strcmp(ciphers[i].name, name) == 0)
			return &ciphers[i];
	return NULL;
}

int ssh_cipher_init(struct ssh_cipher *c, const struct ssh_cipher_info *info,
                    const uint8_t *key, const uint8_t *iv, int encrypt)
{
	const EVP_CIPHER *evp = info->key_len == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();

	memset(c, 0, sizeof(*c));
	c->info = info;
	c->encrypt = encrypt;
	memcpy(c->key, key, info->key_len);
	memcpy(c->iv, iv, info->iv_len);
	if (info->kind != SSH_CIPHER_AES_GCM)
		return ERR_OK;
	if ((c->ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(c->ctx, evp, NULL, c->key, NULL, encrypt) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1) {
		ssh_cipher_free(c);
		return ERR_INTERNAL;
	}
	return ERR_OK;
}

void ssh_cipher_free(struct ssh_cipher *c)
{
	EVP_CIPHER_CTX_free(c->ctx);
	OPENSSL_cleanse(c, sizeof(*c));
}

/* The GCM nonce: 4 fixed bytes, then a 64-bit counter that grows by one per packet. */
static void gcm_next_iv(struct ssh_cipher *c)
{
	for (int i = 11; i >= 4; i--)
		if (++c->iv[i] != 0)
			break;
}

static int gcm(struct ssh_cipher *c, uint8_t *pkt, size_t len, uint8_t *tag)
{
	int n, ok;

	ok = EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, c->iv, c->encrypt) == 1 &&
	     EVP_CipherUpdate(c->ctx, NULL, &n, pkt, 4) == 1 &&           /* the length: AAD */
	     (c->encrypt || EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_SET_TAG, SSH_CIPHER_TAG,
	                                        tag) == 1) &&
	     EVP_CipherUpdate(c->ctx, pkt + 4, &n, pkt + 4, (int)(len - 4)) == 1 &&
	     EVP_CipherFinal_ex(c->ctx, pkt + len, &n) == 1 &&
	     (!c->encrypt || EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_GET_TAG, SSH_CIPHER_TAG,
	                                         tag) == 1);
	gcm_next_iv(c);
	/* GCM decrypts before it checks: what it decrypted of a forgery is not left behind. */
	if (!ok && !c->encrypt)
		OPENSSL_cleanse(pkt + 4, len - 4);
	return ok ? ERR_OK : ERR_DENIED;
}

/* ChaCha20 with a 64-bit block counter and the sequence number as the 64-bit nonce. */
static int chacha(const uint8_t key[32], uint32_t seq, uint32_t counter, const uint8_t *in,
                  uint8_t *out, size_t len)
{
	uint8_t iv[16] = { 0 };
	EVP_CIPHER_CTX *ctx;
	int n, ok;

	iv[0] = (uint8_t)counter;
	iv[1] = (uint8_t)(counter >> 8);
	iv[2] = (uint8_t)(counter >> 16);
	iv[3] = (uint8_t)(counter >> 24);
	iv[12] = (uint8_t)(seq >> 24);
	iv[13] = (uint8_t)(seq >> 16);
	iv[14] = (uint8_t)(seq >> 8);
	iv[15] = (uint8_t)seq;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return ERR_INTERNAL;
	ok = EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, key, iv) == 1 &&
	     EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? ERR_OK : ERR_INTERNAL;
}

static int poly1305(const uint8_t key[32], const uint8_t *data, size_t len,
                    uint8_t tag[SSH_CIPHER_TAG])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t out = 0;
	int ok;

	ok = ctx != NULL && EVP_MAC_init(ctx, key, 32, NULL) == 1 &&
	     EVP_MAC_update(ctx, data, len) == 1 &&
	     EVP_MAC_final(ctx, tag, &out, SSH_CIPHER_TAG) == 1 && out == SSH_CIPHER_TAG;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? ERR_OK : ERR_INTERNAL;
}

/* The Poly1305 key of a packet: the first 32 bytes of ChaCha20(K_2, seq, counter 0). */
static int poly_key(const struct ssh_cipher *c, uint32_t seq, uint8_t out[32])
{
	static const uint8_t zero[32];

	return chacha(c->key, seq, 0, zero, out, 32);
}

int ssh_cipher_seal(struct ssh_cipher *c, uint32_t seq, uint8_t *pkt, size_t len,
                    uint8_t tag[SSH_CIPHER_TAG])
{
	uint8_t pk[32];
	int r;

	switch (c->info->kind) {
	case SSH_CIPHER_NONE:
		return ERR_OK;
	case SSH_CIPHER_AES_GCM:
		return gcm(c, pkt, len, tag);
	case SSH_CIPHER_CHACHA:
		/* K_2 (the first 32 bytes) for the payload, K_1 (the second) for the length. */
		if ((r = chacha(c->key + 32, seq, 0, pkt, pkt, 4)) != ERR_OK ||
		    (r = chacha(c->key, seq, 1, pkt + 4, pkt + 4, len - 4)) != ERR_OK ||
		    (r = poly_key(c, seq, pk)) != ERR_OK)
			return r;
		r = poly1305(pk, pkt, len, tag);
		OPENSSL_cleanse(pk, sizeof(pk));
		return r;
	}
	return ERR_INTERNAL;
}

uint32_t ssh_cipher_length(const struct ssh_cipher *c, uint32_t seq, const uint8_t first4[4])
{
	uint8_t clear[4];

	if (c->info->kind != SSH_CIPHER_CHACHA ||
	    chacha(c->key + 32, seq, 0, first4, clear, 4) != ERR_OK)
		memcpy(clear, first4, 4);
	return (uint32_t)clear[0] << 24 | (uint32_t)clear[1] << 16 | (uint32_t)clear[2] << 8 |
	       clear[3];
}

int ssh_cipher_open(struct ssh_cipher *c, uint32_t seq, uint8_t *pkt, size_t len,
                    const uint8_t tag[SSH_CIPHER_TAG])
{
	uint8_t pk[32], want[SSH_CIPHER_TAG], copy[SSH_CIPHER_TAG];
	int r;

	switch (c->info->kind) {
	case SSH_CIPHER_NONE:
		return ERR_OK;
	case SSH_CIPHER_AES_GCM:
		memcpy(copy, tag, sizeof(copy));
		return gcm(c, pkt, len, copy);
	case SSH_CIPHER_CHACHA:
		if ((r = poly_key(c, seq, pk)) != ERR_OK || (r = poly1305(pk, pkt, len, want)) != ERR_OK)
			return r;
		OPENSSL_cleanse(pk, sizeof(pk));
		if (CRYPTO_memcmp(want, tag, SSH_CIPHER_TAG) != 0)
			return ERR_DENIED;
		return chacha(c->key, seq, 1, pkt + 4, pkt + 4, len - 4);
	}
	return ERR_INTERNAL;
}
