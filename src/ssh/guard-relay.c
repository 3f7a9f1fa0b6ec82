/* Relay mode: delegate frames in, SSH client, delegate frames out. */
#include <stdio.h>
#include <string.h>

#include "guard-relay.h"

#define CHUNK (GUARD_FRAME_MAX - 1)

/* Frames of `type` carrying `p` in pieces a frame can hold. */
int guard_relay_frames(struct guard_relay *g, enum guard_frame_type type, const uint8_t *p,
                       size_t n)
{
	do {
		size_t part = n > CHUNK ? CHUNK : n;
		int r;

		if ((r = guard_frame_put(&g->to_delegate, type, p, part)) != ERR_OK)
			return r;
		p += part;
		n -= part;
	} while (n > 0);
	return ERR_OK;
}

/* No room even for an ABORT frame: the session ends without telling the delegate. */
static void give_up(struct guard_relay *g, const char *why)
{
	if (!g->finished)
		snprintf(g->outcome, sizeof(g->outcome), "aborted: %.280s", why);
	g->finished = 1;
}

static void output(void *ctx, int stream, const uint8_t *p, size_t n)
{
	struct guard_relay *g = ctx;

	if (guard_relay_frames(g, stream == 1 ? GF_STDOUT : GF_STDERR, p, n) != ERR_OK)
		give_up(g, "output for the delegate over its limit");
}

int guard_relay_text(struct guard_relay *g, enum guard_frame_type type, uint32_t code,
                     const char *text)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, GUARD_FRAME_MAX);
	if ((r = wbuf_put_u32(&b, code)) == ERR_OK && (r = wbuf_put_cstring(&b, text)) == ERR_OK)
		r = guard_frame_put(&g->to_delegate, type, wbuf_ptr(&b), wbuf_avail(&b));
	wbuf_free(&b);
	return r;
}

static void progress(void *ctx, const char *text)
{
	if (guard_relay_text(ctx, GF_PROGRESS, 0, text) != ERR_OK)
		give_up(ctx, "output for the delegate over its limit");
}

int guard_relay_start(struct guard_relay *g, const struct ssh_client_config *cfg)
{
	memset(g, 0, sizeof(*g));
	g->cfg = *cfg;
	g->cfg.output = output;
	g->cfg.output_ctx = g;
	g->cfg.progress = progress;
	g->cfg.progress_ctx = g;
	wbuf_init(&g->to_delegate, 64 * 1024 * 1024);
	return ERR_OK;
}

int guard_relay_abort(struct guard_relay *g, uint32_t code, const char *why)
{
	if (!g->finished) {
		(void)!guard_relay_text(g, GF_ABORT, code, why);
		snprintf(g->outcome, sizeof(g->outcome), "aborted: %.280s", why);
	}
	g->finished = 1;
	return ERR_OK;
}

void guard_relay_free(struct guard_relay *g)
{
	if (g->connected)
		ssh_client_free(&g->client);
	wbuf_free(&g->to_delegate);
}

/* What the client wrote goes to the server; an end goes to the delegate. */
static int after_client(struct guard_relay *g)
{
	struct ssh_client *c = &g->client;

	if (wbuf_avail(&c->pk.out) > 0) {
		g->to_server += wbuf_avail(&c->pk.out);
		if (guard_relay_frames(g, GF_TO_SERVER, wbuf_ptr(&c->pk.out), wbuf_avail(&c->pk.out)) != ERR_OK)
			return guard_relay_abort(g, 1, "the delegate does not read what it is sent");
		wbuf_reset(&c->pk.out);
	}
	if (c->stdin_sent > g->stdin_credited) {
		struct wbuf credit;
		int r;

		/* At most GUARD_STDIN_WINDOW was outstanding: the difference fits a uint32. */
		wbuf_init(&credit, 4);
		r = wbuf_put_u32(&credit, (uint32_t)(c->stdin_sent - g->stdin_credited));
		if (r == ERR_OK)
			r = guard_frame_put(&g->to_delegate, GF_STDIN_CREDIT, wbuf_ptr(&credit), 4);
		wbuf_free(&credit);
		if (r != ERR_OK)
			return guard_relay_abort(g, 1, "the delegate does not read what it is sent");
		g->stdin_credited = c->stdin_sent;
	}
	if (c->state == SSH_FAILED)
		return guard_relay_abort(g, 2, c->why.text);
	if (g->cfg.handoff && guard_handoff_progress(g) != ERR_OK)
		return guard_relay_abort(g, 1, "the delegate does not read what it is sent");
	if (g->handed_off)
		return ERR_OK;
	if (c->state == SSH_DONE && !g->finished) {
		g->finished = 1;
		if (c->exit_signal[0] != '\0')
			snprintf(g->outcome, sizeof(g->outcome), "killed by signal %s",
			         c->exit_signal);
		else if (c->exit_status >= 0)
			snprintf(g->outcome, sizeof(g->outcome), "exit status %d", c->exit_status);
		else
			snprintf(g->outcome, sizeof(g->outcome), "closed without an exit status");
		return guard_relay_text(g, GF_EXIT, c->exit_status >= 0 ? (uint32_t)c->exit_status :
		                      255, c->exit_signal);
	}
	return ERR_OK;
}

static int window(struct guard_relay *g, const struct wbuf *payload)
{
	uint32_t size[4];
	struct wbuf b;

	wbuf_view(&b, wbuf_ptr(payload), wbuf_avail(payload));
	for (int i = 0; i < 4; i++)
		if (wbuf_get_u32(&b, &size[i]) != ERR_OK)
			return guard_relay_abort(g, 3, "a malformed WINDOW frame");
	if (wbuf_avail(&b) != 0)
		return guard_relay_abort(g, 3, "a malformed WINDOW frame");
	(void)!ssh_client_window_change(&g->client, size[0], size[1], size[2], size[3]);
	return after_client(g);
}

int guard_relay_frame(struct guard_relay *g, enum guard_frame_type type,
                      const struct wbuf *payload)
{
	if (g->finished)
		return ERR_OK;
	if (!g->connected) {
		if (type != GF_CONNECTED)
			return guard_relay_abort(g, 3, "a frame before CONNECTED");
		if (ssh_client_start(&g->client, &g->cfg) != ERR_OK)
			return guard_relay_abort(g, 2, "the SSH client could not start");
		g->connected = 1;
		return after_client(g);
	}
	switch (type) {
	case GF_SERVER_DATA:
		g->from_server += wbuf_avail(payload);
		if (g->cfg.handoff && g->client.handoff && g->from_server > GUARD_HANDOFF_MAX_BYTES)
			return guard_relay_abort(g, 2, "the server sent more than 256 KiB before the "
			                         "handoff");
		(void)!ssh_client_input(&g->client, wbuf_ptr(payload), wbuf_avail(payload));
		return after_client(g);
	case GF_KEX_SHARE:
		(void)!guard_handoff_share(g, payload);
		return g->finished ? ERR_OK : after_client(g);
	case GF_STDIN:
		/* Headed for a handoff, input is the delegate's to send after it. */
		if (g->cfg.handoff && g->client.handoff)
			return guard_relay_abort(g, 3, "input before the session's mode was known");
		g->stdin_received += wbuf_avail(payload);
		if (g->stdin_received - g->stdin_credited > GUARD_STDIN_WINDOW ||
		    ssh_client_stdin(&g->client, wbuf_ptr(payload), wbuf_avail(payload)) != ERR_OK)
			return guard_relay_abort(g, 3, "more input than the agent gave room for");
		return after_client(g);
	case GF_STDIN_EOF:
		if (wbuf_avail(payload) != 0 || ssh_client_stdin_eof(&g->client) != ERR_OK)
			return guard_relay_abort(g, 3, "a malformed STDIN_EOF frame");
		return after_client(g);
	case GF_WINDOW:
		return window(g, payload);
	case GF_KEEPALIVE:
		if (wbuf_avail(payload) != 0)
			return guard_relay_abort(g, 3, "a malformed KEEPALIVE frame");
		(void)!ssh_client_keepalive(&g->client);
		return after_client(g);
	case GF_SERVER_CLOSED:
		return guard_relay_abort(g, 4, "the connection to the server closed before the command "
		                  "ended");
	case GF_ABORT:
		snprintf(g->outcome, sizeof(g->outcome), "ended by the delegate");
		g->finished = 1;
		return ERR_OK;
	default:
		return guard_relay_abort(g, 3, "a frame the delegate may not send, or sent twice");
	}
}
