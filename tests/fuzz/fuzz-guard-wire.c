/*
 * libFuzzer target: guarded execution's wire as the agent reads it from a delegate: the
 * guarded-exec@p11guard request, then the same bytes read as a stream of frames, each fed
 * to a relay-mode session (guard-relay.c) as the agent's session thread would, and each
 * frame's payload read as the delegate reads the handoff's (KEX_START, KEX_SHARE, HANDOFF).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guard-relay.h"
#include "guard-wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_signature(void *ctx, size_t key, const uint8_t *data, size_t len,
                        struct wbuf *sig, struct reason *why)
{
	(void)ctx, (void)key, (void)data, (void)len, (void)sig;
	return reason_set(why, ERR_DENIED, "the fuzzer signs nothing");
}

/* The delegate's readers of the handoff's frames, and what they promise. */
static void handoff_frames(const struct wbuf *payload)
{
	struct guard_kex_start start;
	struct guard_handoff h;
	struct wbuf q;
	uint64_t keep;

	if (guard_kex_start_decode(payload, &start) == ERR_OK &&
	    (start.strict > 1 || wbuf_avail(&start.session_id) > SSH_KEX_MAX_HASH ||
	     memchr(wbuf_ptr(&start.v_s), '\n', wbuf_avail(&start.v_s)) != NULL))
		__builtin_trap();
	if (guard_kex_share_decode(payload, &q, &keep) == ERR_OK &&
	    wbuf_avail(&q) > wbuf_avail(payload))
		__builtin_trap();
	if (guard_handoff_decode(payload, &h) == ERR_OK &&
	    (h.state.exit_status < -1 || h.state.exit_status > 255 || h.state.deferred_count > 16 ||
	     strlen(h.state.exit_signal) >= sizeof(h.state.exit_signal)))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssh_client_config cfg = { .user = "fuzz", .command = "true", .sign = no_signature };
	struct ssh_user_key key;
	struct sshpub trusted;
	struct guard_relay relay;
	struct guard_request_wire r;
	enum guard_frame_type type;
	struct wbuf in, payload;
	struct reason why;

	if (guard_request_decode(data, size, &r, &why) == ERR_OK &&
	    (strchr(r.command, '\n') != NULL || r.port == 0 || r.nenv > SSH_MAX_ENV))
		__builtin_trap();
	guard_request_free(&r);
	/* A trusted host key and a user key, so that a key exchange can begin. */
	if (sshpub_parse_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOrfEp7l62aKBD4MxFeQPgVNDpUT"
	                      "DYfsLq+mF4XwvTs", &trusted) != ERR_OK)
		return 0;
	key = (struct ssh_user_key){ trusted.blob, trusted.blob_len, "ssh-ed25519" };
	cfg.trusted = &trusted;
	cfg.ntrusted = 1;
	cfg.keys = &key;
	cfg.nkeys = 1;
	wbuf_view(&in, data, size);
	if (guard_relay_start(&relay, &cfg) != ERR_OK) {
		sshpub_free(&trusted);
		return 0;
	}
	while (guard_frame_get(&in, &type, &payload) == ERR_OK) {
		if (type < GF_CONNECTED || type > GF_LAST || wbuf_avail(&payload) >= GUARD_FRAME_MAX)
			__builtin_trap();
		handoff_frames(&payload);
		(void)!guard_relay_frame(&relay, type, &payload);
	}
	guard_relay_free(&relay);
	sshpub_free(&trusted);
	return 0;
}
