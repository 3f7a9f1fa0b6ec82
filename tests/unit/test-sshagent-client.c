/* Unit tests for src/sshagent/client.c: well-formed and malformed agent replies. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent-proto.h"
#include "check.h"
#include "client-fd.h"
#include "err.h"

/* The agent's end: it has answered and sends no more, but still takes the request. */
static int agent_end = -1;

/* A client whose agent answers with the framed `body` and then stops sending. */
static struct sshagent_client *answering(const struct wbuf *body, int framed)
{
	struct sshagent_client *cl;
	struct wbuf out;
	int sv[2];

	if (agent_end >= 0)
		close(agent_end);

	wbuf_init(&out, 1 << 20);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    (framed && wbuf_put_u32(&out, (uint32_t)wbuf_avail(body)) != ERR_OK) ||
	    wbuf_put_bytes(&out, wbuf_ptr(body), wbuf_avail(body)) != ERR_OK ||
	    write(sv[1], wbuf_ptr(&out), wbuf_avail(&out)) != (ssize_t)wbuf_avail(&out) ||
	    (cl = client_adopt_fd(sv[0])) == NULL)
		abort();
	shutdown(sv[1], SHUT_WR);
	agent_end = sv[1];
	wbuf_free(&out);
	return cl;
}

static int list(const struct wbuf *body, int framed, size_t *n)
{
	struct sshagent_client *cl = answering(body, framed);
	struct sshagent_identity *ids = NULL;
	struct sshagent_reason why;
	int r = sshagent_client_list(cl, &ids, n, &why);

	sshagent_identities_free(ids, *n);
	sshagent_client_close(cl);
	return r;
}

static void test_identities(void)
{
	struct wbuf b;
	size_t n = 0, whole;

	wbuf_init(&b, 1 << 20);
	if (wbuf_put_u8(&b, SSHAGENT_IDENTITIES_ANSWER) != ERR_OK || wbuf_put_u32(&b, 2) != ERR_OK ||
	    wbuf_put_cstring(&b, "blob1") != ERR_OK || wbuf_put_cstring(&b, "one") != ERR_OK ||
	    wbuf_put_cstring(&b, "blob2") != ERR_OK || wbuf_put_cstring(&b, "two") != ERR_OK)
		abort();
	CHECK(list(&b, 1, &n) == SSHAGENT_OK && n == 2, "two identities");
	whole = wbuf_avail(&b);
	for (size_t len = 1; len < whole; len++) {
		struct wbuf cut;

		wbuf_view(&cut, wbuf_ptr(&b), len);
		CHECK(list(&cut, 1, &n) != SSHAGENT_OK && n == 0, "a list cut at %zu bytes", len);
	}
	if (wbuf_put_u8(&b, 0) != ERR_OK)
		abort();
	CHECK(list(&b, 1, &n) == SSHAGENT_ERR_FORMAT, "a trailing byte");
	wbuf_reset(&b);
	if (wbuf_put_u8(&b, SSHAGENT_IDENTITIES_ANSWER) != ERR_OK ||
	    wbuf_put_u32(&b, 100000) != ERR_OK)
		abort();
	CHECK(list(&b, 1, &n) == SSHAGENT_ERR_LIMIT, "a count over the cap");
	wbuf_reset(&b);
	if (wbuf_put_u8(&b, SSHAGENT_FAILURE) != ERR_OK)
		abort();
	CHECK(list(&b, 1, &n) == SSHAGENT_ERR_DENIED, "FAILURE is a refusal");
	wbuf_reset(&b);
	if (wbuf_put_u32(&b, SSHAGENT_MAX_MESSAGE + 1) != ERR_OK)
		abort();
	CHECK(list(&b, 0, &n) == SSHAGENT_ERR_SYSTEM, "a frame over 256 KiB is not read");
	wbuf_free(&b);
}

static void test_sign_and_extension(void)
{
	struct sshagent_client *cl;
	struct sshagent_reason why;
	uint8_t *out = NULL;
	size_t len = 0;
	struct wbuf b;

	wbuf_init(&b, 4096);
	if (wbuf_put_u8(&b, SSHAGENT_SIGN_RESPONSE) != ERR_OK || wbuf_put_cstring(&b, "sig") != ERR_OK)
		abort();
	cl = answering(&b, 1);
	CHECK(sshagent_client_sign(cl, (const uint8_t *)"k", 1, (const uint8_t *)"d", 1, 0, &out,
	                           &len, &why) == SSHAGENT_OK && len == 3 && memcmp(out, "sig", 3) == 0,
	      "a signature");
	free(out);
	sshagent_client_close(cl);
	if (wbuf_put_u8(&b, 1) != ERR_OK)
		abort();
	cl = answering(&b, 1);
	CHECK(sshagent_client_sign(cl, (const uint8_t *)"k", 1, (const uint8_t *)"d", 1, 0, &out,
	                           &len, &why) == SSHAGENT_ERR_FORMAT, "a signature and a trailing byte");
	sshagent_client_close(cl);

	wbuf_reset(&b);
	if (wbuf_put_u8(&b, SSHAGENT_EXTENSION_RESPONSE) != ERR_OK ||
	    wbuf_put_cstring(&b, "other@example.com") != ERR_OK)
		abort();
	cl = answering(&b, 1);
	CHECK(sshagent_client_extension(cl, "query", NULL, 0, &out, &len, &why) ==
	      SSHAGENT_ERR_FORMAT, "a response naming another extension");
	sshagent_client_close(cl);
	wbuf_reset(&b);
	if (wbuf_put_u8(&b, SSHAGENT_EXTENSION_FAILURE) != ERR_OK)
		abort();
	cl = answering(&b, 1);
	CHECK(sshagent_client_extension(cl, "query", NULL, 0, &out, &len, &why) ==
	      SSHAGENT_ERR_UNSUPPORTED, "EXTENSION_FAILURE: unsupported");
	sshagent_client_close(cl);
	wbuf_free(&b);
}

int main(void)
{
	test_identities();
	test_sign_and_extension();
	CHECK_DONE();
}
