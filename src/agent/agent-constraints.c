/* Key constraints of an add request (ssh-add -t, -c, -h) put on the source it creates. */
#include <stdlib.h>
#include <time.h>

#include "agent.h"

int agent_apply_constraints(struct agent *a, const struct sshagent_constraints *c,
                            struct ks_source *src, struct reason *why)
{
	char *name;
	int r;

	/* Extensions: OpenSSH's destination restrictions, nothing else. */
	if (c->n_other > 0 || c->has_associated_certs) {
		name = c->n_other > 0 ? agent_bytes_strdup(c->other[0]) : NULL;
		reason_set(why, ERR_UNSUPPORTED, "key constraint \"%s\" is not supported",
		           c->n_other == 0 ? AGENT_EXT_ASSOCIATED_CERTS : name ? name : "?");
		free(name);
		return why->code;
	}
	if (c->restrict_destination.data != NULL &&
	    (r = dest_constraints_parse(c->restrict_destination.data, c->restrict_destination.len,
	                                &src->dest, why)) != ERR_OK)
		return r;
	src->confirm = c->confirm;
	if (c->lifetime > 0 || a->default_lifetime > 0)
		src->expires = time(NULL) + (c->lifetime > 0 ? c->lifetime : a->default_lifetime);
	return ERR_OK;
}
