/* The error table and the reason helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

struct err_entry {
	int code;
	const char *name;
	const char *text;
};

static const struct err_entry err_table[] = {
	{ ERR_OK, "Ok", "success" },
	{ ERR_INTERNAL, "Internal", "internal error" },
	{ ERR_ALLOC, "NoMemory", "out of memory" },
	{ ERR_INCOMPLETE, "Incomplete", "message incomplete" },
	{ ERR_TOO_LARGE, "TooLarge", "over the size limit" },
	{ ERR_FORMAT, "BadFormat", "malformed data" },
	{ ERR_UNSUPPORTED, "Unsupported", "not supported" },
	{ ERR_KEY_NOT_FOUND, "KeyNotFound", "key not found" },
	{ ERR_TOKEN_REMOVED, "TokenRemoved", "token removed" },
	{ ERR_PIN_INCORRECT, "PinIncorrect", "PIN incorrect" },
	{ ERR_PIN_LOCKED, "PinLocked", "PIN locked: unblock with the token's tool" },
	{ ERR_PIN_NEEDED, "PinNeeded", "PIN needed but none could be obtained" },
	{ ERR_MECHANISM, "Mechanism", "mechanism not supported by token" },
	{ ERR_TOKEN, "TokenError", "token error" },
	{ ERR_AGENT_LOCKED, "AgentLocked", "agent is locked" },
	{ ERR_DENIED, "Denied", "refused" },
	{ ERR_MODULE_NOT_ALLOWED, "ModuleNotAllowed", "module path not in the allowlist" },
	{ ERR_MODULE_LOAD, "ModuleLoad", "module could not be loaded" },
	{ ERR_CONFIG, "Config", "configuration error" },
	{ ERR_SYSTEM, "System", "system call failed" },
	{ ERR_PIN_FINAL_TRY, "PinFinalTry",
	  "one PIN try left: not trying a stored PIN automatically" },
	{ ERR_LIMIT, "Limit", "limit reached" },
	{ ERR_TOKEN_UNREACHABLE, "TokenUnreachable", "token unreachable" },
};

static const struct err_entry *err_lookup(int code)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == code)
			return &err_table[i];
	return &err_table[1];
}

const char *err_name(int code)
{
	return err_lookup(code)->name;
}

const char *err_text(int code)
{
	return err_lookup(code)->text;
}

void reason_clear(struct reason *r)
{
	r->code = ERR_OK;
	r->text[0] = '\0';
}

int reason_set(struct reason *r, int code, const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	return code;
}

int reason_wrap(struct reason *r, const char *fmt, ...)
{
	char prefix[160];
	size_t plen, olen;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix) + 2;      /* "prefix: " */
	olen = strlen(r->text);
	if (plen + olen >= sizeof(r->text))
		olen = sizeof(r->text) - plen - 1;     /* the innermost cause is cut, not the context */
	memmove(r->text + plen, r->text, olen);
	memcpy(r->text, prefix, plen - 2);
	memcpy(r->text + plen - 2, ": ", 2);
	r->text[plen + olen] = '\0';
	return r->code;
}
