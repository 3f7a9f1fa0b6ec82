/*
 * The SSH agent protocol (RFC 9987, OpenSSH PROTOCOL.agent): message types, request parsing
 * and reply encoding. Pure data, no I/O, so it can serve any agent as a library.
 */
#ifndef P11G_AGENT_PROTO_H
#define P11G_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "keytype.h"
#include "wire.h"

/* The largest message accepted from a client; a longer one closes the connection. */
#define AGENT_MAX_MESSAGE (256 * 1024)

enum agent_msg_type {
	AGENT_FAILURE = 5,
	AGENT_SUCCESS = 6,
	AGENTC_REQUEST_IDENTITIES = 11,
	AGENT_IDENTITIES_ANSWER = 12,
	AGENTC_SIGN_REQUEST = 13,
	AGENT_SIGN_RESPONSE = 14,
	AGENTC_ADD_IDENTITY = 17,
	AGENTC_REMOVE_IDENTITY = 18,
	AGENTC_REMOVE_ALL_IDENTITIES = 19,
	AGENTC_ADD_SMARTCARD_KEY = 20,
	AGENTC_REMOVE_SMARTCARD_KEY = 21,
	AGENTC_LOCK = 22,
	AGENTC_UNLOCK = 23,
	AGENTC_ADD_ID_CONSTRAINED = 25,
	AGENTC_ADD_SMARTCARD_KEY_CONSTRAINED = 26,
	AGENTC_EXTENSION = 27,
	AGENT_EXTENSION_FAILURE = 28,
	AGENT_EXTENSION_RESPONSE = 29,
};

enum {
	AGENT_SIGN_RSA_SHA2_256 = 0x02,
	AGENT_SIGN_RSA_SHA2_512 = 0x04,
};

enum {
	AGENT_CONSTRAIN_LIFETIME = 1,
	AGENT_CONSTRAIN_CONFIRM = 2,
	AGENT_CONSTRAIN_EXTENSION = 255,
};

/* Caps what one request may carry, before any work is done on it. */
#define AGENT_MAX_CONSTRAINT_EXTENSIONS 8

struct agent_bytes {
	const uint8_t *p;
	size_t len;
};

struct agent_constraint_ext {
	struct agent_bytes name;
	struct agent_bytes data;        /* the rest of that constraint, unparsed */
};

struct agent_constraints {
	uint32_t lifetime;              /* seconds; 0: none */
	int confirm;
	size_t n_ext;
	struct agent_constraint_ext ext[AGENT_MAX_CONSTRAINT_EXTENSIONS];
};

/* A parsed request. Every field is a view into the message, valid while it lives. */
struct agent_request {
	uint8_t type;
	union {
		struct {
			struct agent_bytes key, data;
			uint32_t flags;
		} sign;
		struct {
			struct agent_bytes key;
		} remove;
		struct {
			struct agent_bytes provider, pin;
			struct agent_constraints constraints;
		} smartcard;
		struct {
			struct agent_bytes passphrase;
		} lock;
		struct {
			struct agent_bytes name, data;
		} extension;
	} u;
};

/*
 * Takes one framed message from the front of `in`: ERR_INCOMPLETE until it is all there,
 * ERR_TOO_LARGE when its length is over AGENT_MAX_MESSAGE or zero.
 */
int agent_frame_take(struct wbuf *in, struct wbuf *msg) WUR;
/* Parses a message body (type byte first). Unknown types parse with only `type` set. */
int agent_request_parse(struct wbuf *msg, struct agent_request *req) WUR;
/* A NUL-terminated copy of a view, or NULL when it holds a NUL or memory ran out. */
char *agent_bytes_strdup(struct agent_bytes b);
int agent_bytes_eq(struct agent_bytes b, const char *s);
/* The RSA signature a sign request's flags ask for, with OpenSSH's precedence. */
enum sig_alg agent_rsa_sig(uint32_t flags);

/* Framing replies and requests: open, add the body, close (fills in the length). */
int agent_frame_begin(struct wbuf *out, uint8_t type, size_t *mark) WUR;
int agent_frame_end(struct wbuf *out, size_t mark) WUR;
/* A reply of just a type byte (SUCCESS, FAILURE, EXTENSION_FAILURE). */
int agent_frame_simple(struct wbuf *out, uint8_t type) WUR;

/* Client side, for our own tools: build a request frame. */
int agent_request_sign(struct wbuf *out, const uint8_t *key, size_t key_len,
                       const uint8_t *data, size_t data_len, uint32_t flags) WUR;

#endif
