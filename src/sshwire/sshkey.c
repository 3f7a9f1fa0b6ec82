/* SSH public key blobs, fingerprints and signature blobs for keys held on tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sshkey.h"

const char *sshkey_type_name(const struct key_material *pub)
{
	const struct keytype *kt = keytype_of(pub->alg, pub->curve);

	return kt != NULL ? kt->ssh_name : NULL;
}

int sshkey_blob(const struct key_material *pub, struct wbuf *out)
{
	const char *type = sshkey_type_name(pub);
	int r;

	if (type == NULL)
		return ERR_UNSUPPORTED;
	if ((r = wbuf_put_cstring(out, type)) != ERR_OK)
		return r;
	switch (pub->alg) {
	case KEY_RSA:       /* RFC 4253 6.6: e before n */
		if ((r = wbuf_put_mpint_unsigned(out, pub->exponent, pub->exponent_len)) != ERR_OK)
			return r;
		return wbuf_put_mpint_unsigned(out, pub->modulus, pub->modulus_len);
	case KEY_ECDSA:     /* RFC 5656 3.1 */
		if ((r = wbuf_put_cstring(out, keytype_of(KEY_ECDSA, pub->curve)->ssh_curve)) !=
		    ERR_OK)
			return r;
		return wbuf_put_string(out, pub->point, pub->point_len);
	case KEY_ED25519:   /* RFC 8709 4 */
		return wbuf_put_string(out, pub->point, pub->point_len);
	}
	return ERR_UNSUPPORTED;
}

void sshkey_fingerprint(const uint8_t *blob, size_t len, char out[SSHKEY_FP_LEN])
{
	uint8_t md[32];
	char b64[48];
	unsigned int md_len = 0;
	int n;

	EVP_Digest(blob, len, md, &md_len, EVP_sha256(), NULL);
	n = EVP_EncodeBlock((unsigned char *)b64, md, (int)md_len);
	while (n > 0 && b64[n - 1] == '=')     /* OpenSSH prints it unpadded */
		n--;
	b64[n] = '\0';
	snprintf(out, SSHKEY_FP_LEN, "SHA256:%s", b64);
}

char *sshkey_authorized_line(const struct key_material *pub, const char *comment)
{
	struct wbuf blob;
	char *b64 = NULL, *line = NULL;
	size_t n;

	wbuf_init(&blob, 64 * 1024);
	if (sshkey_blob(pub, &blob) != ERR_OK)
		goto out;
	n = 4 * ((wbuf_avail(&blob) + 2) / 3) + 1;
	if ((b64 = malloc(n)) == NULL)
		goto out;
	EVP_EncodeBlock((unsigned char *)b64, wbuf_ptr(&blob), (int)wbuf_avail(&blob));
	if (asprintf(&line, "%s %s %s", sshkey_type_name(pub), b64, comment) < 0)
		line = NULL;
out:
	free(b64);
	wbuf_free(&blob);
	return line;
}

int sshkey_sigalg(const struct key_material *pub, enum sig_alg rsa_sig, enum sig_alg *alg,
                  const char **name)
{
	const struct keytype *kt;

	switch (pub->alg) {
	case KEY_RSA:
		*alg = rsa_sig == SIG_RSA_SHA256 || rsa_sig == SIG_RSA_SHA512 ? rsa_sig :
		       SIG_RSA_SHA1;
		*name = *alg == SIG_RSA_SHA256 ? "rsa-sha2-256" :
		        *alg == SIG_RSA_SHA512 ? "rsa-sha2-512" : "ssh-rsa";
		return ERR_OK;
	case KEY_ECDSA:
	case KEY_ED25519:
		if ((kt = keytype_of(pub->alg, pub->curve)) == NULL)
			return ERR_UNSUPPORTED;
		*alg = kt->sig;
		*name = kt->ssh_name;
		return ERR_OK;
	}
	return ERR_UNSUPPORTED;
}

int sshkey_signature(const struct key_material *pub, const char *name, const uint8_t *raw,
                     size_t raw_len, struct wbuf *out)
{
	struct wbuf rs;
	size_t half = raw_len / 2;
	int r;

	if ((r = wbuf_put_cstring(out, name)) != ERR_OK)
		return r;
	if (pub->alg != KEY_ECDSA)
		return wbuf_put_string(out, raw, raw_len);
	/* RFC 5656 3.1.2: r and s as mpints inside a string, not the token's fixed halves. */
	if (raw_len == 0 || raw_len % 2 != 0)
		return ERR_FORMAT;
	wbuf_init(&rs, 512);
	if ((r = wbuf_put_mpint_unsigned(&rs, raw, half)) == ERR_OK &&
	    (r = wbuf_put_mpint_unsigned(&rs, raw + half, half)) == ERR_OK)
		r = wbuf_put_stringb(out, &rs);
	wbuf_free(&rs);
	return r;
}
