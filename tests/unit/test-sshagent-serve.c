/*
 * sshagent_serve() in-process, with a test implementation of the operations: in-memory
 * Ed25519 keys signing with OpenSSL, no tokens. Framing, caps, session-bind and its veto,
 * a detached extension connection, a handed-in fd, a stalled or slow client not blocking
 * another, and refusal reasons.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent-client.h"
#include "agent-proto.h"
#include "check.h"
#include "sshagent.h"
#include "sshkey.h"
#include "sshpub.h"

#define NKEYS 2
#define MAX_CONNS 6

struct test_agent {
	EVP_PKEY *key[NKEYS];
	uint8_t blob[NKEYS][51];        /* string "ssh-ed25519", string pk */
	char veto[SSHKEY_FP_LEN];       /* a host key fingerprint session_bind refuses */
	pthread_mutex_t lock;
	char refused[SSHAGENT_REASON_MAX + 64];
	int opened, closed;
	volatile sig_atomic_t quit;
};

static void ed25519_blob(EVP_PKEY *k, uint8_t out[51])
{
	uint8_t pk[32];
	size_t len = sizeof(pk);
	struct wbuf b;

	wbuf_init(&b, 64);
	if (EVP_PKEY_get_raw_public_key(k, pk, &len) != 1 ||
	    wbuf_put_cstring(&b, "ssh-ed25519") != ERR_OK || wbuf_put_string(&b, pk, 32) != ERR_OK ||
	    wbuf_avail(&b) != 51)
		abort();
	memcpy(out, wbuf_ptr(&b), 51);
	wbuf_free(&b);
}

/* An SSH Ed25519 signature blob over `data`. */
static void ed25519_sign(EVP_PKEY *k, const uint8_t *data, size_t len, struct wbuf *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t sig[64];
	size_t sig_len = sizeof(sig);

	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestSign(ctx, sig, &sig_len, data, len) != 1 ||
	    wbuf_put_cstring(out, "ssh-ed25519") != ERR_OK ||
	    wbuf_put_string(out, sig, sig_len) != ERR_OK)
		abort();
	EVP_MD_CTX_free(ctx);
}

static void *op_open(void *ctx, struct sshagent_conn *c)
{
	struct test_agent *t = ctx;

	(void)c;
	pthread_mutex_lock(&t->lock);
	t->opened++;
	pthread_mutex_unlock(&t->lock);
	return t;
}

static void op_close(void *ctx, struct sshagent_conn *c)
{
	struct test_agent *t = ctx;

	(void)c;
	pthread_mutex_lock(&t->lock);
	t->closed++;
	pthread_mutex_unlock(&t->lock);
}

static int op_list(void *ctx, struct sshagent_conn *c, struct sshagent_reply *r,
                   struct sshagent_reason *why)
{
	struct test_agent *t = ctx;
	char comment[16];

	(void)c;
	for (int i = 0; i < NKEYS; i++) {
		snprintf(comment, sizeof(comment), "key%d", i);
		if (sshagent_reply_identity(r, t->blob[i], 51, comment) != SSHAGENT_OK)
			return sshagent_refuse(why, SSHAGENT_ERR_ALLOC, "reply too long");
	}
	return SSHAGENT_OK;
}

static int op_sign(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
                   struct sshagent_reply *r, struct sshagent_reason *why)
{
	struct test_agent *t = ctx;
	struct wbuf sig;
	int rc;

	(void)c;
	for (int i = 0; i < NKEYS; i++) {
		if (req->u.sign.key.len != 51 || memcmp(req->u.sign.key.data, t->blob[i], 51) != 0)
			continue;
		/* A slow token: one second for this data. */
		if (agent_bytes_eq(req->u.sign.data, "slow"))
			sleep(1);
		wbuf_init(&sig, 256);
		ed25519_sign(t->key[i], req->u.sign.data.data, req->u.sign.data.len, &sig);
		rc = sshagent_reply_signature(r, wbuf_ptr(&sig), wbuf_avail(&sig));
		wbuf_free(&sig);
		return rc;
	}
	return sshagent_refuse(why, SSHAGENT_ERR_KEY_NOT_FOUND, "test agent: no such key");
}

static unsigned detach_asked, detach_calls, detach_failed;     /* atomic */

/* Takes over the fd: says so, echoes what the client had sent after the request, closes.
 * Counts its calls, and those for a connection that failed before the hand-over. */
static void detached(void *arg, int fd, const uint8_t *pending, size_t len)
{
	(void)arg;
	__atomic_add_fetch(&detach_calls, 1, __ATOMIC_SEQ_CST);
	if (fd < 0) {
		__atomic_add_fetch(&detach_failed, 1, __ATOMIC_SEQ_CST);
		return;
	}
	/* A client that already left makes these fail: nothing to tell it then. */
	if (send(fd, "detached:", 9, MSG_NOSIGNAL) == 9 && len > 0)
		(void)!send(fd, pending, len, MSG_NOSIGNAL);
	close(fd);
}

static int op_extension(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
                        struct sshagent_reply *r, struct sshagent_reason *why)
{
	uint8_t count[4] = { 0, 0, 0, (uint8_t)sshagent_conn_bindings(c) };

	(void)ctx;
	if (strcmp(req->u.extension.name, "bindings@test") == 0)
		return sshagent_reply_extension(r, count, sizeof(count));
	if (strcmp(req->u.extension.name, "last-refusal@test") == 0)
		return sshagent_reply_extension(r, (const uint8_t *)sshagent_conn_last_refusal(c),
		                                strlen(sshagent_conn_last_refusal(c)));
	if (strcmp(req->u.extension.name, "detach@test") == 0) {
		__atomic_add_fetch(&detach_asked, 1, __ATOMIC_SEQ_CST);
		return sshagent_conn_detach(c, detached, NULL);
	}
	return sshagent_refuse(why, SSHAGENT_ERR_UNSUPPORTED, "no extension %s",
	                       req->u.extension.name);
}

static int op_session_bind(void *ctx, struct sshagent_conn *c, const struct sshagent_binding *b,
                           struct sshagent_reason *why)
{
	struct test_agent *t = ctx;

	(void)c;
	if (strcmp(b->fingerprint, t->veto) == 0)
		return sshagent_refuse(why, SSHAGENT_ERR_DENIED, "test veto on %s", b->fingerprint);
	return SSHAGENT_OK;
}

static void op_refused(void *ctx, struct sshagent_conn *c, const char *what,
                       const struct sshagent_reason *why)
{
	struct test_agent *t = ctx;

	(void)c;
	pthread_mutex_lock(&t->lock);
	snprintf(t->refused, sizeof(t->refused), "%s: %s", what, why->text);
	pthread_mutex_unlock(&t->lock);
}

static int op_tick(void *ctx)
{
	return ((struct test_agent *)ctx)->quit;
}

static const char *const test_extensions[] = { "bindings@test", "detach@test", NULL };

static const struct sshagent_ops ops = {
	.open = op_open, .close = op_close, .list = op_list, .sign = op_sign,
	.extension = op_extension, .session_bind = op_session_bind, .refused = op_refused,
	.tick = op_tick, .extensions = test_extensions,
};

static struct test_agent agent;
static struct sshagent_server_options options;
static char sock_path[128];
static int serve_result = -100;

static void *serve_thread(void *arg)
{
	struct sshagent_reason why;

	(void)arg;
	serve_result = sshagent_serve(&ops, &agent, &options, &why);
	return NULL;
}

static int refused_says(const char *text)
{
	int found;

	for (int i = 0; i < 50; i++) {
		pthread_mutex_lock(&agent.lock);
		found = strstr(agent.refused, text) != NULL;
		pthread_mutex_unlock(&agent.lock);
		if (found)
			return 1;
		usleep(20000);
	}
	return 0;
}

/* Waits until the server has let go of every connection so far (at most two seconds). */
static void wait_idle(void)
{
	int idle = 0;

	for (int i = 0; i < 100 && !idle; i++) {
		pthread_mutex_lock(&agent.lock);
		idle = agent.opened == agent.closed;
		pthread_mutex_unlock(&agent.lock);
		if (!idle)
			usleep(20000);
	}
}

/* Whether the server closed `fd`: EOF within two seconds. */
static int closed_by_server(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;

	return poll(&p, 1, 2000) == 1 && recv(fd, &c, 1, 0) == 0;
}

static void send_raw(int fd, const void *p, size_t n)
{
	if (send(fd, p, n, MSG_NOSIGNAL) != (ssize_t)n)
		abort();
}

static void test_list_sign_query(void)
{
	struct sshagent_client *cl = sshagent_client_connect(sock_path, NULL);
	struct sshagent_identity *ids = NULL;
	struct sshagent_reason why;
	struct sshpub pub;
	uint8_t *sig = NULL, *out = NULL;
	size_t n = 0, sig_len = 0, out_len = 0;

	CHECK(cl != NULL, "connect");
	CHECK(sshagent_client_list(cl, &ids, &n, &why) == SSHAGENT_OK && n == NKEYS &&
	      strcmp(ids[1].comment, "key1") == 0 && ids[0].len == 51, "list: %s", why.text);
	CHECK(sshagent_client_sign(cl, agent.blob[0], 51, (const uint8_t *)"hello", 5, 0, &sig,
	                           &sig_len, &why) == SSHAGENT_OK, "sign: %s", why.text);
	CHECK(sshpub_parse(agent.blob[0], 51, &pub) == ERR_OK &&
	      sshpub_verify(&pub, sig, sig_len, (const uint8_t *)"hello", 5) == ERR_OK,
	      "the signature verifies");
	sshpub_free(&pub);
	free(sig);
	CHECK(sshagent_client_sign(cl, (const uint8_t *)"nokey", 5, (const uint8_t *)"x", 1, 0,
	                           &sig, &sig_len, &why) == SSHAGENT_ERR_DENIED,
	      "an unknown key is refused");
	CHECK(refused_says("sign: test agent: no such key"), "the refusal reached the callback");
	CHECK(sshagent_client_extension(cl, "last-refusal@test", NULL, 0, &out, &out_len,
	                                &why) == SSHAGENT_OK &&
	      out_len > 0 && memmem(out, out_len, "KeyNotFound: test agent: no such key",
	                            36) != NULL, "the connection's last refusal names the reason");
	free(out);
	CHECK(sshagent_client_extension(cl, "query", NULL, 0, &out, &out_len, &why) ==
	      SSHAGENT_OK && memmem(out, out_len, "session-bind@openssh.com", 24) != NULL &&
	      memmem(out, out_len, "detach@test", 11) != NULL, "query lists both sets");
	free(out);
	CHECK(sshagent_client_lock(cl, 1, "pw", &why) == SSHAGENT_ERR_DENIED &&
	      refused_says("lock: lock is not supported by this agent"),
	      "an operation the table lacks is refused as unsupported");
	{
		static const uint8_t sk[] = { 0, 0, 0, 26, 's', 'k', '-', 's', 's', 'h', '-', 'e', 'd',
		                              '2', '5', '5', '1', '9', '@', 'o', 'p', 'e', 'n', 's',
		                              's', 'h', '.', 'c', 'o', 'm' };

		CHECK(sshagent_client_add(cl, sk, sizeof(sk), NULL, 0, &why) != SSHAGENT_OK &&
		      refused_says("key type sk-ssh-ed25519@openssh.com is not supported (security "
		                   "keys and post-quantum keys are not)"),
		      "a security key is refused with a reason naming its type");
	}
	sshagent_identities_free(ids, n);
	sshagent_client_close(cl);
}

static void test_framing_and_caps(void)
{
	static const uint8_t huge[] = { 0x00, 0x04, 0x00, 0x01, 11 };      /* 256 KiB + 1 */
	static const uint8_t unknown[] = { 0, 0, 0, 1, 99 };
	int fds[MAX_CONNS + 1];
	struct wbuf req, body;
	int fd = agent_client_connect(sock_path);

	send_raw(fd, huge, sizeof(huge));
	CHECK(closed_by_server(fd), "a message over 256 KiB closes the connection");
	CHECK(refused_says("message length over 262144 bytes"), "and says why");
	close(fd);

	fd = agent_client_connect(sock_path);
	wbuf_init(&req, 16);
	wbuf_init(&body, 1024);
	if (wbuf_put_bytes(&req, unknown, sizeof(unknown)) != ERR_OK)
		abort();
	CHECK(agent_client_request(fd, &req, &body) == SSHAGENT_FAILURE &&
	      refused_says("request: unknown message type 99"), "an unknown type: FAILURE, why");
	CHECK(agent_client_request(fd, &req, &body) == SSHAGENT_FAILURE,
	      "the connection stays usable");
	wbuf_free(&req);
	wbuf_free(&body);
	close(fd);

	wait_idle();     /* the cap counts connections the loop has not reaped yet */
	for (int i = 0; i <= MAX_CONNS; i++)
		fds[i] = agent_client_connect(sock_path);
	CHECK(closed_by_server(fds[MAX_CONNS]), "connection %d of %d is closed", MAX_CONNS + 1,
	      MAX_CONNS);
	CHECK(refused_says("connection: from pid"), "the cap is reported");
	for (int i = 0; i <= MAX_CONNS; i++)
		close(fds[i]);
	usleep(300000);         /* the loop notices the closed ones */
}

/* A session-bind body for host key `k` over `sid`, signed by `signer`, a forwarding hop. */
static void bind_body(EVP_PKEY *k, EVP_PKEY *signer, const char *sid, struct wbuf *b)
{
	uint8_t blob[51];
	struct wbuf sig;

	ed25519_blob(k, blob);
	wbuf_init(&sig, 256);
	ed25519_sign(signer, (const uint8_t *)sid, strlen(sid), &sig);
	if (wbuf_put_string(b, blob, 51) != ERR_OK || wbuf_put_cstring(b, sid) != ERR_OK ||
	    wbuf_put_stringb(b, &sig) != ERR_OK || wbuf_put_u8(b, 1) != ERR_OK)
		abort();
	wbuf_free(&sig);
}

static int bind_count(struct sshagent_client *cl)
{
	struct sshagent_reason why;
	uint8_t *out = NULL;
	size_t len = 0;
	int n = -1;

	if (sshagent_client_extension(cl, "bindings@test", NULL, 0, &out, &len, &why) ==
	    SSHAGENT_OK && len == 4)
		n = out[3];
	free(out);
	return n;
}

static void test_session_bind(void)
{
	EVP_PKEY *host = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct sshagent_client *cl = sshagent_client_connect(sock_path, NULL);
	struct sshagent_reason why;
	uint8_t *out = NULL, blob[51];
	size_t len = 0;
	struct sshpub pub;
	struct wbuf b;

	wbuf_init(&b, 1024);
	bind_body(host, other, "session-1", &b);
	CHECK(sshagent_client_extension(cl, "session-bind@openssh.com", wbuf_ptr(&b),
	                                wbuf_avail(&b), &out, &len, &why) != SSHAGENT_OK &&
	      bind_count(cl) == 0, "a binding signed by another key is refused");
	wbuf_reset(&b);
	bind_body(host, host, "session-1", &b);
	CHECK(sshagent_client_extension(cl, "session-bind@openssh.com", wbuf_ptr(&b),
	                                wbuf_avail(&b), &out, &len, &why) == SSHAGENT_OK &&
	      bind_count(cl) == 1, "a verified binding is recorded: %s", why.text);
	free(out);
	CHECK(sshagent_client_remove_all(cl, &why) != SSHAGENT_OK &&
	      refused_says("remove all identities: adding or removing keys is refused"),
	      "a bound connection may not change keys");

	ed25519_blob(other, blob);
	if (sshpub_parse(blob, 51, &pub) != ERR_OK)
		abort();
	snprintf(agent.veto, sizeof(agent.veto), "%s", pub.fingerprint);
	sshpub_free(&pub);
	wbuf_reset(&b);
	bind_body(other, other, "session-2", &b);
	CHECK(sshagent_client_extension(cl, "session-bind@openssh.com", wbuf_ptr(&b),
	                                wbuf_avail(&b), &out, &len, &why) != SSHAGENT_OK &&
	      refused_says("test veto on SHA256:") && bind_count(cl) == 1,
	      "the implementation's veto keeps the binding out");
	wbuf_free(&b);
	sshagent_client_close(cl);
	EVP_PKEY_free(host);
	EVP_PKEY_free(other);
}

/* One detach: the request, then the bytes of the new protocol; what came back. */
static size_t detach_once(char *got, size_t size)
{
	/* The request and, right behind it in the same write, bytes of the new protocol. */
	static const uint8_t ext[] = { 0, 0, 0, 16, 27, 0, 0, 0, 11, 'd', 'e', 't', 'a', 'c', 'h',
	                               '@', 't', 'e', 's', 't', 'R', 'A', 'W' };
	size_t n = 0;
	ssize_t r;
	int fd = agent_client_connect(sock_path);

	send_raw(fd, ext, sizeof(ext));
	while (n < size - 1 && (r = recv(fd, got + n, size - 1 - n, 0)) > 0)
		n += (size_t)r;
	close(fd);
	return n;
}

/*
 * Regression: when the client left before the reply was out, the handler was never
 * called, and what the extension had set aside for the connection (a guarded session and
 * its place among the eight) was lost. Now it is called once, with fd -1.
 */
static void test_detach_client_gone(void)
{
	static const uint8_t ext[] = { 0, 0, 0, 16, 27, 0, 0, 0, 11, 'd', 'e', 't', 'a', 'c', 'h',
	                               '@', 't', 'e', 's', 't' };
	unsigned asked = 0, calls = 0;

	for (int i = 0; i < 50; i++) {
		int fd = agent_client_connect(sock_path);

		send_raw(fd, ext, sizeof(ext));
		close(fd);
	}
	/* Some requests are never dispatched (the client's close is seen first); each one
	 * that was gets its call. */
	usleep(200000);
	for (int tries = 0; tries < 500; tries++) {
		asked = __atomic_load_n(&detach_asked, __ATOMIC_SEQ_CST);
		calls = __atomic_load_n(&detach_calls, __ATOMIC_SEQ_CST);
		if (calls == asked)
			break;
		usleep(10000);
	}
	CHECK(calls == asked && __atomic_load_n(&detach_failed, __ATOMIC_SEQ_CST) > 0,
	      "a request whose client left still reaches its handler: %u calls for %u requests "
	      "(%u with no connection left)", calls, asked,
	      __atomic_load_n(&detach_failed, __ATOMIC_SEQ_CST));
}

static void test_detach(void)
{
	char got[64] = "";
	size_t n = detach_once(got, sizeof(got));

	/* SUCCESS (length 1, type 6), then the extension's own bytes, then its close. */
	CHECK(n == 5 + 9 + 3 && got[4] == SSHAGENT_SUCCESS &&
	      memcmp(got + 5, "detached:RAW", 12) == 0,
	      "the reply, then the detached handler with the pending bytes (%zu bytes)", n);
	/*
	 * Regression: the loop judged a connection by flags its worker was already setting,
	 * and freed one a worker still held (use after free, seen under ASan). Many quick
	 * detaches make that race likely; the sanitizer run then fails.
	 */
	for (int i = 0; i < 200; i++)
		CHECK(detach_once(got, sizeof(got)) == 17, "detach %d", i);
	test_detach_client_gone();
}

struct timed_call {
	int slow;
	double seconds;
};

static void *timed_sign(void *arg)
{
	struct timed_call *t = arg;
	struct sshagent_client *cl = sshagent_client_connect(sock_path, NULL);
	struct sshagent_identity *ids = NULL;
	struct sshagent_reason why;
	struct timespec a, b;
	uint8_t *sig = NULL;
	size_t len = 0, n = 0;

	t->seconds = -1;        /* no connection: both checks below fail */
	if (cl == NULL)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (t->slow)
		(void)!sshagent_client_sign(cl, agent.blob[1], 51, (const uint8_t *)"slow", 4, 0,
		                            &sig, &len, &why);
	else
		(void)!sshagent_client_list(cl, &ids, &n, &why);
	clock_gettime(CLOCK_MONOTONIC, &b);
	t->seconds = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	free(sig);
	sshagent_identities_free(ids, n);
	sshagent_client_close(cl);
	return NULL;
}

static void test_no_head_of_line(void)
{
	static const uint8_t half[] = { 0, 0, 0, 40, 13, 0, 0 };
	struct timed_call slow = { 1, 0 }, quick = { 0, 0 };
	pthread_t ts, tq;
	int stalled = agent_client_connect(sock_path);

	send_raw(stalled, half, sizeof(half));          /* and never the rest */
	pthread_create(&ts, NULL, timed_sign, &slow);
	usleep(100000);
	pthread_create(&tq, NULL, timed_sign, &quick);
	pthread_join(tq, NULL);
	pthread_join(ts, NULL);
	CHECK(slow.seconds >= 0.9, "the slow signature took its second (%.2f s)", slow.seconds);
	CHECK(quick.seconds >= 0 && quick.seconds < 0.5, "a list beside a stalled and a slow client took %.3f s",
	      quick.seconds);
	close(stalled);
}

int main(void)
{
	struct sshagent_reason why;
	char dir[] = "/tmp/sshagent-test-XXXXXX";
	pthread_t server;

	pthread_mutex_init(&agent.lock, NULL);
	for (int i = 0; i < NKEYS; i++) {
		if ((agent.key[i] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
			abort();
		ed25519_blob(agent.key[i], agent.blob[i]);
	}
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", dir);
	/* Served on a listening fd handed in, as systemd socket activation does. */
	options.listen_fd = sshagent_listen(sock_path, &why);
	options.max_connections = MAX_CONNS;
	options.workers = 4;
	options.quit = &agent.quit;
	CHECK(options.listen_fd >= 0, "listen: %s", why.text);
	pthread_create(&server, NULL, serve_thread, NULL);

	test_list_sign_query();
	test_framing_and_caps();
	test_session_bind();
	test_detach();
	test_no_head_of_line();

	agent.quit = 1;
	pthread_join(server, NULL);
	CHECK(serve_result == SSHAGENT_OK, "sshagent_serve returned %d", serve_result);
	CHECK(agent.opened == agent.closed && agent.opened > MAX_CONNS,
	      "every opened connection was closed (%d opened, %d closed)", agent.opened,
	      agent.closed);
	close(options.listen_fd);
	unlink(sock_path);
	rmdir(dir);
	for (int i = 0; i < NKEYS; i++)
		EVP_PKEY_free(agent.key[i]);
	CHECK_DONE();
}
