/*
 * add-provider SOCKET MODULE [-o] CERT.pub...: ssh-add -s MODULE -C CERT... as OpenSSH 10
 * sends it (ADD_SMARTCARD_KEY_CONSTRAINED with associated-certs-v00@openssh.com; -o sets
 * certs_only), for tests on a system whose ssh-add is older. Exit 0: the agent said yes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-proto.h"
#include "sshagent.h"
#include "sshpub.h"

/* A .pub file's certificate, as one more string of the list. */
static int read_cert(const char *path, struct wbuf *certs)
{
	uint8_t *blob;
	size_t len;
	int ok = sshpub_file_blob(path, &blob, &len) == ERR_OK;

	if (ok) {
		ok = wbuf_put_string(certs, blob, len) == ERR_OK;
		free(blob);
	}
	return ok;
}

int main(int argc, char **argv)
{
	struct sshagent_client *cl = NULL;
	struct sshagent_reason why;
	struct wbuf msg, certs;
	uint8_t *reply = NULL;
	size_t reply_len = 0;
	int only = 0, i = 3, status = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: add-provider SOCKET MODULE [-o] CERT.pub...\n");
		return 2;
	}
	if (i < argc && strcmp(argv[i], "-o") == 0) {
		only = 1;
		i++;
	}
	wbuf_init(&msg, SSHAGENT_MAX_MESSAGE);
	wbuf_init(&certs, SSHAGENT_MAX_MESSAGE);
	for (; i < argc; i++) {
		if (!read_cert(argv[i], &certs)) {
			fprintf(stderr, "add-provider: %s: not a certificate file\n", argv[i]);
			goto out;
		}
	}
	if (wbuf_put_u8(&msg, SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED) != ERR_OK ||
	    wbuf_put_cstring(&msg, argv[2]) != ERR_OK || wbuf_put_cstring(&msg, "") != ERR_OK ||
	    wbuf_put_u8(&msg, AGENT_CONSTRAIN_EXTENSION) != ERR_OK ||
	    wbuf_put_cstring(&msg, AGENT_EXT_ASSOCIATED_CERTS) != ERR_OK ||
	    wbuf_put_u8(&msg, (uint8_t)only) != ERR_OK || wbuf_put_stringb(&msg, &certs) != ERR_OK)
		goto out;
	if ((cl = sshagent_client_connect(argv[1], &why)) == NULL ||
	    sshagent_client_raw(cl, wbuf_ptr(&msg), wbuf_avail(&msg), &reply, &reply_len,
	                        &why) != SSHAGENT_OK) {
		fprintf(stderr, "add-provider: %s\n", why.text);
		goto out;
	}
	status = reply[0] == SSHAGENT_SUCCESS ? 0 : 1;
out:
	sshagent_client_close(cl);
	free(reply);
	wbuf_free(&msg);
	wbuf_free(&certs);
	return status;
}
