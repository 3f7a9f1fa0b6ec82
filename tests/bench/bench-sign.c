/*
 * Signature throughput and latency, printed as figures (never asserted):
 *   bench-sign raw MODULE TOKEN KEYLABEL PIN CLIENTS SECONDS     C_Sign loop, the baseline
 *   bench-sign agent SOCKET KEYLABEL CLIENTS SECONDS             sign requests to an agent
 *   bench-sign hol SOCKET SLOWLABEL FASTLABEL                     p99 while a PIN prompt waits
 *   bench-sign bound SOCKET KEYLABEL HOSTSEED CLIENTS SECONDS     like agent, but each
 *       connection is bound (session-bind) to the Ed25519 host key whose 32-byte seed is in
 *       the file HOSTSEED, and signs userauth requests, so the policy sees a destination
 *   bench-sign hostkey HOSTSEED                                   makes a seed, prints the
 *       public key as known_hosts text
 * Each measuring mode prints one line: "<sig/s> <p50 ms> <p99 ms> <count>".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

#include "agent-client.h"
#include "agent-proto.h"
#include "err.h"

#define MAX_SAMPLES 2000000

static double *samples;
static size_t nsamples;
static pthread_mutex_t sample_lock = PTHREAD_MUTEX_INITIALIZER;
static double deadline;
static uint8_t data[256];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void record(double seconds)
{
	pthread_mutex_lock(&sample_lock);
	if (nsamples < MAX_SAMPLES)
		samples[nsamples++] = seconds;
	pthread_mutex_unlock(&sample_lock);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(double elapsed)
{
	qsort(samples, nsamples, sizeof(double), cmp_double);
	if (nsamples == 0) {
		printf("0 0 0 0\n");
		return;
	}
	printf("%.1f %.3f %.3f %zu\n", (double)nsamples / elapsed,
	       samples[nsamples / 2] * 1e3, samples[(nsamples * 99) / 100] * 1e3, nsamples);
}

/* ---- raw C_Sign ---- */

struct raw_ctx {
	CK_FUNCTION_LIST *fn;
	CK_SLOT_ID slot;
	const char *label;
};

static CK_OBJECT_HANDLE find_key(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE s, const char *label,
                                 CK_KEY_TYPE *kt)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) },
	                        { CKA_LABEL, (void *)label, strlen(label) } };
	CK_ATTRIBUTE ktattr = { CKA_KEY_TYPE, kt, sizeof(*kt) };
	CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
	CK_ULONG n = 0;

	fn->C_FindObjectsInit(s, tmpl, 2);
	fn->C_FindObjects(s, &obj, 1, &n);
	fn->C_FindObjectsFinal(s);
	if (n == 0)
		return CK_INVALID_HANDLE;
	fn->C_GetAttributeValue(s, obj, &ktattr, 1);
	return obj;
}

/* The same token input the agent produces: DigestInfo+SHA-256, SHA-256/384/512, or data. */
static size_t raw_input(CK_KEY_TYPE kt, const char *label, uint8_t *in, CK_MECHANISM_TYPE *mech)
{
	static const uint8_t di256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
		0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
	unsigned int n = 0;

	if (kt == CKK_RSA) {
		*mech = CKM_RSA_PKCS;
		memcpy(in, di256, sizeof(di256));
		EVP_Digest(data, sizeof(data), in + sizeof(di256), &n, EVP_sha256(), NULL);
		return sizeof(di256) + n;
	}
	if (kt == CKK_EC) {
		*mech = CKM_ECDSA;
		EVP_Digest(data, sizeof(data), in, &n, strstr(label, "384") ? EVP_sha384() :
		           strstr(label, "521") ? EVP_sha512() : EVP_sha256(), NULL);
		return n;
	}
	*mech = CKM_EDDSA;
	memcpy(in, data, sizeof(data));
	return sizeof(data);
}

static void *raw_worker(void *arg)
{
	struct raw_ctx *c = arg;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_KEY_TYPE kt = 0;
	CK_MECHANISM mech = { 0, NULL, 0 };
	uint8_t in[512], sig[1024];
	CK_ULONG sig_len;
	size_t in_len;
	double t0;

	if (c->fn->C_OpenSession(c->slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
	    (key = find_key(c->fn, s, c->label, &kt)) == CK_INVALID_HANDLE) {
		fprintf(stderr, "bench-sign: no key %s\n", c->label);
		exit(1);
	}
	in_len = raw_input(kt, c->label, in, &mech.mechanism);
	while ((t0 = now_s()) < deadline) {
		sig_len = sizeof(sig);
		if (c->fn->C_SignInit(s, &mech, key) != CKR_OK ||
		    c->fn->C_Sign(s, in, in_len, sig, &sig_len) != CKR_OK) {
			fprintf(stderr, "bench-sign: C_Sign failed\n");
			exit(1);
		}
		record(now_s() - t0);
	}
	c->fn->C_CloseSession(s);
	return NULL;
}

static int run_raw(char **argv)
{
	CK_C_INITIALIZE_ARGS init = { .flags = CKF_OS_LOCKING_OK };
	CK_FUNCTION_LIST *fn = p11_kit_module_load(argv[0], P11_KIT_MODULE_UNMANAGED);
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	CK_TOKEN_INFO info;
	CK_SESSION_HANDLE s;
	struct raw_ctx ctx = { fn, 0, argv[2] };
	int clients = atoi(argv[4]);
	pthread_t th[64];
	double t0;

	if (fn == NULL || fn->C_Initialize(&init) != CKR_OK ||
	    fn->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return 1;
	for (CK_ULONG i = 0; i < n; i++) {
		if (fn->C_GetTokenInfo(slots[i], &info) == CKR_OK &&
		    strncmp((char *)info.label, argv[1], strlen(argv[1])) == 0 &&
		    info.label[strlen(argv[1])] == ' ')
			ctx.slot = slots[i];
	}
	if (fn->C_OpenSession(ctx.slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
	    fn->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)argv[3], strlen(argv[3])) != CKR_OK)
		return 1;
	t0 = now_s();
	deadline = t0 + atof(argv[5]);
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, raw_worker, &ctx);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	report(now_s() - t0);
	return 0;
}

/* ---- through an agent ---- */

static const char *sock_path;
static uint8_t blob[4096];
static size_t blob_len;
static uint32_t sign_flags;

static int agent_connect(void)
{
	int fd = agent_client_connect(sock_path);

	if (fd < 0) {
		perror("bench-sign: connecting to the agent");
		exit(2);
	}
	return fd;
}

/* Finds the key whose comment contains `label`, by listing identities. */
static int find_blob(const char *label, uint8_t *out, size_t *out_len)
{
	struct wbuf req, body;
	const uint8_t *p, *c;
	size_t n, cn;
	uint32_t count;
	int fd = agent_connect(), found = 0;

	wbuf_init(&req, 64);
	wbuf_init(&body, SSHAGENT_MAX_MESSAGE);
	if (agent_frame_simple(&req, SSHAGENTC_REQUEST_IDENTITIES) != ERR_OK ||
	    agent_client_request(fd, &req, &body) != SSHAGENT_IDENTITIES_ANSWER ||
	    wbuf_get_u32(&body, &count) != ERR_OK)
		exit(1);
	while (count-- > 0 && !found &&
	       wbuf_get_string(&body, &p, &n) == ERR_OK && wbuf_get_string(&body, &c, &cn) == ERR_OK) {
		char comment[512];

		snprintf(comment, sizeof(comment), "%.*s", (int)cn, (const char *)c);
		if (strstr(comment, label) != NULL && n <= 4096) {
			memcpy(out, p, n);
			*out_len = n;
			found = 1;
		}
	}
	close(fd);
	wbuf_free(&req);
	wbuf_free(&body);
	return found ? 0 : -1;
}

/* Bound mode: the host key that signs each connection's session id, and that session id. */
static EVP_PKEY *host_key;
static uint8_t session_id[32];

static void put_host_blob(struct wbuf *b)
{
	uint8_t pub[32];
	size_t len = sizeof(pub);
	struct wbuf k;

	wbuf_init(&k, 128);
	EVP_PKEY_get_raw_public_key(host_key, pub, &len);
	if (wbuf_put_cstring(&k, "ssh-ed25519") != ERR_OK ||
	    wbuf_put_string(&k, pub, len) != ERR_OK || wbuf_put_stringb(b, &k) != ERR_OK)
		exit(1);
	wbuf_free(&k);
}

/* session-bind@openssh.com, as ssh sends it right after key exchange. */
static void bind_connection(int fd)
{
	uint8_t sig[64];
	size_t sig_len = sizeof(sig);
	struct wbuf req, body, s;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t mark;

	EVP_DigestSignInit(ctx, NULL, NULL, NULL, host_key);
	EVP_DigestSign(ctx, sig, &sig_len, session_id, sizeof(session_id));
	EVP_MD_CTX_free(ctx);
	wbuf_init(&req, 4096);
	wbuf_init(&s, 256);
	wbuf_init(&body, SSHAGENT_MAX_MESSAGE);
	if (wbuf_put_cstring(&s, "ssh-ed25519") != ERR_OK ||
	    wbuf_put_string(&s, sig, sig_len) != ERR_OK ||
	    agent_frame_begin(&req, SSHAGENTC_EXTENSION, &mark) != ERR_OK ||
	    wbuf_put_cstring(&req, "session-bind@openssh.com") != ERR_OK)
		exit(1);
	put_host_blob(&req);
	if (wbuf_put_string(&req, session_id, sizeof(session_id)) != ERR_OK ||
	    wbuf_put_stringb(&req, &s) != ERR_OK || wbuf_put_u8(&req, 0) != ERR_OK ||
	    agent_frame_end(&req, mark) != ERR_OK ||
	    agent_client_request(fd, &req, &body) != SSHAGENT_SUCCESS) {
		fprintf(stderr, "bench-sign: session-bind refused\n");
		exit(1);
	}
	wbuf_free(&req);
	wbuf_free(&s);
	wbuf_free(&body);
}

/* What ssh signs for publickey-hostbound authentication in the bound session. */
static void userauth_request(struct wbuf *out)
{
	if (wbuf_put_string(out, session_id, sizeof(session_id)) != ERR_OK ||
	    wbuf_put_u8(out, 50) != ERR_OK || wbuf_put_cstring(out, "bench") != ERR_OK ||
	    wbuf_put_cstring(out, "ssh-connection") != ERR_OK ||
	    wbuf_put_cstring(out, "publickey-hostbound-v00@openssh.com") != ERR_OK ||
	    wbuf_put_u8(out, 1) != ERR_OK || wbuf_put_cstring(out, "ecdsa-sha2-nistp256") != ERR_OK ||
	    wbuf_put_string(out, blob, blob_len) != ERR_OK)
		exit(1);
	put_host_blob(out);
}

static void *agent_worker(void *arg)
{
	struct wbuf req, body, signed_data;
	int fd = agent_connect();
	double t0;

	(void)arg;
	wbuf_init(&req, 8192);
	wbuf_init(&body, SSHAGENT_MAX_MESSAGE);
	wbuf_init(&signed_data, 8192);
	if (host_key != NULL) {
		bind_connection(fd);
		userauth_request(&signed_data);
	} else if (wbuf_put_bytes(&signed_data, data, sizeof(data)) != ERR_OK) {
		exit(1);
	}
	if (agent_request_sign(&req, blob, blob_len, wbuf_ptr(&signed_data),
	                       wbuf_avail(&signed_data), sign_flags) != ERR_OK)
		exit(1);
	wbuf_free(&signed_data);
	while ((t0 = now_s()) < deadline) {
		if (agent_client_request(fd, &req, &body) != SSHAGENT_SIGN_RESPONSE) {
			fprintf(stderr, "bench-sign: agent refused to sign\n");
			exit(1);
		}
		record(now_s() - t0);
	}
	close(fd);
	wbuf_free(&req);
	wbuf_free(&body);
	return NULL;
}

static int run_agent(char **argv)
{
	int clients = atoi(argv[2]);
	pthread_t th[64];
	double t0;

	sock_path = argv[0];
	if (find_blob(argv[1], blob, &blob_len) != 0) {
		fprintf(stderr, "bench-sign: agent has no key \"%s\"\n", argv[1]);
		return 1;
	}
	sign_flags = strstr(argv[1], "rsa") ? SSHAGENT_SIGN_RSA_SHA2_256 : 0;
	t0 = now_s();
	deadline = t0 + atof(argv[3]);
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, agent_worker, NULL);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	report(now_s() - t0);
	return 0;
}

/* ---- head-of-line blocking: a signature waits on a slow PIN prompt ---- */

static uint8_t slow_blob[4096];
static size_t slow_len;
static double slow_latency;

static void *slow_worker(void *arg)
{
	struct wbuf req, body;
	int fd = agent_connect();
	double t0 = now_s();

	(void)arg;
	wbuf_init(&req, 8192);
	wbuf_init(&body, SSHAGENT_MAX_MESSAGE);
	if (agent_request_sign(&req, slow_blob, slow_len, data, sizeof(data), 0) != ERR_OK ||
	    agent_client_request(fd, &req, &body) != SSHAGENT_SIGN_RESPONSE)
		fprintf(stderr, "bench-sign: the slow signature failed\n");
	slow_latency = now_s() - t0;
	close(fd);
	wbuf_free(&req);
	wbuf_free(&body);
	return NULL;
}

static int run_hol(char **argv)
{
	pthread_t slow, fast;
	double t0;

	sock_path = argv[0];
	if (find_blob(argv[1], slow_blob, &slow_len) != 0 || find_blob(argv[2], blob, &blob_len))
		return 1;
	pthread_create(&slow, NULL, slow_worker, NULL);
	usleep(100000);         /* the prompt is running */
	t0 = now_s();
	deadline = t0 + 1.5;    /* well inside the prompt's 2 s */
	pthread_create(&fast, NULL, agent_worker, NULL);
	pthread_join(fast, NULL);
	report(now_s() - t0);
	pthread_join(slow, NULL);
	fprintf(stderr, "slow signature (behind the PIN prompt) took %.2f s\n", slow_latency);
	return 0;
}

static EVP_PKEY *load_host_seed(const char *path)
{
	uint8_t seed[32];
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(seed, 1, sizeof(seed), f) : 0;

	if (f != NULL)
		fclose(f);
	return n == sizeof(seed) ?
	       EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed)) : NULL;
}

/* Writes a fresh seed and prints the public key as known_hosts text. */
static int run_hostkey(const char *path)
{
	uint8_t seed[32];
	size_t len = sizeof(seed);
	struct wbuf b;
	char b64[128];
	FILE *f;

	host_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (host_key == NULL || EVP_PKEY_get_raw_private_key(host_key, seed, &len) != 1 ||
	    (f = fopen(path, "wb")) == NULL || fwrite(seed, 1, len, f) != len || fclose(f) != 0)
		return 1;
	wbuf_init(&b, 256);
	put_host_blob(&b);
	EVP_EncodeBlock((unsigned char *)b64, wbuf_ptr(&b) + 4, (int)wbuf_avail(&b) - 4);
	printf("ssh-ed25519 %s\n", b64);
	wbuf_free(&b);
	return 0;
}

int main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);
	if ((samples = calloc(MAX_SAMPLES, sizeof(double))) == NULL)
		return 1;
	if (argc == 8 && strcmp(argv[1], "raw") == 0)
		return run_raw(argv + 2);
	if (argc == 6 && strcmp(argv[1], "agent") == 0)
		return run_agent(argv + 2);
	if (argc == 5 && strcmp(argv[1], "hol") == 0)
		return run_hol(argv + 2);
	if (argc == 3 && strcmp(argv[1], "hostkey") == 0)
		return run_hostkey(argv[2]);
	if (argc == 7 && strcmp(argv[1], "bound") == 0) {
		char *args[] = { argv[2], argv[3], argv[5], argv[6] };

		if ((host_key = load_host_seed(argv[4])) == NULL)
			return 1;
		memset(session_id, 0x5a, sizeof(session_id));
		return run_agent(args);
	}
	fprintf(stderr, "usage: see the comment at the top of tests/bench/bench-sign.c\n");
	return 2;
}
