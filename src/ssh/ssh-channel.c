/*
 * The one session channel (RFC 4254 sections 5-6): opened, then a terminal and environment
 * asked for (refusals are reported, not fatal: Debian's sshd takes only LANG and LC_*), the
 * command, subsystem or shell (a refusal ends it), then its data both ways within the
 * windows, EOF, exit status or signal, and CLOSE.
 */
#include <stdio.h>
#include <string.h>

#include "ssh-client-int.h"

#define WINDOW (2 * 1024 * 1024)
#define MAX_PACKET 32768

/* A channel request for our channel, its name and want_reply set; the caller adds fields. */
static int request_head(const struct ssh_client *c, struct wbuf *b, const char *name,
                        int want_reply)
{
	int r;

	if ((r = wbuf_put_u8(b, MSG_CHANNEL_REQUEST)) || (r = wbuf_put_u32(b, c->remote_id)) ||
	    (r = wbuf_put_cstring(b, name)))
		return r;
	return wbuf_put_u8(b, (uint8_t)want_reply);
}

/* Sends a request whose reply we await, and notes what it was for. */
static int send_awaited(struct ssh_client *c, struct wbuf *b, int what, size_t env)
{
	if (c->nawaited >= sizeof(c->awaited) / sizeof(c->awaited[0])) {
		wbuf_free(b);
		return ssh_fail(c, ERR_LIMIT, "too many channel requests%s", "");
	}
	c->awaited[c->nawaited] = what;
	c->awaited_env[c->nawaited++] = env;
	return ssh_send_payload(c, b);
}

int ssh_channel_open(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, 128);
	if ((r = wbuf_put_u8(&b, MSG_CHANNEL_OPEN)) || (r = wbuf_put_cstring(&b, "session")) ||
	    (r = wbuf_put_u32(&b, 0)) || (r = wbuf_put_u32(&b, c->handoff ? 0 : WINDOW)) ||
	    (r = wbuf_put_u32(&b, MAX_PACKET))) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building the channel request failed%s", "");
	}
	/* For a handoff nothing of the command's output may pass through the agent: the
	 * delegate opens the window once the connection is its own. */
	c->local_window = c->handoff ? 0 : WINDOW;
	c->state = SSH_CHANNEL_OPEN;
	return ssh_send_payload(c, &b);
}

static int request_pty(struct ssh_client *c)
{
	const struct ssh_pty *t = c->cfg.pty;
	struct wbuf b;
	int r;

	wbuf_init(&b, 8192);
	if ((r = request_head(c, &b, "pty-req", 1)) || (r = wbuf_put_cstring(&b, t->term)) ||
	    (r = wbuf_put_u32(&b, t->cols)) || (r = wbuf_put_u32(&b, t->rows)) ||
	    (r = wbuf_put_u32(&b, t->width_px)) || (r = wbuf_put_u32(&b, t->height_px)) ||
	    (r = wbuf_put_string(&b, t->modes, t->modes_len))) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building the pty request failed%s", "");
	}
	return send_awaited(c, &b, REPLY_PTY, 0);
}

static int request_env(struct ssh_client *c, size_t i)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, 16384);
	if ((r = request_head(c, &b, "env", 1)) || (r = wbuf_put_cstring(&b, c->cfg.env[i].name)) ||
	    (r = wbuf_put_cstring(&b, c->cfg.env[i].value))) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building an env request failed%s", "");
	}
	return send_awaited(c, &b, REPLY_ENV, i);
}

static int request_command(struct ssh_client *c)
{
	static const char *const names[] = { "exec", "subsystem", "shell" };
	struct wbuf b;
	int r;

	wbuf_init(&b, 16384);
	if ((r = request_head(c, &b, names[c->cfg.kind], 1)) ||
	    (c->cfg.kind != SSH_SESSION_SHELL && (r = wbuf_put_cstring(&b, c->cfg.command)))) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building the command request failed%s", "");
	}
	c->state = SSH_EXEC;
	return send_awaited(c, &b, REPLY_COMMAND, 0);
}

static int open_window(struct ssh_client *c);
static int send_session_requests(struct ssh_client *c);

/* The channel is open: for a handoff no-more-sessions first, then the terminal, the
 * environment and the command, each answered in order. */
static int on_open_confirmation(struct ssh_client *c, struct wbuf *m)
{
	uint32_t ours;

	if (c->state != SSH_CHANNEL_OPEN || wbuf_get_u32(m, &ours) != ERR_OK || ours != 0 ||
	    wbuf_get_u32(m, &c->remote_id) != ERR_OK ||
	    wbuf_get_u32(m, &c->remote_window) != ERR_OK ||
	    wbuf_get_u32(m, &c->remote_max_packet) != ERR_OK || c->remote_max_packet < 128)
		return ssh_fail(c, ERR_FORMAT, "malformed channel confirmation%s", "");
	if (c->remote_max_packet > MAX_PACKET)
		c->remote_max_packet = MAX_PACKET;
	return c->handoff ? ssh_no_more_sessions(c) : send_session_requests(c);
}

/* no-more-sessions@openssh.com answered: without it there is no handoff. */
int ssh_no_more_sessions_reply(struct ssh_client *c, int ok)
{
	if (c->state != SSH_NO_MORE_SESSIONS)
		return ssh_fail(c, ERR_FORMAT, "an answer to no-more-sessions out of place%s", "");
	if (!ok && ssh_handoff_fallback(c, "the server refused no-more-sessions@openssh.com "
	                                "(not OpenSSH?)") != ERR_OK)
		return c->why.code;
	return send_session_requests(c);
}

static int send_session_requests(struct ssh_client *c)
{
	int r = ERR_OK;

	if (c->cfg.nenv > SSH_MAX_ENV)
		return ssh_fail(c, ERR_LIMIT, "too many environment variables%s", "");
	if (c->cfg.pty != NULL)
		r = request_pty(c);
	for (size_t i = 0; i < c->cfg.nenv && r == ERR_OK; i++)
		r = request_env(c, i);
	return r == ERR_OK ? request_command(c) : r;
}

static void progress(struct ssh_client *c, const char *fmt, const char *arg)
{
	char text[256];

	snprintf(text, sizeof(text), fmt, arg);
	if (c->cfg.progress != NULL)
		c->cfg.progress(c->cfg.progress_ctx, text);
}

/* CHANNEL_SUCCESS or FAILURE answers the oldest request still awaited. */
static int on_reply(struct ssh_client *c, int ok)
{
	size_t i = c->awaited_first;

	if (i >= c->nawaited)
		return ssh_fail(c, ERR_FORMAT, "a reply to no channel request%s", "");
	c->awaited_first++;
	switch (c->awaited[i]) {
	case REPLY_PTY:
		c->pty_granted = ok;
		if (!ok)
			progress(c, "the server gave no terminal%s", "");
		return ERR_OK;
	case REPLY_ENV:
		if (!ok)
			progress(c, "the server did not take %s (its AcceptEnv)",
			         c->cfg.env[c->awaited_env[i]].name);
		return ERR_OK;
	case REPLY_COMMAND:
		break;
	}
	if (!ok)
		return ssh_fail(c, ERR_DENIED, "the server refused to run the %s",
		                c->cfg.kind == SSH_SESSION_EXEC ? "command" :
		                c->cfg.kind == SSH_SESSION_SUBSYSTEM ? "subsystem" : "shell");
	if (c->handoff)
		return ssh_handoff_begin(c);
	c->state = SSH_RUNNING;
	return ssh_channel_resume(c);
}

/* Sends what stdin has pending, as far as the window and packet size allow. */
static int flush_stdin(struct ssh_client *c)
{
	while (c->state == SSH_RUNNING && !ssh_sending_blocked(c) &&
	       wbuf_avail(&c->pending_stdin) > 0 &&
	       c->remote_window > 0) {
		size_t n = wbuf_avail(&c->pending_stdin);
		struct wbuf b;
		int r;

		if (n > c->remote_window)
			n = c->remote_window;
		if (n > c->remote_max_packet - 64)
			n = c->remote_max_packet - 64;
		wbuf_init(&b, MAX_PACKET + 64);
		if ((r = wbuf_put_u8(&b, MSG_CHANNEL_DATA)) || (r = wbuf_put_u32(&b, c->remote_id)) ||
		    (r = wbuf_put_string(&b, wbuf_ptr(&c->pending_stdin), n)) ||
		    (r = ssh_send_payload(c, &b)) || (r = wbuf_skip(&c->pending_stdin, n))) {
			wbuf_free(&b);         /* idempotent */
			return r;
		}
		/* No compaction here: moving megabytes of held input for each packet made the
		 * input side quadratic; appending compacts when it needs the room. */
		c->remote_window -= (uint32_t)n;
		c->stdin_sent += n;
	}
	if (c->state == SSH_RUNNING && !ssh_sending_blocked(c) && c->stdin_eof && !c->eof_sent &&
	    wbuf_avail(&c->pending_stdin) == 0) {
		struct wbuf b;
		int r;

		wbuf_init(&b, 16);
		if ((r = wbuf_put_u8(&b, MSG_CHANNEL_EOF)) || (r = wbuf_put_u32(&b, c->remote_id)) ||
		    (r = ssh_send_payload(c, &b))) {
			wbuf_free(&b);         /* idempotent */
			return r;
		}
		c->eof_sent = 1;
	}
	return ERR_OK;
}

int ssh_client_stdin(struct ssh_client *c, const uint8_t *p, size_t n)
{
	if (c->stdin_eof || wbuf_put_bytes(&c->pending_stdin, p, n) != ERR_OK)
		return ERR_TOO_LARGE;
	return flush_stdin(c);
}

int ssh_client_stdin_eof(struct ssh_client *c)
{
	c->stdin_eof = 1;
	return flush_stdin(c);
}

static int send_close(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	if (c->close_sent)
		return ERR_OK;
	wbuf_init(&b, 16);
	if ((r = wbuf_put_u8(&b, MSG_CHANNEL_CLOSE)) || (r = wbuf_put_u32(&b, c->remote_id)) ||
	    (r = ssh_send_payload(c, &b))) {
		wbuf_free(&b);         /* idempotent */
		return r;
	}
	c->close_sent = 1;
	return ERR_OK;
}

/* The server closed the channel: ours goes back and the session is over, but not inside
 * a key exchange of ours (nothing but the exchange may be sent there) nor once the handoff
 * began (the delegate closes it). */
static int finish_if_closed(struct ssh_client *c)
{
	if (!c->close_received || (c->state != SSH_RUNNING && c->state != SSH_EXEC) ||
	    ssh_sending_blocked(c))
		return ERR_OK;
	if (send_close(c) != ERR_OK)
		return c->why.code;
	c->state = SSH_DONE;
	return ERR_OK;
}

/* Data for us: handed on, and the window opened again once half of it is used. */
static int on_data(struct ssh_client *c, struct wbuf *m, int stream)
{
	const uint8_t *p;
	size_t n;

	if (wbuf_get_string(m, &p, &n) != ERR_OK || wbuf_avail(m) != 0)
		return ssh_fail(c, ERR_FORMAT, "malformed channel data%s", "");
	if (n > c->local_window)
		return ssh_fail(c, ERR_FORMAT, "the server sent more than the window allows%s", "");
	c->local_window -= (uint32_t)n;
	if (c->cfg.output != NULL)
		c->cfg.output(c->cfg.output_ctx, stream, p, n);
	return open_window(c);
}

/* Opens our window again once half of it is used (not while our KEXINIT is out). */
static int open_window(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	if (c->local_window > WINDOW / 2 || ssh_sending_blocked(c) || c->state != SSH_RUNNING)
		return ERR_OK;
	wbuf_init(&b, 16);
	if ((r = wbuf_put_u8(&b, MSG_CHANNEL_WINDOW_ADJUST)) ||
	    (r = wbuf_put_u32(&b, c->remote_id)) ||
	    (r = wbuf_put_u32(&b, WINDOW - c->local_window)) || (r = ssh_send_payload(c, &b))) {
		wbuf_free(&b);         /* idempotent */
		return r;
	}
	c->local_window = WINDOW;
	return ERR_OK;
}

static int on_channel_request(struct ssh_client *c, struct wbuf *m)
{
	char *name = NULL, *sig = NULL;
	uint8_t want_reply, core;
	uint32_t status;
	int r = ERR_OK;

	if (wbuf_get_cstring(m, &name) != ERR_OK || wbuf_get_u8(m, &want_reply) != ERR_OK) {
		r = ssh_fail(c, ERR_FORMAT, "malformed channel request%s", "");
	} else if (strcmp(name, "exit-status") == 0) {
		if (wbuf_get_u32(m, &status) != ERR_OK || status > 255)
			r = ssh_fail(c, ERR_FORMAT, "malformed exit-status%s", "");
		else
			c->exit_status = (int)status;
	} else if (strcmp(name, "exit-signal") == 0) {
		if (wbuf_get_cstring(m, &sig) != ERR_OK || wbuf_get_u8(m, &core) != ERR_OK)
			r = ssh_fail(c, ERR_FORMAT, "malformed exit-signal%s", "");
		else
			ssh_printable((const uint8_t *)sig, strlen(sig), c->exit_signal,
			          sizeof(c->exit_signal));
		c->exit_status = 255;
	} else if (want_reply) {
		r = ssh_refuse_request(c, MSG_CHANNEL_FAILURE);
	}
	free(name);
	free(sig);
	return r;
}

int ssh_client_window_change(struct ssh_client *c, uint32_t cols, uint32_t rows,
                             uint32_t width_px, uint32_t height_px)
{
	struct wbuf b;
	int r;

	/* Not while our key exchange runs: the next size will do, and it is rare. */
	if (c->state != SSH_RUNNING || c->cfg.pty == NULL || ssh_sending_blocked(c))
		return ERR_OK;
	wbuf_init(&b, 64);
	if ((r = request_head(c, &b, "window-change", 0)) || (r = wbuf_put_u32(&b, cols)) ||
	    (r = wbuf_put_u32(&b, rows)) || (r = wbuf_put_u32(&b, width_px)) ||
	    (r = wbuf_put_u32(&b, height_px))) {
		wbuf_free(&b);
		return r;
	}
	return ssh_send_payload(c, &b);
}

int ssh_channel_resume(struct ssh_client *c)
{
	int r;

	if ((r = open_window(c)) != ERR_OK || (r = flush_stdin(c)) != ERR_OK)
		return r;
	return finish_if_closed(c);
}

/* Messages about the one channel, once we asked for it. */
int ssh_channel_message(struct ssh_client *c, uint8_t type, struct wbuf *m)
{
	uint32_t id, n;

	if (type == MSG_CHANNEL_OPEN_CONFIRMATION)
		return on_open_confirmation(c, m);
	if (type == MSG_CHANNEL_OPEN_FAILURE)
		return ssh_fail(c, ERR_DENIED, "the server refused the session channel%s", "");
	if (c->state < SSH_EXEC || c->state >= SSH_DONE)
		return ssh_fail(c, ERR_FORMAT, "a channel message before the channel is open%s", "");
	if (wbuf_get_u32(m, &id) != ERR_OK || id != 0)
		return ssh_fail(c, ERR_FORMAT, "a message for a channel we did not open%s", "");
	switch (type) {
	case MSG_CHANNEL_SUCCESS:
	case MSG_CHANNEL_FAILURE:
		return on_reply(c, type == MSG_CHANNEL_SUCCESS);
	case MSG_CHANNEL_WINDOW_ADJUST:
		if (wbuf_get_u32(m, &n) != ERR_OK || (uint64_t)c->remote_window + n > UINT32_MAX)
			return ssh_fail(c, ERR_FORMAT, "malformed window adjustment%s", "");
		c->remote_window += n;
		return flush_stdin(c);
	case MSG_CHANNEL_DATA:
		return on_data(c, m, 1);
	case MSG_CHANNEL_EXTENDED_DATA:
		if (wbuf_get_u32(m, &n) != ERR_OK || n != 1)
			return ssh_fail(c, ERR_FORMAT, "extended data other than stderr%s", "");
		return on_data(c, m, 2);
	case MSG_CHANNEL_EOF:
		c->eof_received = 1;
		return ERR_OK;
	case MSG_CHANNEL_CLOSE:
		if (c->close_received)
			return ssh_fail(c, ERR_FORMAT, "a second CHANNEL_CLOSE%s", "");
		c->close_received = 1;
		return finish_if_closed(c);
	case MSG_CHANNEL_REQUEST:
		return on_channel_request(c, m);
	}
	return ssh_fail(c, ERR_FORMAT, "an unexpected channel message%s", "");
}
