/* Unit tests for src/sshkey.c: blobs, algorithm choice, and ECDSA r/s mpint edge cases. */
#include "agent-proto.h"
#include "check.h"
#include "sshkey.h"

/* Reads an ECDSA signature blob back into r and s magnitudes. */
static int read_ecdsa(struct wbuf *sig, const uint8_t **r, size_t *rn, const uint8_t **s,
                      size_t *sn)
{
	struct wbuf inner;
	int eq;

	if (wbuf_get_string_eq(sig, "ecdsa-sha2-nistp256", &eq) != ERR_OK || !eq ||
	    wbuf_get_stringb(sig, &inner) != ERR_OK ||
	    wbuf_get_mpint_unsigned(&inner, r, rn) != ERR_OK ||
	    wbuf_get_mpint_unsigned(&inner, s, sn) != ERR_OK || wbuf_avail(&inner) != 0)
		return -1;
	return 0;
}

static void test_ecdsa_leading_zeros(void)
{
	struct key_material pub = { .alg = KEY_ECDSA, .curve = CURVE_P256 };
	uint8_t raw[64];
	const uint8_t *r, *s;
	size_t rn, sn;
	struct wbuf sig;

	/* r with its top bit set needs a zero pad; s starting with zero bytes loses them. */
	memset(raw, 0x55, sizeof(raw));
	raw[0] = 0x80;
	raw[32] = 0x00;
	raw[33] = 0x00;
	raw[34] = 0x01;
	wbuf_init(&sig, 1024);
	CHECK(sshkey_signature(&pub, "ecdsa-sha2-nistp256", raw, sizeof(raw), &sig) == ERR_OK,
	      "encode");
	CHECK(read_ecdsa(&sig, &r, &rn, &s, &sn) == 0, "decodes as strict mpints");
	CHECK(rn == 32 && r[0] == 0x80, "r keeps all 32 bytes behind its pad");
	CHECK(sn == 30 && s[0] == 0x01, "s drops its two leading zero bytes");
	wbuf_free(&sig);

	memset(raw, 0, sizeof(raw));
	raw[31] = 1;
	raw[63] = 2;
	wbuf_init(&sig, 1024);
	CHECK(sshkey_signature(&pub, "ecdsa-sha2-nistp256", raw, sizeof(raw), &sig) == ERR_OK &&
	      read_ecdsa(&sig, &r, &rn, &s, &sn) == 0 && rn == 1 && sn == 1,
	      "tiny r and s shrink to one byte");
	wbuf_free(&sig);
	wbuf_init(&sig, 1024);
	CHECK(sshkey_signature(&pub, "ecdsa-sha2-nistp256", raw, 63, &sig) == ERR_FORMAT,
	      "an odd-length raw signature is refused");
	wbuf_free(&sig);
}

static void test_blobs_and_algs(void)
{
	uint8_t n[256], e[3] = { 1, 0, 1 }, pk[32];
	struct key_material rsa = { .alg = KEY_RSA, .modulus = n, .modulus_len = sizeof(n),
	                          .exponent = e, .exponent_len = sizeof(e) };
	struct key_material ed = { .alg = KEY_ED25519, .point = pk, .point_len = 32 };
	enum sig_alg alg;
	const char *name;
	struct wbuf b;
	const uint8_t *p;
	size_t len;
	int eq;

	memset(n, 0xc3, sizeof(n));
	memset(pk, 7, sizeof(pk));
	wbuf_init(&b, 4096);
	CHECK(sshkey_blob(&rsa, &b) == ERR_OK, "rsa blob");
	CHECK(wbuf_get_string_eq(&b, "ssh-rsa", &eq) == ERR_OK && eq &&
	      wbuf_get_mpint_unsigned(&b, &p, &len) == ERR_OK && len == 3 &&
	      wbuf_get_mpint_unsigned(&b, &p, &len) == ERR_OK && len == 256 &&
	      wbuf_avail(&b) == 0, "ssh-rsa, e, n");
	wbuf_reset(&b);
	CHECK(sshkey_blob(&ed, &b) == ERR_OK && wbuf_avail(&b) == 4 + 11 + 4 + 32,
	      "ed25519 blob size");
	wbuf_free(&b);
	CHECK(key_material_bits(&rsa) == 2048, "2048-bit modulus");

	CHECK(sshkey_sigalg(&rsa, agent_rsa_sig(0), &alg, &name) == ERR_OK && alg == SIG_RSA_SHA1 &&
	      strcmp(name, "ssh-rsa") == 0, "no flags: ssh-rsa");
	CHECK(sshkey_sigalg(&rsa, agent_rsa_sig(SSHAGENT_SIGN_RSA_SHA2_256), &alg, &name) == ERR_OK &&
	      strcmp(name, "rsa-sha2-256") == 0, "rsa-sha2-256");
	CHECK(sshkey_sigalg(&rsa, agent_rsa_sig(SSHAGENT_SIGN_RSA_SHA2_512), &alg, &name) == ERR_OK &&
	      alg == SIG_RSA_SHA512, "rsa-sha2-512");
	CHECK(sshkey_sigalg(&rsa, agent_rsa_sig(SSHAGENT_SIGN_RSA_SHA2_256 | SSHAGENT_SIGN_RSA_SHA2_512), &alg,
	                    &name) == ERR_OK && alg == SIG_RSA_SHA256,
	      "both flags: 256 wins, as in OpenSSH");
	CHECK(sshkey_sigalg(&ed, SIG_RSA_SHA256, &alg, &name) == ERR_OK &&
	      strcmp(name, "ssh-ed25519") == 0, "flags do not change ed25519");
}

static void test_fingerprint(void)
{
	char fp[SSHKEY_FP_LEN];

	/* SHA-256 of the empty string, base64 without padding. */
	sshkey_fingerprint((const uint8_t *)"", 0, fp);
	CHECK(strcmp(fp, "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU") == 0, "got %s", fp);
}

int main(void)
{
	test_ecdsa_leading_zeros();
	test_blobs_and_algs();
	test_fingerprint();
	CHECK_DONE();
}
