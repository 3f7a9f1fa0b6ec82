/* The handoff's frames (design section 5): KEX_START, KEX_SHARE and HANDOFF, read strictly. */
#include <stdio.h>
#include <string.h>

#include "guard-wire.h"

int guard_kex_start_encode(const struct ssh_kex *k, struct wbuf *out)
{
	int r;

	if ((r = wbuf_put_cstring(out, k->v_c)) || (r = wbuf_put_cstring(out, k->v_s)) ||
	    (r = wbuf_put_string(out, wbuf_ptr(&k->i_c), wbuf_avail(&k->i_c))) ||
	    (r = wbuf_put_string(out, wbuf_ptr(&k->i_s), wbuf_avail(&k->i_s))) ||
	    (r = wbuf_put_string(out, k->host_key.blob, k->host_key.blob_len)) ||
	    (r = wbuf_put_string(out, k->session_id, k->session_id_len)))
		return r;
	return wbuf_put_u8(out, (uint8_t)(k->strict != 0));
}

int guard_kex_start_decode(const struct wbuf *payload, struct guard_kex_start *s)
{
	struct wbuf b;
	uint8_t strict;

	wbuf_view(&b, wbuf_ptr(payload), wbuf_avail(payload));
	if (wbuf_get_stringb(&b, &s->v_c) != ERR_OK || wbuf_get_stringb(&b, &s->v_s) != ERR_OK ||
	    wbuf_get_stringb(&b, &s->i_c) != ERR_OK || wbuf_get_stringb(&b, &s->i_s) != ERR_OK ||
	    wbuf_get_stringb(&b, &s->k_s) != ERR_OK ||
	    wbuf_get_stringb(&b, &s->session_id) != ERR_OK || wbuf_get_u8(&b, &strict) != ERR_OK ||
	    strict > 1 || wbuf_avail(&b) != 0)
		return ERR_FORMAT;
	/* Version lines as they go into the hash: at most 253 bytes, no CR, LF or NUL. */
	for (int i = 0; i < 2; i++) {
		const struct wbuf *v = i == 0 ? &s->v_c : &s->v_s;

		if (wbuf_avail(v) < 8 || wbuf_avail(v) > 253 ||
		    memchr(wbuf_ptr(v), '\r', wbuf_avail(v)) != NULL ||
		    memchr(wbuf_ptr(v), '\n', wbuf_avail(v)) != NULL ||
		    memchr(wbuf_ptr(v), '\0', wbuf_avail(v)) != NULL)
			return ERR_FORMAT;
	}
	if (wbuf_avail(&s->session_id) < 32 || wbuf_avail(&s->session_id) > SSH_KEX_MAX_HASH)
		return ERR_FORMAT;
	s->strict = strict;
	return ERR_OK;
}

int guard_kex_share_encode(const uint8_t *q_c, size_t len, uint64_t keep_from,
                           struct wbuf *out)
{
	int r;

	if ((r = wbuf_put_string(out, q_c, len)) != ERR_OK)
		return r;
	return wbuf_put_u64(out, keep_from);
}

int guard_kex_share_decode(const struct wbuf *payload, struct wbuf *q_c, uint64_t *keep_from)
{
	struct wbuf b;

	wbuf_view(&b, wbuf_ptr(payload), wbuf_avail(payload));
	if (wbuf_get_stringb(&b, q_c) != ERR_OK || wbuf_get_u64(&b, keep_from) != ERR_OK ||
	    wbuf_avail(&b) != 0)
		return ERR_FORMAT;
	return ERR_OK;
}

int guard_handoff_encode(const struct guard_handoff *h, struct wbuf *out)
{
	const struct ssh_handoff *s = &h->state;
	int r;

	if ((r = wbuf_put_u64(out, h->server_offset)) || (r = wbuf_put_u64(out, h->bytes_written)) ||
	    (r = wbuf_put_u32(out, s->send_seq)) || (r = wbuf_put_u32(out, s->recv_seq)) ||
	    (r = wbuf_put_u32(out, s->remote_id)) || (r = wbuf_put_u32(out, s->remote_window)) ||
	    (r = wbuf_put_u32(out, s->remote_max_packet)) ||
	    (r = wbuf_put_u32(out, s->local_window)) ||
	    (r = wbuf_put_u8(out, (uint8_t)s->pty_granted)) ||
	    (r = wbuf_put_u8(out, (uint8_t)s->eof_received)) ||
	    (r = wbuf_put_u8(out, (uint8_t)s->close_received)) ||
	    (r = wbuf_put_u32(out, (uint32_t)(s->exit_status + 1))) ||
	    (r = wbuf_put_cstring(out, s->exit_signal)) ||
	    (r = wbuf_put_u32(out, s->deferred_count)))
		return r;
	return wbuf_put_u32(out, s->deferred_failures);
}

int guard_handoff_decode(const struct wbuf *payload, struct guard_handoff *h)
{
	struct ssh_handoff *s = &h->state;
	uint8_t pty, eof, closed;
	uint32_t status, count, failures;
	const uint8_t *sig;
	size_t sig_len;
	struct wbuf b;

	memset(h, 0, sizeof(*h));
	wbuf_view(&b, wbuf_ptr(payload), wbuf_avail(payload));
	if (wbuf_get_u64(&b, &h->server_offset) != ERR_OK ||
	    wbuf_get_u64(&b, &h->bytes_written) != ERR_OK ||
	    wbuf_get_u32(&b, &s->send_seq) != ERR_OK || wbuf_get_u32(&b, &s->recv_seq) != ERR_OK ||
	    wbuf_get_u32(&b, &s->remote_id) != ERR_OK ||
	    wbuf_get_u32(&b, &s->remote_window) != ERR_OK ||
	    wbuf_get_u32(&b, &s->remote_max_packet) != ERR_OK ||
	    wbuf_get_u32(&b, &s->local_window) != ERR_OK || wbuf_get_u8(&b, &pty) != ERR_OK ||
	    wbuf_get_u8(&b, &eof) != ERR_OK || wbuf_get_u8(&b, &closed) != ERR_OK ||
	    wbuf_get_u32(&b, &status) != ERR_OK ||
	    wbuf_get_string(&b, &sig, &sig_len) != ERR_OK || wbuf_get_u32(&b, &count) != ERR_OK ||
	    wbuf_get_u32(&b, &failures) != ERR_OK || wbuf_avail(&b) != 0)
		return ERR_FORMAT;
	if (pty > 1 || eof > 1 || closed > 1 || status > 256 || count > 16 ||
	    failures >> count != 0 || sig_len >= sizeof(s->exit_signal) ||
	    memchr(sig, '\0', sig_len) != NULL)
		return ERR_FORMAT;
	s->pty_granted = pty;
	s->eof_received = eof;
	s->close_received = closed;
	s->exit_status = (int)status - 1;
	memcpy(s->exit_signal, sig, sig_len);
	s->exit_signal[sig_len] = '\0';
	s->deferred_count = count;
	s->deferred_failures = failures;
	return ERR_OK;
}
