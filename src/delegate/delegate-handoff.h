/*
 * The delegate's side of a handoff (design sections 5 and 8): it makes the ephemeral key of
 * the handoff re-key, checks the server's signature over the exchange hash with the host key
 * the agent verified (pinned from here on), derives keys only it knows, and once HANDOFF
 * came carries the connection on as a one-channel SSH client without the agent: input,
 * output, window, re-keys both ways, keepalives, window changes, the exit status.
 */
#ifndef P11G_DELEGATE_HANDOFF_H
#define P11G_DELEGATE_HANDOFF_H

#include "delegate.h"
#include "ssh-client.h"

/* What the delegate offers for the handoff re-key. */
#define DELEGATE_HANDOFF_KEX "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256"

struct delegate_handoff {
	struct ssh_kex kex;
	int started, replied;
	uint64_t keep_from;             /* server stream offset where `kept` begins */
	struct wbuf kept;               /* server bytes since KEX_SHARE */
	struct ssh_client client;       /* once resumed */
	int resumed;
};

void delegate_handoff_init(struct delegate_handoff *h);
void delegate_handoff_free(struct delegate_handoff *h);
/* KEX_START: the exchange prepared, our key made, KEX_SHARE queued for the agent.
 * `server_total` is what has been read from the server so far. 0, or -1 with a message. */
int delegate_handoff_start(struct delegate_handoff *h, const struct wbuf *payload,
                           uint64_t server_total, struct wbuf *to_agent);
/* KEX_REPLY: the server's signature checked, the new keys derived. */
int delegate_handoff_reply(struct delegate_handoff *h, const struct wbuf *payload);
/* Server bytes read while the handoff runs. */
int delegate_handoff_keep(struct delegate_handoff *h, const uint8_t *p, size_t n);
/* HANDOFF: the state checked against what we relayed (`written`: bytes of TO_SERVER), the
 * client resumed on the kept bytes. */
int delegate_handoff_finish(struct delegate_handoff *h, const struct wbuf *payload,
                            uint64_t written, const struct delegate_options *o);
/* The connection, ours now: until the session ends. Its exit status, or DELEGATE_FAILED. */
int delegate_carry_on(struct delegate_handoff *h, const struct delegate_options *o,
                      int server, struct wbuf *to_server);

#endif
