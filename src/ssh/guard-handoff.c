/*
 * Handoff mode, the agent's frames (design section 5): KEX_START once the server's KEXINIT of
 * the handoff re-key came, the delegate's KEX_SHARE into KEX_ECDH_INIT, the server's reply as
 * KEX_REPLY, and HANDOFF once the server's NEWKEYS came; or RELAYING when the session stays
 * relayed after all (probes, no no-more-sessions, no common algorithm).
 */
#include <stdio.h>

#include "guard-relay.h"

static int send_handoff(struct guard_relay *g)
{
	struct ssh_client *c = &g->client;
	struct guard_handoff h;
	struct wbuf b;
	int r;

	/* The bytes after the server's NEWKEYS are under keys only the delegate has. */
	h.server_offset = g->from_server - wbuf_avail(&c->pk.in);
	h.bytes_written = g->to_server;
	if (g->keep_from > h.server_offset)
		return guard_relay_abort(g, 3, "the delegate did not keep the server's bytes from "
		                         "where the handoff starts");
	if (ssh_client_handoff_state(c, &h.state) != ERR_OK)
		return guard_relay_abort(g, 2, "the handoff state is not complete");
	wbuf_init(&b, 1024);
	if ((r = guard_handoff_encode(&h, &b)) == ERR_OK)
		r = guard_frame_put(&g->to_delegate, GF_HANDOFF, wbuf_ptr(&b), wbuf_avail(&b));
	wbuf_free(&b);
	if (r != ERR_OK)
		return r;
	g->handed_off = g->finished = 1;
	snprintf(g->outcome, sizeof(g->outcome), "handed off (%s, %s)",
	         ssh_kex_method_name(&c->kex), c->kex.cipher_cs->name);
	return ERR_OK;
}

int guard_handoff_progress(struct guard_relay *g)
{
	struct ssh_client *c = &g->client;
	struct wbuf b;
	int r;

	if (!c->handoff) {
		if (g->relaying_sent)
			return ERR_OK;
		g->relaying_sent = 1;
		return guard_relay_text(g, GF_RELAYING, 0, c->relay_why);
	}
	if (c->state < SSH_HANDOFF_SHARE || c->state > SSH_HANDED_OFF)
		return ERR_OK;
	if (!g->kex_start_sent) {
		wbuf_init(&b, GUARD_FRAME_MAX);
		if ((r = guard_kex_start_encode(&c->kex, &b)) == ERR_OK)
			r = guard_frame_put(&g->to_delegate, GF_KEX_START, wbuf_ptr(&b), wbuf_avail(&b));
		wbuf_free(&b);
		if (r != ERR_OK)
			return r;
		g->kex_start_sent = 1;
	}
	if (c->state >= SSH_HANDOFF_NEWKEYS && !g->kex_reply_sent) {
		if ((r = guard_frame_put(&g->to_delegate, GF_KEX_REPLY, wbuf_ptr(&c->handoff_reply),
		                         wbuf_avail(&c->handoff_reply))) != ERR_OK)
			return r;
		g->kex_reply_sent = 1;
	}
	if (c->state == SSH_HANDED_OFF && !g->handed_off)
		return send_handoff(g);
	return ERR_OK;
}

int guard_handoff_share(struct guard_relay *g, const struct wbuf *payload)
{
	struct wbuf q_c;

	if (!g->cfg.handoff || !g->kex_start_sent || g->client.state != SSH_HANDOFF_SHARE)
		return guard_relay_abort(g, 3, "a KEX_SHARE frame out of place");
	if (guard_kex_share_decode(payload, &q_c, &g->keep_from) != ERR_OK)
		return guard_relay_abort(g, 3, "a malformed KEX_SHARE frame");
	/* A failure shows in the client's state, which the caller turns into an ABORT. */
	(void)!ssh_client_handoff_share(&g->client, wbuf_ptr(&q_c), wbuf_avail(&q_c));
	return ERR_OK;
}
