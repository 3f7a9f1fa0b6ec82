/*
 * sshagent-dump SOCKET: an agent on SOCKET that forwards every request to the agent named
 * by $SSH_AUTH_SOCK and prints each request and reply, decoded, on stderr. An example of
 * libsshagent: build with `cc sshagent-dump.c $(pkg-config --cflags --libs sshagent)`.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sshagent.h>

static const char *upstream;
static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static const char *fingerprint(struct sshagent_bytes key, char fp[SSHAGENT_FINGERPRINT_LEN])
{
	sshagent_fingerprint(key.data, key.len, fp);
	return fp;
}

/* Each client connection gets its own upstream one: bindings are per connection. */
static void *dump_open(void *ctx, struct sshagent_conn *c)
{
	struct sshagent_reason why;
	struct sshagent_client *up = sshagent_client_connect(upstream, &why);

	(void)ctx;
	fprintf(stderr, "connection from pid %ld uid %ld%s%s\n", (long)sshagent_conn_pid(c),
	        (long)sshagent_conn_uid(c), up ? "" : ": refused, ", up ? "" : why.text);
	return up;
}

static void dump_close(void *ctx, struct sshagent_conn *c)
{
	(void)ctx;
	sshagent_client_close(sshagent_conn_data(c));
	fprintf(stderr, "connection from pid %ld closed\n", (long)sshagent_conn_pid(c));
}

static int refused(struct sshagent_reason *why)
{
	fprintf(stderr, "<- refused: %s\n", why->text);
	return why->code;
}

static int dump_list(void *ctx, struct sshagent_conn *c, struct sshagent_reply *r,
                     struct sshagent_reason *why)
{
	struct sshagent_identity *ids;
	char fp[SSHAGENT_FINGERPRINT_LEN];
	size_t n;
	int rc;

	(void)ctx;
	fprintf(stderr, "-> REQUEST_IDENTITIES\n");
	if ((rc = sshagent_client_list(sshagent_conn_data(c), &ids, &n, why)) != SSHAGENT_OK)
		return refused(why);
	fprintf(stderr, "<- IDENTITIES_ANSWER: %zu key(s)\n", n);
	for (size_t i = 0; i < n && rc == SSHAGENT_OK; i++) {
		sshagent_fingerprint(ids[i].blob, ids[i].len, fp);
		fprintf(stderr, "   %s %s\n", fp, ids[i].comment);
		rc = sshagent_reply_identity(r, ids[i].blob, ids[i].len, ids[i].comment);
	}
	sshagent_identities_free(ids, n);
	return rc;
}

static int dump_sign(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
                     struct sshagent_reply *r, struct sshagent_reason *why)
{
	char fp[SSHAGENT_FINGERPRINT_LEN];
	uint8_t *sig;
	size_t len;
	int rc;

	(void)ctx;
	fprintf(stderr, "-> SIGN_REQUEST key %s, %zu bytes of data, flags 0x%x\n",
	        fingerprint(req->u.sign.key, fp), req->u.sign.data.len, req->u.sign.flags);
	if (sshagent_client_sign(sshagent_conn_data(c), req->u.sign.key.data, req->u.sign.key.len,
	                         req->u.sign.data.data, req->u.sign.data.len, req->u.sign.flags,
	                         &sig, &len, why) != SSHAGENT_OK)
		return refused(why);
	/* The blob starts with its algorithm's name as an SSH string. */
	fprintf(stderr, "<- SIGN_RESPONSE: %.*s signature, %zu bytes\n",
	        len > 4 && sig[3] < len - 4 ? sig[3] : 0, (const char *)sig + 4, len);
	rc = sshagent_reply_signature(r, sig, len);
	free(sig);
	return rc;
}

/* Key changes and locks: the raw message goes up, and the reply's type comes back. */
static int dump_forward(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
                        struct sshagent_reason *why)
{
	uint8_t *reply;
	size_t len;
	int ok;

	(void)ctx;
	fprintf(stderr, "-> message type %d, %zu bytes\n", req->type, req->raw.len);
	if (sshagent_client_raw(sshagent_conn_data(c), req->raw.data, req->raw.len, &reply, &len,
	                        why) != SSHAGENT_OK)
		return refused(why);
	ok = reply[0] == SSHAGENT_SUCCESS;
	fprintf(stderr, "<- %s\n", ok ? "SUCCESS" : "FAILURE");
	free(reply);
	return ok ? SSHAGENT_OK : sshagent_refuse(why, SSHAGENT_ERR_DENIED, "refused upstream");
}

static int dump_extension(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
                          struct sshagent_reply *r, struct sshagent_reason *why)
{
	uint8_t *out;
	size_t len;
	int rc;

	(void)ctx;
	fprintf(stderr, "-> EXTENSION %s, %zu bytes\n", req->u.extension.name,
	        req->u.extension.data.len);
	if (sshagent_client_extension(sshagent_conn_data(c), req->u.extension.name,
	                              req->u.extension.data.data, req->u.extension.data.len, &out,
	                              &len, why) != SSHAGENT_OK)
		return refused(why);
	fprintf(stderr, "<- EXTENSION_RESPONSE, %zu bytes\n", len);
	rc = sshagent_reply_extension(r, out, len);
	free(out);
	return rc;
}

static void put_string(uint8_t **p, const struct sshagent_bytes *b)
{
	(*p)[0] = (uint8_t)(b->len >> 24);
	(*p)[1] = (uint8_t)(b->len >> 16);
	(*p)[2] = (uint8_t)(b->len >> 8);
	(*p)[3] = (uint8_t)b->len;
	memcpy(*p + 4, b->data, b->len);
	*p += 4 + b->len;
}

/* The library verified the binding; the upstream agent must know of it too. */
static int dump_bind(void *ctx, struct sshagent_conn *c, const struct sshagent_binding *b,
                     struct sshagent_reason *why)
{
	size_t len = 12 + b->hostkey.len + b->session_id.len + b->signature.len + 1;
	uint8_t *body = malloc(len), *p = body, *out = NULL;
	size_t out_len;
	int rc;

	(void)ctx;
	fprintf(stderr, "-> session-bind@openssh.com: host key %s%s (verified here)\n",
	        b->fingerprint, b->forwarding ? ", forwarding" : "");
	if (body == NULL)
		return sshagent_refuse(why, SSHAGENT_ERR_ALLOC, "out of memory");
	put_string(&p, &b->hostkey);
	put_string(&p, &b->session_id);
	put_string(&p, &b->signature);
	*p = (uint8_t)(b->forwarding != 0);
	rc = sshagent_client_extension(sshagent_conn_data(c), "session-bind@openssh.com", body,
	                               len, &out, &out_len, why);
	fprintf(stderr, "<- %s\n", rc == SSHAGENT_OK ? "SUCCESS" : why->text);
	free(body);
	free(out);
	return rc;
}

static const struct sshagent_ops dump_ops = {
	.open = dump_open, .close = dump_close, .list = dump_list, .sign = dump_sign,
	.change_keys = dump_forward, .lock = dump_forward, .extension = dump_extension,
	.session_bind = dump_bind,
};

int main(int argc, char **argv)
{
	struct sshagent_server_options opt = { .listen_fd = -1, .quit = &quit };
	struct sshagent_reason why;

	if (argc != 2 || (upstream = getenv("SSH_AUTH_SOCK")) == NULL) {
		fprintf(stderr, "usage: SSH_AUTH_SOCK=UPSTREAM sshagent-dump SOCKET\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	opt.path = argv[1];
	/* Key changes go upstream, where that agent's own rules decide. */
	opt.forwarded_may_change_keys = 1;
	if (sshagent_serve(&dump_ops, NULL, &opt, &why) != SSHAGENT_OK) {
		fprintf(stderr, "sshagent-dump: %s\n", why.text);
		return 1;
	}
	return 0;
}
