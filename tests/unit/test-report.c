/* Unit tests for src/cli/cli-report.c: the status and refusal answers, whole and malformed. */
#include "check.h"
#include "cli-report.h"
#include "wire.h"

static void put_u64(struct wbuf *b, uint64_t v)
{
	CHECK(wbuf_put_u64(b, v) == ERR_OK, "u64");
}

static void put_str(struct wbuf *b, const char *s)
{
	CHECK(wbuf_put_cstring(b, s) == ERR_OK, "string %s", s);
}

static void put_u32(struct wbuf *b, uint32_t v)
{
	CHECK(wbuf_put_u32(b, v) == ERR_OK, "u32");
}

static void put_u8(struct wbuf *b, uint8_t v)
{
	CHECK(wbuf_put_u8(b, v) == ERR_OK, "u8");
}

/* A status answer as the agent writes it, with `version` and `present` as given. */
static void status_blob(struct wbuf *b, uint32_t version, uint8_t present)
{
	wbuf_init(b, 4096);
	put_u32(b, version);
	put_u32(b, 4242);
	put_str(b, "/run/user/1000/p11guard/agent.sock");
	put_u64(b, 1764400000);
	put_str(b, "/home/u/.config/p11guard/config.yaml");
	put_u64(b, 1764400001);
	put_str(b, "");
	put_str(b, "/home/u/.config/p11guard/config.yaml");
	put_u32(b, 3);
	put_u8(b, 0);
	put_u32(b, 2);
	put_str(b, "yubikey"); put_u8(b, present); put_str(b, "PIV_II"); put_str(b, "cached");
	put_str(b, "ok");
	put_str(b, "hsm"); put_u8(b, 0); put_str(b, ""); put_str(b, ""); put_str(b, "");
	put_u8(b, 1);
	put_u32(b, 1);
	put_str(b, "0123456789abcdef"); put_str(b, "git.example.com"); put_str(b, "git");
	put_str(b, "git-upload-pack '/srv/app.git'");
}

static void status_whole(void)
{
	struct agent_status st;
	struct reason why;
	struct wbuf b;

	reason_clear(&why);
	status_blob(&b, 2, 1);
	CHECK(status_decode(wbuf_ptr(&b), wbuf_avail(&b), &st, &why) == ERR_OK, "%s", why.text);
	CHECK(st.pid == 4242 && st.rules == 3 && st.locked == 1 && st.builtin == 0, "fields");
	CHECK(st.ntokens == 2 && st.tokens[0].present && strcmp(st.tokens[0].pin, "cached") == 0 &&
	      !st.tokens[1].present && strcmp(st.tokens[1].name, "hsm") == 0, "tokens");
	CHECK(st.config_loaded == 1764400001 && strcmp(st.socket, "/run/user/1000/p11guard/"
	      "agent.sock") == 0, "socket and time");
	CHECK(st.nsessions == 1 && strcmp(st.sessions[0].server, "git.example.com") == 0 &&
	      strcmp(st.sessions[0].command, "git-upload-pack '/srv/app.git'") == 0, "sessions");
	status_free(&st);
	wbuf_free(&b);
}

static void status_malformed(void)
{
	struct agent_status st;
	struct reason why;
	struct wbuf b;
	size_t len;

	status_blob(&b, 2, 1);
	len = wbuf_avail(&b);
	/* Every truncation fails cleanly, and frees what it had read. */
	for (size_t cut = 0; cut < len; cut++) {
		reason_clear(&why);
		CHECK(status_decode(wbuf_ptr(&b), cut, &st, &why) != ERR_OK, "truncated at %zu", cut);
		status_free(&st);
	}
	CHECK(wbuf_put_u8(&b, 0) == ERR_OK, "trailing byte");
	CHECK(status_decode(wbuf_ptr(&b), wbuf_avail(&b), &st, &why) == ERR_FORMAT,
	      "a trailing byte accepted");
	status_free(&st);
	wbuf_free(&b);

	status_blob(&b, 1, 1);
	reason_clear(&why);
	CHECK(status_decode(wbuf_ptr(&b), wbuf_avail(&b), &st, &why) == ERR_UNSUPPORTED &&
	      strstr(why.text, "version 1") != NULL, "version 1: %s", why.text);
	status_free(&st);
	wbuf_free(&b);

	status_blob(&b, 2, 7);          /* a flag must be 0 or 1 */
	CHECK(status_decode(wbuf_ptr(&b), wbuf_avail(&b), &st, &why) == ERR_FORMAT, "flag 7");
	status_free(&st);
	wbuf_free(&b);
}

static void refusal_blob(struct wbuf *b, uint32_t n)
{
	wbuf_init(b, 65536);
	put_u32(b, n);
	for (uint32_t i = 0; i < n && i < 3; i++) {
		put_u64(b, 1764400000 + i);
		put_u32(b, 100 + i);
		put_u32(b, 1000);
		put_str(b, "sign");
		put_str(b, "SHA256:abc");
		put_str(b, "yubikey");
		put_str(b, "git.example.com");
		put_str(b, "default: deny (/etc/p.yaml:9)");
		put_str(b, "Denied: no rule allows key SHA256:abc");
	}
}

static void refusals(void)
{
	struct refusal_rows rows;
	struct reason why;
	struct wbuf b;
	uint8_t nul[4 + 8 + 4 + 4 + 4 + 1];

	reason_clear(&why);
	refusal_blob(&b, 3);
	CHECK(refusals_decode(wbuf_ptr(&b), wbuf_avail(&b), &rows, &why) == ERR_OK, "%s", why.text);
	CHECK(rows.n == 3 && rows.row[2].pid == 102 && strcmp(rows.row[0].dest,
	      "git.example.com") == 0, "rows");
	refusals_rows_free(&rows);
	for (size_t cut = 0; cut < wbuf_avail(&b); cut++) {
		CHECK(refusals_decode(wbuf_ptr(&b), cut, &rows, &why) != ERR_OK, "cut at %zu", cut);
		refusals_rows_free(&rows);
	}
	wbuf_free(&b);
	/* A count the bytes cannot hold is refused before anything is allocated for it. */
	refusal_blob(&b, 1000000);
	CHECK(refusals_decode(wbuf_ptr(&b), wbuf_avail(&b), &rows, &why) == ERR_FORMAT, "count");
	refusals_rows_free(&rows);
	wbuf_free(&b);
	refusal_blob(&b, 0);
	CHECK(refusals_decode(wbuf_ptr(&b), wbuf_avail(&b), &rows, &why) == ERR_OK && rows.n == 0,
	      "no rows");
	refusals_rows_free(&rows);
	wbuf_free(&b);
	/* A string with a NUL in it. */
	memset(nul, 0, sizeof(nul));
	nul[3] = 1;                                     /* one row */
	nul[4 + 8 + 4 + 4 + 3] = 1;                     /* "what" is one byte: a NUL */
	CHECK(refusals_decode(nul, sizeof(nul), &rows, &why) != ERR_OK, "a NUL in a string");
	refusals_rows_free(&rows);
}

int main(void)
{
	status_whole();
	status_malformed();
	refusals();
	CHECK_DONE();
}
