/*
 * OpenSSH certificates (PROTOCOL.certkeys, *-cert-v01@openssh.com): parsed strictly, the
 * certified key and the CA kept as public keys, the CA's signature verified.
 */
#ifndef P11G_SSHCERT_H
#define P11G_SSHCERT_H

#include <stddef.h>
#include <stdint.h>

#include "sshpub.h"

#define SSHCERT_USER 1
#define SSHCERT_HOST 2
/* More than any real certificate names; bounds the work per certificate. */
#define SSHCERT_MAX_PRINCIPALS 256

struct sshcert {
	uint8_t *blob;                  /* the whole certificate */
	size_t blob_len;
	struct sshpub key;              /* the certified key, as a plain key */
	struct sshpub ca;               /* the key that signed it */
	uint64_t serial;
	uint32_t type;                  /* SSHCERT_USER or SSHCERT_HOST */
	char *key_id;
	char **principals;
	size_t nprincipals;
	uint64_t valid_after, valid_before;
	size_t critical_len;            /* bytes of critical options; a host's must have none */
};

/* Whether a key type name is a certificate's. */
int sshcert_is_cert_type(const char *name);
/*
 * Parses a certificate blob and verifies its CA signature: ERR_FORMAT for a malformed one,
 * ERR_UNSUPPORTED for a type outside the key table, ERR_DENIED for a bad or SHA-1 signature.
 */
int sshcert_parse(const uint8_t *blob, size_t len, struct sshcert *out) WUR;
void sshcert_free(struct sshcert *c);
/*
 * Whether a host certificate may stand for its host at `now` (seconds since the epoch):
 * a host certificate, inside its validity, without critical options (as OpenSSH checks).
 */
int sshcert_host_usable(const struct sshcert *c, uint64_t now);

#endif
