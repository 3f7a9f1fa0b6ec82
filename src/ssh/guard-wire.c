/* The guarded-exec request and its frames, read strictly and written. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "guard-wire.h"

#define MAX_HOST 253
#define MAX_USER 64
#define MAX_TERM 64
#define MAX_ENV_NAME 64
#define MAX_ENV_VALUE 1024
#define MAX_NAMELIST 1024
#define PTY_FLAG 1u

static int bad(struct reason *why, const char *what)
{
	return reason_set(why, ERR_FORMAT, GUARD_EXTENSION ": %s", what);
}

/* A string of at most `max` bytes, each one of `allowed` (NULL: any but NUL, CR, LF). */
static int get_text(struct wbuf *b, size_t min, size_t max, const char *allowed, char **out)
{
	const uint8_t *p;
	size_t n;

	if (wbuf_get_string(b, &p, &n) != ERR_OK || n < min || n > max)
		return ERR_FORMAT;
	for (size_t i = 0; i < n; i++)
		if (allowed != NULL ? strchr(allowed, p[i]) == NULL || p[i] == '\0' :
		    p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
			return ERR_FORMAT;
	if ((*out = malloc(n + 1)) == NULL)
		return ERR_ALLOC;
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	return ERR_OK;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* RFC 4254 section 8: opcode, then a uint32 for opcodes 1 to 159; 0 ends; 160+ undefined. */
static int modes_ok(const uint8_t *p, size_t n)
{
	struct wbuf b;
	uint8_t op;
	uint32_t arg;

	wbuf_view(&b, p, n);
	while (wbuf_get_u8(&b, &op) == ERR_OK) {
		if (op == 0)
			return wbuf_avail(&b) == 0;
		if (op >= 160 || wbuf_get_u32(&b, &arg) != ERR_OK)
			return 0;
	}
	return 0;       /* no TTY_OP_END */
}

static int get_pty(struct wbuf *b, struct ssh_pty *t)
{
	const uint8_t *modes;
	char *term = NULL;
	uint8_t *copy;
	size_t n;

	if (get_text(b, 1, MAX_TERM, ALNUM "._+-", &term) != ERR_OK)
		return ERR_FORMAT;
	t->term = term;
	if (wbuf_get_u32(b, &t->cols) != ERR_OK || wbuf_get_u32(b, &t->rows) != ERR_OK ||
	    wbuf_get_u32(b, &t->width_px) != ERR_OK || wbuf_get_u32(b, &t->height_px) != ERR_OK ||
	    t->cols > 10000 || t->rows > 10000 ||
	    wbuf_get_string(b, &modes, &n) != ERR_OK || n > GUARD_MAX_MODES || !modes_ok(modes, n))
		return ERR_FORMAT;
	if ((copy = malloc(n)) == NULL)
		return ERR_ALLOC;
	memcpy(copy, modes, n);
	t->modes = copy;
	t->modes_len = n;
	return ERR_OK;
}

int guard_env_ok(const char *name, const char *value)
{
	size_t len = strlen(name);

	return len >= 1 && len <= MAX_ENV_NAME && !isdigit((unsigned char)name[0]) &&
	       strspn(name, ALNUM "_") == len && strlen(value) <= MAX_ENV_VALUE &&
	       strpbrk(value, "\r\n") == NULL;
}

static int get_env(struct wbuf *b, struct guard_request_wire *r, struct reason *why)
{
	uint32_t n;

	if (wbuf_get_u32(b, &n) != ERR_OK || n > SSH_MAX_ENV)
		return bad(why, "too many environment variables (at most 32)");
	for (uint32_t i = 0; i < n; i++) {
		char *name = NULL, *value = NULL;

		if (get_text(b, 1, MAX_ENV_NAME, NULL, &name) != ERR_OK ||
		    get_text(b, 0, MAX_ENV_VALUE, NULL, &value) != ERR_OK ||
		    !guard_env_ok(name, value)) {
			free(name);
			free(value);
			return bad(why, "an environment variable's name or value is malformed");
		}
		r->env[r->nenv++] = (struct ssh_env){ name, value };
	}
	return ERR_OK;
}

int guard_request_decode(const uint8_t *p, size_t len, struct guard_request_wire *r,
                         struct reason *why)
{
	struct wbuf b;
	uint32_t flags;
	uint8_t kind, mode;

	memset(r, 0, sizeof(*r));
	wbuf_view(&b, p, len);
	if (wbuf_get_u32(&b, &r->version) != ERR_OK)
		return bad(why, "no version");
	if (r->version != GUARD_VERSION)
		return reason_set(why, ERR_UNSUPPORTED, GUARD_EXTENSION " version %u, and this agent "
		                  "speaks version %u: install the same p11guard release on both sides "
		                  "(%s is the older)", r->version, GUARD_VERSION,
		                  r->version > GUARD_VERSION ? "the agent" : "p11guard-ssh");
	if (get_text(&b, 1, MAX_HOST, ALNUM ".-:[]", &r->host) != ERR_OK || r->host[0] == '-')
		return bad(why, "the host is not a host name or address");
	if (wbuf_get_u32(&b, &r->port) != ERR_OK || r->port == 0 || r->port > 65535)
		return bad(why, "the port is not 1 to 65535");
	if (get_text(&b, 1, MAX_USER, ALNUM "._-", &r->user) != ERR_OK || r->user[0] == '-')
		return bad(why, "the user is not a user name");
	if (wbuf_get_u8(&b, &kind) != ERR_OK || kind < 1 || kind > 3)
		return bad(why, "the kind is not exec, subsystem or shell");
	r->kind = kind == 1 ? SSH_SESSION_EXEC : kind == 2 ? SSH_SESSION_SUBSYSTEM : SSH_SESSION_SHELL;
	if (get_text(&b, r->kind == SSH_SESSION_SHELL ? 0 : 1, r->kind == SSH_SESSION_SHELL ? 0 :
	             GUARD_MAX_COMMAND, NULL, &r->command) != ERR_OK)
		return bad(why, "the command is empty, too long, or holds NUL, CR or LF");
	if (wbuf_get_u32(&b, &flags) != ERR_OK || (flags & ~PTY_FLAG) != 0)
		return bad(why, "unknown flags");
	r->pty = (flags & PTY_FLAG) != 0;
	if (r->pty && get_pty(&b, &r->term) != ERR_OK)
		return bad(why, "the terminal request is malformed");
	if (get_env(&b, r, why) != ERR_OK)
		return why->code;
	if (get_text(&b, 0, MAX_NAMELIST, ALNUM "@.,-", &r->kex) != ERR_OK ||
	    get_text(&b, 0, MAX_NAMELIST, ALNUM "@.,-", &r->ciphers) != ERR_OK)
		return bad(why, "a name-list is malformed");
	if (wbuf_get_u8(&b, &mode) != ERR_OK || mode > 1 || wbuf_avail(&b) != 0)
		return bad(why, "the mode is malformed, or bytes follow it");
	r->relay_only = mode;
	return ERR_OK;
}

void guard_request_free(struct guard_request_wire *r)
{
	free(r->host);
	free(r->user);
	free(r->command);
	free((char *)r->term.term);
	free((uint8_t *)r->term.modes);
	for (size_t i = 0; i < r->nenv; i++) {
		free((char *)r->env[i].name);
		free((char *)r->env[i].value);
	}
	free(r->kex);
	free(r->ciphers);
	memset(r, 0, sizeof(*r));
}

int guard_request_encode(const struct guard_request_wire *r, struct wbuf *out)
{
	int rc;

	if ((rc = wbuf_put_u32(out, r->version)) || (rc = wbuf_put_cstring(out, r->host)) ||
	    (rc = wbuf_put_u32(out, r->port)) || (rc = wbuf_put_cstring(out, r->user)) ||
	    (rc = wbuf_put_u8(out, r->kind == SSH_SESSION_EXEC ? 1 :
	                      r->kind == SSH_SESSION_SUBSYSTEM ? 2 : 3)) ||
	    (rc = wbuf_put_cstring(out, r->command ? r->command : "")) ||
	    (rc = wbuf_put_u32(out, r->pty ? PTY_FLAG : 0)))
		return rc;
	if (r->pty &&
	    ((rc = wbuf_put_cstring(out, r->term.term)) || (rc = wbuf_put_u32(out, r->term.cols)) ||
	     (rc = wbuf_put_u32(out, r->term.rows)) || (rc = wbuf_put_u32(out, r->term.width_px)) ||
	     (rc = wbuf_put_u32(out, r->term.height_px)) ||
	     (rc = wbuf_put_string(out, r->term.modes, r->term.modes_len))))
		return rc;
	if ((rc = wbuf_put_u32(out, (uint32_t)r->nenv)))
		return rc;
	for (size_t i = 0; i < r->nenv; i++)
		if ((rc = wbuf_put_cstring(out, r->env[i].name)) ||
		    (rc = wbuf_put_cstring(out, r->env[i].value)))
			return rc;
	if ((rc = wbuf_put_cstring(out, r->kex ? r->kex : "")) ||
	    (rc = wbuf_put_cstring(out, r->ciphers ? r->ciphers : "")))
		return rc;
	return wbuf_put_u8(out, (uint8_t)(r->relay_only != 0));
}

int guard_frame_put(struct wbuf *out, enum guard_frame_type type, const uint8_t *payload,
                    size_t len)
{
	int r;

	if (len + 1 > GUARD_FRAME_MAX)
		return ERR_TOO_LARGE;
	if ((r = wbuf_put_u32(out, (uint32_t)len + 1)) || (r = wbuf_put_u8(out, (uint8_t)type)))
		return r;
	return wbuf_put_bytes(out, payload, len);
}

int guard_frame_get(struct wbuf *in, enum guard_frame_type *type, struct wbuf *payload)
{
	const uint8_t *p;
	uint32_t len;
	uint8_t t;

	if (wbuf_peek_u32(in, &len) != ERR_OK)
		return ERR_INCOMPLETE;
	if (len < 1 || len > GUARD_FRAME_MAX)
		return ERR_FORMAT;
	if (wbuf_avail(in) < 4 + (size_t)len)
		return ERR_INCOMPLETE;
	if (wbuf_skip(in, 4) != ERR_OK || wbuf_get_u8(in, &t) != ERR_OK ||
	    wbuf_get_bytes(in, len - 1, &p) != ERR_OK)
		return ERR_FORMAT;
	if (t < GF_CONNECTED || t > GF_LAST)
		return ERR_FORMAT;
	*type = (enum guard_frame_type)t;
	wbuf_view(payload, p, len - 1);
	return ERR_OK;
}
