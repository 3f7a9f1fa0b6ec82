/* EXTENSION requests: `query` (RFC 9987) lists what this agent understands. */
#include "agent.h"

static const char *const supported[] = { "query" };

static int answer_query(struct wbuf *reply)
{
	size_t mark;
	int r;

	if ((r = agent_frame_begin(reply, AGENT_EXTENSION_RESPONSE, &mark)) != ERR_OK ||
	    (r = wbuf_put_cstring(reply, "query")) != ERR_OK)
		return r;
	for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++)
		if ((r = wbuf_put_cstring(reply, supported[i])) != ERR_OK)
			return r;
	return agent_frame_end(reply, mark);
}

int agent_handle_extension(struct agent *a, struct agent_client *c,
                           const struct agent_request *req, struct wbuf *reply)
{
	struct reason why;

	(void)a;
	if (agent_bytes_eq(req->u.extension.name, "query") && req->u.extension.data.len == 0)
		return answer_query(reply);
	reason_set(&why, ERR_UNSUPPORTED, "unknown or malformed extension request");
	return agent_refuse(c, reply, AGENT_EXTENSION_FAILURE, &why, "extension");
}
