/*
 * p11guard-ssh: the delegate of guarded execution, run on an intermediary in place of ssh.
 * It asks the agent at $SSH_AUTH_SOCK (a forwarded p11guard) to run one command on a server
 * (guarded-exec@p11guard), opens the TCP connection only once the agent accepted, and then
 * only moves bytes: the server's to the agent and back, its own input to the command, the
 * command's output to its own. The agent verifies the server, logs in and writes every packet.
 *
 *   p11guard-ssh [-v] [-p PORT] [-l USER] [USER@]HOST COMMAND...
 *
 * Exit status: the command's, or 255 for p11guard-ssh's own errors and refusals, as ssh.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-proto.h"
#include "guard-wire.h"

#define FAILED 255

static int verbose;

static void usage(FILE *f)
{
	fprintf(f, "usage: p11guard-ssh [-v] [-p PORT] [-l USER] [USER@]HOST COMMAND...\n");
}

/* The agent's account of its refusal (refusal-reason@p11guard). */
static void print_refusal(int fd)
{
	struct wbuf req, reply;
	char *name = NULL, *text = NULL;
	size_t mark;

	wbuf_init(&req, 256);
	wbuf_init(&reply, SSHAGENT_MAX_MESSAGE);
	if (agent_frame_begin(&req, SSHAGENTC_EXTENSION, &mark) == ERR_OK &&
	    wbuf_put_cstring(&req, "refusal-reason@p11guard") == ERR_OK &&
	    agent_frame_end(&req, mark) == ERR_OK &&
	    agent_client_request(fd, &req, &reply) == SSHAGENT_EXTENSION_RESPONSE &&
	    wbuf_get_cstring(&reply, &name) == ERR_OK && wbuf_get_cstring(&reply, &text) == ERR_OK &&
	    text[0] != '\0')
		fprintf(stderr, "p11guard-ssh: the agent refused: %s\n", text);
	else
		fprintf(stderr, "p11guard-ssh: the agent refused, and gave no reason (is it "
		        "p11guard? guarded execution needs p11guard-agent)\n");
	free(name);
	free(text);
	wbuf_free(&req);
	wbuf_free(&reply);
}

/* The request; 0 once the agent accepted (the fd then carries frames). */
static int ask(int fd, const struct guard_request_wire *g)
{
	struct wbuf req, reply;
	size_t mark;
	int type = -1;

	wbuf_init(&req, SSHAGENT_MAX_MESSAGE);
	wbuf_init(&reply, SSHAGENT_MAX_MESSAGE);
	if (agent_frame_begin(&req, SSHAGENTC_EXTENSION, &mark) == ERR_OK &&
	    wbuf_put_cstring(&req, GUARD_EXTENSION) == ERR_OK && guard_request_encode(g, &req) ==
	    ERR_OK && agent_frame_end(&req, mark) == ERR_OK)
		type = agent_client_request(fd, &req, &reply);
	wbuf_free(&req);
	wbuf_free(&reply);
	if (type == SSHAGENT_EXTENSION_RESPONSE)
		return 0;
	if (type < 0)
		fprintf(stderr, "p11guard-ssh: no answer from the agent\n");
	else
		print_refusal(fd);
	return -1;
}

static int connect_server(const char *host, unsigned port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char service[16];
	int fd = -1, e;

	snprintf(service, sizeof(service), "%u", port);
	if ((e = getaddrinfo(host, service, &hints, &res)) != 0) {
		fprintf(stderr, "p11guard-ssh: %s: %s\n", host, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)) < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "p11guard-ssh: connect to %s port %u: %s\n", host, port,
		        strerror(errno));
	return fd;
}

#define HIGH_WATER (4 * 1024 * 1024)

/* One frame appended to a buffer that wbuf_send() sends. */
static int queue_frame(struct wbuf *out, enum guard_frame_type type, const uint8_t *p, size_t n)
{
	return guard_frame_put(out, type, p, n) == ERR_OK ? 0 : -1;
}

/* Blocking writes for the command's output: our reader is the user's ssh. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A frame from the agent; returns 1 with *status set when the session ended. */
static int on_frame(struct wbuf *to_server, enum guard_frame_type type, struct wbuf *payload,
                    int *status)
{
	uint32_t code;
	char *text = NULL;

	switch (type) {
	case GF_TO_SERVER:
		return wbuf_put_bytes(to_server, wbuf_ptr(payload), wbuf_avail(payload)) == ERR_OK ?
		       0 : -1;
	case GF_STDOUT:
	case GF_STDERR:
		return write_all(type == GF_STDOUT ? STDOUT_FILENO : STDERR_FILENO,
		                 wbuf_ptr(payload), wbuf_avail(payload)) == 0 ? 0 : -1;
	case GF_PROGRESS:
	case GF_EXIT:
	case GF_ABORT:
		if (wbuf_get_u32(payload, &code) != ERR_OK || wbuf_get_cstring(payload, &text) != ERR_OK)
			return -1;
		if (type == GF_PROGRESS && verbose)
			fprintf(stderr, "p11guard-ssh: %s\n", text);
		if (type == GF_ABORT)
			fprintf(stderr, "p11guard-ssh: %s\n", text);
		if (type == GF_EXIT && text[0] != '\0')
			fprintf(stderr, "p11guard-ssh: the command ended with signal %s\n", text);
		free(text);
		if (type == GF_PROGRESS)
			return 0;
		*status = type == GF_EXIT ? (int)code : FAILED;
		return 1;
	default:
		fprintf(stderr, "p11guard-ssh: the agent sent a frame it may not send\n");
		return -1;
	}
}

/*
 * Moves bytes until the agent says the session ended, never waiting on a write to the agent
 * or the server (each waits in a buffer): both may be sending to us at that moment. Past
 * HIGH_WATER we stop reading what would add to a buffer, and TCP holds its sender back.
 */
static int relay(int agent, int server)
{
	uint8_t buf[32768];
	struct wbuf in, to_agent, to_server, payload;
	enum guard_frame_type type;
	int status = FAILED, stdin_open = 1, server_open = 1, r = 0;

	wbuf_init(&in, 4 * GUARD_FRAME_MAX);
	wbuf_init(&to_agent, 2 * HIGH_WATER);
	wbuf_init(&to_server, 2 * HIGH_WATER);
	while (r == 0) {
		int agent_busy = wbuf_avail(&to_agent) >= HIGH_WATER;
		struct pollfd pfd[3] = {
			{ agent, (wbuf_avail(&to_server) < HIGH_WATER ? POLLIN : 0) |
			         (wbuf_avail(&to_agent) > 0 ? POLLOUT : 0), 0 },
			{ server, (server_open && !agent_busy ? POLLIN : 0) |
			          (wbuf_avail(&to_server) > 0 ? POLLOUT : 0), 0 },
			{ STDIN_FILENO, stdin_open && !agent_busy ? POLLIN : 0, 0 },
		};
		ssize_t n;

		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			if ((n = read(agent, buf, sizeof(buf))) <= 0) {
				fprintf(stderr, "p11guard-ssh: the agent closed the session\n");
				break;
			}
			if (wbuf_put_bytes(&in, buf, (size_t)n) != ERR_OK)
				break;
			while (r == 0 && guard_frame_get(&in, &type, &payload) == ERR_OK)
				r = on_frame(&to_server, type, &payload, &status);
			wbuf_compact(&in);
		}
		if (r == 0 && server_open && (pfd[1].revents & POLLIN)) {
			n = read(server, buf, sizeof(buf));
			server_open = n > 0;
			if (queue_frame(&to_agent, n > 0 ? GF_SERVER_DATA : GF_SERVER_CLOSED, buf,
			                n > 0 ? (size_t)n : 0) != 0)
				break;
		}
		if (r == 0 && stdin_open && (pfd[2].revents & (POLLIN | POLLHUP))) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			stdin_open = n > 0;
			if (queue_frame(&to_agent, n > 0 ? GF_STDIN : GF_STDIN_EOF, buf,
			                n > 0 ? (size_t)n : 0) != 0)
				break;
		}
		if (wbuf_send(agent, &to_agent) != 0 || wbuf_send(server, &to_server) != 0)
			break;
	}
	/* The agent's last bytes for the server (its CLOSE) go out before we leave. */
	while (r > 0 && wbuf_avail(&to_server) > 0 &&
	       write_all(server, wbuf_ptr(&to_server), wbuf_avail(&to_server)) == 0)
		wbuf_reset(&to_server);
	wbuf_free(&in);
	wbuf_free(&to_agent);
	wbuf_free(&to_server);
	return r > 0 ? status : FAILED;
}

/* CONNECTED (with the address) or ABORT, before anything else is sent: a blocking write. */
static int send_first_frame(int agent, enum guard_frame_type type, const char *host)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, 1024);
	if (type == GF_ABORT)
		r = wbuf_put_u32(&b, 0) == ERR_OK && wbuf_put_cstring(&b, "could not connect to the "
		                                                      "server") == ERR_OK ? 0 : -1;
	else
		r = wbuf_put_bytes(&b, host, strlen(host)) == ERR_OK ? 0 : -1;
	if (r == 0) {
		struct wbuf frame;

		wbuf_init(&frame, 2048);
		r = queue_frame(&frame, type, wbuf_ptr(&b), wbuf_avail(&b)) == 0 ?
		    write_all(agent, wbuf_ptr(&frame), wbuf_avail(&frame)) : -1;
		wbuf_free(&frame);
	}
	wbuf_free(&b);
	return r;
}

/* Asks, connects, relays; the command's exit status or FAILED. */
static int run(const struct guard_request_wire *g, const char *sock)
{
	int agent, server, status = FAILED;

	if (sock == NULL || (agent = agent_client_connect(sock)) < 0) {
		fprintf(stderr, "p11guard-ssh: no agent at SSH_AUTH_SOCK (%s): connect with ssh -A "
		        "from where your p11guard-agent runs\n", sock ? strerror(errno) : "not set");
		return FAILED;
	}
	if (ask(agent, g) == 0) {
		server = connect_server(g->host, g->port);
		if (send_first_frame(agent, server < 0 ? GF_ABORT : GF_CONNECTED, g->host) == 0 &&
		    server >= 0)
			status = relay(agent, server);
		if (server >= 0)
			close(server);
	}
	close(agent);
	return status;
}

/* 1 to 65535, all digits; 0 for anything else. */
static uint32_t port_number(const char *s)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && v >= 1 && v <= 65535 ? (uint32_t)v : 0;
}

/* The command's words joined as ssh joins them. */
static char *join(char **argv, int argc)
{
	size_t len = 1;
	char *out;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((out = calloc(1, len)) == NULL)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, argv[i]);
	}
	return out;
}

int main(int argc, char **argv)
{
	struct guard_request_wire g = { .version = GUARD_VERSION, .port = 22,
	                                .kind = SSH_SESSION_EXEC, .relay_only = 1 };
	const char *user = NULL, *sock = getenv("SSH_AUTH_SOCK");
	char *target, *at, *command = NULL;
	struct passwd *pw;
	int ch, status;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "+vp:l:h")) != -1) {
		switch (ch) {
		case 'v': verbose = 1; break;
		case 'p':
			if ((g.port = port_number(optarg)) == 0) {
				fprintf(stderr, "p11guard-ssh: bad port \"%s\" (1 to 65535)\n", optarg);
				return FAILED;
			}
			break;
		case 'l': user = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return FAILED;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "p11guard-ssh: a host and a command are needed (a guarded session "
		        "runs one command)\n");
		usage(stderr);
		return FAILED;
	}
	target = argv[optind];
	if ((at = strrchr(target, '@')) != NULL) {
		*at = '\0';
		user = target;
		target = at + 1;
	}
	if (user == NULL && (pw = getpwuid(getuid())) != NULL)
		user = pw->pw_name;
	if ((command = join(argv + optind + 1, argc - optind - 1)) == NULL || user == NULL) {
		free(command);
		return FAILED;
	}
	g.host = target;
	g.user = (char *)user;
	g.command = command;
	status = run(&g, sock);
	free(command);
	return status;
}
