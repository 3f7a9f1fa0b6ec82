/*
 * SIGN_REQUEST: find the identity, ask the policy decision point (agent-policy.c), sign on
 * the token, encode the SSH signature.
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "deadline.h"
#include "notice.h"
#include "softkey.h"

/* Software RSA keys may be up to 16384 bits; token signatures fit P11_MAX_SIG. */
#define RAW_SIG_MAX 2048

static const struct key_material *public_of(const struct ks_identity *id)
{
	return id->soft != NULL ? softkey_public(id->soft) : p11_key_public(id->key);
}

static int encode_response(const struct ks_identity *id, const char *alg_name,
                           const uint8_t *raw, size_t raw_len, struct sshagent_reply *reply)
{
	struct wbuf sig;
	int r;

	wbuf_init(&sig, 4096);
	if ((r = sshkey_signature(public_of(id), alg_name, raw, raw_len, &sig)) == ERR_OK)
		r = sshagent_reply_signature(reply, wbuf_ptr(&sig), wbuf_avail(&sig));
	wbuf_free(&sig);
	return r;
}

/*
 * The notice shown if the token makes us wait: for a touch, or for the PIN on its pad.
 * None when a PIN prompt comes first: the prompt is what the user sees then.
 */
static struct notice *arm_notice(const struct ks_identity *id, const char *purpose)
{
	const struct p11_token *t = p11_key_token(id->key);
	const struct p11_token_desc *d = p11_token_describe(t);
	int login = p11_token_needs_login(t), pad = (d->flags & P11_PIN_PAD) && login;
	char body[512];

	if (login && !pad)
		return NULL;
	snprintf(body, sizeof(body), "Token %s #%s is waiting to %s.", d->label, d->serial,
	         purpose);
	return notice_arm(pad ? "p11guard: enter the PIN on the reader's PIN pad" :
	                  "p11guard: touch or confirm on your token", body, pad);
}

/*
 * After a declined PIN prompt or a wrong PIN, the same connection's further signatures on
 * that token fail at once with that reason for a while: ssh offers key after key, and each
 * would otherwise prompt again (and could spend PIN tries).
 */
#define PIN_FAILURE_HOLD_MS 10000

static void token_id(const struct p11_token *t, char *out, size_t size)
{
	const struct p11_token_desc *d = p11_token_describe(t);

	snprintf(out, size, "%s|%s|%s", d->module_path ? d->module_path : "", d->label, d->serial);
}

static int earlier_pin_failure(const struct agent_client *c, const struct ks_identity *id,
                               struct reason *why)
{
	const struct p11_token *t = p11_key_token(id->key);
	char name[sizeof(c->pin_failure.token)];

	if (c->pin_failure.token[0] == '\0' || deadline_passed(&c->pin_failure.until) ||
	    !p11_token_needs_login(t))
		return ERR_OK;
	token_id(t, name, sizeof(name));
	if (strcmp(name, c->pin_failure.token) != 0)
		return ERR_OK;
	*why = c->pin_failure.why;
	return reason_wrap(why, "not asked again so soon on this connection");
}

static void note_pin_failure(struct agent_client *c, const struct ks_identity *id, int r,
                             const struct reason *why)
{
	if (r != ERR_PIN_NEEDED && r != ERR_PIN_INCORRECT)
		return;
	token_id(p11_key_token(id->key), c->pin_failure.token, sizeof(c->pin_failure.token));
	c->pin_failure.why = *why;
	deadline_in(&c->pin_failure.until, PIN_FAILURE_HOLD_MS);
}

/* A token signature, with a notice should the token make us wait. */
static int token_sign(const struct ks_identity *id, enum sig_alg alg,
                      const struct sshagent_bytes *data, const char *purpose, uint8_t *raw,
                      size_t *raw_len, struct reason *why)
{
	struct notice *waiting = arm_notice(id, purpose);
	int r = p11_key_sign(id->key, alg, data->data, data->len, purpose, raw, raw_len, why);

	notice_end(waiting);
	return r;
}

int agent_sign_data(const struct ks_identity *id, uint32_t flags, const uint8_t *data,
                    size_t len, const char *purpose, struct wbuf *sig, const char **alg_name,
                    struct reason *why)
{
	struct sshagent_bytes bytes = { data, len };
	uint8_t raw[RAW_SIG_MAX];
	size_t raw_len = 0;
	enum sig_alg alg;
	int r;

	if ((r = sshkey_sigalg(public_of(id), agent_rsa_sig(flags), &alg, alg_name)) != ERR_OK)
		return reason_set(why, r, "no signature algorithm for key %s", id->fingerprint);
	r = id->soft != NULL ?
	    softkey_sign(id->soft, alg, data, len, raw, sizeof(raw), &raw_len, why) :
	    token_sign(id, alg, &bytes, purpose, raw, &raw_len, why);
	if (r == ERR_OK && (r = sshkey_signature(public_of(id), *alg_name, raw, raw_len, sig)) !=
	    ERR_OK)
		reason_set(why, r, "encoding the signature failed");
	return r;
}

int agent_sign(struct agent *a, struct agent_client *c, const struct sshagent_request *req,
               struct sshagent_reply *reply, struct reason *why)
{
	uint8_t raw[RAW_SIG_MAX];
	char purpose[384];
	struct ks_identity *id = NULL;
	enum sig_alg alg;
	const char *alg_name;
	size_t raw_len = 0;
	int r;

	if (agent_is_locked(a))
		return reason_set(why, ERR_AGENT_LOCKED, "unlock it first (ssh-add -X)");
	id = keystore_find(&a->keys, req->u.sign.key.data, req->u.sign.key.len);
	if (id == NULL)
		return reason_set(why, ERR_KEY_NOT_FOUND, "the agent holds no such key");
	if ((r = sshkey_sigalg(public_of(id), agent_rsa_sig(req->u.sign.flags), &alg,
	                       &alg_name)) != ERR_OK)
		reason_set(why, r, "no signature algorithm for this key");
	else if ((r = agent_authorize_sign(a, c, id, req->u.sign.data.data, req->u.sign.data.len,
	                                   purpose, sizeof(purpose), why)) == ERR_OK) {
		if (id->soft != NULL) {
			r = softkey_sign(id->soft, alg, req->u.sign.data.data, req->u.sign.data.len,
			                 raw, sizeof(raw), &raw_len, why);
		} else if ((r = earlier_pin_failure(c, id, why)) == ERR_OK) {
			r = token_sign(id, alg, &req->u.sign.data, purpose, raw, &raw_len, why);
			note_pin_failure(c, id, r, why);
		}
	}
	if (r == ERR_OK) {
		log_debug("signed with %s (%s) for pid %ld", id->fingerprint, alg_name, (long)c->pid);
		r = encode_response(id, alg_name, raw, raw_len, reply);
		if (r != ERR_OK)
			reason_set(why, r, "encoding the signature failed");
	}
	if (r != ERR_OK)
		reason_wrap(why, "key %s", id->fingerprint);
	keystore_put(&a->keys, id);
	return r;
}
