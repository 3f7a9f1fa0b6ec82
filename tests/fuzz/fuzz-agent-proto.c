/* libFuzzer target: framing and parsing of agent requests (src/sshagent/agent-proto.c). */
#include <stdlib.h>

#include "agent-proto.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshagent_request req;
	struct wbuf in, msg;
	char *s;

	wbuf_view(&in, data, size);
	while (agent_frame_take(&in, &msg) == ERR_OK) {
		if (agent_request_parse(&msg, &req) != ERR_OK)
			continue;
		if (req.type == SSHAGENTC_ADD_SMARTCARD_KEY && (s = agent_bytes_strdup(req.u.smartcard.provider)))
			free(s);
	}
	/* The whole input as one body, too. */
	wbuf_view(&msg, data, size);
	(void)agent_request_parse(&msg, &req);
	return 0;
}
