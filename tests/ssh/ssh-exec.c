/*
 * Test driver for src/ssh: runs one command on an sshd through the transport, the bytes moved
 * over a plain TCP socket here (the agent will move them over a delegate's frames), signing
 * with a key of the agent at $SSH_AUTH_SOCK. Prints the command's output and exits with its
 * status; 255 and the reason on stderr when the transport fails.
 *
 *   ssh-exec [-f] [-n] [-r BYTES] [-t] [-s] [-e NAME=VALUE]... PORT USER HOST-KEYS KEYS COMMAND
 *
 * -f runs the session as the agent will in relay mode: through guard-relay.c, every byte in
 * both directions encoded as frames and decoded again (this driver plays the delegate).
 * KEYS is a comma-separated list of .pub files, offered in that order. -n leaves strict KEX
 * out of the offer (the non-strict path); -r re-keys after that many bytes; -t asks for a
 * terminal; -s runs COMMAND as a subsystem; -e sends an environment variable. Standard input
 * goes to the command.
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

#include "guard-relay.h"
#include "ssh-client.h"
#include "sshagent.h"

#define MAX_HOST_KEYS 8
#define MAX_KEYS 4

struct signer {
	struct sshagent_client *agent;
	const struct ssh_user_key *keys;
	int signed_with[MAX_KEYS];
};

static int sign(void *ctx, size_t key, const uint8_t *data, size_t len, struct wbuf *sig,
                struct reason *why)
{
	struct signer *s = ctx;
	const struct ssh_user_key *k = &s->keys[key];
	/* SSH_AGENT_RSA_SHA2_512 for RSA keys, which log in with rsa-sha2-512 here. */
	uint32_t flags = strcmp(k->alg, "rsa-sha2-512") == 0 ? 4 : 0;
	struct sshagent_reason pub;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	int r;

	if (sshagent_client_sign(s->agent, k->blob, k->len, data, len, flags, &blob, &blob_len,
	                         &pub) != SSHAGENT_OK)
		return reason_set(why, ERR_DENIED, "the agent did not sign: %s", pub.text);
	s->signed_with[key]++;
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

static void progress(void *ctx, const char *text)
{
	(void)ctx;
	fprintf(stderr, "ssh-exec: progress: %s\n", text);
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

/* The comma-separated .pub files, each with its signature algorithm. */
static int read_user_keys(char *list, struct sshpub *pubs, struct ssh_user_key *keys,
                          size_t *n)
{
	*n = 0;
	for (char *save = NULL, *f = strtok_r(list, ",", &save); f != NULL && *n < MAX_KEYS;
	     f = strtok_r(NULL, ",", &save)) {
		uint8_t *blob;
		size_t len;
		const char *alg;

		if (sshpub_file_blob(f, &blob, &len) != ERR_OK ||
		    sshpub_parse(blob, len, &pubs[*n]) != ERR_OK)
			return -1;
		free(blob);
		alg = sshkey_type_name(&pubs[*n].pub);
		keys[*n] = (struct ssh_user_key){ pubs[*n].blob, pubs[*n].blob_len,
		                                  strcmp(alg, "ssh-rsa") == 0 ? "rsa-sha2-512" : alg };
		(*n)++;
	}
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

static int drain(int fd, struct ssh_client *c)
{
	while (wbuf_avail(&c->pk.out) > 0) {
		ssize_t n = write(fd, wbuf_ptr(&c->pk.out), wbuf_avail(&c->pk.out));

		if (n <= 0 || wbuf_skip(&c->pk.out, (size_t)n) != ERR_OK)
			return -1;
		wbuf_compact(&c->pk.out);
	}
	return 0;
}

/* Moves bytes: the socket both ways, standard input to the command. */
static int pump(int fd, struct ssh_client *c)
{
	uint8_t buf[65536];
	int stdin_open = 1;

	while (c->state != SSH_DONE && c->state != SSH_FAILED) {
		struct pollfd pfd[2] = { { fd, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
		ssize_t n;

		if (drain(fd, c) != 0 || poll(pfd, stdin_open ? 2 : 1, 30000) <= 0)
			return -1;
		if (stdin_open && pfd[1].revents) {
			if ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
				if (ssh_client_stdin(c, buf, (size_t)n) != ERR_OK)
					return -1;
			} else {
				stdin_open = 0;
				if (ssh_client_stdin_eof(c) != ERR_OK)
					return -1;
			}
		}
		if (pfd[0].revents) {
			if ((n = read(fd, buf, sizeof(buf))) <= 0 ||
			    ssh_client_input(c, buf, (size_t)n) != ERR_OK)
				return -1;
		}
	}
	if (drain(fd, c) != 0)          /* our CLOSE, the last thing we owe */
		return -1;
	return c->state == SSH_DONE ? 0 : -1;
}

/* The delegate's side of -f: frames encoded onto a byte stream and read back, as on a wire. */
static int to_relay(struct guard_relay *g, enum guard_frame_type type, const uint8_t *p,
                    size_t n)
{
	enum guard_frame_type got;
	struct wbuf wire, payload;
	int r;

	wbuf_init(&wire, GUARD_FRAME_MAX + 8);
	if ((r = guard_frame_put(&wire, type, p, n)) == ERR_OK &&
	    (r = guard_frame_get(&wire, &got, &payload)) == ERR_OK)
		r = guard_relay_frame(g, got, &payload);
	wbuf_free(&wire);
	return r;
}

/* The agent's frames: bytes for the server, the command's output, its end. */
static int from_relay(struct guard_relay *g, int fd, uint32_t *credit, int *status)
{
	enum guard_frame_type type;
	struct wbuf payload;
	uint32_t code;
	char *text;

	while (guard_frame_get(&g->to_delegate, &type, &payload) == ERR_OK) {
		const uint8_t *p = wbuf_ptr(&payload);
		size_t n = wbuf_avail(&payload);

		switch (type) {
		case GF_TO_SERVER:
			if (write(fd, p, n) != (ssize_t)n)
				return -1;
			break;
		case GF_STDOUT:
		case GF_STDERR:
			output(NULL, type == GF_STDOUT ? 1 : 2, p, n);
			break;
		case GF_STDIN_CREDIT:
			if (wbuf_get_u32(&payload, &code) != ERR_OK)
				return -1;
			*credit += code;
			break;
		case GF_PROGRESS:
		case GF_EXIT:
		case GF_ABORT:
			if (wbuf_get_u32(&payload, &code) != ERR_OK ||
			    wbuf_get_cstring(&payload, &text) != ERR_OK)
				return -1;
			if (type == GF_PROGRESS)
				progress(NULL, text);
			else if (type == GF_ABORT)
				fprintf(stderr, "ssh-exec: aborted: %s\n", text);
			free(text);
			if (type != GF_PROGRESS) {
				*status = type == GF_EXIT ? (int)code : 255;
				return 1;
			}
			break;
		default:
			return -1;
		}
	}
	wbuf_compact(&g->to_delegate);
	return 0;
}

static int framed(int fd, const struct ssh_client_config *cfg, int *status)
{
	static const char address[] = "127.0.0.1";
	uint8_t buf[65536];
	struct guard_relay g;
	int stdin_open = 1, r = -1, done = 0;
	uint32_t credit = GUARD_STDIN_WINDOW;

	if (guard_relay_start(&g, cfg) != ERR_OK ||
	    to_relay(&g, GF_CONNECTED, (const uint8_t *)address, sizeof(address) - 1) != ERR_OK)
		goto out;
	while ((done = from_relay(&g, fd, &credit, status)) == 0) {
		struct pollfd pfd[2] = { { fd, POLLIN, 0 },
		                         { credit > 0 ? STDIN_FILENO : -1, POLLIN, 0 } };
		ssize_t n;

		if (poll(pfd, stdin_open ? 2 : 1, 30000) <= 0)
			goto out;
		if (stdin_open && pfd[1].revents) {
			n = read(STDIN_FILENO, buf, credit < sizeof(buf) ? credit : sizeof(buf));
			stdin_open = n > 0;
			credit -= n > 0 ? (uint32_t)n : 0;
			if (to_relay(&g, n > 0 ? GF_STDIN : GF_STDIN_EOF, buf, n > 0 ? (size_t)n : 0) !=
			    ERR_OK)
				goto out;
		}
		if (pfd[0].revents) {
			n = read(fd, buf, sizeof(buf));
			if (to_relay(&g, n > 0 ? GF_SERVER_DATA : GF_SERVER_CLOSED, buf,
			             n > 0 ? (size_t)n : 0) != ERR_OK)
				goto out;
		}
	}
	r = done > 0 ? 0 : -1;
	fprintf(stderr, "ssh-exec: relayed %llu bytes from the server, %llu to it\n",
	        (unsigned long long)g.from_server, (unsigned long long)g.to_server);
out:
	guard_relay_free(&g);
	return r;
}

/* The client driven directly over the socket; reports what was negotiated. */
static int direct(int fd, const struct ssh_client_config *cfg, const struct signer *s,
                  int *status)
{
	struct ssh_client c;
	int r = -1;

	if (ssh_client_start(&c, cfg) != ERR_OK)
		return -1;
	if (pump(fd, &c) != 0) {
		fprintf(stderr, "ssh-exec: %s\n", c.state == SSH_FAILED ? c.why.text :
		        "the connection ended early");
	} else {
		*status = c.exit_status >= 0 ? c.exit_status : 255;
		fprintf(stderr, "ssh-exec: kex %s, host key %s, cipher %s, strict %d, %u exchange(s), "
		        "signed with key %zu\n", ssh_kex_method_name(&c.kex), c.kex.hostkey_alg,
		        c.kex.cipher_cs->name, c.kex.strict, c.exchanges, c.key + 1);
		r = 0;
	}
	for (size_t i = 0; i < cfg->nkeys; i++)
		if (s->signed_with[i] > 0 && i != c.key)
			fprintf(stderr, "ssh-exec: key %zu signed, yet another logged in\n", i + 1);
	ssh_client_free(&c);
	return r;
}

int main(int argc, char **argv)
{
	struct sshpub host_keys[MAX_HOST_KEYS], pubs[MAX_KEYS];
	struct ssh_user_key keys[MAX_KEYS];
	struct ssh_env env[SSH_MAX_ENV];
	struct ssh_client_config cfg = { 0 };
	struct ssh_pty pty = { "xterm", 80, 24, 0, 0, (const uint8_t *)"", 1 };
	struct signer s = { 0 };
	struct sshagent_reason why;
	size_t nhost = 0, nkeys = 0;
	int fd, rc = 255, ch, through_frames = 0;

	memset(pubs, 0, sizeof(pubs));
	cfg.kind = SSH_SESSION_EXEC;
	while ((ch = getopt(argc, argv, "fnr:tse:")) != -1) {
		switch (ch) {
		case 'f': through_frames = 1; break;
		case 'n': cfg.omit_strict_kex = 1; break;
		case 'r': cfg.rekey_bytes = strtoull(optarg, NULL, 10); break;
		case 't': cfg.pty = &pty; break;
		case 's': cfg.kind = SSH_SESSION_SUBSYSTEM; break;
		case 'e':
			if (cfg.nenv >= SSH_MAX_ENV || strchr(optarg, '=') == NULL)
				return 2;
			*strchr(optarg, '=') = '\0';
			env[cfg.nenv++] = (struct ssh_env){ optarg, optarg + strlen(optarg) + 1 };
			break;
		default: return 2;
		}
	}
	if (argc - optind != 5) {
		fprintf(stderr, "usage: ssh-exec [-n] [-r BYTES] [-t] [-s] [-e NAME=VALUE]... PORT "
		        "USER HOST-KEYS KEY.pub[,KEY.pub...] COMMAND\n");
		return 2;
	}
	if (read_host_keys(argv[optind + 2], host_keys, &nhost) != 0 ||
	    read_user_keys(argv[optind + 3], pubs, keys, &nkeys) != 0) {
		fprintf(stderr, "ssh-exec: cannot read the host keys or the user keys\n");
		return 2;
	}
	if ((s.agent = sshagent_client_connect(NULL, &why)) == NULL) {
		fprintf(stderr, "ssh-exec: %s\n", why.text);
		return 2;
	}
	s.keys = keys;
	cfg.user = argv[optind + 1];
	cfg.command = argv[optind + 4];
	cfg.trusted = host_keys;
	cfg.ntrusted = nhost;
	cfg.keys = keys;
	cfg.nkeys = nkeys;
	cfg.sign = sign;
	cfg.sign_ctx = &s;
	cfg.output = output;
	cfg.progress = progress;
	cfg.env = env;
	if ((fd = connect_port(atoi(argv[optind]))) < 0)
		return 255;
	if ((through_frames ? framed(fd, &cfg, &rc) : direct(fd, &cfg, &s, &rc)) != 0)
		rc = 255;
	fflush(stdout);
	close(fd);
	sshagent_client_close(s.agent);
	for (size_t i = 0; i < nhost; i++)
		sshpub_free(&host_keys[i]);
	for (size_t i = 0; i < nkeys; i++)
		sshpub_free(&pubs[i]);
	return rc;
}
