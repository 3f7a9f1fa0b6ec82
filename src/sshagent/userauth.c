/* Parsing a userauth request strictly, the way OpenSSH's agent checks what it signs. */
#include <string.h>

#include "session-bind.h"
#include "userauth.h"

#define SSH2_MSG_USERAUTH_REQUEST 50

static int get_text(struct wbuf *b, char *out, size_t max)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = wbuf_get_string(b, &p, &n)) != ERR_OK)
		return r;
	if (n > max || memchr(p, '\0', n) != NULL)
		return ERR_FORMAT;
	memcpy(out, p, n);
	out[n] = '\0';
	return ERR_OK;
}

int userauth_parse(const uint8_t *data, size_t len, const uint8_t *key_blob, size_t key_len,
                   struct userauth *out)
{
	char service[32], method[64], alg[64];
	const uint8_t *key, *hostkey;
	size_t klen, hlen;
	uint8_t type, sig_follows;
	struct sshcert *cert = NULL;
	struct reason why;
	struct wbuf b;

	memset(out, 0, sizeof(*out));
	wbuf_view(&b, data, len);
	if (wbuf_get_string(&b, &out->sid, &out->sid_len) != ERR_OK || out->sid_len == 0 ||
	    wbuf_get_u8(&b, &type) != ERR_OK || type != SSH2_MSG_USERAUTH_REQUEST ||
	    get_text(&b, out->user, USERAUTH_MAX_USER) != ERR_OK ||
	    get_text(&b, service, sizeof(service) - 1) != ERR_OK ||
	    strcmp(service, "ssh-connection") != 0 ||
	    get_text(&b, method, sizeof(method) - 1) != ERR_OK)
		return ERR_FORMAT;
	if (strcmp(method, "publickey-hostbound-v00@openssh.com") == 0)
		out->hostbound = 1;
	else if (strcmp(method, "publickey") != 0)
		return ERR_FORMAT;
	if (wbuf_get_u8(&b, &sig_follows) != ERR_OK || sig_follows != 1 ||
	    get_text(&b, alg, sizeof(alg) - 1) != ERR_OK ||
	    wbuf_get_string(&b, &key, &klen) != ERR_OK)
		return ERR_FORMAT;
	/* The request must be for the very key asked to sign it. */
	if (klen != key_len || memcmp(key, key_blob, klen) != 0)
		return ERR_FORMAT;
	if (out->hostbound) {
		if (wbuf_get_string(&b, &hostkey, &hlen) != ERR_OK ||
		    session_host_key(hostkey, hlen, &out->hostkey, &cert, &why) != ERR_OK) {
			session_cert_free(cert);
			userauth_free(out);
			return ERR_FORMAT;
		}
		/* A host certificate names the same host key the session was bound to. */
		session_cert_free(cert);
	}
	if (wbuf_avail(&b) != 0) {
		userauth_free(out);
		return ERR_FORMAT;
	}
	return ERR_OK;
}

void userauth_free(struct userauth *ua)
{
	sshpub_free(&ua->hostkey);
}
