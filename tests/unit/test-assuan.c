/* Unit tests for src/assuan.c: reply lines, well formed and malformed, and escaping. */
#include "check.h"
#include "assuan.h"

static int parse(const char *line, struct assuan_reply *r, char *data, size_t size,
                 size_t *len)
{
	return assuan_parse_reply((const uint8_t *)line, strlen(line), r, data, size, len);
}

static void test_replies(void)
{
	struct assuan_reply r;
	char data[64] = "";
	size_t len = 0;

	CHECK(parse("OK Pleased to meet you", &r, data, sizeof(data), &len) == ERR_OK &&
	      r.kind == ASSUAN_OK, "greeting");
	CHECK(parse("OK", &r, data, sizeof(data), &len) == ERR_OK && r.kind == ASSUAN_OK, "OK");
	CHECK(parse("ERR 83886179 Operation cancelled <Pinentry>", &r, data, sizeof(data),
	            &len) == ERR_OK && r.kind == ASSUAN_ERR && r.code == 83886179, "ERR code");
	CHECK(parse("# a comment", &r, data, sizeof(data), &len) == ERR_OK &&
	      r.kind == ASSUAN_COMMENT, "comment");
	CHECK(parse("S PASSWORD_FROM_CACHE", &r, data, sizeof(data), &len) == ERR_OK &&
	      r.kind == ASSUAN_STATUS, "status");
	CHECK(parse("INQUIRE QUALITY", &r, data, sizeof(data), &len) == ERR_OK &&
	      r.kind == ASSUAN_INQUIRE, "inquire");
	CHECK(parse("D 12%2534", &r, data, sizeof(data), &len) == ERR_OK &&
	      r.kind == ASSUAN_DATA && strcmp(data, "12%34") == 0 && len == 5, "D decoded");
	CHECK(parse("D 56", &r, data, sizeof(data), &len) == ERR_OK &&
	      strcmp(data, "12%3456") == 0 && len == 7, "D lines append");
}

static void test_malformed(void)
{
	const char *bad[] = {
		"", "OKAY", "ERR", "ERR x", "ERR 12345678901 too long", "D 1%2", "D 1%zz",
		"D %00", "DATA 1", "HELLO", " OK", "ok",
	};
	struct assuan_reply r;
	char data[8], line[ASSUAN_LINE_MAX + 2];
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = 0;
		data[0] = '\0';
		CHECK(parse(bad[i], &r, data, sizeof(data), &len) != ERR_OK, "refused: \"%s\"",
		      bad[i]);
	}
	len = 0;
	CHECK(parse("D 12345678", &r, data, sizeof(data), &len) == ERR_TOO_LARGE,
	      "data larger than the buffer");
	memset(line, 'A', sizeof(line));
	memcpy(line, "D ", 2);
	len = 0;
	CHECK(assuan_parse_reply((const uint8_t *)line, ASSUAN_LINE_MAX + 1, &r, data,
	                         sizeof(data), &len) == ERR_FORMAT, "line over 1000 bytes");
	/* Every truncation of a valid line parses or is refused, never read past. */
	for (size_t n = 0; n <= strlen("ERR 83886179 cancelled"); n++) {
		len = 0;
		(void)!assuan_parse_reply((const uint8_t *)"ERR 83886179 cancelled", n, &r, data,
		                          sizeof(data), &len);
	}
}

static void test_escape(void)
{
	char out[32];

	CHECK(assuan_escape("a%b\nc\rd", out, sizeof(out)) == ERR_OK &&
	      strcmp(out, "a%25b%0Ac%0Dd") == 0, "escaped: %s", out);
	CHECK(assuan_escape("plain text", out, sizeof(out)) == ERR_OK &&
	      strcmp(out, "plain text") == 0, "plain");
	CHECK(assuan_escape("0123456789", out, 10) == ERR_TOO_LARGE, "no room for the NUL");
	CHECK(assuan_escape("\n\n\n\n", out, 12) == ERR_TOO_LARGE, "no room for escapes");
}

int main(void)
{
	test_replies();
	test_malformed();
	test_escape();
	CHECK_DONE();
}
