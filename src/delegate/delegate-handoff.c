/* The delegate's handoff: the re-key's half that only it knows, then the connection alone. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "delegate-alive.h"
#include "delegate-handoff.h"
#include "delegate-tty.h"

/* Server bytes kept from KEX_SHARE to HANDOFF: the reply, NEWKEYS and what the server
 * flushes under the new keys; the agent allows 256 KiB before the handoff in all. */
#define KEPT_MAX (512 * 1024)
/* Input read ahead of the server's window: enough to fill packets, little to move. */
#define STDIN_ROOM (128 * 1024)

void delegate_handoff_init(struct delegate_handoff *h)
{
	memset(h, 0, sizeof(*h));
	ssh_kex_init(&h->kex);
	wbuf_init(&h->kept, KEPT_MAX);
}

void delegate_handoff_free(struct delegate_handoff *h)
{
	ssh_kex_free(&h->kex);
	wbuf_free(&h->kept);
	if (h->resumed)
		ssh_client_free(&h->client);
}

static int failed(const char *what, const char *detail)
{
	fprintf(stderr, "p11guard-ssh: handoff: %s%s%s\n", what, detail ? ": " : "",
	        detail ? detail : "");
	return -1;
}

static int copy_line(char *out, size_t size, const struct wbuf *v)
{
	if (wbuf_avail(v) >= size)
		return -1;
	memcpy(out, wbuf_ptr(v), wbuf_avail(v));
	out[wbuf_avail(v)] = '\0';
	return 0;
}

int delegate_handoff_start(struct delegate_handoff *h, const struct wbuf *payload,
                           uint64_t server_total, struct wbuf *to_agent)
{
	struct guard_kex_start s;
	struct reason why;
	struct wbuf init, share;
	int r;

	if (h->started || guard_kex_start_decode(payload, &s) != ERR_OK)
		return failed("a malformed or second KEX_START from the agent", NULL);
	h->started = 1;
	h->kex.first = 0;               /* a re-key: the host key must be the pinned one */
	h->kex.strict = s.strict;
	if (copy_line(h->kex.v_c, sizeof(h->kex.v_c), &s.v_c) != 0 ||
	    copy_line(h->kex.v_s, sizeof(h->kex.v_s), &s.v_s) != 0 ||
	    wbuf_put_bytes(&h->kex.i_c, wbuf_ptr(&s.i_c), wbuf_avail(&s.i_c)) != ERR_OK ||
	    sshpub_parse(wbuf_ptr(&s.k_s), wbuf_avail(&s.k_s), &h->kex.host_key) != ERR_OK)
		return failed("the agent's KEX_START does not parse", NULL);
	memcpy(h->kex.session_id, wbuf_ptr(&s.session_id), wbuf_avail(&s.session_id));
	h->kex.session_id_len = wbuf_avail(&s.session_id);
	/* The algorithms from the two KEXINITs, as the server chooses them too. */
	reason_clear(&why);
	if (ssh_kex_negotiate(&h->kex, wbuf_ptr(&s.i_s), wbuf_avail(&s.i_s), &why) != ERR_OK)
		return failed("no algorithms in common", why.text);
	wbuf_init(&init, 256);
	wbuf_init(&share, 256);
	r = ssh_kex_ecdh_init(&h->kex, &init) == ERR_OK &&
	    guard_kex_share_encode(h->kex.q_c, h->kex.q_c_len, server_total, &share) == ERR_OK &&
	    guard_frame_put(to_agent, GF_KEX_SHARE, wbuf_ptr(&share), wbuf_avail(&share)) ==
	    ERR_OK ? 0 : failed("making the ephemeral key failed", NULL);
	wbuf_free(&init);
	wbuf_free(&share);
	h->keep_from = server_total;
	return r;
}

int delegate_handoff_keep(struct delegate_handoff *h, const uint8_t *p, size_t n)
{
	if (!h->started)
		return 0;
	return wbuf_put_bytes(&h->kept, p, n) == ERR_OK ? 0 :
	       failed("the server sent too much during the handoff", NULL);
}

int delegate_handoff_reply(struct delegate_handoff *h, const struct wbuf *payload)
{
	struct reason why;

	if (!h->started || h->replied)
		return failed("a KEX_REPLY out of place", NULL);
	h->replied = 1;
	reason_clear(&why);
	/* The signature over the new exchange hash must hold for the pinned host key. */
	if (ssh_kex_ecdh_reply(&h->kex, wbuf_ptr(payload), wbuf_avail(payload), &h->kex.host_key,
	                       1, &why) != ERR_OK)
		return failed("the server's reply does not hold", why.text);
	return 0;
}

/* The command's output, from the server straight to our stdout and stderr. */
static void output(void *ctx, int stream, const uint8_t *p, size_t n)
{
	(void)ctx;
	(void)delegate_write_all(stream == 1 ? STDOUT_FILENO : STDERR_FILENO, p, n);
}

int delegate_handoff_finish(struct delegate_handoff *h, const struct wbuf *payload,
                            uint64_t written, const struct delegate_options *o)
{
	static struct ssh_pty terminal;         /* only its presence: window-change is sent */
	struct ssh_client_config cfg = { .user = "", .output = output,
	                                 .pty = o->tty ? &terminal : NULL,
	                                 .rekey_bytes = o->rekey_bytes };
	struct guard_handoff g;
	uint64_t skip;
	struct wbuf rest;

	if (!h->replied || guard_handoff_decode(payload, &g) != ERR_OK)
		return failed("a malformed HANDOFF, or one before the re-key", NULL);
	if (g.bytes_written != written)
		return failed("the agent counts other bytes written to the server than we wrote",
		              NULL);
	if (g.server_offset < h->keep_from ||
	    g.server_offset - h->keep_from > wbuf_avail(&h->kept))
		return failed("the new keys' traffic does not start in the bytes we kept", NULL);
	skip = g.server_offset - h->keep_from;
	if (ssh_client_resume(&h->client, &cfg, &h->kex, &g.state) != ERR_OK)
		return failed("the handed-over state is not usable", NULL);
	h->resumed = 1;
	wbuf_view(&rest, wbuf_ptr(&h->kept) + skip, wbuf_avail(&h->kept) - (size_t)skip);
	if (ssh_client_input(&h->client, wbuf_ptr(&rest), wbuf_avail(&rest)) != ERR_OK)
		return failed("the server's first bytes under the new keys", h->client.why.text);
	wbuf_reset(&h->kept);
	return 0;
}

/* Our own failure after the takeover: the terminal back, the reason, 255. */
static int give_up(const char *why)
{
	delegate_tty_restore();
	fprintf(stderr, "p11guard-ssh: %s\n", why);
	return DELEGATE_FAILED;
}

/* The end: the status as ssh gives it, and why on stderr when it is not the command's. */
static int ending(const struct ssh_client *c)
{
	delegate_tty_restore();
	if (c->state == SSH_FAILED) {
		fprintf(stderr, "p11guard-ssh: %s\n", c->why.text);
		return DELEGATE_FAILED;
	}
	if (c->exit_signal[0] != '\0')
		fprintf(stderr, "p11guard-ssh: the command ended with signal %s\n", c->exit_signal);
	return c->exit_status >= 0 ? c->exit_status : DELEGATE_FAILED;
}

int delegate_carry_on(struct delegate_handoff *h, const struct delegate_options *o,
                      int server, struct wbuf *to_server)
{
	struct ssh_client *c = &h->client;
	struct delegate_alive alive;
	uint8_t buf[32768];
	int stdin_open = 1, server_open = 1;

	delegate_alive_start(&alive, o->alive_interval, o->alive_count_max);
	if (o->tamper != NULL && o->tamper->after_handoff != NULL)
		o->tamper->after_handoff(o->tamper->ctx, c);      /* tests only */
	while (c->state != SSH_DONE && c->state != SSH_FAILED && server_open) {
		struct pollfd pfd[2] = {
			{ server, POLLIN | (wbuf_avail(to_server) > 0 ? POLLOUT : 0), 0 },
			{ STDIN_FILENO, stdin_open && wbuf_avail(&c->pending_stdin) < STDIN_ROOM ?
			                POLLIN : 0, 0 },
		};
		ssize_t n;
		int due;

		if (wbuf_put_bytes(to_server, wbuf_ptr(&c->pk.out), wbuf_avail(&c->pk.out)) != ERR_OK)
			return give_up("more to send than we hold");
		wbuf_reset(&c->pk.out);
		pfd[0].events |= wbuf_avail(to_server) > 0 ? POLLOUT : 0;
		if (pfd[1].events == 0)
			pfd[1].fd = -1;
		if (poll(pfd, 2, delegate_alive_timeout(&alive)) < 0 && errno != EINTR)
			break;
		if ((due = delegate_alive_due(&alive)) < 0)
			return DELEGATE_FAILED;
		if (due > 0)
			(void)!ssh_client_keepalive(c);
		if (delegate_tty_resized()) {
			uint32_t size[4];

			delegate_tty_size(size);
			(void)!ssh_client_window_change(c, size[0], size[1], size[2], size[3]);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(server, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			server_open = n > 0;
			if (n > 0) {
				delegate_alive_heard(&alive);
				(void)!ssh_client_input(c, buf, (size_t)n);
			}
		}
		if (stdin_open && (pfd[1].revents & (POLLIN | POLLHUP))) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			stdin_open = n > 0;
			if ((n > 0 ? ssh_client_stdin(c, buf, (size_t)n) : ssh_client_stdin_eof(c)) !=
			    ERR_OK && c->state != SSH_FAILED)
				return give_up("more input held than the window lets out");
		}
		if (wbuf_send(server, to_server) != 0)
			break;
	}
	/* Our last packets (CLOSE) go out before we leave. */
	if (wbuf_put_bytes(to_server, wbuf_ptr(&c->pk.out), wbuf_avail(&c->pk.out)) == ERR_OK &&
	    wbuf_avail(to_server) > 0)
		(void)delegate_write_all(server, wbuf_ptr(to_server), wbuf_avail(to_server));
	if (c->state != SSH_DONE && c->state != SSH_FAILED) {
		delegate_tty_restore();
		fprintf(stderr, "p11guard-ssh: the connection to the server closed before the "
		        "command ended\n");
		return DELEGATE_FAILED;
	}
	return ending(c);
}
