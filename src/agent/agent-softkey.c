/*
 * ssh-add FILE: software keys, each a source of its own in the keystore, under the same
 * policy, constraints, confirmations and audit as token keys.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "softkey.h"

int agent_add_software(struct agent *a, const struct sshagent_request *req,
                       struct reason *why)
{
	const struct sshagent_constraints *c = &req->u.add.constraints;
	struct ks_source *src = NULL;
	struct softkey *sk = NULL;
	char *comment;
	int r;

	if (!agent_software_allowed(a))
		return reason_set(why, ERR_DENIED, "software keys are refused here "
		                  "(software_keys: deny in %s)", a->config_path ? a->config_path :
		                  "the configuration");
	if (agent_is_locked(a))
		return reason_set(why, ERR_AGENT_LOCKED, "unlock it first (ssh-add -X)");
	if ((comment = agent_bytes_strdup(req->u.add.comment)) == NULL)
		return reason_set(why, ERR_FORMAT, "the key's comment holds a NUL byte");
	if ((r = softkey_from_request(&req->u.add.key, &sk, why)) == ERR_OK &&
	    (r = ks_source_software(sk, comment, &src, why)) == ERR_OK &&
	    (r = agent_apply_constraints(a, c, src, why)) == ERR_OK &&
	    (r = keystore_add(&a->keys, src, why)) == ERR_OK)
		log_info("added software key %s (%s) \"%s\"%s%s%s", src->ids[0].fingerprint,
		         req->u.add.key.type, comment, src->expires ? ", with a lifetime" : "",
		         src->confirm ? ", confirm each use" : "",
		         src->dest ? ", restricted to destinations (ssh-add -h)" : "");
	else
		ks_source_unref(src);   /* the key with it; a key never listed is freed here */
	free(comment);
	return r;
}
