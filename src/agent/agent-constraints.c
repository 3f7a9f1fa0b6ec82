/*
 * Key constraints of an add request (ssh-add -t, -c, -h, and -C certificates for a
 * provider) put on the source it creates.
 */
#include <stdlib.h>
#include <time.h>

#include "agent.h"

/* More certificates than this in one request are refused. */
#define AGENT_MAX_ASSOCIATED_CERTS 64

/* associated-certs-v00@openssh.com: a list of certificate blobs, each an SSH string. */
static int attach_certs(const struct sshagent_constraints *c, struct ks_source *src,
                        struct reason *why)
{
	struct ks_certs *certs;
	const uint8_t *blob;
	struct wbuf list;
	size_t len, n = 0;
	int r;

	if (src->module == NULL)
		return reason_set(why, ERR_UNSUPPORTED, "associated certificates apply to keys "
		                  "added with ssh-add -s");
	wbuf_view(&list, c->certs.data, c->certs.len);
	for (; wbuf_avail(&list) > 0; n++)
		if (n >= AGENT_MAX_ASSOCIATED_CERTS || wbuf_get_string(&list, &blob, &len) != ERR_OK)
			return reason_set(why, n >= AGENT_MAX_ASSOCIATED_CERTS ? ERR_LIMIT : ERR_FORMAT,
			                  "the associated certificates are malformed or more than %d",
			                  AGENT_MAX_ASSOCIATED_CERTS);
	if ((certs = ks_certs_new(n, c->certs_only)) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	wbuf_view(&list, c->certs.data, c->certs.len);
	for (size_t i = 0; i < n; i++) {
		if (wbuf_get_string(&list, &blob, &len) != ERR_OK ||
		    (r = ks_certs_add(certs, blob, len, why)) != ERR_OK) {
			ks_certs_unref(certs);
			return reason_wrap(why, "associated certificate %zu", i + 1);
		}
	}
	if (ks_source_attach_certs(src, certs) != ERR_OK)
		return reason_set(why, ERR_ALLOC, "out of memory");
	return ERR_OK;
}

int agent_apply_constraints(struct agent *a, const struct sshagent_constraints *c,
                            struct ks_source *src, struct reason *why)
{
	char *name;
	int r;

	/* Extensions: OpenSSH's destination restrictions and certificates, nothing else. */
	if (c->n_other > 0) {
		name = agent_bytes_strdup(c->other[0]);
		reason_set(why, ERR_UNSUPPORTED, "key constraint \"%s\" is not supported",
		           name ? name : "?");
		free(name);
		return why->code;
	}
	if (c->has_associated_certs && (r = attach_certs(c, src, why)) != ERR_OK)
		return r;
	if (c->restrict_destination.data != NULL &&
	    (r = dest_constraints_parse(c->restrict_destination.data, c->restrict_destination.len,
	                                &src->dest, why)) != ERR_OK)
		return r;
	src->confirm = c->confirm;
	if (c->lifetime > 0 || a->default_lifetime > 0)
		src->expires = time(NULL) + (c->lifetime > 0 ? c->lifetime : a->default_lifetime);
	return ERR_OK;
}
