/* What an implementation may ask of a connection: its peer, its state, its bindings. */
#include <string.h>

#include "conn-bindings.h"
#include "server-conn.h"
#include "sshkey.h"

uid_t sshagent_conn_uid(const struct sshagent_conn *c)
{
	return c->uid;
}

pid_t sshagent_conn_pid(const struct sshagent_conn *c)
{
	return c->pid;
}

void *sshagent_conn_data(const struct sshagent_conn *c)
{
	return c->data;
}

size_t sshagent_conn_bindings(const struct sshagent_conn *c)
{
	return c->bindings.n;
}

int sshagent_conn_binding(const struct sshagent_conn *c, size_t i,
                          struct sshagent_binding *out)
{
	const struct binding *b;

	if (i >= c->bindings.n)
		return ERR_INTERNAL;
	b = &c->bindings.hop[i];
	/* The host key as ssh sent it: a host certificate stays one. */
	out->hostkey.data = b->cert != NULL ? b->cert->blob : b->hostkey.blob;
	out->hostkey.len = b->cert != NULL ? b->cert->blob_len : b->hostkey.blob_len;
	out->fingerprint = b->hostkey.fingerprint;
	out->session_id.data = b->sid;
	out->session_id.len = b->sid_len;
	out->signature.data = NULL;
	out->signature.len = 0;
	out->forwarding = b->forwarded;
	return ERR_OK;
}

const char *sshagent_conn_last_refusal(const struct sshagent_conn *c)
{
	return c->last_refusal;
}

int sshagent_conn_detach(struct sshagent_conn *c, sshagent_detach_fn run, void *arg)
{
	if (run == NULL || c->detach != NULL)
		return ERR_INTERNAL;
	c->detach = run;
	c->detach_arg = arg;
	return ERR_OK;
}

const struct bindings *conn_bindings(const struct sshagent_conn *c)
{
	return &c->bindings;
}

_Static_assert(SSHAGENT_FINGERPRINT_LEN == SSHKEY_FP_LEN, "fingerprint sizes differ");

void sshagent_fingerprint(const uint8_t *blob, size_t len, char out[SSHAGENT_FINGERPRINT_LEN])
{
	sshkey_fingerprint(blob, len, out);
}
