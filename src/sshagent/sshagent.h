/*
 * libsshagent: the SSH agent protocol (RFC 9987, OpenSSH's PROTOCOL.agent) for people who
 * write their own agent: typed requests, a server that owns the socket, the peer check,
 * framing, a worker pool and session-bind@openssh.com, and a client. An agent supplies a
 * table of operations; see sshagent(3).
 */
#ifndef SSHAGENT_H
#define SSHAGENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SSHAGENT_EXPORT __attribute__((visibility("default")))
#define SSHAGENT_WUR __attribute__((warn_unused_result))

/* Caps: a longer message closes the connection; more bindings are refused. */
#define SSHAGENT_MAX_MESSAGE (256 * 1024)
#define SSHAGENT_MAX_BINDINGS 16
#define SSHAGENT_MAX_CONSTRAINT_EXTENSIONS 8
#define SSHAGENT_REASON_MAX 384
#define SSHAGENT_MAX_EXTENSION_NAME 255

/* Message numbers (RFC 9987 section 6.1). */
enum sshagent_msg {
	SSHAGENT_FAILURE = 5,
	SSHAGENT_SUCCESS = 6,
	/* Protocol 1's remove-all, which ssh-add -D still sends: parsed as REMOVE_ALL. */
	SSHAGENTC_REMOVE_ALL_RSA_IDENTITIES = 9,
	SSHAGENTC_REQUEST_IDENTITIES = 11,
	SSHAGENT_IDENTITIES_ANSWER = 12,
	SSHAGENTC_SIGN_REQUEST = 13,
	SSHAGENT_SIGN_RESPONSE = 14,
	SSHAGENTC_ADD_IDENTITY = 17,
	SSHAGENTC_REMOVE_IDENTITY = 18,
	SSHAGENTC_REMOVE_ALL_IDENTITIES = 19,
	SSHAGENTC_ADD_SMARTCARD_KEY = 20,
	SSHAGENTC_REMOVE_SMARTCARD_KEY = 21,
	SSHAGENTC_LOCK = 22,
	SSHAGENTC_UNLOCK = 23,
	SSHAGENTC_ADD_ID_CONSTRAINED = 25,
	SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED = 26,
	SSHAGENTC_EXTENSION = 27,
	SSHAGENT_EXTENSION_FAILURE = 28,
	SSHAGENT_EXTENSION_RESPONSE = 29,
};

/* Sign request flags. */
enum { SSHAGENT_SIGN_RSA_SHA2_256 = 0x02, SSHAGENT_SIGN_RSA_SHA2_512 = 0x04 };

/* Results: 0, or a negative code; sshagent_strerror() names it. */
enum sshagent_err {
	SSHAGENT_OK = 0,
	SSHAGENT_ERR_INTERNAL = -1,
	SSHAGENT_ERR_ALLOC = -2,
	SSHAGENT_ERR_TOO_LARGE = -4,
	SSHAGENT_ERR_FORMAT = -5,
	SSHAGENT_ERR_UNSUPPORTED = -6,
	SSHAGENT_ERR_KEY_NOT_FOUND = -7,
	SSHAGENT_ERR_LOCKED = -14,
	SSHAGENT_ERR_DENIED = -15,
	SSHAGENT_ERR_SYSTEM = -19,
	SSHAGENT_ERR_LIMIT = -21,
};

/* Why something was refused: a code and a sentence for the user. */
struct sshagent_reason {
	int code;
	char text[SSHAGENT_REASON_MAX];
};

/* Bytes inside a request; valid until the operation returns. */
struct sshagent_bytes {
	const uint8_t *data;
	size_t len;
};

/* A session-bind@openssh.com binding whose host key signature the library verified. */
struct sshagent_binding {
	struct sshagent_bytes hostkey;          /* the host key blob */
	const char *fingerprint;                /* "SHA256:..." of the host key */
	struct sshagent_bytes session_id;
	struct sshagent_bytes signature;        /* the host's, over the session id */
	int forwarding;                         /* the agent is forwarded to this host */
};

/* Key constraints (ssh-add -t, -c, -h and OpenSSH's constraint extensions). */
struct sshagent_constraints {
	uint32_t lifetime;                      /* seconds; 0: none */
	int confirm;
	struct sshagent_bytes restrict_destination;     /* the -v00 payload; len 0: none */
	int has_associated_certs;               /* associated-certs-v00@openssh.com */
	int certs_only;
	struct sshagent_bytes certs;
	size_t n_other;                         /* extensions the library does not know */
	struct sshagent_bytes other[SSHAGENT_MAX_CONSTRAINT_EXTENSIONS];
};

/*
 * A private key from ADD_IDENTITY, as views into the request (wiped after the operation).
 * `type` is the SSH key type; for a certificate ("...-cert-v01@openssh.com") `cert` is its
 * blob. The fields of the key's algorithm are set, the others empty.
 */
struct sshagent_private_key {
	char type[64];
	struct sshagent_bytes cert;
	struct sshagent_bytes rsa_n, rsa_e, rsa_d, rsa_iqmp, rsa_p, rsa_q;
	struct sshagent_bytes ecdsa_curve, ecdsa_q, ecdsa_d;
	struct sshagent_bytes ed25519_pk, ed25519_sk;
};

struct sshagent_request {
	enum sshagent_msg type;
	struct sshagent_bytes raw;              /* the whole message, type byte first */
	union {
		struct {
			struct sshagent_bytes key, data;
			uint32_t flags;
		} sign;
		struct {
			struct sshagent_private_key key;
			struct sshagent_bytes comment;
			struct sshagent_constraints constraints;
		} add;
		struct {
			struct sshagent_bytes key;
		} remove;
		struct {
			struct sshagent_bytes provider, pin;
			struct sshagent_constraints constraints;
		} smartcard;
		struct {
			struct sshagent_bytes passphrase;
		} lock;
		struct {
			char name[SSHAGENT_MAX_EXTENSION_NAME + 1];     /* NUL-free */
			struct sshagent_bytes data;
		} extension;
	} u;
};

/* One client connection, as the operations see it. */
struct sshagent_conn;

SSHAGENT_EXPORT uid_t sshagent_conn_uid(const struct sshagent_conn *c);
SSHAGENT_EXPORT pid_t sshagent_conn_pid(const struct sshagent_conn *c);
/* The implementation's per-connection state (from the open operation). */
SSHAGENT_EXPORT void *sshagent_conn_data(const struct sshagent_conn *c);
/* The connection's verified bindings, in the order ssh made them; none: 0. */
SSHAGENT_EXPORT size_t sshagent_conn_bindings(const struct sshagent_conn *c);
SSHAGENT_EXPORT int sshagent_conn_binding(const struct sshagent_conn *c, size_t i,
                                          struct sshagent_binding *out) SSHAGENT_WUR;
/* The reason of the connection's last refusal ("" when none). */
SSHAGENT_EXPORT const char *sshagent_conn_last_refusal(const struct sshagent_conn *c);

/*
 * From an extension operation: after its reply is sent, the connection leaves the library
 * (no more framing, no worker) and `run` gets its fd and any bytes the client sent after
 * the request, on a worker thread; `run` owns the fd and must return soon (start a thread
 * for long work). For protocol switches such as a guarded SSH session. `run` is called
 * exactly once: with fd -1 when the connection failed before the reply was out, so that
 * `arg` can be freed.
 */
typedef void (*sshagent_detach_fn)(void *arg, int fd, const uint8_t *pending, size_t len);
SSHAGENT_EXPORT int sshagent_conn_detach(struct sshagent_conn *c, sshagent_detach_fn run,
                                         void *arg) SSHAGENT_WUR;

/* Where operations put their answers. */
struct sshagent_reply;
/* IDENTITIES_ANSWER: adds one key (its public blob and comment). */
SSHAGENT_EXPORT int sshagent_reply_identity(struct sshagent_reply *r, const uint8_t *blob,
                                            size_t len, const char *comment) SSHAGENT_WUR;
/* SIGN_RESPONSE: the SSH signature blob. */
SSHAGENT_EXPORT int sshagent_reply_signature(struct sshagent_reply *r, const uint8_t *sig,
                                             size_t len) SSHAGENT_WUR;
/* EXTENSION_RESPONSE: bytes after the extension's name (none: an empty response). */
SSHAGENT_EXPORT int sshagent_reply_extension(struct sshagent_reply *r, const uint8_t *data,
                                             size_t len) SSHAGENT_WUR;

/* Sets a reason and returns `code`, so an operation can `return sshagent_refuse(...)`. */
SSHAGENT_EXPORT int sshagent_refuse(struct sshagent_reason *why, int code, const char *fmt,
                                    ...) __attribute__((format(printf, 3, 4)));
SSHAGENT_EXPORT const char *sshagent_strerror(int code);
/* OpenSSH's SHA256 fingerprint of a key blob: "SHA256:" and unpadded base64. */
#define SSHAGENT_FINGERPRINT_LEN 64
SSHAGENT_EXPORT void sshagent_fingerprint(const uint8_t *blob, size_t len,
                                          char out[SSHAGENT_FINGERPRINT_LEN]);

/*
 * The operations an agent implements; any may be NULL (the request is then refused as
 * unsupported). Each returns SSHAGENT_OK, or a negative code with `why` set. They run on
 * worker threads, one request per connection at a time, several connections at once.
 */
struct sshagent_ops {
	/*
	 * A new connection from an allowed peer: returns the per-connection state that
	 * sshagent_conn_data() gives back. NULL refuses the connection (out of memory, say).
	 */
	void *(*open)(void *ctx, struct sshagent_conn *c);
	void (*close)(void *ctx, struct sshagent_conn *c);
	/* Adds the keys this connection may see with sshagent_reply_identity. */
	int (*list)(void *ctx, struct sshagent_conn *c, struct sshagent_reply *r,
	            struct sshagent_reason *why);
	int (*sign)(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
	            struct sshagent_reply *r, struct sshagent_reason *why);
	/* Asked before each sign (a confirmation prompt, say): refusing it refuses the sign. */
	int (*confirm)(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
	               struct sshagent_reason *why);
	/* ADD_IDENTITY, REMOVE_IDENTITY, REMOVE_ALL_IDENTITIES, the smartcard messages. */
	int (*change_keys)(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
	                   struct sshagent_reason *why);
	/* LOCK and UNLOCK. */
	int (*lock)(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
	            struct sshagent_reason *why);
	/* Extensions other than query and session-bind@openssh.com. */
	int (*extension)(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
	                 struct sshagent_reply *r, struct sshagent_reason *why);
	/* A binding verified by the library, before it is recorded: refusing it vetoes it. */
	int (*session_bind)(void *ctx, struct sshagent_conn *c, const struct sshagent_binding *b,
	                    struct sshagent_reason *why);
	/* Every refusal, the library's own included, with what was refused ("sign", ...). */
	void (*refused)(void *ctx, struct sshagent_conn *c, const char *what,
	                const struct sshagent_reason *why);
	/* About once a second and after every wake-up, on the loop: non-zero stops serving. */
	int (*tick)(void *ctx);
	/*
	 * Once, when the socket listens and the workers run, before the first request: where a
	 * daemon says it is ready (to systemd, or to a parent waiting to print the environment).
	 */
	void (*serving)(void *ctx);
	/* Extension names `query` reports besides the library's; NULL-terminated. */
	const char *const *extensions;
};

struct sshagent_server_options {
	const char *path;       /* listen here (a new 0600 socket)... */
	int listen_fd;          /* ...or on this listening socket (-1: use path) */
	unsigned workers;       /* 0: 16 */
	unsigned max_connections;       /* 0: 128 */
	int allow_root;         /* uid 0 may connect besides our own uid (as ssh-agent) */
	/*
	 * A connection bound to an SSH session (a forwarded agent) may not add or remove keys,
	 * as in OpenSSH; set this to allow it.
	 */
	int forwarded_may_change_keys;
	volatile sig_atomic_t *quit;    /* stop when set (a signal handler's flag); may be NULL */
};

/* Opens a listening socket at `path`, born 0600 (put it in a 0700 directory). */
SSHAGENT_EXPORT int sshagent_listen(const char *path, struct sshagent_reason *why)
	SSHAGENT_WUR;
/* Serves until quit or tick says stop; requests in flight finish first. */
SSHAGENT_EXPORT int sshagent_serve(const struct sshagent_ops *ops, void *ctx,
                                   const struct sshagent_server_options *opt,
                                   struct sshagent_reason *why) SSHAGENT_WUR;

/* The client: one connection to an agent. */
struct sshagent_client;

struct sshagent_identity {
	uint8_t *blob;
	size_t len;
	char *comment;
};

/* Connects to `path` (NULL: $SSH_AUTH_SOCK). */
SSHAGENT_EXPORT struct sshagent_client *sshagent_client_connect(const char *path,
                                                                struct sshagent_reason *why);
SSHAGENT_EXPORT void sshagent_client_close(struct sshagent_client *cl);
/* The agent's keys; free with sshagent_identities_free. */
SSHAGENT_EXPORT int sshagent_client_list(struct sshagent_client *cl,
                                         struct sshagent_identity **ids, size_t *n,
                                         struct sshagent_reason *why) SSHAGENT_WUR;
SSHAGENT_EXPORT void sshagent_identities_free(struct sshagent_identity *ids, size_t n);
/* A signature blob by `key` over `data`; the caller frees *sig. */
SSHAGENT_EXPORT int sshagent_client_sign(struct sshagent_client *cl, const uint8_t *key,
                                         size_t key_len, const uint8_t *data, size_t len,
                                         uint32_t flags, uint8_t **sig, size_t *sig_len,
                                         struct sshagent_reason *why) SSHAGENT_WUR;
SSHAGENT_EXPORT int sshagent_client_remove(struct sshagent_client *cl, const uint8_t *key,
                                           size_t len, struct sshagent_reason *why)
	SSHAGENT_WUR;
SSHAGENT_EXPORT int sshagent_client_remove_all(struct sshagent_client *cl,
                                               struct sshagent_reason *why) SSHAGENT_WUR;
/*
 * ADD_IDENTITY: `key` is the request body as ssh-add sends it (key type, key fields,
 * comment); with `constraints` (their wire form, len > 0) it is ADD_ID_CONSTRAINED.
 */
SSHAGENT_EXPORT int sshagent_client_add(struct sshagent_client *cl, const uint8_t *key,
                                        size_t len, const uint8_t *constraints,
                                        size_t constraints_len, struct sshagent_reason *why)
	SSHAGENT_WUR;
SSHAGENT_EXPORT int sshagent_client_lock(struct sshagent_client *cl, int lock,
                                         const char *passphrase, struct sshagent_reason *why)
	SSHAGENT_WUR;
/* An extension request; the response's bytes after its name go to *out (caller frees). */
SSHAGENT_EXPORT int sshagent_client_extension(struct sshagent_client *cl, const char *name,
                                              const uint8_t *data, size_t len, uint8_t **out,
                                              size_t *out_len, struct sshagent_reason *why)
	SSHAGENT_WUR;
/* Sends one framed message body and returns the reply body (type byte first). */
SSHAGENT_EXPORT int sshagent_client_raw(struct sshagent_client *cl, const uint8_t *msg,
                                        size_t len, uint8_t **reply, size_t *reply_len,
                                        struct sshagent_reason *why) SSHAGENT_WUR;

#ifdef __cplusplus
}
#endif

#endif
