/* Parsing agent requests and encoding replies over the bounded buffer API. */
#include <stdlib.h>
#include <string.h>

#include "agent-proto.h"
#include "err.h"

int agent_frame_take(struct wbuf *in, struct wbuf *msg)
{
	const uint8_t *p;
	uint32_t len;
	int r;

	if ((r = wbuf_peek_u32(in, &len)) != ERR_OK)
		return r;
	if (len == 0 || len > AGENT_MAX_MESSAGE)
		return ERR_TOO_LARGE;
	if (wbuf_avail(in) - 4 < len)
		return ERR_INCOMPLETE;
	if ((r = wbuf_skip(in, 4)) != ERR_OK || (r = wbuf_get_bytes(in, len, &p)) != ERR_OK)
		return r;
	wbuf_view(msg, p, len);
	return ERR_OK;
}

static int get_bytes(struct wbuf *b, struct agent_bytes *out)
{
	return wbuf_get_string(b, &out->p, &out->len);
}

/* Constraint extensions whose payload is one string; any other takes the rest. */
static int ext_is_single_string(struct agent_bytes name)
{
	return agent_bytes_eq(name, "restrict-destination-v00@openssh.com") ||
	       agent_bytes_eq(name, "sk-provider@openssh.com");
}

static int parse_constraint_ext(struct wbuf *b, struct agent_constraints *c)
{
	struct agent_constraint_ext *e;
	int r;

	if (c->n_ext >= AGENT_MAX_CONSTRAINT_EXTENSIONS)
		return ERR_LIMIT;
	e = &c->ext[c->n_ext];
	if ((r = get_bytes(b, &e->name)) != ERR_OK)
		return r;
	for (size_t i = 0; i < c->n_ext; i++)
		if (c->ext[i].name.len == e->name.len &&
		    memcmp(c->ext[i].name.p, e->name.p, e->name.len) == 0)
			return ERR_FORMAT;      /* the same extension twice */
	if (ext_is_single_string(e->name)) {
		if ((r = get_bytes(b, &e->data)) != ERR_OK)
			return r;
	} else {
		e->data.p = wbuf_ptr(b);
		e->data.len = wbuf_avail(b);
		if ((r = wbuf_skip(b, e->data.len)) != ERR_OK)
			return r;
	}
	c->n_ext++;
	return ERR_OK;
}

static int parse_constraints(struct wbuf *b, struct agent_constraints *c)
{
	int seen_lifetime = 0, r;
	uint8_t type;

	while (wbuf_avail(b) > 0) {
		if ((r = wbuf_get_u8(b, &type)) != ERR_OK)
			return r;
		switch (type) {
		case AGENT_CONSTRAIN_LIFETIME:
			if (seen_lifetime++ || (r = wbuf_get_u32(b, &c->lifetime)) != ERR_OK)
				return seen_lifetime > 1 ? ERR_FORMAT : r;
			break;
		case AGENT_CONSTRAIN_CONFIRM:
			if (c->confirm)
				return ERR_FORMAT;
			c->confirm = 1;
			break;
		case AGENT_CONSTRAIN_EXTENSION:
			if ((r = parse_constraint_ext(b, c)) != ERR_OK)
				return r;
			break;
		default:
			return ERR_UNSUPPORTED;
		}
	}
	return ERR_OK;
}

static int parse_body(struct wbuf *b, struct agent_request *req)
{
	int r;

	switch (req->type) {
	case AGENTC_REQUEST_IDENTITIES:
	case AGENTC_REMOVE_ALL_IDENTITIES:
		return ERR_OK;
	case AGENTC_SIGN_REQUEST:
		if ((r = get_bytes(b, &req->u.sign.key)) != ERR_OK ||
		    (r = get_bytes(b, &req->u.sign.data)) != ERR_OK)
			return r;
		return wbuf_get_u32(b, &req->u.sign.flags);
	case AGENTC_REMOVE_IDENTITY:
		return get_bytes(b, &req->u.remove.key);
	case AGENTC_ADD_SMARTCARD_KEY:
	case AGENTC_REMOVE_SMARTCARD_KEY:
		if ((r = get_bytes(b, &req->u.smartcard.provider)) != ERR_OK)
			return r;
		return get_bytes(b, &req->u.smartcard.pin);
	case AGENTC_ADD_SMARTCARD_KEY_CONSTRAINED:
		if ((r = get_bytes(b, &req->u.smartcard.provider)) != ERR_OK ||
		    (r = get_bytes(b, &req->u.smartcard.pin)) != ERR_OK)
			return r;
		return parse_constraints(b, &req->u.smartcard.constraints);
	case AGENTC_LOCK:
	case AGENTC_UNLOCK:
		return get_bytes(b, &req->u.lock.passphrase);
	case AGENTC_EXTENSION:
		if ((r = get_bytes(b, &req->u.extension.name)) != ERR_OK)
			return r;
		req->u.extension.data.p = wbuf_ptr(b);
		req->u.extension.data.len = wbuf_avail(b);
		return wbuf_skip(b, req->u.extension.data.len);
	default:
		/* Not ours to read (e.g. software keys): the caller answers FAILURE. */
		return wbuf_skip(b, wbuf_avail(b));
	}
}

int agent_request_parse(struct wbuf *msg, struct agent_request *req)
{
	int r;

	memset(req, 0, sizeof(*req));
	if ((r = wbuf_get_u8(msg, &req->type)) != ERR_OK)
		return ERR_FORMAT;
	if ((r = parse_body(msg, req)) != ERR_OK)
		return r == ERR_INCOMPLETE ? ERR_FORMAT : r;
	/* Trailing bytes mean the client and we disagree about the message: refuse. */
	return wbuf_avail(msg) == 0 ? ERR_OK : ERR_FORMAT;
}

char *agent_bytes_strdup(struct agent_bytes b)
{
	char *s;

	if (memchr(b.p, '\0', b.len) != NULL || (s = malloc(b.len + 1)) == NULL)
		return NULL;
	memcpy(s, b.p, b.len);
	s[b.len] = '\0';
	return s;
}

int agent_bytes_eq(struct agent_bytes b, const char *s)
{
	return b.len == strlen(s) && memcmp(b.p, s, b.len) == 0;
}

int agent_frame_begin(struct wbuf *out, uint8_t type, size_t *mark)
{
	int r;

	*mark = out->len;
	if ((r = wbuf_put_u32(out, 0)) != ERR_OK)
		return r;
	return wbuf_put_u8(out, type);
}

int agent_frame_end(struct wbuf *out, size_t mark)
{
	size_t body = out->len - mark - 4;

	if (body > AGENT_MAX_MESSAGE)
		return ERR_TOO_LARGE;
	return wbuf_poke_u32(out, mark, (uint32_t)body);
}

int agent_frame_simple(struct wbuf *out, uint8_t type)
{
	size_t mark;
	int r;

	if ((r = agent_frame_begin(out, type, &mark)) != ERR_OK)
		return r;
	return agent_frame_end(out, mark);
}

int agent_request_sign(struct wbuf *out, const uint8_t *key, size_t key_len,
                       const uint8_t *data, size_t data_len, uint32_t flags)
{
	size_t mark;
	int r;

	if ((r = agent_frame_begin(out, AGENTC_SIGN_REQUEST, &mark)) != ERR_OK ||
	    (r = wbuf_put_string(out, key, key_len)) != ERR_OK ||
	    (r = wbuf_put_string(out, data, data_len)) != ERR_OK ||
	    (r = wbuf_put_u32(out, flags)) != ERR_OK)
		return r;
	return agent_frame_end(out, mark);
}

enum sig_alg agent_rsa_sig(uint32_t flags)
{
	/* OpenSSH's agent prefers SHA-256 when a client sets both. */
	if (flags & AGENT_SIGN_RSA_SHA2_256)
		return SIG_RSA_SHA256;
	if (flags & AGENT_SIGN_RSA_SHA2_512)
		return SIG_RSA_SHA512;
	return SIG_RSA_SHA1;
}
