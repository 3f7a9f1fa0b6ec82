/*
 * libFuzzer target: guarded execution's wire as the agent reads it from a delegate: the
 * guarded-exec@p11guard request, then the same bytes read as a stream of frames, each fed
 * to a relay-mode session (guard-relay.c) as the agent's session thread would.
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
		(void)!guard_relay_frame(&relay, type, &payload);
	}
	guard_relay_free(&relay);
	sshpub_free(&trusted);
	return 0;
}
