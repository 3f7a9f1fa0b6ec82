/*
 * Unit tests for src/sshwire/sshcert.c: ssh-keygen's certificates and one signed here parse
 * with their fields;
 * every cut, a trailing byte, a changed byte under the signature, a SHA-1 RSA signature, a
 * bad type and too many principals are refused.
 */
#include <stdlib.h>

#include <openssl/evp.h>

#include "check.h"
#include "sshcert.h"

static EVP_PKEY *ca_key, *user_key;

static void put_ed25519_pub(struct wbuf *b, EVP_PKEY *k, int with_type)
{
	uint8_t pk[32];
	size_t len = 32;

	if (EVP_PKEY_get_raw_public_key(k, pk, &len) != 1 ||
	    (with_type && wbuf_put_cstring(b, "ssh-ed25519") != ERR_OK) ||
	    wbuf_put_string(b, pk, 32) != ERR_OK)
		abort();
}

/*
 * An Ed25519 user certificate for user_key, signed by ca_key as `sig_name` says, over every
 * field up to and including the CA's key.
 */
static void make_cert(struct wbuf *b, uint32_t type, int nprincipals, const char *sig_name)
{
	struct wbuf principals, ca, sig;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t s[64];
	size_t s_len = sizeof(s);
	char name[32];
	int r;

	wbuf_init(&principals, 1 << 16);
	wbuf_init(&ca, 256);
	wbuf_init(&sig, 256);
	for (int i = 0; i < nprincipals; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		if (wbuf_put_cstring(&principals, name) != ERR_OK)
			abort();
	}
	put_ed25519_pub(&ca, ca_key, 1);
	r = wbuf_put_cstring(b, "ssh-ed25519-cert-v01@openssh.com") |
	    wbuf_put_cstring(b, "nonce-nonce-nonce-nonce-nonce-32");
	put_ed25519_pub(b, user_key, 0);
	r |= wbuf_put_u32(b, 0) | wbuf_put_u32(b, 42) | wbuf_put_u32(b, type) |
	     wbuf_put_cstring(b, "key id") | wbuf_put_stringb(b, &principals) |
	     wbuf_put_u32(b, 0) | wbuf_put_u32(b, 0) | wbuf_put_u32(b, 0xffffffff) |
	     wbuf_put_u32(b, 0xffffffff) | wbuf_put_cstring(b, "") | wbuf_put_cstring(b, "") |
	     wbuf_put_cstring(b, "") | wbuf_put_stringb(b, &ca);
	if (r != ERR_OK || ctx == NULL || EVP_DigestSignInit(ctx, NULL, NULL, NULL, ca_key) != 1 ||
	    EVP_DigestSign(ctx, s, &s_len, wbuf_ptr(b), wbuf_avail(b)) != 1 ||
	    wbuf_put_cstring(&sig, sig_name) != ERR_OK || wbuf_put_string(&sig, s, s_len) != ERR_OK ||
	    wbuf_put_stringb(b, &sig) != ERR_OK)
		abort();
	EVP_MD_CTX_free(ctx);
	wbuf_free(&principals);
	wbuf_free(&ca);
	wbuf_free(&sig);
}

static int parse(const struct wbuf *b, size_t len)
{
	struct sshcert c;
	int r = sshcert_parse(wbuf_ptr(b), len, &c);

	if (r == ERR_OK)
		sshcert_free(&c);
	return r;
}

static void test_valid(void)
{
	struct sshcert c;
	struct wbuf b;

	wbuf_init(&b, 1 << 16);
	make_cert(&b, SSHCERT_USER, 2, "ssh-ed25519");
	CHECK(sshcert_parse(wbuf_ptr(&b), wbuf_avail(&b), &c) == ERR_OK, "a valid certificate");
	CHECK(c.serial == 42 && c.type == SSHCERT_USER && strcmp(c.key_id, "key id") == 0 &&
	      c.nprincipals == 2 && strcmp(c.principals[1], "user1") == 0 &&
	      c.valid_after == 0 && c.valid_before == UINT64_MAX &&
	      c.key.pub.alg == KEY_ED25519 && c.ca.pub.alg == KEY_ED25519 &&
	      c.blob_len == wbuf_avail(&b), "its fields");
	sshcert_free(&c);
	for (size_t len = 0; len < wbuf_avail(&b); len++)
		CHECK(parse(&b, len) != ERR_OK, "cut at %zu bytes", len);
	if (wbuf_put_u8(&b, 0) != ERR_OK)
		abort();
	CHECK(parse(&b, wbuf_avail(&b)) == ERR_FORMAT, "a trailing byte");
	wbuf_free(&b);
}

static void test_refused(void)
{
	struct wbuf b;
	uint8_t *p;

	wbuf_init(&b, 1 << 20);
	make_cert(&b, SSHCERT_USER, 1, "ssh-ed25519");
	p = (uint8_t *)wbuf_ptr(&b);
	p[60] ^= 1;     /* inside the certified key: the signature no longer holds */
	CHECK(parse(&b, wbuf_avail(&b)) == ERR_DENIED, "a changed byte under the signature");
	wbuf_reset(&b);
	make_cert(&b, SSHCERT_USER, 1, "ssh-rsa");
	CHECK(parse(&b, wbuf_avail(&b)) == ERR_DENIED, "a SHA-1 RSA signature name");
	wbuf_reset(&b);
	make_cert(&b, 3, 1, "ssh-ed25519");
	CHECK(parse(&b, wbuf_avail(&b)) == ERR_FORMAT, "certificate type 3");
	wbuf_reset(&b);
	make_cert(&b, SSHCERT_HOST, SSHCERT_MAX_PRINCIPALS + 1, "ssh-ed25519");
	CHECK(parse(&b, wbuf_avail(&b)) == ERR_LIMIT, "principals over the cap");
	wbuf_reset(&b);
	if (wbuf_put_cstring(&b, "ssh-ed25519") != ERR_OK)
		abort();
	CHECK(parse(&b, wbuf_avail(&b)) == ERR_UNSUPPORTED, "a plain key is no certificate");
	CHECK(sshcert_is_cert_type("ecdsa-sha2-nistp256-cert-v01@openssh.com") &&
	      !sshcert_is_cert_type("ssh-ed25519") && !sshcert_is_cert_type("-cert-v01@openssh.com"),
	      "certificate type names");
	wbuf_free(&b);
}

/* Certificates made by OpenSSH's ssh-keygen (the fuzzer's seeds) parse and verify. */
static void test_openssh_made(void)
{
	static const char *const names[] = { "host", "user" };
	const char *top = getenv("top_srcdir");
	char path[4096];
	uint8_t blob[8192];
	struct sshcert c;
	size_t n;
	FILE *f;

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/tests/fuzz/seeds/fuzz-sshcert/%s",
		         top ? top : ".", names[i]);
		CHECK((f = fopen(path, "rb")) != NULL, "%s can be read", path);
		if (f == NULL)
			continue;
		n = fread(blob, 1, sizeof(blob), f);
		fclose(f);
		CHECK(sshcert_parse(blob, n, &c) == ERR_OK, "ssh-keygen's %s certificate", names[i]);
		CHECK(c.type == (i == 0 ? SSHCERT_HOST : SSHCERT_USER) && c.nprincipals >= 1 &&
		      strcmp(c.principals[0], i == 0 ? "host.example" : "root") == 0,
		      "its type and principals");
		sshcert_free(&c);
	}
}

int main(void)
{
	ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	user_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	test_valid();
	test_refused();
	test_openssh_made();
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(user_key);
	CHECK_DONE();
}
