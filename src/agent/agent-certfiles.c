/* A configured token's `certificates:` files, read (when it is served, and on reload). */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "sshpub.h"

/* One certificate file's first line, checked and added; a bad file is logged and skipped. */
static void add_file(struct ks_certs *certs, const char *token, const char *path)
{
	struct reason why;
	uint8_t *blob = NULL;
	size_t len;

	reason_clear(&why);
	if (sshpub_file_blob(path, &blob, &len) != ERR_OK)
		log_warn("token \"%s\": certificate %s cannot be read, or is not a key file",
		         token, path);
	else if (ks_certs_add(certs, blob, len, &why) != ERR_OK)
		log_warn("token \"%s\": certificate %s: %s", token, path, why.text);
	free(blob);
}

struct ks_certs *agent_read_certificates(const struct config_token *ct)
{
	struct ks_certs *certs;

	if (ct->ncertificates == 0 || (certs = ks_certs_new(ct->ncertificates, 0)) == NULL)
		return NULL;
	for (size_t i = 0; i < ct->ncertificates; i++)
		add_file(certs, ct->name, ct->certificates[i]);
	return certs;
}
