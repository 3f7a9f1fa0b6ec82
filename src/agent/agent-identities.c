/* Listing identities and removing them (ssh-add -l, -d, -D). */
#include "agent.h"

struct list_ctx {
	struct agent *agent;
	const struct agent_client *client;
	struct policy *policy;
	struct wbuf *out;
	uint32_t count;
};

static int put_identity(void *ctx, const struct ks_identity *id)
{
	struct list_ctx *l = ctx;
	int r;

	/* A key the policy cannot allow here is not offered, so ssh never tries it. */
	if (!agent_may_list(l->agent, l->client, l->policy, id))
		return ERR_OK;
	if ((r = wbuf_put_string(l->out, id->blob, id->blob_len)) != ERR_OK ||
	    (r = wbuf_put_cstring(l->out, id->comment)) != ERR_OK)
		return r;
	l->count++;
	return ERR_OK;
}

static int list_identities(struct agent *a, const struct agent_client *c,
                           struct wbuf *reply)
{
	struct list_ctx l = { a, c, agent_policy(a), reply, 0 };
	size_t mark, count_at;
	int r;

	if ((r = agent_frame_begin(reply, AGENT_IDENTITIES_ANSWER, &mark)) != ERR_OK)
		goto out;
	count_at = reply->len;
	if ((r = wbuf_put_u32(reply, 0)) != ERR_OK)
		goto out;
	/* A locked agent lists nothing, as OpenSSH's does. */
	if (!agent_is_locked(a) && (r = keystore_foreach(&a->keys, put_identity, &l)) != ERR_OK)
		goto out;
	if ((r = wbuf_poke_u32(reply, count_at, l.count)) == ERR_OK)
		r = agent_frame_end(reply, mark);
out:
	policy_unref(l.policy);
	return r;
}

int agent_handle_identities(struct agent *a, struct agent_client *c,
                            const struct agent_request *req, struct wbuf *reply)
{
	struct reason why;

	if (req->type == AGENTC_REQUEST_IDENTITIES)
		return list_identities(a, c, reply);
	if (agent_is_locked(a)) {
		reason_set(&why, ERR_AGENT_LOCKED, "unlock it first (ssh-add -X)");
		return agent_refuse(c, reply, AGENT_FAILURE, &why, "remove identity");
	}
	if (req->type == AGENTC_REMOVE_ALL_IDENTITIES) {
		keystore_remove_all(&a->keys);
		return agent_frame_simple(reply, AGENT_SUCCESS);
	}
	if (keystore_remove_identity(&a->keys, req->u.remove.key.p, req->u.remove.key.len)
	    != ERR_OK) {
		reason_set(&why, ERR_KEY_NOT_FOUND, "no such identity");
		return agent_refuse(c, reply, AGENT_FAILURE, &why, "remove identity");
	}
	return agent_frame_simple(reply, AGENT_SUCCESS);
}
