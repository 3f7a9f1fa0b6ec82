/* Unit tests for src/policy/audit-read.c: audit lines read back, and what is not one. */
#include "audit-read.h"
#include "check.h"

static int parse(const char *line, struct audit_entry *e)
{
	return audit_entry_parse(line, strlen(line), e);
}

static void a_real_line(void)
{
	const char *line = "{\"time\":\"2026-11-29T19:30:01.123Z\",\"event\":\"sign\","
	                   "\"decision\":\"deny\",\"rule\":\"/etc/p.yaml:9\",\"reason\":\"no "
	                   "rule allows \\\"x\\\"\\n\\u00e9\",\"pid\":4242,\"uid\":1000,\"exe\":null,"
	                   "\"key\":\"SHA256:abc\",\"slot\":-1,\"dest_name\":\"git.example.com\","
	                   "\"user\":\"git\",\"hops\":[{\"host_key\":\"SHA256:h1\",\"name\":null},"
	                   "{\"host_key\":\"SHA256:h2\",\"name\":\"b\"}],\"future\":{\"a\":[1,true]}}";
	struct audit_entry e;

	CHECK(parse(line, &e) == ERR_OK, "a real line refused");
	CHECK(strcmp(e.event, "sign") == 0 && strcmp(e.decision, "deny") == 0, "event/decision");
	CHECK(strcmp(e.reason, "no rule allows \"x\"\n\xc3\xa9") == 0, "escapes: %s", e.reason);
	CHECK(e.pid == 4242 && e.uid == 1000 && e.nhops == 2 && e.exe[0] == '\0', "numbers, hops");
	CHECK(e.when == 1795980601, "time: %ld", (long)e.when);
	CHECK(strcmp(e.dest_name, "git.example.com") == 0 && strcmp(e.user, "git") == 0, "dest");
	CHECK(parse("{}", &e) == ERR_OK && e.when == 0, "an empty object");
	CHECK(parse("  { \"event\" : \"list\" }  ", &e) == ERR_OK && strcmp(e.event, "list") == 0,
	      "white space");
}

/* A value longer than its field is cut, not overflowed. */
static void long_values(void)
{
	char line[2048];
	struct audit_entry e;

	snprintf(line, sizeof(line), "{\"event\":\"%0500d\",\"user\":\"u\"}", 7);
	CHECK(parse(line, &e) == ERR_OK, "a long value refused");
	CHECK(strlen(e.event) == sizeof(e.event) - 1 && strcmp(e.user, "u") == 0, "cut: %zu",
	      strlen(e.event));
}

static void not_audit_lines(void)
{
	static const char *const bad[] = {
		"", "not json", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x",
		"{\"a\":\"unterminated}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
		"{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"tab\there\"}",
		"{\"a\":tru}", "{\"a\":nul}", "{\"a\":1.5}", "{\"a\":-}", "{\"a\":1e3}",
		"{\"pid\":99999999999999999999999}", "{\"a\":[1,2}", "{\"a\":{\"b\":1]}",
		"{\"a\":[[[[[[[[[[1]]]]]]]]]]}", "{\"a\":\"x\"\"b\":1}", "{'a':1}",
	};
	struct audit_entry e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(parse(bad[i], &e) == ERR_FORMAT, "accepted: %s", bad[i]);
	/* The length given is the end: a NUL-free prefix of a good line is still refused. */
	CHECK(audit_entry_parse("{\"event\":\"sign\"}", 10, &e) == ERR_FORMAT, "read past len");
}

int main(void)
{
	a_real_line();
	long_values();
	not_audit_lines();
	CHECK_DONE();
}
