/* What the client's three files share: message numbers, failing, sending. */
#ifndef P11G_SSH_CLIENT_INT_H
#define P11G_SSH_CLIENT_INT_H

#include "ssh-client.h"

enum {
	MSG_DISCONNECT = 1, MSG_IGNORE = 2, MSG_UNIMPLEMENTED = 3, MSG_DEBUG = 4,
	MSG_SERVICE_REQUEST = 5, MSG_SERVICE_ACCEPT = 6, MSG_EXT_INFO = 7,
	MSG_USERAUTH_REQUEST = 50, MSG_USERAUTH_FAILURE = 51, MSG_USERAUTH_SUCCESS = 52,
	MSG_USERAUTH_BANNER = 53, MSG_USERAUTH_PK_OK = 60, MSG_GLOBAL_REQUEST = 80,
	MSG_REQUEST_SUCCESS = 81, MSG_REQUEST_FAILURE = 82, MSG_CHANNEL_OPEN = 90, MSG_CHANNEL_OPEN_CONFIRMATION = 91,
	MSG_CHANNEL_OPEN_FAILURE = 92, MSG_CHANNEL_WINDOW_ADJUST = 93, MSG_CHANNEL_DATA = 94,
	MSG_CHANNEL_EXTENDED_DATA = 95, MSG_CHANNEL_EOF = 96, MSG_CHANNEL_CLOSE = 97,
	MSG_CHANNEL_REQUEST = 98, MSG_CHANNEL_SUCCESS = 99, MSG_CHANNEL_FAILURE = 100,
};

/* Ends the connection with a reason (fmt has one %s for arg); returns code. */
int ssh_fail(struct ssh_client *c, int code, const char *fmt, const char *arg);
/* Sends a payload as one packet, and frees it. */
int ssh_send_payload(struct ssh_client *c, struct wbuf *b);
/* Between our KEXINIT and our NEWKEYS nothing but key exchange may be sent. */
int ssh_sending_blocked(const struct ssh_client *c);
/* Once our NEWKEYS is out: the replies we owe, the window, the pending input. */
int ssh_after_kex(struct ssh_client *c);
/* Declines a request that wants a reply (REQUEST_FAILURE or CHANNEL_FAILURE). */
int ssh_refuse_request(struct ssh_client *c, uint8_t type);
/* Server text for a message: printable bytes only. */
void ssh_printable(const uint8_t *p, size_t n, char *out, size_t size);

/* ssh-userauth.c: the service request, then the keys offered and one signed. */
int ssh_userauth_begin(struct ssh_client *c);
int ssh_userauth_message(struct ssh_client *c, uint8_t type, struct wbuf *m);
/* ssh-channel.c: the session channel, its requests, data and end. */
int ssh_channel_open(struct ssh_client *c);
int ssh_channel_message(struct ssh_client *c, uint8_t type, struct wbuf *m);
/* After a key exchange: the window we owe, the input waiting. */
int ssh_channel_resume(struct ssh_client *c);
/* For a handoff: no-more-sessions@openssh.com, and its answer. */
int ssh_no_more_sessions(struct ssh_client *c);
int ssh_no_more_sessions_reply(struct ssh_client *c, int ok);

/* ssh-probe.c: the forwarding probes before a handoff, and the global requests made before
 * the session runs (with want_reply; `what` says what the answer is for). */
int ssh_probes_begin(struct ssh_client *c);
int ssh_probe_debug(struct ssh_client *c, struct wbuf *m);
int ssh_probe_channel(struct ssh_client *c, uint8_t type, struct wbuf *m);
int ssh_global_request(struct ssh_client *c, uint8_t what, const char *name,
                       const char *host_or_path, int with_port, uint32_t port);
int ssh_global_reply(struct ssh_client *c, int ok, struct wbuf *m);

/* ssh-handoff.c: no handoff after all, for `why`: relayed, or failed when the rule's
 * fallback is deny (ERR_OK: relayed). */
int ssh_handoff_fallback(struct ssh_client *c, const char *why);
/* The command runs; the handoff re-key begins with our KEXINIT. */
int ssh_handoff_begin(struct ssh_client *c);
/* The server's KEXINIT and KEX_ECDH_REPLY, and its NEWKEYS, during the handoff re-key. */
int ssh_handoff_kexinit(struct ssh_client *c, const struct wbuf *m);
int ssh_handoff_ecdh_reply(struct ssh_client *c, const struct wbuf *m);
int ssh_handoff_newkeys(struct ssh_client *c);

#endif
