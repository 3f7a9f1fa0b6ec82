/*
 * libFuzzer target: guarded execution's wire as the agent reads it from a delegate: the
 * guarded-exec@p11guard request, then the same bytes read as a stream of frames.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guard-wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guard_request_wire r;
	enum guard_frame_type type;
	struct wbuf in, payload;
	struct reason why;

	if (guard_request_decode(data, size, &r, &why) == ERR_OK &&
	    (strchr(r.command, '\n') != NULL || r.port == 0 || r.nenv > SSH_MAX_ENV))
		__builtin_trap();
	guard_request_free(&r);
	wbuf_view(&in, data, size);
	while (guard_frame_get(&in, &type, &payload) == ERR_OK)
		if (type < GF_CONNECTED || type > GF_LAST || wbuf_avail(&payload) >= GUARD_FRAME_MAX)
			__builtin_trap();
	return 0;
}
