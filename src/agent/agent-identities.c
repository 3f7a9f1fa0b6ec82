/* Listing identities and removing them (ssh-add -l, -d, -D). */
#include <stdlib.h>
#include <string.h>

#include "agent.h"

struct list_ctx {
	struct agent *agent;
	struct agent_client *client;
	struct policy *policy;
	struct sshagent_reply *reply;
	const struct ks_identity **listed;      /* what this answer holds already */
	size_t nlisted, cap;
};

/*
 * A key served twice (a configured token also added with ssh-add -s) is listed once, so
 * ssh does not offer it twice and run into the server's MaxAuthTries.
 */
static int already_listed(const struct list_ctx *l, const struct ks_identity *id)
{
	for (size_t i = 0; i < l->nlisted; i++)
		if (l->listed[i]->blob_len == id->blob_len &&
		    memcmp(l->listed[i]->blob, id->blob, id->blob_len) == 0)
			return 1;
	return 0;
}

static int put_identity(void *ctx, const struct ks_identity *id)
{
	struct list_ctx *l = ctx;
	const struct ks_identity **more;

	/* A key the policy cannot allow here is not offered, so ssh never tries it. */
	if (already_listed(l, id) || !agent_may_list(l->agent, l->client, l->policy, id))
		return ERR_OK;
	if (l->nlisted == l->cap) {
		if ((more = realloc(l->listed, (l->cap + 64) * sizeof(*more))) == NULL)
			return ERR_ALLOC;
		l->listed = more;
		l->cap += 64;
	}
	l->listed[l->nlisted++] = id;
	return sshagent_reply_identity(l->reply, id->blob, id->blob_len, id->comment);
}

int agent_list(struct agent *a, struct agent_client *c, struct sshagent_reply *r,
               struct reason *why)
{
	struct list_ctx l = { .agent = a, .client = c, .policy = agent_policy(a), .reply = r };
	int rc = ERR_OK;

	/* A locked agent lists nothing, as OpenSSH's does. */
	if (!agent_is_locked(a) && (rc = keystore_foreach(&a->keys, put_identity, &l)) != ERR_OK)
		reason_set(why, rc, "listing the keys failed");
	policy_unref(l.policy);
	free(l.listed);
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
