/*
 * sshagent-filekey [-c PROGRAM] SOCKET KEYFILE: an agent on SOCKET for the one unencrypted
 * Ed25519 key in an OpenSSH private key file. With -c, each signature first runs PROGRAM,
 * which must exit 0 to allow it. An example of libsshagent: build with
 * `cc sshagent-filekey.c $(pkg-config --cflags --libs sshagent libcrypto)`.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sshagent.h>

struct filekey {
	EVP_PKEY *key;
	uint8_t blob[51];       /* string "ssh-ed25519", string public key */
	char comment[256];
	const char *confirm;    /* -c PROGRAM, or NULL */
};

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* A bounded reader for the key file's SSH-encoded fields. */
struct reader {
	const uint8_t *p;
	size_t left;
};

static int take(struct reader *r, size_t n, const uint8_t **out)
{
	if (n > r->left)
		return -1;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int string(struct reader *r, const uint8_t **s, size_t *n)
{
	const uint8_t *len;

	if (take(r, 4, &len) != 0)
		return -1;
	*n = (size_t)len[0] << 24 | (size_t)len[1] << 16 | (size_t)len[2] << 8 | len[3];
	return take(r, *n, s);
}

#define is(s, n, want) ((n) == strlen(want) && memcmp((s), (want), (n)) == 0)

/* PROTOCOL.key: "openssh-key-v1", no cipher, one key; the private part holds pk || sk. */
static int parse_key(const uint8_t *data, size_t len, struct filekey *fk)
{
	struct reader r = { data, len }, priv;
	const uint8_t *s, *pub, *check, *sk, *pk;
	size_t n, pub_len, sk_len, pk_len;

	if (take(&r, 15, &s) != 0 || memcmp(s, "openssh-key-v1", 15) != 0 ||
	    string(&r, &s, &n) != 0 || !is(s, n, "none") || string(&r, &s, &n) != 0 ||
	    !is(s, n, "none") || string(&r, &s, &n) != 0 || take(&r, 4, &s) != 0 ||
	    memcmp(s, "\0\0\0\1", 4) != 0 || string(&r, &pub, &pub_len) != 0 ||
	    pub_len != sizeof(fk->blob) || string(&r, &s, &n) != 0)
		return -1;      /* encrypted, several keys, or not this format */
	memcpy(fk->blob, pub, pub_len);
	priv = (struct reader){ s, n };
	if (take(&priv, 8, &check) != 0 || memcmp(check, check + 4, 4) != 0 ||
	    string(&priv, &s, &n) != 0 || !is(s, n, "ssh-ed25519") ||
	    string(&priv, &pk, &pk_len) != 0 || pk_len != 32 ||
	    string(&priv, &sk, &sk_len) != 0 || sk_len != 64 || string(&priv, &s, &n) != 0)
		return -1;
	snprintf(fk->comment, sizeof(fk->comment), "%.*s", (int)n, (const char *)s);
	fk->key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, 32);
	return fk->key != NULL && memcmp(pk, pub + 19, 32) == 0 ? 0 : -1;
}

static int load_key(const char *path, struct filekey *fk)
{
	char line[256], b64[8192] = "";
	uint8_t raw[6144];
	size_t used = 0;
	int in = 0, n;
	FILE *f = fopen(path, "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strstr(line, "-----BEGIN OPENSSH PRIVATE KEY-----") != NULL)
			in = 1;
		else if (strstr(line, "-----END OPENSSH PRIVATE KEY-----") != NULL)
			in = 0;
		else if (in && used + strlen(line) < sizeof(b64))
			used += (size_t)snprintf(b64 + used, sizeof(b64) - used, "%s", line);
	}
	if (f != NULL)
		fclose(f);
	n = used % 4 == 0 ? EVP_DecodeBlock(raw, (const uint8_t *)b64, (int)used) : -1;
	/* EVP_DecodeBlock counts the padding as data; the format's own lengths bound it. */
	n = n > 0 ? parse_key(raw, (size_t)n, fk) : -1;
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(b64, sizeof(b64));
	OPENSSL_cleanse(line, sizeof(line));
	return n;
}

static int fk_list(void *ctx, struct sshagent_conn *c, struct sshagent_reply *r,
                   struct sshagent_reason *why)
{
	struct filekey *fk = ctx;

	(void)c, (void)why;
	return sshagent_reply_identity(r, fk->blob, sizeof(fk->blob), fk->comment);
}

/* The library's confirmation hook: PROGRAM decides, by its exit status. */
static int fk_confirm(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
                      struct sshagent_reason *why)
{
	struct filekey *fk = ctx;
	int status = -1;
	pid_t pid;

	(void)req;
	if (fk->confirm == NULL)
		return SSHAGENT_OK;
	if ((pid = fork()) == 0) {
		execl(fk->confirm, fk->confirm, fk->comment, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return sshagent_refuse(why, SSHAGENT_ERR_DENIED, "%s did not allow a signature for "
		                       "pid %ld", fk->confirm, (long)sshagent_conn_pid(c));
	return SSHAGENT_OK;
}

static int fk_sign(void *ctx, struct sshagent_conn *c, const struct sshagent_request *req,
                   struct sshagent_reply *r, struct sshagent_reason *why)
{
	struct filekey *fk = ctx;
	uint8_t sig[4 + 11 + 4 + 64] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5',
	                                 '1', '9', 0, 0, 0, 64 };
	size_t len = 64;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	(void)c;
	if (req->u.sign.key.len != sizeof(fk->blob) ||
	    memcmp(req->u.sign.key.data, fk->blob, sizeof(fk->blob)) != 0) {
		EVP_MD_CTX_free(md);
		return sshagent_refuse(why, SSHAGENT_ERR_KEY_NOT_FOUND, "not this agent's key");
	}
	ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, fk->key) == 1 &&
	     EVP_DigestSign(md, sig + 19, &len, req->u.sign.data.data, req->u.sign.data.len) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return sshagent_refuse(why, SSHAGENT_ERR_INTERNAL, "signing failed");
	return sshagent_reply_signature(r, sig, sizeof(sig));
}

int main(int argc, char **argv)
{
	struct sshagent_ops ops = { .list = fk_list, .sign = fk_sign, .confirm = fk_confirm };
	struct sshagent_server_options opt = { .listen_fd = -1, .quit = &quit };
	struct sshagent_reason why;
	struct filekey fk = { 0 };
	int ch;

	while ((ch = getopt(argc, argv, "c:")) == 'c')
		fk.confirm = optarg;
	if (ch != -1 || argc - optind != 2) {
		fprintf(stderr, "usage: sshagent-filekey [-c PROGRAM] SOCKET KEYFILE\n");
		return 2;
	}
	if (load_key(argv[optind + 1], &fk) != 0) {
		fprintf(stderr, "sshagent-filekey: %s: not an unencrypted OpenSSH Ed25519 key\n",
		        argv[optind + 1]);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	opt.path = argv[optind];
	if (sshagent_serve(&ops, &fk, &opt, &why) != SSHAGENT_OK) {
		fprintf(stderr, "sshagent-filekey: %s\n", why.text);
		return 1;
	}
	EVP_PKEY_free(fk.key);
	return 0;
}
