/* The delegate's relay: the request, the server connection, the frames. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-proto.h"
#include "delegate-alive.h"
#include "delegate-handoff.h"
#include "delegate-tty.h"

#define FAILED DELEGATE_FAILED

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

/* The request; 0 once the agent accepted (the fd then carries frames), with the mode it
 * chose: relay, or a handoff once the session is ready. */
static int ask(int fd, const struct guard_request_wire *g, int *handoff)
{
	struct wbuf req, reply;
	uint32_t version = 0;
	uint8_t mode = GUARD_MODE_RELAY;
	size_t mark;
	int type = -1, named = 0;

	wbuf_init(&req, SSHAGENT_MAX_MESSAGE);
	wbuf_init(&reply, SSHAGENT_MAX_MESSAGE);
	if (agent_frame_begin(&req, SSHAGENTC_EXTENSION, &mark) == ERR_OK &&
	    wbuf_put_cstring(&req, GUARD_EXTENSION) == ERR_OK && guard_request_encode(g, &req) ==
	    ERR_OK && agent_frame_end(&req, mark) == ERR_OK)
		type = agent_client_request(fd, &req, &reply);
	if (type == SSHAGENT_EXTENSION_RESPONSE &&
	    (wbuf_get_string_eq(&reply, GUARD_EXTENSION, &named) != ERR_OK || !named ||
	     wbuf_get_u32(&reply, &version) != ERR_OK || version != GUARD_VERSION ||
	     wbuf_get_u8(&reply, &mode) != ERR_OK || mode > GUARD_MODE_HANDOFF ||
	     (mode == GUARD_MODE_HANDOFF && g->relay_only))) {
		fprintf(stderr, "p11guard-ssh: the agent's acceptance is malformed\n");
		type = -2;
	}
	wbuf_free(&req);
	wbuf_free(&reply);
	*handoff = mode == GUARD_MODE_HANDOFF;
	if (type == SSHAGENT_EXTENSION_RESPONSE)
		return 0;
	if (type == -2)
		return -1;
	if (type < 0)
		fprintf(stderr, "p11guard-ssh: no answer from the agent\n");
	else
		print_refusal(fd);
	return -1;
}

/* connect(), within `seconds` when that is not 0 (ConnectTimeout). */
static int connect_within(int fd, const struct sockaddr *addr, socklen_t len, int seconds)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int flags = fcntl(fd, F_GETFL), err = 0, r;
	socklen_t err_len = sizeof(err);

	if (seconds == 0)
		return connect(fd, addr, len);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	r = connect(fd, addr, len);
	if (r != 0 && errno == EINPROGRESS) {
		r = poll(&p, 1, seconds * 1000);
		if (r == 0)
			errno = ETIMEDOUT;
		r = r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) == 0 && err == 0 ?
		    0 : -1;
		if (err != 0)
			errno = err;
	}
	if (r == 0 && fcntl(fd, F_SETFL, flags) < 0)
		return -1;
	return r;
}

static int connect_server(const struct delegate_options *o, const char *host, unsigned port)
{
	struct addrinfo hints = { .ai_family = o->family, .ai_socktype = SOCK_STREAM }, *res, *ai;
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
		if (connect_within(fd, ai->ai_addr, ai->ai_addrlen, o->connect_timeout) != 0) {
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

int delegate_write_all(int fd, const uint8_t *p, size_t n)
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

/* Tests only: bytes through a tamper hook, then into `out`. */
static int tampered(const struct delegate_tamper *t,
                    void (*hook)(void *, unsigned, struct wbuf *), unsigned n,
                    const struct wbuf *bytes, struct wbuf *out)
{
	struct wbuf copy;
	int r;

	wbuf_init(&copy, 2 * GUARD_FRAME_MAX);
	r = wbuf_put_bytes(&copy, wbuf_ptr(bytes), wbuf_avail(bytes)) == ERR_OK ? 0 : -1;
	if (r == 0) {
		hook(t->ctx, n, &copy);
		r = wbuf_put_bytes(out, wbuf_ptr(&copy), wbuf_avail(&copy)) == ERR_OK ? 0 : -1;
	}
	wbuf_free(&copy);
	return r;
}

/* The relay's state: what the frames change. */
struct relay {
	const struct delegate_options *o;
	unsigned sent, received;        /* TO_SERVER frames, server reads (tamper hooks) */
	uint32_t credit;                /* STDIN the agent has room for */
	uint64_t written, server_total; /* bytes of TO_SERVER; bytes read from the server */
	int mode_known;                 /* relay, or RELAYING came: stdin and WINDOW go out */
	struct delegate_handoff *handoff;
	struct wbuf to_agent, to_server;
	int status;
};

enum { FRAME_GO_ON = 0, FRAME_ENDED = 1, FRAME_HANDED_OFF = 2 };

static int text_frame(struct relay *rl, enum guard_frame_type type, struct wbuf *payload)
{
	uint32_t code;
	char *text = NULL;

	if (wbuf_get_u32(payload, &code) != ERR_OK || wbuf_get_cstring(payload, &text) != ERR_OK)
		return -1;
	if (type == GF_EXIT || type == GF_ABORT)
		delegate_tty_restore();         /* the end: its message on a cooked terminal */
	if ((type == GF_PROGRESS || type == GF_RELAYING) && rl->o->verbose)
		fprintf(stderr, "p11guard-ssh: %s%s%s", type == GF_RELAYING ?
		        "relayed through the agent: " : "", text, delegate_tty_eol());
	if (type == GF_ABORT)
		fprintf(stderr, "p11guard-ssh: %s\n", text);
	if (type == GF_EXIT && text[0] != '\0')
		fprintf(stderr, "p11guard-ssh: the command ended with signal %s\n", text);
	free(text);
	if (type == GF_RELAYING) {
		if (rl->mode_known)
			return -1;
		rl->mode_known = 1;
	}
	if (type == GF_PROGRESS || type == GF_RELAYING)
		return FRAME_GO_ON;
	rl->status = type == GF_EXIT ? (int)code : FAILED;
	return FRAME_ENDED;
}

/* A frame from the agent: FRAME_GO_ON, FRAME_ENDED (status set), FRAME_HANDED_OFF, -1. */
static int on_frame(struct relay *rl, enum guard_frame_type type, struct wbuf *payload)
{
	const struct delegate_options *o = rl->o;
	size_t before = wbuf_avail(&rl->to_server);
	uint32_t code;
	int r;

	if (o->tamper != NULL && o->tamper->drop_frame != NULL &&
	    o->tamper->drop_frame(o->tamper->ctx, type, payload))
		return FRAME_GO_ON;                     /* tests only */
	switch (type) {
	case GF_TO_SERVER:
		if (o->tamper != NULL && o->tamper->to_server != NULL)
			r = tampered(o->tamper, o->tamper->to_server, rl->sent++, payload, &rl->to_server);
		else
			r = wbuf_put_bytes(&rl->to_server, wbuf_ptr(payload), wbuf_avail(payload)) ==
			    ERR_OK ? 0 : -1;
		rl->written += wbuf_avail(&rl->to_server) - before;
		return r;
	case GF_STDIN_CREDIT:
		if (wbuf_get_u32(payload, &code) != ERR_OK || wbuf_avail(payload) != 0 ||
		    code > GUARD_STDIN_WINDOW - rl->credit)
			return -1;
		rl->credit += code;
		return FRAME_GO_ON;
	case GF_STDOUT:
	case GF_STDERR:
		return delegate_write_all(type == GF_STDOUT ? STDOUT_FILENO : STDERR_FILENO,
		                          wbuf_ptr(payload), wbuf_avail(payload)) == 0 ? 0 : -1;
	case GF_PROGRESS:
	case GF_RELAYING:
	case GF_EXIT:
	case GF_ABORT:
		return text_frame(rl, type, payload);
	case GF_KEX_START:
		if (rl->mode_known)
			break;
		return delegate_handoff_start(rl->handoff, payload, rl->server_total, &rl->to_agent);
	case GF_KEX_REPLY:
		return rl->mode_known ? -1 : delegate_handoff_reply(rl->handoff, payload);
	case GF_HANDOFF:
		if (rl->mode_known ||
		    delegate_handoff_finish(rl->handoff, payload, rl->written, o) != 0)
			return -1;
		if (o->verbose)
			fprintf(stderr, "p11guard-ssh: handed off: the connection to the server is "
			        "ours now (%s)%s", rl->handoff->client.kex.cipher_cs->name,
			        delegate_tty_eol());
		return FRAME_HANDED_OFF;
	default:
		break;
	}
	fprintf(stderr, "p11guard-ssh: the agent sent a frame it may not send now\n");
	return -1;
}

/* The terminal's new size as a WINDOW frame. */
static int queue_window(struct wbuf *to_agent)
{
	uint32_t size[4];
	struct wbuf b;
	int r = 0;

	delegate_tty_size(size);
	wbuf_init(&b, 16);
	for (int i = 0; i < 4 && r == 0; i++)
		r = wbuf_put_u32(&b, size[i]) == ERR_OK ? 0 : -1;
	if (r == 0)
		r = queue_frame(to_agent, GF_WINDOW, wbuf_ptr(&b), wbuf_avail(&b));
	wbuf_free(&b);
	return r;
}

/* Tests only: server bytes through the hook, as SERVER_DATA frames. */
static int server_data_tampered(const struct delegate_tamper *t, unsigned n, const uint8_t *p,
                                size_t len, struct wbuf *to_agent)
{
	struct wbuf view, bytes;
	int r;

	wbuf_view(&view, p, len);
	wbuf_init(&bytes, 2 * GUARD_FRAME_MAX);
	r = tampered(t, t->from_server, n, &view, &bytes);
	while (r == 0 && wbuf_avail(&bytes) > 0) {
		size_t part = wbuf_avail(&bytes) < GUARD_FRAME_MAX - 1 ? wbuf_avail(&bytes) :
		              GUARD_FRAME_MAX - 1;

		r = queue_frame(to_agent, GF_SERVER_DATA, wbuf_ptr(&bytes), part);
		if (r == 0 && wbuf_skip(&bytes, part) != ERR_OK)
			r = -1;
	}
	wbuf_free(&bytes);
	return r;
}

/* Bytes read from the server: to the agent, and kept once a handoff started. */
static int from_server(struct relay *rl, const uint8_t *buf, ssize_t n)
{
	const struct delegate_tamper *t = rl->o->tamper;

	if (n <= 0)
		return queue_frame(&rl->to_agent, GF_SERVER_CLOSED, buf, 0);
	rl->server_total += (uint64_t)n;
	if (delegate_handoff_keep(rl->handoff, buf, (size_t)n) != 0)
		return -1;
	if (t != NULL && t->from_server != NULL)
		return server_data_tampered(t, rl->received++, buf, (size_t)n, &rl->to_agent);
	return queue_frame(&rl->to_agent, GF_SERVER_DATA, buf, (size_t)n);
}

/*
 * Moves bytes until the agent says the session ended or hands it over, never waiting on a
 * write to the agent or the server (each waits in a buffer): both may be sending to us at
 * that moment. Past HIGH_WATER we stop reading what would add to a buffer, and TCP holds its
 * sender back. Returns a FRAME_ value, or -1.
 */
static int relay(struct relay *rl, int agent, int server)
{
	const struct delegate_tamper *t = rl->o->tamper;
	struct delegate_alive alive;
	uint8_t buf[32768];
	struct wbuf in, payload;
	enum guard_frame_type type;
	int stdin_open = 1, server_open = 1, r = 0;

	wbuf_init(&in, 4 * GUARD_FRAME_MAX);
	delegate_alive_start(&alive, rl->o->alive_interval, rl->o->alive_count_max);
	while (r == 0) {
		int agent_busy = wbuf_avail(&rl->to_agent) >= HIGH_WATER, due;
		struct pollfd pfd[3] = {
			{ agent, (wbuf_avail(&rl->to_server) < HIGH_WATER ? POLLIN : 0) |
			         (wbuf_avail(&rl->to_agent) > 0 ? POLLOUT : 0), 0 },
			{ server, (server_open && !agent_busy ? POLLIN : 0) |
			          (wbuf_avail(&rl->to_server) > 0 ? POLLOUT : 0), 0 },
			{ STDIN_FILENO, rl->mode_known && stdin_open && !agent_busy && rl->credit > 0 ?
			                POLLIN : 0, 0 },
		};
		ssize_t n;

		/* poll reports POLLHUP even for no events: a closed stdin would spin the loop. */
		for (int i = 0; i < 3; i++)
			if (pfd[i].events == 0)
				pfd[i].fd = -1;

		n = poll(pfd, 3, t != NULL && t->idle_ms > 0 ? t->idle_ms :
		         delegate_alive_timeout(&alive));
		if (n < 0 && errno != EINTR)
			break;
		if (n == 0 && t != NULL && t->idle_ms > 0) {
			fprintf(stderr, "p11guard-ssh: nothing moved for %d ms\n", t->idle_ms);
			break;
		}
		if ((due = delegate_alive_due(&alive)) < 0 ||
		    (due > 0 && queue_frame(&rl->to_agent, GF_KEEPALIVE, buf, 0) != 0))
			break;
		if (rl->mode_known && delegate_tty_resized() && queue_window(&rl->to_agent) != 0)
			break;
		if (pfd[0].revents & POLLIN) {
			if ((n = read(agent, buf, sizeof(buf))) <= 0) {
				delegate_tty_restore();
				fprintf(stderr, "p11guard-ssh: the agent closed the session\n");
				break;
			}
			if (wbuf_put_bytes(&in, buf, (size_t)n) != ERR_OK)
				break;
			while (r == 0 && guard_frame_get(&in, &type, &payload) == ERR_OK)
				r = on_frame(rl, type, &payload);
			wbuf_compact(&in);
		}
		if (r == 0 && server_open && (pfd[1].revents & POLLIN)) {
			n = read(server, buf, sizeof(buf));
			server_open = n > 0;
			if (n > 0)
				delegate_alive_heard(&alive);
			if (from_server(rl, buf, n) != 0)
				break;
		}
		if (r == 0 && stdin_open && (pfd[2].revents & (POLLIN | POLLHUP))) {
			n = read(STDIN_FILENO, buf, rl->credit < sizeof(buf) ? rl->credit : sizeof(buf));
			stdin_open = n > 0;
			if (n > 0)
				rl->credit -= (uint32_t)n;
			if (queue_frame(&rl->to_agent, n > 0 ? GF_STDIN : GF_STDIN_EOF, buf,
			                n > 0 ? (size_t)n : 0) != 0)
				break;
		}
		if ((r != FRAME_HANDED_OFF && wbuf_send(agent, &rl->to_agent) != 0) ||
		    wbuf_send(server, &rl->to_server) != 0)
			break;
	}
	/* The agent's last bytes for the server (its CLOSE) go out before we leave. */
	while (r == FRAME_ENDED && wbuf_avail(&rl->to_server) > 0 &&
	       delegate_write_all(server, wbuf_ptr(&rl->to_server), wbuf_avail(&rl->to_server)) == 0)
		wbuf_reset(&rl->to_server);
	wbuf_free(&in);
	return r > 0 ? r : -1;
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
		    delegate_write_all(agent, wbuf_ptr(&frame), wbuf_avail(&frame)) : -1;
		wbuf_free(&frame);
	}
	wbuf_free(&b);
	return r;
}

/* Once accepted: raw mode, and the size sent again when the window changes. */
static int start_terminal(void)
{
	if (delegate_tty_watch_size() != 0 || delegate_tty_raw() != 0) {
		perror("p11guard-ssh: the terminal");
		return -1;
	}
	return 0;
}

/* Relayed until the agent ends the session, or carried on alone after a handoff. */
static int run_session(const struct delegate_options *o, int *agent, int server, int handoff)
{
	struct delegate_handoff h;
	struct relay rl = { .o = o, .credit = GUARD_STDIN_WINDOW, .mode_known = !handoff,
	                    .handoff = &h, .status = FAILED };
	int r, status = FAILED;

	delegate_handoff_init(&h);
	wbuf_init(&rl.to_agent, 2 * HIGH_WATER);
	wbuf_init(&rl.to_server, 2 * HIGH_WATER);
	r = relay(&rl, *agent, server);
	if (r == FRAME_ENDED)
		status = rl.status;
	if (r == FRAME_HANDED_OFF) {
		/* Nothing from here on needs the agent. */
		close(*agent);
		*agent = -1;
		status = delegate_carry_on(&h, o, server, &rl.to_server);
	}
	wbuf_free(&rl.to_agent);
	wbuf_free(&rl.to_server);
	delegate_handoff_free(&h);
	return status;
}

/* Tests only: frames a hook adds around CONNECTED. */
static int extra_frames(const struct delegate_tamper *t,
                        void (*hook)(void *, struct wbuf *), int agent)
{
	struct wbuf extra;
	int r = 0;

	if (t == NULL || hook == NULL)
		return 0;
	wbuf_init(&extra, 4 * GUARD_FRAME_MAX);
	hook(t->ctx, &extra);
	if (wbuf_avail(&extra) > 0)
		r = delegate_write_all(agent, wbuf_ptr(&extra), wbuf_avail(&extra));
	wbuf_free(&extra);
	return r;
}

int delegate_run(const struct guard_request_wire *g, const char *sock,
                 const struct delegate_options *o)
{
	const struct delegate_tamper *t = o->tamper;
	int agent, server, status = FAILED, handoff = 0;

	if (sock == NULL || (agent = agent_client_connect(sock)) < 0) {
		fprintf(stderr, "p11guard-ssh: no agent at SSH_AUTH_SOCK (%s): connect with ssh -A "
		        "from where your p11guard-agent runs\n", sock ? strerror(errno) : "not set");
		return FAILED;
	}
	if (ask(agent, g, &handoff) == 0) {
		server = connect_server(o, g->host, t != NULL && t->server_port ? t->server_port :
		                        g->port);
		if ((t == NULL || extra_frames(t, t->before_connected, agent) == 0) &&
		    send_first_frame(agent, server < 0 ? GF_ABORT : GF_CONNECTED, g->host) == 0 &&
		    server >= 0 && (t == NULL || extra_frames(t, t->after_connected, agent) == 0) &&
		    (!o->tty || start_terminal() == 0))
			status = run_session(o, &agent, server, handoff);
		delegate_tty_restore();
		if (server >= 0)
			close(server);
	}
	if (agent >= 0)
		close(agent);
	return status;
}

