/* libsshagent's client: each call one request and its typed reply, read through the wire buffer. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-proto.h"
#include "client-fd.h"
#include "err.h"

/* A listing may hold this many keys; more is a broken or hostile agent. */
#define CLIENT_MAX_IDENTITIES 4096

struct sshagent_client {
	int fd;
};

static int fail(struct sshagent_reason *why, int code, const char *text)
{
	return sshagent_refuse(why, code, "%s", text);
}

struct sshagent_client *sshagent_client_connect(const char *path, struct sshagent_reason *why)
{
	struct sshagent_client *cl;

	if (path == NULL && (path = getenv("SSH_AUTH_SOCK")) == NULL) {
		fail(why, ERR_SYSTEM, "no agent: SSH_AUTH_SOCK is not set");
		return NULL;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		fail(why, ERR_ALLOC, "out of memory");
		return NULL;
	}
	if ((cl->fd = agent_client_connect(path)) < 0) {
		sshagent_refuse(why, ERR_SYSTEM, "cannot connect to the agent at %s", path);
		free(cl);
		return NULL;
	}
	return cl;
}

struct sshagent_client *client_adopt_fd(int fd)
{
	struct sshagent_client *cl = calloc(1, sizeof(*cl));

	if (cl != NULL)
		cl->fd = fd;
	return cl;
}

void sshagent_client_close(struct sshagent_client *cl)
{
	if (cl == NULL)
		return;
	close(cl->fd);
	free(cl);
}

/* Sends a framed message, reads the reply into `body` (type consumed); returns the type. */
static int roundtrip(struct sshagent_client *cl, struct wbuf *req, struct wbuf *body,
                     struct sshagent_reason *why)
{
	int type = agent_client_request(cl->fd, req, body);

	wbuf_free(req);
	if (type < 0)
		return fail(why, ERR_SYSTEM, "no reply from the agent, or a malformed one");
	return type;
}

/* Closes the frame begun at `mark` once `r` says its body was built, and sends it. */
static int send_built(struct sshagent_client *cl, struct wbuf *req, size_t mark, int r,
                      struct wbuf *body, struct sshagent_reason *why)
{
	if (r == ERR_OK)
		r = agent_frame_end(req, mark);
	if (r != ERR_OK) {
		wbuf_free(req);
		return fail(why, r, "the request is too long");
	}
	return roundtrip(cl, req, body, why);
}

/* SUCCESS is ERR_OK; FAILURE and anything else say the agent refused. */
static int expect_success(int type, struct sshagent_reason *why)
{
	if (type < 0)
		return type;
	if (type == SSHAGENT_SUCCESS)
		return ERR_OK;
	return fail(why, ERR_DENIED, "the agent refused");
}

int sshagent_client_raw(struct sshagent_client *cl, const uint8_t *msg, size_t len,
                        uint8_t **reply, size_t *reply_len, struct sshagent_reason *why)
{
	struct wbuf req, body;
	int type, r;

	wbuf_init(&req, SSHAGENT_MAX_MESSAGE + 4);
	wbuf_init(&body, SSHAGENT_MAX_MESSAGE);
	if (len == 0 || (r = wbuf_put_u32(&req, (uint32_t)len)) != ERR_OK ||
	    (r = wbuf_put_bytes(&req, msg, len)) != ERR_OK) {
		wbuf_free(&req);
		wbuf_free(&body);
		return fail(why, ERR_TOO_LARGE, "the message is empty or too long");
	}
	if ((type = roundtrip(cl, &req, &body, why)) < 0) {
		wbuf_free(&body);
		return type;
	}
	*reply_len = wbuf_avail(&body) + 1;
	if ((*reply = malloc(*reply_len)) == NULL) {
		wbuf_free(&body);
		return fail(why, ERR_ALLOC, "out of memory");
	}
	(*reply)[0] = (uint8_t)type;
	memcpy(*reply + 1, wbuf_ptr(&body), *reply_len - 1);
	wbuf_free(&body);
	return ERR_OK;
}

static int copy_out(const uint8_t *p, size_t n, uint8_t **out, size_t *out_len)
{
	if ((*out = malloc(n ? n : 1)) == NULL)
		return ERR_ALLOC;
	if (n > 0)
		memcpy(*out, p, n);
	*out_len = n;
	return ERR_OK;
}

void sshagent_identities_free(struct sshagent_identity *ids, size_t n)
{
	for (size_t i = 0; ids != NULL && i < n; i++) {
		free(ids[i].blob);
		free(ids[i].comment);
	}
	free(ids);
}

static int parse_identities(struct wbuf *body, struct sshagent_identity **ids, size_t *n)
{
	const uint8_t *blob;
	uint32_t count;
	size_t len;
	int r;

	if ((r = wbuf_get_u32(body, &count)) != ERR_OK)
		return r;
	if (count > CLIENT_MAX_IDENTITIES)
		return ERR_LIMIT;
	if ((*ids = calloc(count ? count : 1, sizeof(**ids))) == NULL)
		return ERR_ALLOC;
	for (*n = 0; *n < count; (*n)++) {
		struct sshagent_identity *id = &(*ids)[*n];

		if ((r = wbuf_get_string(body, &blob, &len)) != ERR_OK ||
		    (r = copy_out(blob, len, &id->blob, &id->len)) != ERR_OK ||
		    (r = wbuf_get_cstring(body, &id->comment)) != ERR_OK) {
			(*n)++;
			return r;
		}
	}
	return wbuf_avail(body) == 0 ? ERR_OK : ERR_FORMAT;
}

int sshagent_client_list(struct sshagent_client *cl, struct sshagent_identity **ids,
                         size_t *n, struct sshagent_reason *why)
{
	struct wbuf req, body;
	int type, r;

	*ids = NULL;
	*n = 0;
	wbuf_init(&req, 16);
	wbuf_init(&body, SSHAGENT_MAX_MESSAGE);
	if ((r = agent_frame_simple(&req, SSHAGENTC_REQUEST_IDENTITIES)) != ERR_OK) {
		wbuf_free(&req);
		r = fail(why, r, "out of memory");
	} else if ((type = roundtrip(cl, &req, &body, why)) < 0) {
		r = type;
	} else if (type != SSHAGENT_IDENTITIES_ANSWER) {
		r = fail(why, ERR_DENIED, "the agent refused to list its keys");
	} else if ((r = parse_identities(&body, ids, n)) != ERR_OK) {
		sshagent_identities_free(*ids, *n);
		*ids = NULL;
		*n = 0;
		r = fail(why, r, "malformed key list from the agent");
	}
	wbuf_free(&body);
	return r;
}

int sshagent_client_sign(struct sshagent_client *cl, const uint8_t *key, size_t key_len,
                         const uint8_t *data, size_t len, uint32_t flags, uint8_t **sig,
                         size_t *sig_len, struct sshagent_reason *why)
{
	struct wbuf req, body;
	const uint8_t *p;
	size_t n;
	int type, r;

	*sig = NULL;
	wbuf_init(&req, SSHAGENT_MAX_MESSAGE + 4);
	wbuf_init(&body, SSHAGENT_MAX_MESSAGE);
	if ((r = agent_request_sign(&req, key, key_len, data, len, flags)) != ERR_OK) {
		wbuf_free(&req);
		r = fail(why, r, "the request is too long");
	} else if ((type = roundtrip(cl, &req, &body, why)) < 0) {
		r = type;
	} else if (type != SSHAGENT_SIGN_RESPONSE) {
		r = fail(why, ERR_DENIED, "the agent refused to sign");
	} else if (wbuf_get_string(&body, &p, &n) != ERR_OK || wbuf_avail(&body) != 0) {
		r = fail(why, ERR_FORMAT, "malformed signature from the agent");
	} else if ((r = copy_out(p, n, sig, sig_len)) != ERR_OK) {
		r = fail(why, r, "out of memory");
	}
	wbuf_free(&body);
	return r;
}

/* A request of a type byte and one string, answered by SUCCESS or FAILURE. */
static int string_request(struct sshagent_client *cl, uint8_t type, const void *s, size_t len,
                          struct sshagent_reason *why)
{
	struct wbuf req, body;
	size_t mark;
	int r;

	wbuf_init(&req, SSHAGENT_MAX_MESSAGE + 4);
	wbuf_init(&body, 1024);
	if ((r = agent_frame_begin(&req, type, &mark)) == ERR_OK && s != NULL)
		r = wbuf_put_string(&req, s, len);
	r = expect_success(send_built(cl, &req, mark, r, &body, why), why);
	wbuf_free(&body);
	return r;
}

int sshagent_client_remove(struct sshagent_client *cl, const uint8_t *key, size_t len,
                           struct sshagent_reason *why)
{
	return string_request(cl, SSHAGENTC_REMOVE_IDENTITY, key, len, why);
}

int sshagent_client_remove_all(struct sshagent_client *cl, struct sshagent_reason *why)
{
	return string_request(cl, SSHAGENTC_REMOVE_ALL_IDENTITIES, NULL, 0, why);
}

int sshagent_client_lock(struct sshagent_client *cl, int lock, const char *passphrase,
                         struct sshagent_reason *why)
{
	return string_request(cl, lock ? SSHAGENTC_LOCK : SSHAGENTC_UNLOCK, passphrase,
	                      strlen(passphrase), why);
}

int sshagent_client_add(struct sshagent_client *cl, const uint8_t *key, size_t len,
                        const uint8_t *constraints, size_t constraints_len,
                        struct sshagent_reason *why)
{
	struct wbuf req, body;
	size_t mark;
	int r;

	wbuf_init(&req, SSHAGENT_MAX_MESSAGE + 4);
	wbuf_init(&body, 1024);
	if ((r = agent_frame_begin(&req, constraints_len > 0 ? SSHAGENTC_ADD_ID_CONSTRAINED :
	                           SSHAGENTC_ADD_IDENTITY, &mark)) == ERR_OK &&
	    (r = wbuf_put_bytes(&req, key, len)) == ERR_OK && constraints_len > 0)
		r = wbuf_put_bytes(&req, constraints, constraints_len);
	r = expect_success(send_built(cl, &req, mark, r, &body, why), why);
	wbuf_free(&body);
	return r;
}

int sshagent_client_extension(struct sshagent_client *cl, const char *name,
                              const uint8_t *data, size_t len, uint8_t **out, size_t *out_len,
                              struct sshagent_reason *why)
{
	struct wbuf req, body;
	size_t mark;
	int type, r, same = 0;

	*out = NULL;
	*out_len = 0;
	wbuf_init(&req, SSHAGENT_MAX_MESSAGE + 4);
	wbuf_init(&body, SSHAGENT_MAX_MESSAGE);
	if ((r = agent_frame_begin(&req, SSHAGENTC_EXTENSION, &mark)) == ERR_OK &&
	    (r = wbuf_put_cstring(&req, name)) == ERR_OK && len > 0)
		r = wbuf_put_bytes(&req, data, len);
	if ((type = send_built(cl, &req, mark, r, &body, why)) < 0) {
		r = type;
	} else if (type == SSHAGENT_SUCCESS) {
		r = copy_out(NULL, 0, out, out_len);
	} else if (type == SSHAGENT_EXTENSION_FAILURE) {
		r = fail(why, ERR_UNSUPPORTED, "the agent does not know this extension");
	} else if (type != SSHAGENT_EXTENSION_RESPONSE) {
		r = fail(why, ERR_DENIED, "the agent refused the extension request");
	} else if (wbuf_get_string_eq(&body, name, &same) != ERR_OK || !same) {
		r = fail(why, ERR_FORMAT, "the response names another extension");
	} else {
		r = copy_out(wbuf_ptr(&body), wbuf_avail(&body), out, out_len);
	}
	wbuf_free(&body);
	return r;
}
