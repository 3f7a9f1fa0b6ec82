/* Listing identities and removing them (ssh-add -l, -d, -D). */
#include "agent.h"

struct list_ctx {
	struct agent *agent;
	const struct agent_client *client;
	struct policy *policy;
	struct sshagent_reply *reply;
};

static int put_identity(void *ctx, const struct ks_identity *id)
{
	struct list_ctx *l = ctx;

	/* A key the policy cannot allow here is not offered, so ssh never tries it. */
	if (!agent_may_list(l->agent, l->client, l->policy, id))
		return ERR_OK;
	return sshagent_reply_identity(l->reply, id->blob, id->blob_len, id->comment);
}

int agent_list(struct agent *a, const struct agent_client *c, struct sshagent_reply *r,
               struct reason *why)
{
	struct list_ctx l = { a, c, agent_policy(a), r };
	int rc = ERR_OK;

	/* A locked agent lists nothing, as OpenSSH's does. */
	if (!agent_is_locked(a) && (rc = keystore_foreach(&a->keys, put_identity, &l)) != ERR_OK)
		reason_set(why, rc, "listing the keys failed");
	policy_unref(l.policy);
	return rc;
}

int agent_remove(struct agent *a, const struct sshagent_request *req, struct reason *why)
{
	if (agent_is_locked(a))
		return reason_set(why, ERR_AGENT_LOCKED, "unlock it first (ssh-add -X)");
	if (req->type == SSHAGENTC_REMOVE_ALL_IDENTITIES) {
		keystore_remove_all(&a->keys);
		return ERR_OK;
	}
	if (keystore_remove_identity(&a->keys, req->u.remove.key.data, req->u.remove.key.len)
	    != ERR_OK)
		return reason_set(why, ERR_KEY_NOT_FOUND, "no such identity");
	return ERR_OK;
}
