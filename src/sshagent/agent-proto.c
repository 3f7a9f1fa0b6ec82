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
	if (len == 0 || len > SSHAGENT_MAX_MESSAGE)
		return ERR_TOO_LARGE;
	if (wbuf_avail(in) - 4 < len)
		return ERR_INCOMPLETE;
	if ((r = wbuf_skip(in, 4)) != ERR_OK || (r = wbuf_get_bytes(in, len, &p)) != ERR_OK)
		return r;
	wbuf_view(msg, p, len);
	return ERR_OK;
}

static int get_bytes(struct wbuf *b, struct sshagent_bytes *out)
{
	return wbuf_get_string(b, &out->data, &out->len);
}

static int get_mpint(struct wbuf *b, struct sshagent_bytes *out)
{
	return wbuf_get_mpint_unsigned(b, &out->data, &out->len);
}

static int same_name(struct sshagent_bytes a, struct sshagent_bytes b)
{
	return a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
}

/* associated-certs-v00@openssh.com: bool certs_only, string certsblob. */
static int parse_associated_certs(struct wbuf *b, struct sshagent_constraints *c)
{
	uint8_t only;
	int r;

	if (c->has_associated_certs)
		return ERR_FORMAT;
	if ((r = wbuf_get_u8(b, &only)) != ERR_OK || (r = get_bytes(b, &c->certs)) != ERR_OK)
		return r;
	c->has_associated_certs = 1;
	c->certs_only = only != 0;
	return ERR_OK;
}

/*
 * One constraint extension. The two OpenSSH ones are parsed; another takes the rest of the
 * message (its format is unknown), so it must come last, as ssh-add sends them.
 */
static int parse_constraint_ext(struct wbuf *b, struct sshagent_constraints *c)
{
	struct sshagent_bytes name;
	int r;

	if ((r = get_bytes(b, &name)) != ERR_OK)
		return r;
	if (agent_bytes_eq(name, AGENT_EXT_RESTRICT_DESTINATION)) {
		if (c->restrict_destination.data != NULL)
			return ERR_FORMAT;
		return get_bytes(b, &c->restrict_destination);
	}
	if (agent_bytes_eq(name, AGENT_EXT_ASSOCIATED_CERTS))
		return parse_associated_certs(b, c);
	for (size_t i = 0; i < c->n_other; i++)
		if (same_name(c->other[i], name))
			return ERR_FORMAT;      /* the same extension twice */
	if (c->n_other >= SSHAGENT_MAX_CONSTRAINT_EXTENSIONS)
		return ERR_LIMIT;
	c->other[c->n_other++] = name;
	return wbuf_skip(b, wbuf_avail(b));
}

static int parse_constraints(struct wbuf *b, struct sshagent_constraints *c)
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

/* The private fields of one key algorithm, after its public part (PROTOCOL.agent 3.2). */
static int parse_private_fields(struct wbuf *b, const struct keytype *kt, int cert,
                                struct sshagent_private_key *k)
{
	int r;

	switch (kt->alg) {
	case KEY_RSA:
		if (!cert && ((r = get_mpint(b, &k->rsa_n)) != ERR_OK ||
		              (r = get_mpint(b, &k->rsa_e)) != ERR_OK))
			return r;
		if ((r = get_mpint(b, &k->rsa_d)) != ERR_OK ||
		    (r = get_mpint(b, &k->rsa_iqmp)) != ERR_OK ||
		    (r = get_mpint(b, &k->rsa_p)) != ERR_OK)
			return r;
		return get_mpint(b, &k->rsa_q);
	case KEY_ECDSA:
		if (!cert && ((r = get_bytes(b, &k->ecdsa_curve)) != ERR_OK ||
		              (r = get_bytes(b, &k->ecdsa_q)) != ERR_OK))
			return r;
		if (!cert && (!agent_bytes_eq(k->ecdsa_curve, kt->ssh_curve) ||
		              k->ecdsa_q.len != kt->point_len))
			return ERR_FORMAT;
		return get_mpint(b, &k->ecdsa_d);
	case KEY_ED25519:
		if ((r = get_bytes(b, &k->ed25519_pk)) != ERR_OK ||
		    (r = get_bytes(b, &k->ed25519_sk)) != ERR_OK)
			return r;
		return k->ed25519_pk.len == 32 && k->ed25519_sk.len == 64 ? ERR_OK : ERR_FORMAT;
	}
	return ERR_UNSUPPORTED;
}

#define CERT_SUFFIX "-cert-v01@openssh.com"

/* A key type and its private fields; certificates carry their blob first. */
static int parse_private_key(struct wbuf *b, struct sshagent_private_key *k)
{
	const uint8_t *type;
	size_t len, base_len;
	char base[64];
	const struct keytype *kt;
	int cert, r;

	if ((r = wbuf_get_string(b, &type, &len)) != ERR_OK)
		return r;
	if (len == 0 || len >= sizeof(k->type) || memchr(type, '\0', len) != NULL)
		return ERR_FORMAT;
	memcpy(k->type, type, len);
	k->type[len] = '\0';
	base_len = len;
	cert = len > strlen(CERT_SUFFIX) &&
	       strcmp(k->type + len - strlen(CERT_SUFFIX), CERT_SUFFIX) == 0;
	if (cert)
		base_len -= strlen(CERT_SUFFIX);
	memcpy(base, k->type, base_len);
	base[base_len] = '\0';
	/* OpenSSH names the RSA certificate after its key type, not a signature. */
	if ((kt = keytype_by_ssh_name(base)) == NULL)
		return ERR_UNSUPPORTED;
	if (cert && (r = get_bytes(b, &k->cert)) != ERR_OK)
		return r;
	return parse_private_fields(b, kt, cert, k);
}

static int parse_add(struct wbuf *b, struct sshagent_request *req, int constrained)
{
	int r;

	if ((r = parse_private_key(b, &req->u.add.key)) != ERR_OK ||
	    (r = get_bytes(b, &req->u.add.comment)) != ERR_OK)
		return r;
	return constrained ? parse_constraints(b, &req->u.add.constraints) : ERR_OK;
}

/* The extension's name as a C string, refused when it holds a NUL. */
static int parse_extension(struct wbuf *b, struct sshagent_request *req)
{
	char *name = req->u.extension.name;
	struct sshagent_bytes n;
	int r;

	if ((r = get_bytes(b, &n)) != ERR_OK)
		return r;
	if (n.len > SSHAGENT_MAX_EXTENSION_NAME || memchr(n.data, '\0', n.len) != NULL)
		return ERR_FORMAT;
	memcpy(name, n.data, n.len);
	name[n.len] = '\0';
	req->u.extension.data.data = wbuf_ptr(b);
	req->u.extension.data.len = wbuf_avail(b);
	return wbuf_skip(b, req->u.extension.data.len);
}

static int parse_body(struct wbuf *b, struct sshagent_request *req)
{
	int r;

	switch (req->type) {
	case SSHAGENTC_REQUEST_IDENTITIES:
	case SSHAGENTC_REMOVE_ALL_IDENTITIES:
		return ERR_OK;
	case SSHAGENTC_SIGN_REQUEST:
		if ((r = get_bytes(b, &req->u.sign.key)) != ERR_OK ||
		    (r = get_bytes(b, &req->u.sign.data)) != ERR_OK)
			return r;
		return wbuf_get_u32(b, &req->u.sign.flags);
	case SSHAGENTC_ADD_IDENTITY:
	case SSHAGENTC_ADD_ID_CONSTRAINED:
		return parse_add(b, req, req->type == SSHAGENTC_ADD_ID_CONSTRAINED);
	case SSHAGENTC_REMOVE_IDENTITY:
		return get_bytes(b, &req->u.remove.key);
	case SSHAGENTC_ADD_SMARTCARD_KEY:
	case SSHAGENTC_REMOVE_SMARTCARD_KEY:
		if ((r = get_bytes(b, &req->u.smartcard.provider)) != ERR_OK)
			return r;
		return get_bytes(b, &req->u.smartcard.pin);
	case SSHAGENTC_ADD_SMARTCARD_KEY_CONSTRAINED:
		if ((r = get_bytes(b, &req->u.smartcard.provider)) != ERR_OK ||
		    (r = get_bytes(b, &req->u.smartcard.pin)) != ERR_OK)
			return r;
		return parse_constraints(b, &req->u.smartcard.constraints);
	case SSHAGENTC_LOCK:
	case SSHAGENTC_UNLOCK:
		return get_bytes(b, &req->u.lock.passphrase);
	case SSHAGENTC_EXTENSION:
		return parse_extension(b, req);
	default:
		/* Not a request we know: the caller answers FAILURE. */
		return wbuf_skip(b, wbuf_avail(b));
	}
}

int agent_request_parse(struct wbuf *msg, struct sshagent_request *req)
{
	uint8_t type;
	int r;

	memset(req, 0, sizeof(*req));
	req->raw.data = wbuf_ptr(msg);
	req->raw.len = wbuf_avail(msg);
	if ((r = wbuf_get_u8(msg, &type)) != ERR_OK)
		return ERR_FORMAT;
	/* As ssh-agent does, protocol 1's remove-all removes every key, answered SUCCESS. */
	req->type = type == SSHAGENTC_REMOVE_ALL_RSA_IDENTITIES ? SSHAGENTC_REMOVE_ALL_IDENTITIES :
	            (enum sshagent_msg)type;
	if ((r = parse_body(msg, req)) != ERR_OK)
		return r == ERR_INCOMPLETE ? ERR_FORMAT : r;
	/* Trailing bytes mean the client and we disagree about the message: refuse. */
	return wbuf_avail(msg) == 0 ? ERR_OK : ERR_FORMAT;
}

char *agent_bytes_strdup(struct sshagent_bytes b)
{
	char *s;

	if ((b.len > 0 && memchr(b.data, '\0', b.len) != NULL) || (s = malloc(b.len + 1)) == NULL)
		return NULL;
	if (b.len > 0)
		memcpy(s, b.data, b.len);
	s[b.len] = '\0';
	return s;
}

int agent_bytes_eq(struct sshagent_bytes b, const char *s)
{
	return b.len == strlen(s) && (b.len == 0 || memcmp(b.data, s, b.len) == 0);
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

	if (body > SSHAGENT_MAX_MESSAGE)
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

	if ((r = agent_frame_begin(out, SSHAGENTC_SIGN_REQUEST, &mark)) != ERR_OK ||
	    (r = wbuf_put_string(out, key, key_len)) != ERR_OK ||
	    (r = wbuf_put_string(out, data, data_len)) != ERR_OK ||
	    (r = wbuf_put_u32(out, flags)) != ERR_OK)
		return r;
	return agent_frame_end(out, mark);
}

enum sig_alg agent_rsa_sig(uint32_t flags)
{
	/* OpenSSH's agent prefers SHA-256 when a client sets both. */
	if (flags & SSHAGENT_SIGN_RSA_SHA2_256)
		return SIG_RSA_SHA256;
	if (flags & SSHAGENT_SIGN_RSA_SHA2_512)
		return SIG_RSA_SHA512;
	return SIG_RSA_SHA1;
}
