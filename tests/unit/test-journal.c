/* Unit tests for src/base/journal.c: the native journal entry, byte for byte, and its send. */
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "journal.h"

static size_t build(uint8_t *buf, size_t size, const char *name, const char *value)
{
	struct journal_field f = { name, value };

	return journal_build(buf, size, &f, 1);
}

static void plain_fields(void)
{
	struct journal_field f[] = {
		{ "MESSAGE", "refused sign for pid 7" },
		{ "P11GUARD_REASON", "PinLocked" },
		{ "EMPTY", "" },
	};
	const char want[] = "MESSAGE=refused sign for pid 7\nP11GUARD_REASON=PinLocked\nEMPTY=\n";
	uint8_t buf[256];
	size_t len = journal_build(buf, sizeof(buf), f, 3);

	CHECK(len == sizeof(want) - 1 && memcmp(buf, want, len) == 0, "plain: got %zu bytes", len);
}

/* A value with a newline: NAME, LF, its length as 64-bit little endian, the bytes, LF. */
static void value_with_newline(void)
{
	const uint8_t want[] = { 'T', 'E', 'X', 'T', '\n', 3, 0, 0, 0, 0, 0, 0, 0,
	                         'a', '\n', 'b', '\n' };
	uint8_t buf[64];
	size_t len = build(buf, sizeof(buf), "TEXT", "a\nb");

	CHECK(len == sizeof(want) && memcmp(buf, want, len) == 0, "binary form: got %zu", len);
	/* Only a newline forces the binary form; '=' in a value does not. */
	len = build(buf, sizeof(buf), "TEXT", "a=b");
	CHECK(len == 9 && memcmp(buf, "TEXT=a=b\n", 9) == 0, "'=' in a value: got %zu", len);
}

static void bad_names(void)
{
	static const char *const bad[] = {
		"", "message", "_PID", "1ST", "A-B", "A=B", "A B", "MESSAGE\n",
		"A2345678901234567890123456789012345678901234567890123456789012345",  /* 65 */
	};
	uint8_t buf[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(build(buf, sizeof(buf), bad[i], "x") == 0, "bad name \"%s\" accepted", bad[i]);
	CHECK(build(buf, sizeof(buf),
	            "A234567890123456789012345678901234567890123456789012345678901234", "x") > 0,
	      "a 64-character name refused");
	CHECK(build(buf, sizeof(buf), "A_1", "x") > 0, "digits and underscores refused");
}

/* A buffer too small yields 0 and not one byte past its end. */
static void too_small(void)
{
	uint8_t buf[32];

	for (size_t size = 0; size < 17; size++) {
		memset(buf, 0xAA, sizeof(buf));
		CHECK(build(buf, size, "TEXT", "a\nb") == 0, "fit in %zu of 17 bytes", size);
		for (size_t i = size; i < sizeof(buf); i++)
			CHECK(buf[i] == 0xAA, "byte %zu written with a buffer of %zu", i, size);
	}
	CHECK(build(buf, 17, "TEXT", "a\nb") == 17, "exact fit refused");
	CHECK(build(buf, 8, "TEXT", "abc") == 0, "plain form overflow");
	CHECK(build(buf, 9, "TEXT", "abc") == 9, "plain exact fit refused");
}

/* An entry sent to a journal-like socket arrives as one datagram, whole. */
static void send_and_receive(void)
{
	char dir[] = "/tmp/test-journal.XXXXXX", path[64];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint8_t entry[64], got[128];
	size_t len = build(entry, sizeof(entry), "MESSAGE", "hello");
	int server, client;
	ssize_t n = -1;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/socket", dir);
	strcpy(sun.sun_path, path);
	server = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(bind(server, (struct sockaddr *)&sun, sizeof(sun)) == 0, "bind %s", path);
	CHECK(journal_connect("/nonexistent/journal") < 0, "connected to nothing");
	client = journal_connect(path);
	CHECK(client >= 0, "journal_connect %s", path);
	if (client >= 0) {
		CHECK(send(client, entry, len, 0) == (ssize_t)len, "send");
		n = recv(server, got, sizeof(got), 0);
		close(client);
	}
	CHECK(n == (ssize_t)len && memcmp(got, entry, len) == 0, "received %zd of %zu", n, len);
	close(server);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	plain_fields();
	value_with_newline();
	bad_names();
	too_small();
	send_and_receive();
	CHECK_DONE();
}
