/*
 * Test driver for src/ssh: runs one command on an sshd through the transport, the bytes moved
 * over a plain TCP socket here (the agent will move them over a delegate's frames), signing
 * with a key of the agent at $SSH_AUTH_SOCK. Prints the command's output and exits with its
 * status; 255 and the reason on stderr when the transport fails.
 *
 *   ssh-exec [-n] [-r REKEY-BYTES] PORT USER HOST-KEYS-FILE USER-KEY.pub COMMAND
 *
 * -n leaves strict KEX out of the offer (the non-strict path); -r re-keys after that many
 * bytes.
 * HOST-KEYS-FILE holds the server's trusted host keys, one "TYPE BASE64" per line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ssh-client.h"
#include "sshagent.h"

#define MAX_HOST_KEYS 8

struct signer {
	struct sshagent_client *agent;
	const uint8_t *key;
	size_t key_len;
	uint32_t flags;
};

static int sign(void *ctx, const uint8_t *data, size_t len, struct wbuf *sig, struct reason *why)
{
	struct signer *s = ctx;
	struct sshagent_reason pub;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	int r;

	if (sshagent_client_sign(s->agent, s->key, s->key_len, data, len, s->flags, &blob,
	                         &blob_len, &pub) != SSHAGENT_OK)
		return reason_set(why, ERR_DENIED, "the agent did not sign: %s", pub.text);
	r = wbuf_put_bytes(sig, blob, blob_len);
	free(blob);
	return r;
}

static void output(void *ctx, int stream, const uint8_t *p, size_t n)
{
	(void)ctx;
	if (fwrite(p, 1, n, stream == 1 ? stdout : stderr) != n)
		perror("ssh-exec: write");
}

static int read_host_keys(const char *path, struct sshpub *keys, size_t *n)
{
	char line[16384];
	FILE *f = fopen(path, "r");

	*n = 0;
	if (f == NULL)
		return -1;
	while (*n < MAX_HOST_KEYS && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] != '\0' && sshpub_parse_text(line, &keys[*n]) == ERR_OK)
			(*n)++;
	}
	fclose(f);
	return *n > 0 ? 0 : -1;
}

static int connect_port(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("ssh-exec: connect");
		return -1;
	}
	return fd;
}

/* Moves bytes both ways until the command ends or the transport fails. */
static int pump(int fd, struct ssh_client *c)
{
	uint8_t buf[65536];

	while (c->state != SSH_DONE && c->state != SSH_FAILED) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;

		while (wbuf_avail(&c->pk.out) > 0) {
			if ((n = write(fd, wbuf_ptr(&c->pk.out), wbuf_avail(&c->pk.out))) <= 0)
				return -1;
			if (wbuf_skip(&c->pk.out, (size_t)n) != ERR_OK)
				return -1;
			wbuf_compact(&c->pk.out);
		}
		if (poll(&pfd, 1, 30000) <= 0)
			return -1;
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			return -1;
		if (ssh_client_input(c, buf, (size_t)n) != ERR_OK)
			return -1;
	}
	/* Our CLOSE, the last thing we owe. */
	if (wbuf_avail(&c->pk.out) > 0 &&
	    write(fd, wbuf_ptr(&c->pk.out), wbuf_avail(&c->pk.out)) < 0)
		return -1;
	return c->state == SSH_DONE ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sshpub host_keys[MAX_HOST_KEYS], user_key;
	struct ssh_client_config cfg = { 0 };
	struct signer s = { 0 };
	struct sshagent_reason why;
	struct ssh_client c;
	uint8_t *blob = NULL;
	size_t blob_len, nkeys;
	int fd, rc, arg = 1;
	const char *alg;

	memset(&user_key, 0, sizeof(user_key));
	for (;;) {
		if (argc > arg && strcmp(argv[arg], "-n") == 0) {
			cfg.omit_strict_kex = 1;
			arg++;
		} else if (argc > arg + 1 && strcmp(argv[arg], "-r") == 0) {
			cfg.rekey_bytes = strtoull(argv[arg + 1], NULL, 10);
			arg += 2;
		} else {
			break;
		}
	}
	if (argc - arg != 5) {
		fprintf(stderr, "usage: ssh-exec [-n] [-r BYTES] PORT USER HOST-KEYS USER-KEY.pub "
		        "CMD\n");
		return 2;
	}
	if (read_host_keys(argv[arg + 2], host_keys, &nkeys) != 0 ||
	    sshpub_file_blob(argv[arg + 3], &blob, &blob_len) != ERR_OK ||
	    sshpub_parse(blob, blob_len, &user_key) != ERR_OK) {
		fprintf(stderr, "ssh-exec: cannot read the host keys or the user key\n");
		return 2;
	}
	if ((s.agent = sshagent_client_connect(NULL, &why)) == NULL) {
		fprintf(stderr, "ssh-exec: %s\n", why.text);
		return 2;
	}
	alg = sshkey_type_name(&user_key.pub);
	if (strcmp(alg, "ssh-rsa") == 0) {
		alg = "rsa-sha2-512";
		s.flags = 4;            /* SSH_AGENT_RSA_SHA2_512 */
	}
	s.key = blob;
	s.key_len = blob_len;
	cfg.user = argv[arg + 1];
	cfg.command = argv[arg + 4];
	cfg.trusted = host_keys;
	cfg.ntrusted = nkeys;
	cfg.key = blob;
	cfg.key_len = blob_len;
	cfg.key_alg = alg;
	cfg.sign = sign;
	cfg.sign_ctx = &s;
	cfg.output = output;
	if ((fd = connect_port(atoi(argv[arg]))) < 0 || ssh_client_start(&c, &cfg) != ERR_OK)
		return 255;
	if (ssh_client_stdin_eof(&c) != ERR_OK || pump(fd, &c) != 0) {
		fprintf(stderr, "ssh-exec: %s\n", c.state == SSH_FAILED ? c.why.text :
		        "the connection ended early");
		rc = 255;
	} else {
		rc = c.exit_status >= 0 ? c.exit_status : 255;
		fprintf(stderr, "ssh-exec: kex %s, host key %s, cipher %s, strict %d, %u exchange(s)\n",
		        ssh_kex_method_name(&c.kex), c.kex.hostkey_alg, c.kex.cipher_cs->name,
		        c.kex.strict, c.exchanges);
	}
	fflush(stdout);
	close(fd);
	ssh_client_free(&c);
	sshagent_client_close(s.agent);
	for (size_t i = 0; i < nkeys; i++)
		sshpub_free(&host_keys[i]);
	sshpub_free(&user_key);
	free(blob);
	return rc;
}
