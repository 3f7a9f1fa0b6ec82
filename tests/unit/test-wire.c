/* Unit tests for src/wire.c: bounds, malformed strings and mpints, caps, read-only views. */
#include "check.h"
#include "err.h"
#include "wire.h"

static void test_roundtrip(void)
{
	struct wbuf b, v;
	const uint8_t *p;
	uint32_t u;
	uint8_t c;
	size_t n;
	char *s;
	int eq;

	wbuf_init(&b, 1024);
	CHECK(wbuf_put_u8(&b, 7) == ERR_OK, "put u8");
	CHECK(wbuf_put_u32(&b, 0xdeadbeef) == ERR_OK, "put u32");
	CHECK(wbuf_put_cstring(&b, "hello") == ERR_OK, "put string");
	CHECK(wbuf_get_u8(&b, &c) == ERR_OK && c == 7, "u8 back");
	CHECK(wbuf_get_u32(&b, &u) == ERR_OK && u == 0xdeadbeef, "u32 back");
	CHECK(wbuf_get_stringb(&b, &v) == ERR_OK && wbuf_avail(&v) == 5, "string view");
	CHECK(wbuf_avail(&b) == 0, "all consumed");
	CHECK(wbuf_get_u8(&b, &c) == ERR_INCOMPLETE, "reading past the end is refused");
	wbuf_reset(&b);
	CHECK(wbuf_put_cstring(&b, "abc") == ERR_OK, "put");
	CHECK(wbuf_get_string_eq(&b, "abc", &eq) == ERR_OK && eq, "string equals");
	wbuf_reset(&b);
	CHECK(wbuf_put_string(&b, "a\0b", 3) == ERR_OK, "put with NUL");
	CHECK(wbuf_get_cstring(&b, &s) == ERR_FORMAT, "a C string with an embedded NUL is refused");
	wbuf_reset(&b);
	CHECK(wbuf_put_string(&b, "", 0) == ERR_OK && wbuf_get_string(&b, &p, &n) == ERR_OK &&
	      n == 0, "empty string");
	wbuf_free(&b);
}

static void test_malformed_strings(void)
{
	static const uint8_t too_long[] = { 0, 0, 0, 9, 'a', 'b' };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t short_len[] = { 0, 0, 1 };
	struct wbuf b;
	const uint8_t *p;
	size_t n;

	wbuf_view(&b, too_long, sizeof(too_long));
	CHECK(wbuf_get_string(&b, &p, &n) == ERR_FORMAT, "length past the buffer");
	CHECK(wbuf_avail(&b) == sizeof(too_long), "a failed read consumes nothing");
	wbuf_view(&b, huge, sizeof(huge));
	CHECK(wbuf_get_string(&b, &p, &n) == ERR_FORMAT, "4 GiB length");
	wbuf_view(&b, short_len, sizeof(short_len));
	CHECK(wbuf_get_string(&b, &p, &n) == ERR_INCOMPLETE, "truncated length field");
}

static void test_mpint(void)
{
	static const uint8_t high[] = { 0x80, 0x01 };
	static const uint8_t padded[] = { 0x00, 0x00, 0x7f };
	static const uint8_t zero[] = { 0x00, 0x00 };
	static const uint8_t neg[] = { 0, 0, 0, 1, 0x80 };
	static const uint8_t bad_pad[] = { 0, 0, 0, 2, 0x00, 0x7f };
	struct wbuf b;
	const uint8_t *p;
	size_t n;

	wbuf_init(&b, 64);
	CHECK(wbuf_put_mpint_unsigned(&b, high, sizeof(high)) == ERR_OK, "put");
	CHECK(b.len == 7 && b.data[3] == 3 && b.data[4] == 0 && b.data[5] == 0x80,
	      "a high bit gets one zero byte");
	CHECK(wbuf_get_mpint_unsigned(&b, &p, &n) == ERR_OK && n == 2 && p[0] == 0x80,
	      "read back without the pad");
	wbuf_reset(&b);
	CHECK(wbuf_put_mpint_unsigned(&b, padded, sizeof(padded)) == ERR_OK && b.len == 5 &&
	      b.data[4] == 0x7f, "leading zeros are stripped");
	wbuf_reset(&b);
	CHECK(wbuf_put_mpint_unsigned(&b, zero, sizeof(zero)) == ERR_OK && b.len == 4,
	      "zero is the empty mpint");
	wbuf_free(&b);
	wbuf_view(&b, neg, sizeof(neg));
	CHECK(wbuf_get_mpint_unsigned(&b, &p, &n) == ERR_FORMAT, "negative mpint refused");
	wbuf_view(&b, bad_pad, sizeof(bad_pad));
	CHECK(wbuf_get_mpint_unsigned(&b, &p, &n) == ERR_FORMAT, "needless zero pad refused");
}

static void test_caps_and_views(void)
{
	uint8_t big[100] = { 0 };
	struct wbuf b;

	wbuf_init(&b, 64);
	CHECK(wbuf_put_bytes(&b, big, 64) == ERR_OK, "exactly the cap");
	CHECK(wbuf_put_u8(&b, 1) == ERR_TOO_LARGE, "one byte over the cap");
	/* The cap counts the bytes held: consumed ones give their room back (a held-input
	 * buffer that was never compacted refused input once its total passed the cap). */
	CHECK(wbuf_skip(&b, 40) == ERR_OK && wbuf_put_bytes(&b, big, 40) == ERR_OK &&
	      wbuf_avail(&b) == 64, "room of consumed bytes");
	CHECK(wbuf_put_u8(&b, 1) == ERR_TOO_LARGE, "still one byte over the cap");
	wbuf_free(&b);
	wbuf_view(&b, big, sizeof(big));
	CHECK(wbuf_put_u8(&b, 1) != ERR_OK, "a view is read-only");
	CHECK(wbuf_poke_u32(&b, 0, 1) != ERR_OK, "a view cannot be poked");
}

static void test_compact_wipes(void)
{
	struct wbuf b;
	uint32_t u;

	wbuf_init(&b, 64);
	CHECK(wbuf_put_u32(&b, 0x41414141) == ERR_OK && wbuf_put_u32(&b, 2) == ERR_OK, "put");
	CHECK(wbuf_get_u32(&b, &u) == ERR_OK, "get");
	wbuf_compact(&b);
	CHECK(b.len == 4 && b.data[4] == 0 && b.data[5] == 0, "consumed bytes are wiped");
	wbuf_free(&b);
}

/* 64-bit numbers: big endian, and a short buffer refused. */
static void test_u64(void)
{
	static const uint8_t seven[7] = { 0 };
	struct wbuf b;
	uint64_t v = 0;

	wbuf_init(&b, 64);
	CHECK(wbuf_put_u64(&b, 0x0102030405060708ULL) == ERR_OK, "put u64");
	CHECK(wbuf_avail(&b) == 8 && wbuf_ptr(&b)[0] == 1 && wbuf_ptr(&b)[7] == 8, "big endian");
	CHECK(wbuf_get_u64(&b, &v) == ERR_OK && v == 0x0102030405060708ULL, "u64 back");
	wbuf_free(&b);
	wbuf_view(&b, seven, sizeof(seven));
	CHECK(wbuf_get_u64(&b, &v) != ERR_OK, "7 bytes read as a u64");
}

/* Regression (found by fuzz-ssh-client under UBSan): an empty buffer has no storage, and
 * pointer arithmetic on NULL is undefined, even with 0. */
static void test_empty(void)
{
	struct wbuf b;
	uint8_t *p = (uint8_t *)"x";

	wbuf_init(&b, 64);
	CHECK(wbuf_ptr(&b) != NULL && wbuf_avail(&b) == 0, "an empty buffer's pointer");
	CHECK(wbuf_put_bytes(&b, "", 0) == ERR_OK && wbuf_avail(&b) == 0, "no bytes put");
	CHECK(wbuf_reserve(&b, 0, &p) == ERR_OK, "nothing reserved");
	wbuf_free(&b);
}

int main(void)
{
	test_empty();
	test_u64();
	test_roundtrip();
	test_malformed_strings();
	test_mpint();
	test_caps_and_views();
	test_compact_wipes();
	CHECK_DONE();
}
