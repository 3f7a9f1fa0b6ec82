/*
 * One request on the server side: parse it, apply the library's own rules (query,
 * session-bind, no key changes from a forwarded agent), call the implementation's
 * operation, and frame exactly one reply. A refusal records its reason on the connection.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reason-export.h"
#include "server-conn.h"

/* The public codes are the library's own error space. */
#define SAME_CODE(pub, own) ((int)(pub) == (int)(own))
_Static_assert(SAME_CODE(SSHAGENT_ERR_INTERNAL, ERR_INTERNAL) &&
               SAME_CODE(SSHAGENT_ERR_ALLOC, ERR_ALLOC) &&
               SAME_CODE(SSHAGENT_ERR_TOO_LARGE, ERR_TOO_LARGE) &&
               SAME_CODE(SSHAGENT_ERR_FORMAT, ERR_FORMAT) &&
               SAME_CODE(SSHAGENT_ERR_UNSUPPORTED, ERR_UNSUPPORTED) &&
               SAME_CODE(SSHAGENT_ERR_KEY_NOT_FOUND, ERR_KEY_NOT_FOUND) &&
               SAME_CODE(SSHAGENT_ERR_LOCKED, ERR_AGENT_LOCKED) &&
               SAME_CODE(SSHAGENT_ERR_DENIED, ERR_DENIED) &&
               SAME_CODE(SSHAGENT_ERR_SYSTEM, ERR_SYSTEM) &&
               SAME_CODE(SSHAGENT_ERR_LIMIT, ERR_LIMIT), "sshagent.h codes differ from err.h");
_Static_assert(sizeof(((struct reason *)0)->text) == SSHAGENT_REASON_MAX,
               "reason sizes differ");

static void reason_from_public(const struct sshagent_reason *in, int code, struct reason *out)
{
	out->code = code;
	memcpy(out->text, in->text, sizeof(out->text));
	out->text[sizeof(out->text) - 1] = '\0';
}

void reason_export(const struct reason *in, struct sshagent_reason *out)
{
	out->code = in->code;
	memcpy(out->text, in->text, sizeof(out->text));
}

void serve_refused(const struct serve_config *cfg, struct sshagent_conn *c, const char *what,
                   const struct reason *why)
{
	struct sshagent_reason pub;

	/* A long reason is cut at the end: the cause is last and least needed. */
	if (snprintf(c->last_refusal, sizeof(c->last_refusal), "%s: %s: %s", what,
	             err_name(why->code), why->text[0] ? why->text : err_text(why->code)) < 0)
		c->last_refusal[0] = '\0';
	if (cfg->ops->refused != NULL) {
		reason_export(why, &pub);
		cfg->ops->refused(cfg->ctx, c, what, &pub);
	}
}

static int refuse(const struct serve_config *cfg, struct sshagent_conn *c, uint8_t type,
                  const struct reason *why, const char *what)
{
	wbuf_reset(&c->out);    /* whatever an operation began is dropped */
	serve_refused(cfg, c, what, why);
	return agent_frame_simple(&c->out, type);
}

static const char *what_of(const struct sshagent_request *req)
{
	switch (req->type) {
	case SSHAGENTC_REQUEST_IDENTITIES: return "list";
	case SSHAGENTC_SIGN_REQUEST: return "sign";
	case SSHAGENTC_ADD_IDENTITY:
	case SSHAGENTC_ADD_ID_CONSTRAINED: return "add identity";
	case SSHAGENTC_REMOVE_IDENTITY: return "remove identity";
	case SSHAGENTC_REMOVE_ALL_IDENTITIES: return "remove all identities";
	case SSHAGENTC_ADD_SMARTCARD_KEY:
	case SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED: return "add provider";
	case SSHAGENTC_REMOVE_SMARTCARD_KEY: return "remove provider";
	case SSHAGENTC_LOCK: return "lock";
	case SSHAGENTC_UNLOCK: return "unlock";
	case SSHAGENTC_EXTENSION: return req->u.extension.name;
	default: return "request";
	}
}

static int changes_keys(enum sshagent_msg type)
{
	return type == SSHAGENTC_ADD_IDENTITY || type == SSHAGENTC_ADD_ID_CONSTRAINED ||
	       type == SSHAGENTC_REMOVE_IDENTITY || type == SSHAGENTC_REMOVE_ALL_IDENTITIES ||
	       type == SSHAGENTC_ADD_SMARTCARD_KEY ||
	       type == SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED ||
	       type == SSHAGENTC_REMOVE_SMARTCARD_KEY;
}

/* Opens the reply frame; IDENTITIES_ANSWER gets its count, filled in at the end. */
static int reply_begin(struct sshagent_reply *r)
{
	int rc;

	if (r->begun)
		return ERR_OK;
	if ((rc = agent_frame_begin(r->out, r->type, &r->mark)) != ERR_OK)
		return rc;
	r->begun = 1;
	r->count_at = r->out->len;
	if (r->type == SSHAGENT_IDENTITIES_ANSWER)
		return wbuf_put_u32(r->out, 0);
	if (r->type == SSHAGENT_EXTENSION_RESPONSE)
		return wbuf_put_cstring(r->out, r->extension);
	return ERR_OK;
}

static int reply_end(struct sshagent_reply *r)
{
	int rc;

	if (!r->begun)
		return agent_frame_simple(r->out, SSHAGENT_SUCCESS);
	if (r->type == SSHAGENT_IDENTITIES_ANSWER &&
	    (rc = wbuf_poke_u32(r->out, r->count_at, r->count)) != ERR_OK)
		return rc;
	return agent_frame_end(r->out, r->mark);
}

int sshagent_reply_identity(struct sshagent_reply *r, const uint8_t *blob, size_t len,
                            const char *comment)
{
	int rc;

	if (r->type != SSHAGENT_IDENTITIES_ANSWER)
		return ERR_INTERNAL;
	if ((rc = reply_begin(r)) != ERR_OK || (rc = wbuf_put_string(r->out, blob, len)) != ERR_OK ||
	    (rc = wbuf_put_cstring(r->out, comment ? comment : "")) != ERR_OK)
		return rc;
	r->count++;
	return ERR_OK;
}

int sshagent_reply_signature(struct sshagent_reply *r, const uint8_t *sig, size_t len)
{
	int rc;

	if (r->type != SSHAGENT_SIGN_RESPONSE || r->begun)
		return ERR_INTERNAL;
	if ((rc = reply_begin(r)) != ERR_OK)
		return rc;
	return wbuf_put_string(r->out, sig, len);
}

int sshagent_reply_extension(struct sshagent_reply *r, const uint8_t *data, size_t len)
{
	int rc;

	if (r->type != SSHAGENT_EXTENSION_RESPONSE || r->begun)
		return ERR_INTERNAL;
	if ((rc = reply_begin(r)) != ERR_OK)
		return rc;
	return len > 0 ? wbuf_put_bytes(r->out, data, len) : ERR_OK;
}

int sshagent_refuse(struct sshagent_reason *why, int code, const char *fmt, ...)
{
	va_list ap;

	why->code = code;
	va_start(ap, fmt);
	vsnprintf(why->text, sizeof(why->text), fmt, ap);
	va_end(ap);
	return code;
}

const char *sshagent_strerror(int code)
{
	return err_text(code);
}

/* query (RFC 9987 section 4.7.1): the library's extensions and the implementation's. */
static int answer_query(const struct serve_config *cfg, struct sshagent_reply *r)
{
	const char *const *names = cfg->ops->extensions;
	int rc;

	if ((rc = reply_begin(r)) != ERR_OK ||
	    (rc = wbuf_put_cstring(r->out, "query")) != ERR_OK ||
	    (rc = wbuf_put_cstring(r->out, AGENT_EXT_SESSION_BIND)) != ERR_OK)
		return rc;
	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		if ((rc = wbuf_put_cstring(r->out, names[i])) != ERR_OK)
			return rc;
	return ERR_OK;
}

/* session-bind@openssh.com: verified here, then offered to the implementation's veto. */
static int session_bind(const struct serve_config *cfg, struct sshagent_conn *c,
                        const struct sshagent_request *req, struct reason *why)
{
	struct sshagent_binding b;
	struct sshagent_reason pub;
	const uint8_t *skip;
	size_t skip_len;
	struct wbuf body;
	int r;

	wbuf_view(&body, req->u.extension.data.data, req->u.extension.data.len);
	if ((r = session_bind_apply(&c->bindings, &body, why)) != ERR_OK ||
	    cfg->ops->session_bind == NULL)
		return r;
	memset(&pub, 0, sizeof(pub));
	/* The signature is not kept with the binding: read it again from the request. */
	wbuf_view(&body, req->u.extension.data.data, req->u.extension.data.len);
	if (sshagent_conn_binding(c, c->bindings.n - 1, &b) == ERR_OK &&
	    wbuf_get_string(&body, &skip, &skip_len) == ERR_OK &&
	    wbuf_get_string(&body, &skip, &skip_len) == ERR_OK &&
	    wbuf_get_string(&body, &b.signature.data, &b.signature.len) == ERR_OK &&
	    (r = cfg->ops->session_bind(cfg->ctx, c, &b, &pub)) == ERR_OK)
		return ERR_OK;
	/* Vetoed: the connection stays as it was before this binding. */
	bindings_drop_last(&c->bindings);
	reason_from_public(&pub, r != ERR_OK ? r : ERR_DENIED, why);
	return why->code;
}

static int extension(const struct serve_config *cfg, struct sshagent_conn *c,
                     const struct sshagent_request *req, struct sshagent_reply *reply,
                     struct sshagent_reason *pub, struct reason *why)
{
	const char *name = req->u.extension.name;
	int r;

	if (strcmp(name, "query") == 0 && req->u.extension.data.len == 0)
		return answer_query(cfg, reply);
	if (strcmp(name, AGENT_EXT_SESSION_BIND) == 0)
		return session_bind(cfg, c, req, why);
	if (cfg->ops->extension == NULL)
		return reason_set(why, ERR_UNSUPPORTED, "unknown extension \"%s\"", name);
	if ((r = cfg->ops->extension(cfg->ctx, c, req, reply, pub)) == ERR_OK)
		return ERR_OK;
	if (pub->text[0] == '\0')
		return reason_set(why, r, "extension \"%s\" failed", name);
	reason_from_public(pub, r, why);
	return r;
}

/* Calls the operation for `req`; the reply is begun by the operation or after it. */
static int call_operation(const struct serve_config *cfg, struct sshagent_conn *c,
                          const struct sshagent_request *req, struct sshagent_reply *reply,
                          struct reason *why)
{
	const struct sshagent_ops *ops = cfg->ops;
	struct sshagent_reason pub;
	int r = ERR_UNSUPPORTED;

	memset(&pub, 0, sizeof(pub));
	switch (req->type) {
	case SSHAGENTC_REQUEST_IDENTITIES:
		reply->type = SSHAGENT_IDENTITIES_ANSWER;
		if (ops->list != NULL && (r = reply_begin(reply)) == ERR_OK)
			r = ops->list(cfg->ctx, c, reply, &pub);
		break;
	case SSHAGENTC_SIGN_REQUEST:
		reply->type = SSHAGENT_SIGN_RESPONSE;
		if (ops->sign != NULL &&
		    (ops->confirm == NULL || (r = ops->confirm(cfg->ctx, c, req, &pub)) == ERR_OK) &&
		    (r = ops->sign(cfg->ctx, c, req, reply, &pub)) == ERR_OK && !reply->begun)
			r = sshagent_refuse(&pub, ERR_INTERNAL, "the agent made no signature");
		break;
	case SSHAGENTC_LOCK:
	case SSHAGENTC_UNLOCK:
		if (ops->lock != NULL)
			r = ops->lock(cfg->ctx, c, req, &pub);
		break;
	case SSHAGENTC_EXTENSION:
		reply->type = SSHAGENT_EXTENSION_RESPONSE;
		reply->extension = req->u.extension.name;
		return extension(cfg, c, req, reply, &pub, why);
	default:
		if (!changes_keys(req->type))
			return reason_set(why, ERR_UNSUPPORTED, "unknown message type %u", req->type);
		if (c->bindings.n > 0 && !cfg->forwarded_may_change_keys)
			return reason_set(why, ERR_DENIED, "adding or removing keys is refused on a "
			                  "connection bound to an SSH session (a forwarded agent)");
		if (ops->change_keys != NULL)
			r = ops->change_keys(cfg->ctx, c, req, &pub);
		break;
	}
	if (r == ERR_UNSUPPORTED && pub.text[0] == '\0')
		return reason_set(why, r, "%s is not supported by this agent", what_of(req));
	if (r != ERR_OK)
		reason_from_public(&pub, r, why);
	return r;
}

int serve_request(const struct serve_config *cfg, struct sshagent_conn *c)
{
	struct sshagent_reply reply = { .out = &c->out };
	struct sshagent_request req;
	struct reason why;
	uint8_t failure;
	int r;

	reason_clear(&why);
	if ((r = agent_request_parse(&c->msg, &req)) != ERR_OK) {
		if (r == ERR_UNSUPPORTED && req.u.add.key.type[0] != '\0' &&
		    (req.type == SSHAGENTC_ADD_IDENTITY || req.type == SSHAGENTC_ADD_ID_CONSTRAINED))
			reason_set(&why, r, "key type %s is not supported (security keys and "
			           "post-quantum keys are not)", req.u.add.key.type);
		else
			reason_set(&why, r, "message type %u: %s", req.type, err_text(r));
		r = refuse(cfg, c, req.type == SSHAGENTC_EXTENSION ? SSHAGENT_EXTENSION_FAILURE :
		           SSHAGENT_FAILURE, &why, "request");
	} else if ((r = call_operation(cfg, c, &req, &reply, &why)) != ERR_OK) {
		failure = req.type == SSHAGENTC_EXTENSION && why.code == ERR_UNSUPPORTED ?
		          SSHAGENT_EXTENSION_FAILURE : SSHAGENT_FAILURE;
		r = refuse(cfg, c, failure, &why, what_of(&req));
	} else {
		r = reply_end(&reply);
	}
	/* The request may carry a private key or a PIN: its views go, c->in is wiped later. */
	explicit_bzero(&req, sizeof(req));
	return r;
}
