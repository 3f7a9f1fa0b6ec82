/*
 * p11guard's own EXTENSION requests (query and session-bind are the library's): the reason
 * for this connection's last refusal, and reloading the policy.
 */
#include <string.h>

#include "agent.h"
#include "log.h"

#define EXT_REFUSAL "refusal-reason@p11guard"
#define EXT_RELOAD "reload@p11guard"

/* A response body: one string. */
static int answer_string(struct sshagent_reply *r, const char *text, struct reason *why)
{
	struct wbuf b;
	int rc;

	wbuf_init(&b, SSHAGENT_REASON_MAX + 16);
	if ((rc = wbuf_put_cstring(&b, text)) == ERR_OK)
		rc = sshagent_reply_extension(r, wbuf_ptr(&b), wbuf_avail(&b));
	wbuf_free(&b);
	return rc == ERR_OK ? ERR_OK : reason_set(why, rc, "encoding the answer failed");
}

static int reload(struct agent *a, struct agent_client *c, struct reason *why)
{
	if (c->bindings->n > 0)
		return reason_set(why, ERR_DENIED, "reload is refused on a forwarded connection");
	if (agent_reload(a, why) != ERR_OK) {
		log_error("%s", why->text);
		return why->code;
	}
	return ERR_OK;
}

int agent_extension(struct agent *a, struct agent_client *c,
                    const struct sshagent_request *req, struct sshagent_reply *r,
                    struct reason *why)
{
	const char *name = req->u.extension.name;
	int no_data = req->u.extension.data.len == 0;

	if (strcmp(name, EXT_REFUSAL) == 0 && no_data)
		return answer_string(r, sshagent_conn_last_refusal(c->conn), why);
	if (strcmp(name, EXT_RELOAD) == 0 && no_data)
		return reload(a, c, why);
	return reason_set(why, ERR_UNSUPPORTED, "unknown or malformed extension request");
}
