/* Parsing OpenSSH certificates field by field, and checking the CA's signature over them. */
#include <stdlib.h>
#include <string.h>

#include "sshcert.h"

#define CERT_SUFFIX "-cert-v01@openssh.com"

int sshcert_is_cert_type(const char *name)
{
	size_t n = strlen(name), s = strlen(CERT_SUFFIX);

	return n > s && strcmp(name + n - s, CERT_SUFFIX) == 0;
}

/* The certified key: its fields after the nonce, as a plain key blob parsed again. */
static int read_key(struct wbuf *b, const char *type, struct sshpub *out)
{
	char plain[64];
	size_t n = strlen(type) - strlen(CERT_SUFFIX);
	struct key_material pub;
	struct wbuf blob;
	int r;

	if (n >= sizeof(plain))
		return ERR_UNSUPPORTED;
	memcpy(plain, type, n);
	plain[n] = '\0';
	memset(&pub, 0, sizeof(pub));
	if ((r = sshpub_read_fields(b, plain, &pub)) != ERR_OK)
		return r;
	wbuf_init(&blob, 64 * 1024);
	if ((r = sshkey_blob(&pub, &blob)) == ERR_OK)
		r = sshpub_parse(wbuf_ptr(&blob), wbuf_avail(&blob), out);
	wbuf_free(&blob);
	key_material_clear(&pub);
	return r;
}

static int read_principals(struct wbuf *b, struct sshcert *c)
{
	struct wbuf list;
	char *name;
	int r;

	if ((r = wbuf_get_stringb(b, &list)) != ERR_OK)
		return r;
	while (wbuf_avail(&list) > 0) {
		if (c->nprincipals >= SSHCERT_MAX_PRINCIPALS)
			return ERR_LIMIT;
		if ((r = wbuf_get_cstring(&list, &name)) != ERR_OK)
			return r;
		if (c->nprincipals % 16 == 0) {
			char **more = realloc(c->principals, (c->nprincipals + 16) * sizeof(*more));

			if (more == NULL) {
				free(name);
				return ERR_ALLOC;
			}
			c->principals = more;
		}
		c->principals[c->nprincipals++] = name;
	}
	return ERR_OK;
}

/* Everything after the key, up to the signature (PROTOCOL.certkeys). */
static int read_body(struct wbuf *b, struct sshcert *c)
{
	const uint8_t *skip;
	size_t skip_len;
	int r;

	if ((r = wbuf_get_u64(b, &c->serial)) != ERR_OK || (r = wbuf_get_u32(b, &c->type)) != ERR_OK ||
	    (r = wbuf_get_cstring(b, &c->key_id)) != ERR_OK ||
	    (r = read_principals(b, c)) != ERR_OK ||
	    (r = wbuf_get_u64(b, &c->valid_after)) != ERR_OK ||
	    (r = wbuf_get_u64(b, &c->valid_before)) != ERR_OK ||
	    (r = wbuf_get_string(b, &skip, &c->critical_len)) != ERR_OK ||       /* options */
	    (r = wbuf_get_string(b, &skip, &skip_len)) != ERR_OK ||       /* extensions */
	    (r = wbuf_get_string(b, &skip, &skip_len)) != ERR_OK)         /* reserved */
		return r;
	return c->type == SSHCERT_USER || c->type == SSHCERT_HOST ? ERR_OK : ERR_FORMAT;
}

/*
 * The CA's signature over every field before it, the CA's key included (PROTOCOL.certkeys);
 * SHA-1 RSA is refused, as by OpenSSH.
 */
static int check_signature(struct wbuf *b, const uint8_t *blob, size_t len, struct sshcert *c)
{
	const uint8_t *ca, *sig;
	size_t ca_len, sig_len, signed_len;
	struct wbuf s;
	int sha1 = 0, r;

	if ((r = wbuf_get_string(b, &ca, &ca_len)) != ERR_OK)
		return r;
	signed_len = len - wbuf_avail(b);
	if ((r = wbuf_get_string(b, &sig, &sig_len)) != ERR_OK)
		return r;
	if (wbuf_avail(b) != 0)
		return ERR_FORMAT;
	if ((r = sshpub_parse(ca, ca_len, &c->ca)) != ERR_OK)
		return r;
	wbuf_view(&s, sig, sig_len);
	if (wbuf_get_string_eq(&s, "ssh-rsa", &sha1) != ERR_OK || sha1)
		return ERR_DENIED;
	return sshpub_verify(&c->ca, sig, sig_len, blob, signed_len);
}

int sshcert_parse(const uint8_t *blob, size_t len, struct sshcert *out)
{
	const uint8_t *nonce;
	size_t nonce_len;
	char *type = NULL;
	struct wbuf b;
	int r;

	memset(out, 0, sizeof(*out));
	wbuf_view(&b, blob, len);
	if ((r = wbuf_get_cstring(&b, &type)) != ERR_OK)
		goto out;
	if (!sshcert_is_cert_type(type)) {
		r = ERR_UNSUPPORTED;
		goto out;
	}
	if ((r = wbuf_get_string(&b, &nonce, &nonce_len)) != ERR_OK ||
	    (r = read_key(&b, type, &out->key)) != ERR_OK || (r = read_body(&b, out)) != ERR_OK ||
	    (r = check_signature(&b, blob, len, out)) != ERR_OK)
		goto out;
	if ((out->blob = malloc(len)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	memcpy(out->blob, blob, len);
	out->blob_len = len;
out:
	free(type);
	if (r == ERR_INCOMPLETE)
		r = ERR_FORMAT;
	if (r != ERR_OK)
		sshcert_free(out);
	return r;
}

void sshcert_free(struct sshcert *c)
{
	free(c->blob);
	sshpub_free(&c->key);
	sshpub_free(&c->ca);
	free(c->key_id);
	for (size_t i = 0; i < c->nprincipals; i++)
		free(c->principals[i]);
	free(c->principals);
	memset(c, 0, sizeof(*c));
}

int sshcert_host_usable(const struct sshcert *c, uint64_t now)
{
	return c->type == SSHCERT_HOST && c->critical_len == 0 && now >= c->valid_after &&
	       now < c->valid_before;
}
