/*
 * The SSH agent protocol (RFC 9987, OpenSSH PROTOCOL.agent): framing, request parsing into
 * sshagent.h's typed requests, and reply encoding. Pure data, no I/O.
 */
#ifndef P11G_AGENT_PROTO_H
#define P11G_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "keytype.h"
#include "sshagent.h"
#include "wire.h"

enum {
	AGENT_CONSTRAIN_LIFETIME = 1,
	AGENT_CONSTRAIN_CONFIRM = 2,
	AGENT_CONSTRAIN_EXTENSION = 255,
};

#define AGENT_EXT_RESTRICT_DESTINATION "restrict-destination-v00@openssh.com"
#define AGENT_EXT_ASSOCIATED_CERTS "associated-certs-v00@openssh.com"
#define AGENT_EXT_SESSION_BIND "session-bind@openssh.com"

/*
 * Takes one framed message from the front of `in`: ERR_INCOMPLETE until it is all there,
 * ERR_TOO_LARGE when its length is over SSHAGENT_MAX_MESSAGE or zero.
 */
int agent_frame_take(struct wbuf *in, struct wbuf *msg) WUR;
/*
 * Parses a message body (type byte first) into views of `msg`. Unknown types parse with
 * only `type` set; a known type with a malformed body is ERR_FORMAT, an unknown key type or
 * constraint ERR_UNSUPPORTED.
 */
int agent_request_parse(struct wbuf *msg, struct sshagent_request *req) WUR;
/* A NUL-terminated copy of a view, or NULL when it holds a NUL or memory ran out. */
char *agent_bytes_strdup(struct sshagent_bytes b);
int agent_bytes_eq(struct sshagent_bytes b, const char *s);
/* The RSA signature a sign request's flags ask for, with OpenSSH's precedence. */
enum sig_alg agent_rsa_sig(uint32_t flags);

/* Framing replies and requests: open, add the body, close (fills in the length). */
int agent_frame_begin(struct wbuf *out, uint8_t type, size_t *mark) WUR;
int agent_frame_end(struct wbuf *out, size_t mark) WUR;
/* A reply of just a type byte (SUCCESS, FAILURE, EXTENSION_FAILURE). */
int agent_frame_simple(struct wbuf *out, uint8_t type) WUR;

/* Client side: build a request frame. */
int agent_request_sign(struct wbuf *out, const uint8_t *key, size_t key_len,
                       const uint8_t *data, size_t data_len, uint32_t flags) WUR;

#endif
