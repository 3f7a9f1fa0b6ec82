/* One error space for the whole agent, and reasons that tell a user why (pivy style). */
#ifndef P11G_ERR_H
#define P11G_ERR_H

#include <stddef.h>

enum {
	ERR_OK = 0,
	ERR_INTERNAL = -1,
	ERR_ALLOC = -2,
	ERR_INCOMPLETE = -3,        /* not enough bytes yet: read more */
	ERR_TOO_LARGE = -4,         /* over a hard cap */
	ERR_FORMAT = -5,            /* malformed wire or file data */
	ERR_UNSUPPORTED = -6,       /* well formed, but not something we do */
	ERR_KEY_NOT_FOUND = -7,
	ERR_TOKEN_REMOVED = -8,
	ERR_PIN_INCORRECT = -9,
	ERR_PIN_LOCKED = -10,
	ERR_PIN_NEEDED = -11,       /* login needed and no PIN could be had */
	ERR_MECHANISM = -12,
	ERR_TOKEN = -13,            /* any other token failure */
	ERR_AGENT_LOCKED = -14,
	ERR_DENIED = -15,
	ERR_MODULE_NOT_ALLOWED = -16,
	ERR_MODULE_LOAD = -17,
	ERR_CONFIG = -18,
	ERR_SYSTEM = -19,
	ERR_PIN_FINAL_TRY = -20,    /* refusing to spend the last retry automatically */
	ERR_LIMIT = -21,            /* a count cap was reached */
	ERR_TOKEN_UNREACHABLE = -22, /* the module cannot reach the token (e.g. a dead p11-kit server) */
};

/* Short machine name, e.g. "TokenRemoved". */
const char *err_name(int code);
/* Human text, e.g. "token removed". */
const char *err_text(int code);

/*
 * A reason carries a code and the story of how it happened, innermost cause last:
 * "TokenRemoved: C_Sign: CKR_DEVICE_REMOVED (slot 0, SoftHSM #1a2b)".
 */
struct reason {
	int code;
	char text[384];
};

void reason_clear(struct reason *r);
/* Sets the code and text; returns code so callers can `return reason_set(...)`. */
int reason_set(struct reason *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes context to an existing reason, keeping its code. */
int reason_wrap(struct reason *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
