/* Unit tests for src/agent-proto.c: framing caps, every message truncated, constraints. */
#include "agent-proto.h"
#include "check.h"
#include "err.h"

static void test_framing(void)
{
	static const uint8_t over[] = { 0x00, 0x04, 0xb0, 0x00, 11 };     /* 300 KiB */
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	static const uint8_t partial[] = { 0, 0, 0, 5, 11, 1 };
	static const uint8_t two[] = { 0, 0, 0, 1, 11, 0, 0, 0, 1, 19 };
	struct wbuf in, msg;
	uint8_t t;

	wbuf_view(&in, over, sizeof(over));
	CHECK(agent_frame_take(&in, &msg) == ERR_TOO_LARGE, "300 KiB length");
	wbuf_view(&in, zero, sizeof(zero));
	CHECK(agent_frame_take(&in, &msg) == ERR_TOO_LARGE, "zero length");
	wbuf_view(&in, partial, sizeof(partial));
	CHECK(agent_frame_take(&in, &msg) == ERR_INCOMPLETE, "half a message");
	CHECK(wbuf_avail(&in) == sizeof(partial), "nothing consumed while incomplete");
	wbuf_view(&in, two, sizeof(two));
	CHECK(agent_frame_take(&in, &msg) == ERR_OK && wbuf_get_u8(&msg, &t) == ERR_OK &&
	      t == 11, "first of two pipelined messages");
	CHECK(agent_frame_take(&in, &msg) == ERR_OK && wbuf_get_u8(&msg, &t) == ERR_OK &&
	      t == 19, "second of two");
}

/* Valid bodies for every request with a body. */
static void build(struct wbuf *b, uint8_t type)
{
	int r = wbuf_put_u8(b, type);

	switch (type) {
	case SSHAGENTC_SIGN_REQUEST:
		r |= wbuf_put_cstring(b, "keyblob") | wbuf_put_cstring(b, "data") |
		     wbuf_put_u32(b, SSHAGENT_SIGN_RSA_SHA2_512);
		break;
	case SSHAGENTC_REMOVE_IDENTITY:
		r |= wbuf_put_cstring(b, "keyblob");
		break;
	case SSHAGENTC_ADD_SMARTCARD_KEY:
	case SSHAGENTC_REMOVE_SMARTCARD_KEY:
		r |= wbuf_put_cstring(b, "/usr/lib/x.so") | wbuf_put_cstring(b, "1234");
		break;
	case SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED:
		r |= wbuf_put_cstring(b, "/usr/lib/x.so") | wbuf_put_cstring(b, "1234") |
		     wbuf_put_u8(b, AGENT_CONSTRAIN_LIFETIME) | wbuf_put_u32(b, 60) |
		     wbuf_put_u8(b, AGENT_CONSTRAIN_CONFIRM) |
		     wbuf_put_u8(b, AGENT_CONSTRAIN_EXTENSION) |
		     wbuf_put_cstring(b, "restrict-destination-v00@openssh.com") |
		     wbuf_put_cstring(b, "constraint");
		break;
	case SSHAGENTC_LOCK:
	case SSHAGENTC_UNLOCK:
		r |= wbuf_put_cstring(b, "passphrase");
		break;
	case SSHAGENTC_EXTENSION:
		r |= wbuf_put_cstring(b, "query");
		break;
	}
	if (r != ERR_OK)
		abort();
}

static void test_valid_and_truncated(void)
{
	static const uint8_t types[] = {
		SSHAGENTC_SIGN_REQUEST, SSHAGENTC_REMOVE_IDENTITY, SSHAGENTC_ADD_SMARTCARD_KEY,
		SSHAGENTC_REMOVE_SMARTCARD_KEY, SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED, SSHAGENTC_LOCK,
		SSHAGENTC_UNLOCK,
	};
	struct sshagent_request req;
	struct wbuf b, m;

	for (size_t i = 0; i < sizeof(types); i++) {
		wbuf_init(&b, 4096);
		build(&b, types[i]);
		wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
		CHECK(agent_request_parse(&m, &req) == ERR_OK && req.type == types[i],
		      "type %u parses", types[i]);
		/* Every strict prefix must be refused, never half-read. (Constraints are
		 * optional, so a constrained add cut between two of them is a valid message.) */
		for (size_t len = 1; len < wbuf_avail(&b) &&
		     types[i] != SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED; len++) {
			wbuf_view(&m, wbuf_ptr(&b), len);
			CHECK(agent_request_parse(&m, &req) != ERR_OK,
			      "type %u cut at %zu bytes is refused", types[i], len);
		}
		if (wbuf_put_u8(&b, 0) != ERR_OK)
			abort();
		wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
		CHECK(agent_request_parse(&m, &req) != ERR_OK || types[i] == SSHAGENTC_EXTENSION,
		      "type %u with a trailing byte is refused", types[i]);
		wbuf_free(&b);
	}
}

static void test_fields(void)
{
	struct sshagent_request req;
	struct wbuf b, m;

	wbuf_init(&b, 4096);
	build(&b, SSHAGENTC_SIGN_REQUEST);
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	CHECK(agent_request_parse(&m, &req) == ERR_OK && req.u.sign.flags == 4 &&
	      agent_bytes_eq(req.u.sign.data, "data"), "sign request fields");
	wbuf_reset(&b);
	build(&b, SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED);
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	CHECK(agent_request_parse(&m, &req) == ERR_OK, "constrained add");
	CHECK(req.u.smartcard.constraints.lifetime == 60 && req.u.smartcard.constraints.confirm &&
	      req.u.smartcard.constraints.n_other == 0 &&
	      agent_bytes_eq(req.u.smartcard.constraints.restrict_destination, "constraint"),
	      "constraints read");
	/* Cuts inside a constraint: in the lifetime, and in the extension's name and data. */
	for (size_t len = 27; len < wbuf_avail(&b) - 1; len++) {
		if (len == 31 || len == 32)
			continue;       /* after the lifetime, after confirm: valid messages */
		wbuf_view(&m, wbuf_ptr(&b), len);
		CHECK(agent_request_parse(&m, &req) != ERR_OK, "constrained add cut at %zu", len);
	}
	wbuf_free(&b);
}

static void test_bad_constraints(void)
{
	struct sshagent_request req;
	struct wbuf b, m;
	int r;

	wbuf_init(&b, 4096);
	r = wbuf_put_u8(&b, SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED) | wbuf_put_cstring(&b, "/m") |
	    wbuf_put_cstring(&b, "") | wbuf_put_u8(&b, AGENT_CONSTRAIN_CONFIRM) |
	    wbuf_put_u8(&b, AGENT_CONSTRAIN_CONFIRM);
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	CHECK(r == ERR_OK && agent_request_parse(&m, &req) == ERR_FORMAT, "confirm twice");
	wbuf_reset(&b);
	r = wbuf_put_u8(&b, SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED) | wbuf_put_cstring(&b, "/m") |
	    wbuf_put_cstring(&b, "") | wbuf_put_u8(&b, 77);
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	CHECK(r == ERR_OK && agent_request_parse(&m, &req) == ERR_UNSUPPORTED,
	      "unknown constraint type");
	wbuf_reset(&b);
	r = wbuf_put_u8(&b, SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED) | wbuf_put_cstring(&b, "/m") |
	    wbuf_put_cstring(&b, "");
	for (int i = 0; i < SSHAGENT_MAX_CONSTRAINT_EXTENSIONS + 1; i++) {
		char name[32];

		snprintf(name, sizeof(name), "ext%d@example.com", i);
		r |= wbuf_put_u8(&b, AGENT_CONSTRAIN_EXTENSION) | wbuf_put_cstring(&b, name);
	}
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	/* An unknown extension swallows the rest, so nine names still parse as one. */
	CHECK(r == ERR_OK && agent_request_parse(&m, &req) == ERR_OK &&
	      req.u.smartcard.constraints.n_other == 1 &&
	      agent_bytes_eq(req.u.smartcard.constraints.other[0], "ext0@example.com"),
	      "unknown extension takes the rest");
	wbuf_reset(&b);
	r = wbuf_put_u8(&b, SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED) | wbuf_put_cstring(&b, "/m") |
	    wbuf_put_cstring(&b, "") | wbuf_put_u8(&b, AGENT_CONSTRAIN_EXTENSION) |
	    wbuf_put_cstring(&b, AGENT_EXT_ASSOCIATED_CERTS) | wbuf_put_u8(&b, 1) |
	    wbuf_put_cstring(&b, "certs");
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	CHECK(r == ERR_OK && agent_request_parse(&m, &req) == ERR_OK &&
	      req.u.smartcard.constraints.has_associated_certs &&
	      req.u.smartcard.constraints.certs_only &&
	      agent_bytes_eq(req.u.smartcard.constraints.certs, "certs"), "associated certs");
	r = wbuf_put_u8(&b, AGENT_CONSTRAIN_EXTENSION) |
	    wbuf_put_cstring(&b, AGENT_EXT_ASSOCIATED_CERTS) | wbuf_put_u8(&b, 0) |
	    wbuf_put_cstring(&b, "more");
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	CHECK(r == ERR_OK && agent_request_parse(&m, &req) == ERR_FORMAT, "associated certs twice");
	wbuf_free(&b);
}

/* ADD_IDENTITY bodies for each key type (fields are not keys: the parser checks shape). */
static void put_private(struct wbuf *b, const char *type, int constrained)
{
	static const uint8_t one[] = { 1 }, q256[65] = { 4 }, pk[32] = { 7 }, sk[64] = { 9 };
	int r = wbuf_put_u8(b, constrained ? SSHAGENTC_ADD_ID_CONSTRAINED : SSHAGENTC_ADD_IDENTITY) |
	        wbuf_put_cstring(b, type);

	if (strstr(type, "-cert-") != NULL)
		r |= wbuf_put_cstring(b, "certificate blob");
	if (strncmp(type, "ssh-rsa", 7) == 0) {
		for (int i = strstr(type, "-cert-") ? 2 : 0; i < 6; i++)
			r |= wbuf_put_mpint_unsigned(b, one, 1);
	} else if (strncmp(type, "ecdsa", 5) == 0) {
		if (strstr(type, "-cert-") == NULL)
			r |= wbuf_put_cstring(b, "nistp256") | wbuf_put_string(b, q256, sizeof(q256));
		r |= wbuf_put_mpint_unsigned(b, one, 1);
	} else {
		r |= wbuf_put_string(b, pk, sizeof(pk)) | wbuf_put_string(b, sk, sizeof(sk));
	}
	r |= wbuf_put_cstring(b, "me@host");
	if (constrained)
		r |= wbuf_put_u8(b, AGENT_CONSTRAIN_LIFETIME) | wbuf_put_u32(b, 30);
	if (r != ERR_OK)
		abort();
}

static void test_add_identity(void)
{
	static const char *const types[] = {
		"ssh-rsa", "ecdsa-sha2-nistp256", "ssh-ed25519", "ssh-rsa-cert-v01@openssh.com",
		"ecdsa-sha2-nistp256-cert-v01@openssh.com", "ssh-ed25519-cert-v01@openssh.com",
	};
	struct sshagent_request req;
	struct wbuf b, m;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		wbuf_init(&b, 4096);
		put_private(&b, types[i], i % 2);
		wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
		CHECK(agent_request_parse(&m, &req) == ERR_OK && strcmp(req.u.add.key.type, types[i]) == 0 &&
		      agent_bytes_eq(req.u.add.comment, "me@host") &&
		      (strstr(types[i], "-cert-") == NULL) == (req.u.add.key.cert.len == 0) &&
		      req.u.add.constraints.lifetime == (i % 2 ? 30u : 0u), "%s parses", types[i]);
		for (size_t len = 1; len < wbuf_avail(&b) - (i % 2 ? 5 : 0); len++) {
			wbuf_view(&m, wbuf_ptr(&b), len);
			CHECK(agent_request_parse(&m, &req) != ERR_OK, "%s cut at %zu", types[i], len);
		}
		wbuf_free(&b);
	}
	wbuf_init(&b, 4096);
	put_private(&b, "ssh-ed25519", 0);
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	CHECK(agent_request_parse(&m, &req) == ERR_OK && req.u.add.key.ed25519_pk.len == 32 &&
	      req.u.add.key.ed25519_sk.len == 64, "ed25519 fields");
	wbuf_reset(&b);
	if ((wbuf_put_u8(&b, SSHAGENTC_ADD_IDENTITY) |
	     wbuf_put_cstring(&b, "sk-ssh-ed25519@openssh.com") | wbuf_put_cstring(&b, "x")) != ERR_OK)
		abort();
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	CHECK(agent_request_parse(&m, &req) == ERR_UNSUPPORTED, "a security key type is unsupported");
	wbuf_reset(&b);
	if ((wbuf_put_u8(&b, SSHAGENTC_ADD_IDENTITY) | wbuf_put_cstring(&b, "ecdsa-sha2-nistp384") |
	     wbuf_put_cstring(&b, "nistp256") | wbuf_put_cstring(&b, "q") |
	     wbuf_put_cstring(&b, "d") | wbuf_put_cstring(&b, "c")) != ERR_OK)
		abort();
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	CHECK(agent_request_parse(&m, &req) == ERR_FORMAT, "a P-384 key naming P-256 is refused");
	wbuf_reset(&b);
	if ((wbuf_put_u8(&b, SSHAGENTC_ADD_IDENTITY) | wbuf_put_cstring(&b, "ssh-ed25519") |
	     wbuf_put_cstring(&b, "short") | wbuf_put_cstring(&b, "short") |
	     wbuf_put_cstring(&b, "c")) != ERR_OK)
		abort();
	wbuf_view(&m, wbuf_ptr(&b), wbuf_avail(&b));
	CHECK(agent_request_parse(&m, &req) == ERR_FORMAT, "ed25519 fields of the wrong size");
	wbuf_free(&b);
}

/* ssh-add -D sends protocol 1's remove-all (type 9) first; it means remove all. */
static void test_protocol1_remove_all(void)
{
	static const uint8_t v1[] = { 9 };
	struct sshagent_request req;
	struct wbuf m;

	wbuf_view(&m, v1, sizeof(v1));
	CHECK(agent_request_parse(&m, &req) == ERR_OK &&
	      req.type == SSHAGENTC_REMOVE_ALL_IDENTITIES, "type 9 is remove-all");
}

static void test_encode(void)
{
	struct wbuf out, in, msg;
	uint8_t t;
	size_t mark;

	wbuf_init(&out, 1024);
	CHECK(agent_frame_begin(&out, SSHAGENT_SIGN_RESPONSE, &mark) == ERR_OK &&
	      wbuf_put_cstring(&out, "sig") == ERR_OK && agent_frame_end(&out, mark) == ERR_OK,
	      "encode");
	wbuf_view(&in, wbuf_ptr(&out), wbuf_avail(&out));
	CHECK(agent_frame_take(&in, &msg) == ERR_OK && wbuf_get_u8(&msg, &t) == ERR_OK &&
	      t == SSHAGENT_SIGN_RESPONSE && wbuf_avail(&msg) == 7, "framed reply reads back");
	wbuf_free(&out);
}

int main(void)
{
	test_framing();
	test_valid_and_truncated();
	test_fields();
	test_bad_constraints();
	test_add_identity();
	test_protocol1_remove_all();
	test_encode();
	CHECK_DONE();
}
