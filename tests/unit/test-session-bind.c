/*
 * Unit tests for src/sshpub.c, src/session-bind.c, src/userauth.c and src/dest-constraint.c:
 * real signatures made here with OpenSSL, and malformed or hostile input of every kind.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "check.h"
#include "dest-constraint.h"
#include "session-bind.h"
#include "userauth.h"

struct hostkey {
	EVP_PKEY *pkey;
	const char *type;
	struct wbuf blob;
};

static void put_bn_mpint(struct wbuf *b, const BIGNUM *bn)
{
	uint8_t buf[1024];
	int n = BN_bn2bin(bn, buf);

	CHECK(wbuf_put_mpint_unsigned(b, buf, (size_t)n) == ERR_OK, "mpint");
}

static void hostkey_new(struct hostkey *k, const char *type)
{
	uint8_t raw[256];
	size_t len = sizeof(raw);
	BIGNUM *n = NULL, *e = NULL;

	k->type = type;
	wbuf_init(&k->blob, 4096);
	CHECK(wbuf_put_cstring(&k->blob, type) == ERR_OK, "type");
	if (strcmp(type, "ssh-ed25519") == 0) {
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		EVP_PKEY_get_raw_public_key(k->pkey, raw, &len);
		CHECK(wbuf_put_string(&k->blob, raw, len) == ERR_OK, "ed25519 point");
	} else if (strcmp(type, "ecdsa-sha2-nistp256") == 0) {
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw,
		                                sizeof(raw), &len);
		CHECK(wbuf_put_cstring(&k->blob, "nistp256") == ERR_OK &&
		      wbuf_put_string(&k->blob, raw, len) == ERR_OK, "p256 point");
	} else {
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &n);
		EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &e);
		put_bn_mpint(&k->blob, e);
		put_bn_mpint(&k->blob, n);
		BN_free(n);
		BN_free(e);
	}
	CHECK(k->pkey != NULL, "keygen %s", type);
}

static void hostkey_free(struct hostkey *k)
{
	EVP_PKEY_free(k->pkey);
	wbuf_free(&k->blob);
}

/* An SSH signature blob by `k` over `data`. */
static void hostkey_sign(struct hostkey *k, const uint8_t *data, size_t len, struct wbuf *sig)
{
	uint8_t raw[1024];
	size_t raw_len = sizeof(raw);
	int is_rsa = strcmp(k->type, "ssh-rsa") == 0;
	const char *alg = is_rsa ? "rsa-sha2-256" : k->type;
	const EVP_MD *md = strcmp(k->type, "ssh-ed25519") == 0 ? NULL : EVP_sha256();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestSignInit(ctx, NULL, md, NULL, k->pkey);
	CHECK(EVP_DigestSign(ctx, raw, &raw_len, data, len) == 1, "sign");
	EVP_MD_CTX_free(ctx);
	CHECK(wbuf_put_cstring(sig, alg) == ERR_OK, "alg");
	if (strncmp(k->type, "ecdsa", 5) == 0) {
		const unsigned char *p = raw;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)raw_len);
		struct wbuf rs;

		wbuf_init(&rs, 256);
		put_bn_mpint(&rs, ECDSA_SIG_get0_r(es));
		put_bn_mpint(&rs, ECDSA_SIG_get0_s(es));
		CHECK(wbuf_put_stringb(sig, &rs) == ERR_OK, "rs");
		wbuf_free(&rs);
		ECDSA_SIG_free(es);
	} else {
		CHECK(wbuf_put_string(sig, raw, raw_len) == ERR_OK, "raw sig");
	}
}

/* A session-bind body: host key, session id, signature, forwarding flag. */
static void bind_body(struct hostkey *k, const uint8_t *sid, size_t sid_len, int fwd,
                      int corrupt, struct wbuf *out)
{
	struct wbuf sig;
	uint8_t signed_sid[256];

	memcpy(signed_sid, sid, sid_len);
	if (corrupt)
		signed_sid[0] ^= 1;     /* the key signed a different session id */
	wbuf_init(&sig, 4096);
	hostkey_sign(k, signed_sid, sid_len, &sig);
	wbuf_reset(out);
	CHECK(wbuf_put_stringb(out, &k->blob) == ERR_OK &&
	      wbuf_put_string(out, sid, sid_len) == ERR_OK &&
	      wbuf_put_stringb(out, &sig) == ERR_OK && wbuf_put_u8(out, (uint8_t)fwd) == ERR_OK,
	      "bind body");
	wbuf_free(&sig);
}

static int apply(struct bindings *bs, struct wbuf *body)
{
	struct reason why;
	struct wbuf view;

	wbuf_view(&view, wbuf_ptr(body), wbuf_avail(body));
	return session_bind_apply(bs, &view, &why);
}

static void test_verify_each_type(void)
{
	static const char *const types[] = { "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa" };
	uint8_t sid[32];
	struct wbuf body;

	memset(sid, 7, sizeof(sid));
	wbuf_init(&body, 8192);
	for (size_t i = 0; i < 3; i++) {
		struct bindings bs = { 0 };
		struct hostkey k;

		hostkey_new(&k, types[i]);
		bind_body(&k, sid, sizeof(sid), 0, 0, &body);
		CHECK(apply(&bs, &body) == ERR_OK, "%s: a good binding is accepted", types[i]);
		CHECK(bs.n == 1, "%s: recorded", types[i]);
		bindings_clear(&bs);
		bind_body(&k, sid, sizeof(sid), 0, 1, &body);
		CHECK(apply(&bs, &body) == ERR_DENIED, "%s: a wrong signature is refused", types[i]);
		CHECK(bs.n == 0, "%s: nothing recorded", types[i]);
		hostkey_free(&k);
	}
	wbuf_free(&body);
}

static void test_bind_rules(void)
{
	struct hostkey a, b;
	struct bindings bs = { 0 };
	uint8_t sid1[32], sid2[32], big[BIND_MAX_SID + 1];
	struct wbuf body;

	memset(sid1, 1, sizeof(sid1));
	memset(sid2, 2, sizeof(sid2));
	memset(big, 3, sizeof(big));
	wbuf_init(&body, 8192);
	hostkey_new(&a, "ssh-ed25519");
	hostkey_new(&b, "ssh-ed25519");

	bind_body(&a, big, sizeof(big), 1, 0, &body);
	CHECK(apply(&bs, &body) == ERR_FORMAT, "a session id over 128 bytes is refused");
	bind_body(&a, sid1, 0, 1, 0, &body);
	CHECK(apply(&bs, &body) == ERR_FORMAT, "an empty session id is refused");

	bind_body(&a, sid1, sizeof(sid1), 1, 0, &body);
	CHECK(apply(&bs, &body) == ERR_OK && bs.n == 1, "forwarding hop bound");
	CHECK(apply(&bs, &body) == ERR_OK && bs.n == 1, "the same binding again adds nothing");
	bind_body(&b, sid1, sizeof(sid1), 1, 0, &body);
	CHECK(apply(&bs, &body) == ERR_DENIED, "the same session id with another key is refused");
	bind_body(&b, sid2, sizeof(sid2), 0, 0, &body);
	CHECK(apply(&bs, &body) == ERR_OK && bs.n == 2, "then an authentication binding");
	CHECK(!bindings_last(&bs)->forwarded, "last binding is for authentication");
	CHECK(apply(&bs, &body) == ERR_DENIED, "even the same authentication binding again");
	bind_body(&a, big, 32, 1, 0, &body);
	CHECK(apply(&bs, &body) == ERR_DENIED, "nothing new binds after an authentication binding");
	bindings_clear(&bs);

	for (int i = 0; i < BIND_MAX; i++) {
		uint8_t sid[8] = { (uint8_t)i, 9, 9, 9, 9, 9, 9, 9 };

		bind_body(&a, sid, sizeof(sid), 1, 0, &body);
		CHECK(apply(&bs, &body) == ERR_OK, "binding %d of %d", i + 1, BIND_MAX);
	}
	bind_body(&a, sid2, sizeof(sid2), 1, 0, &body);
	CHECK(apply(&bs, &body) == ERR_LIMIT, "binding %d is refused", BIND_MAX + 1);
	bindings_clear(&bs);

	/* Every truncation of a good body, and trailing junk, is refused. */
	bind_body(&a, sid1, sizeof(sid1), 0, 0, &body);
	for (size_t cut = 0; cut < wbuf_avail(&body); cut++) {
		struct wbuf view;
		struct reason why;

		wbuf_view(&view, wbuf_ptr(&body), cut);
		CHECK(session_bind_apply(&bs, &view, &why) != ERR_OK, "cut at %zu refused", cut);
	}
	CHECK(wbuf_put_u8(&body, 0) == ERR_OK && apply(&bs, &body) == ERR_FORMAT,
	      "trailing bytes refused");
	CHECK(bs.n == 0, "no binding from broken bodies");
	hostkey_free(&a);
	hostkey_free(&b);
	wbuf_free(&body);
}

/* A userauth request: sid, 50, user, service, method, TRUE, alg, key[, hostkey]. */
static void userauth_data(struct wbuf *out, const uint8_t *sid, size_t sid_len,
                          const char *user, const char *service, const char *method,
                          const struct wbuf *key, const struct wbuf *hostkey)
{
	wbuf_reset(out);
	CHECK(wbuf_put_string(out, sid, sid_len) == ERR_OK && wbuf_put_u8(out, 50) == ERR_OK &&
	      wbuf_put_cstring(out, user) == ERR_OK && wbuf_put_cstring(out, service) == ERR_OK &&
	      wbuf_put_cstring(out, method) == ERR_OK && wbuf_put_u8(out, 1) == ERR_OK &&
	      wbuf_put_cstring(out, "ssh-ed25519") == ERR_OK &&
	      wbuf_put_stringb(out, key) == ERR_OK, "userauth");
	if (hostkey != NULL)
		CHECK(wbuf_put_stringb(out, hostkey) == ERR_OK, "hostkey");
}

static void test_userauth(void)
{
	struct hostkey user_key, host, other;
	struct userauth ua;
	uint8_t sid[32];
	char longname[USERAUTH_MAX_USER + 2];
	struct wbuf d;

	memset(sid, 5, sizeof(sid));
	memset(longname, 'u', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	wbuf_init(&d, 8192);
	hostkey_new(&user_key, "ssh-ed25519");
	hostkey_new(&host, "ssh-ed25519");
	hostkey_new(&other, "ssh-ed25519");
#define PARSE() userauth_parse(wbuf_ptr(&d), wbuf_avail(&d), wbuf_ptr(&user_key.blob), \
                               wbuf_avail(&user_key.blob), &ua)

	userauth_data(&d, sid, sizeof(sid), "git", "ssh-connection", "publickey", &user_key.blob,
	              NULL);
	CHECK(PARSE() == ERR_OK, "publickey request parses");
	CHECK(strcmp(ua.user, "git") == 0 && !ua.hostbound && ua.sid_len == 32, "its fields");
	userauth_free(&ua);

	userauth_data(&d, sid, sizeof(sid), "root", "ssh-connection",
	              "publickey-hostbound-v00@openssh.com", &user_key.blob, &host.blob);
	CHECK(PARSE() == ERR_OK, "hostbound request parses");
	CHECK(ua.hostbound && wbuf_avail(&host.blob) > 0, "hostbound with a host key");
	userauth_free(&ua);

	userauth_data(&d, sid, sizeof(sid), "git", "ssh-connection", "publickey", &other.blob,
	              NULL);
	CHECK(PARSE() == ERR_FORMAT, "a request for another key is refused");
	userauth_data(&d, sid, sizeof(sid), "git", "ssh-userauth", "publickey", &user_key.blob,
	              NULL);
	CHECK(PARSE() == ERR_FORMAT, "another service is refused");
	userauth_data(&d, sid, sizeof(sid), "git", "ssh-connection", "password", &user_key.blob,
	              NULL);
	CHECK(PARSE() == ERR_FORMAT, "another method is refused");
	userauth_data(&d, sid, 0, "git", "ssh-connection", "publickey", &user_key.blob, NULL);
	CHECK(PARSE() == ERR_FORMAT, "an empty session id is refused");
	userauth_data(&d, sid, sizeof(sid), longname, "ssh-connection", "publickey",
	              &user_key.blob, NULL);
	CHECK(PARSE() == ERR_FORMAT, "a user name over %d bytes is refused", USERAUTH_MAX_USER);
	userauth_data(&d, sid, sizeof(sid), "git", "ssh-connection", "publickey", &user_key.blob,
	              &host.blob);
	CHECK(PARSE() == ERR_FORMAT, "trailing bytes are refused");
	userauth_data(&d, sid, sizeof(sid), "git", "ssh-connection",
	              "publickey-hostbound-v00@openssh.com", &user_key.blob, NULL);
	CHECK(PARSE() == ERR_FORMAT, "hostbound without a host key is refused");
	/* Every truncation of a good request. */
	userauth_data(&d, sid, sizeof(sid), "root", "ssh-connection",
	              "publickey-hostbound-v00@openssh.com", &user_key.blob, &host.blob);
	for (size_t cut = 0; cut < wbuf_avail(&d); cut++)
		CHECK(userauth_parse(wbuf_ptr(&d), cut, wbuf_ptr(&user_key.blob),
		                     wbuf_avail(&user_key.blob), &ua) == ERR_FORMAT, "cut %zu", cut);
	CHECK(userauth_parse((const uint8_t *)"\0\0\0\1x\x32", 6, wbuf_ptr(&user_key.blob),
	                     wbuf_avail(&user_key.blob), &ua) == ERR_FORMAT, "a bare header");
#undef PARSE
	hostkey_free(&user_key);
	hostkey_free(&host);
	hostkey_free(&other);
	wbuf_free(&d);
}

/* A hop as ssh-add encodes it. */
static void put_hop(struct wbuf *out, const char *user, const char *host,
                    const struct hostkey *key)
{
	struct wbuf h;

	wbuf_init(&h, 8192);
	CHECK(wbuf_put_cstring(&h, user) == ERR_OK && wbuf_put_cstring(&h, host) == ERR_OK &&
	      wbuf_put_string(&h, NULL, 0) == ERR_OK, "hop");
	if (key != NULL)
		CHECK(wbuf_put_stringb(&h, &key->blob) == ERR_OK && wbuf_put_u8(&h, 0) == ERR_OK,
		      "keyspec");
	CHECK(wbuf_put_stringb(out, &h) == ERR_OK, "hop string");
	wbuf_free(&h);
}

static void put_constraint(struct wbuf *out, const char *from_host, const struct hostkey *from,
                           const char *to_user, const char *to_host, const struct hostkey *to)
{
	struct wbuf c;

	wbuf_init(&c, 16384);
	put_hop(&c, "", from_host, from);
	put_hop(&c, to_user, to_host, to);
	CHECK(wbuf_put_string(&c, NULL, 0) == ERR_OK, "reserved");
	CHECK(wbuf_put_stringb(out, &c) == ERR_OK, "constraint");
	wbuf_free(&c);
}

static void bind_to(struct bindings *bs, struct hostkey *k, int n, int fwd)
{
	uint8_t sid[16];
	struct wbuf body;

	memset(sid, n, sizeof(sid));
	wbuf_init(&body, 8192);
	bind_body(k, sid, sizeof(sid), fwd, 0, &body);
	CHECK(apply(bs, &body) == ERR_OK, "bind %d", n);
	wbuf_free(&body);
}

static void test_dest_constraints(void)
{
	struct hostkey a, b, c;
	struct dest_constraints *dc = NULL;
	struct bindings bs = { 0 };
	struct reason why;
	struct wbuf w;

	hostkey_new(&a, "ssh-ed25519");
	hostkey_new(&b, "ssh-ed25519");
	hostkey_new(&c, "ssh-ed25519");
	wbuf_init(&w, 65536);
	/* -h git@a -h a>b */
	put_constraint(&w, "", NULL, "git", "a", &a);
	put_constraint(&w, "a", &a, "", "b", &b);
	CHECK(dest_constraints_parse(wbuf_ptr(&w), wbuf_avail(&w), &dc, &why) == ERR_OK,
	      "parse: %s", why.text);
	CHECK(dest_constraints_permit(dc, &bs, NULL, NULL, &why) == ERR_OK, "local listing");
	bind_to(&bs, &a, 1, 0);
	CHECK(dest_constraints_permit(dc, &bs, "git", NULL, &why) == ERR_OK, "git@a");
	CHECK(dest_constraints_permit(dc, &bs, "root", NULL, &why) == ERR_DENIED, "root@a");
	bindings_clear(&bs);
	bind_to(&bs, &b, 1, 0);
	CHECK(dest_constraints_permit(dc, &bs, "git", NULL, &why) == ERR_DENIED, "direct to b");
	bindings_clear(&bs);
	bind_to(&bs, &a, 1, 1);
	CHECK(dest_constraints_permit(dc, &bs, NULL, NULL, &why) == ERR_OK, "listed on a");
	CHECK(dest_constraints_permit(dc, &bs, "git", NULL, &why) == ERR_DENIED,
	      "signing on a forwarding hop");
	bind_to(&bs, &b, 2, 0);
	CHECK(dest_constraints_permit(dc, &bs, "anyone", NULL, &why) == ERR_OK, "a then b");
	bindings_clear(&bs);
	bind_to(&bs, &c, 1, 1);
	bind_to(&bs, &b, 2, 0);
	CHECK(dest_constraints_permit(dc, &bs, "git", NULL, &why) == ERR_DENIED, "c then b");
	bindings_clear(&bs);
	dest_constraints_unref(dc);

	/* Malformed: a "from" hop with a user, a "to" hop without keys, junk, empty. */
	wbuf_reset(&w);
	put_constraint(&w, "", NULL, "", "a", NULL);
	CHECK(dest_constraints_parse(wbuf_ptr(&w), wbuf_avail(&w), &dc, &why) == ERR_UNSUPPORTED,
	      "to hop without keys");
	CHECK(dest_constraints_parse(wbuf_ptr(&w), 0, &dc, &why) == ERR_FORMAT, "empty");
	wbuf_reset(&w);
	put_constraint(&w, "", NULL, "git", "a", &a);
	for (size_t cut = 1; cut < wbuf_avail(&w); cut++)
		CHECK(dest_constraints_parse(wbuf_ptr(&w), cut, &dc, &why) != ERR_OK, "cut %zu",
		      cut);
	wbuf_reset(&w);
	for (int i = 0; i <= DEST_MAX_CONSTRAINTS; i++)
		put_constraint(&w, "", NULL, "", "a", &a);
	CHECK(dest_constraints_parse(wbuf_ptr(&w), wbuf_avail(&w), &dc, &why) == ERR_LIMIT,
	      "more than %d constraints", DEST_MAX_CONSTRAINTS);
	hostkey_free(&a);
	hostkey_free(&b);
	hostkey_free(&c);
	wbuf_free(&w);
}

static void test_sshpub_text(void)
{
	struct hostkey h;
	struct sshpub k;
	char text[256], b64[128];

	hostkey_new(&h, "ssh-ed25519");
	EVP_EncodeBlock((unsigned char *)b64, wbuf_ptr(&h.blob), (int)wbuf_avail(&h.blob));
	snprintf(text, sizeof(text), "ssh-ed25519 %s comment", b64);
	CHECK(sshpub_parse_text(text, &k) == ERR_OK, "a known_hosts key: %s", text);
	CHECK(strncmp(k.fingerprint, "SHA256:", 7) == 0, "fingerprint");
	sshpub_free(&k);
	snprintf(text, sizeof(text), "ssh-rsa %s", b64);
	CHECK(sshpub_parse_text(text, &k) == ERR_FORMAT, "type disagrees with blob");
	CHECK(sshpub_parse_text("ssh-ed25519 AAAA", &k) != ERR_OK, "truncated");
	CHECK(sshpub_parse_text("ssh-ed25519 !!!!", &k) != ERR_OK, "not base64");
	CHECK(sshpub_parse_text("", &k) != ERR_OK, "empty");
	hostkey_free(&h);
}

int main(void)
{
	test_verify_each_type();
	test_bind_rules();
	test_userauth();
	test_dest_constraints();
	test_sshpub_text();
	CHECK_DONE();
}
