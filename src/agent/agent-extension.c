/*
 * EXTENSION requests: `query` (RFC 9987), OpenSSH's session-bind, and p11guard's own:
 * the reason for this connection's last refusal, and reloading the policy.
 */
#include <string.h>

#include "agent.h"
#include "log.h"

#define EXT_SESSION_BIND "session-bind@openssh.com"
#define EXT_REFUSAL "refusal-reason@p11guard"
#define EXT_RELOAD "reload@p11guard"

static const char *const supported[] = { "query", EXT_SESSION_BIND, EXT_REFUSAL, EXT_RELOAD };

/* A response: the extension's name, then its strings. */
static int answer(struct wbuf *reply, const char *name, const char *const *items, size_t n)
{
	size_t mark;
	int r;

	if ((r = agent_frame_begin(reply, AGENT_EXTENSION_RESPONSE, &mark)) != ERR_OK ||
	    (r = wbuf_put_cstring(reply, name)) != ERR_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = wbuf_put_cstring(reply, items[i])) != ERR_OK)
			return r;
	return agent_frame_end(reply, mark);
}

static int session_bind(struct agent_client *c, const struct agent_request *req,
                        struct wbuf *reply)
{
	struct reason why;
	struct wbuf body;

	reason_clear(&why);
	wbuf_view(&body, req->u.extension.data.p, req->u.extension.data.len);
	if (session_bind_apply(&c->bindings, &body, &why) != ERR_OK)
		return agent_refuse(c, reply, AGENT_FAILURE, &why, "session-bind");
	log_debug("pid %ld bound to host key %s%s (%zu binding(s))", (long)c->pid,
	          bindings_last(&c->bindings)->hostkey.fingerprint,
	          bindings_last(&c->bindings)->forwarded ? " for forwarding" : "",
	          c->bindings.n);
	return agent_frame_simple(reply, AGENT_SUCCESS);
}

static int reload(struct agent *a, struct agent_client *c, struct wbuf *reply)
{
	struct reason why;

	reason_clear(&why);
	if (c->bindings.n > 0) {
		reason_set(&why, ERR_DENIED, "reload is refused on a forwarded connection");
		return agent_refuse(c, reply, AGENT_FAILURE, &why, "reload");
	}
	if (agent_reload(a, &why) != ERR_OK) {
		log_error("%s", why.text);
		return agent_refuse(c, reply, AGENT_FAILURE, &why, "reload");
	}
	return agent_frame_simple(reply, AGENT_SUCCESS);
}

int agent_handle_extension(struct agent *a, struct agent_client *c,
                           const struct agent_request *req, struct wbuf *reply)
{
	struct agent_bytes name = req->u.extension.name;
	int no_data = req->u.extension.data.len == 0;
	const char *last = c->last_refusal;
	struct reason why;

	if (agent_bytes_eq(name, "query") && no_data)
		return answer(reply, "query", supported, sizeof(supported) / sizeof(supported[0]));
	if (agent_bytes_eq(name, EXT_SESSION_BIND))
		return session_bind(c, req, reply);
	if (agent_bytes_eq(name, EXT_REFUSAL) && no_data)
		return answer(reply, EXT_REFUSAL, &last, 1);
	if (agent_bytes_eq(name, EXT_RELOAD) && no_data)
		return reload(a, c, reply);
	reason_set(&why, ERR_UNSUPPORTED, "unknown or malformed extension request");
	return agent_refuse(c, reply, AGENT_EXTENSION_FAILURE, &why, "extension");
}
