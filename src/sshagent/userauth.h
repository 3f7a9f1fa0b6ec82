/*
 * The data ssh asks the agent to sign for public key authentication (RFC 4252 section 7,
 * and OpenSSH's publickey-hostbound-v00@openssh.com): who logs in, to which session.
 */
#ifndef P11G_USERAUTH_H
#define P11G_USERAUTH_H

#include "sshpub.h"

#define USERAUTH_MAX_USER 256

struct userauth {
	const uint8_t *sid;             /* a view into the signed data */
	size_t sid_len;
	char user[USERAUTH_MAX_USER + 1];
	int hostbound;                  /* the request names the server's host key */
	struct sshpub hostkey;          /* hostbound only */
};

/*
 * Parses `data` as a userauth request made with the key `key_blob`. Anything else (another
 * message, another key, trailing bytes) is ERR_FORMAT: it is not a login we can reason about.
 */
int userauth_parse(const uint8_t *data, size_t len, const uint8_t *key_blob, size_t key_len,
                   struct userauth *out) WUR;
void userauth_free(struct userauth *ua);

#endif
