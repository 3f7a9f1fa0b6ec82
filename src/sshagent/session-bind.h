/*
 * session-bind@openssh.com (OpenSSH PROTOCOL.agent section 1): which SSH sessions, verified
 * by their host keys, an agent connection serves, in the order ssh bound them.
 */
#ifndef P11G_SESSION_BIND_H
#define P11G_SESSION_BIND_H

#include "err.h"
#include "sshcert.h"
#include "sshpub.h"

/* OpenSSH's caps (AGENT_MAX_SESSION_IDS, AGENT_MAX_SID_LEN); ssh never needs more. */
#define BIND_MAX 16
#define BIND_MAX_SID 128

struct binding {
	struct sshpub hostkey;          /* the host's key (a certificate's certified key) */
	struct sshcert *cert;           /* the host certificate it was bound with, or NULL */
	uint8_t sid[BIND_MAX_SID];
	size_t sid_len;
	int forwarded;          /* this hop forwards the agent; it does not authenticate */
};

struct bindings {
	struct binding hop[BIND_MAX];
	size_t n;
};

/*
 * Applies one session-bind request body (host key, session id, signature, forwarding flag):
 * checks the host key's signature over the session id and OpenSSH's rules for repeats.
 */
int session_bind_apply(struct bindings *bs, struct wbuf *body, struct reason *why) WUR;
void bindings_clear(struct bindings *bs);
/*
 * A server's host key as ssh sends it (session-bind, publickey-hostbound): a plain key, or
 * a host certificate whose CA signature holds, whose certified key goes to `key` and the
 * certificate to `*cert` (free with session_cert_free). Whether the CA is trusted is for
 * the destination constraints and the policy to say.
 */
int session_host_key(const uint8_t *blob, size_t len, struct sshpub *key,
                     struct sshcert **cert, struct reason *why) WUR;
void session_cert_free(struct sshcert *cert);
/* Forgets the last binding (one the implementation vetoed). */
void bindings_drop_last(struct bindings *bs);
/* The binding the next signature is for, or NULL on an unbound connection. */
const struct binding *bindings_last(const struct bindings *bs);

#endif
