/* Turns CKR_ codes into our error space and into reasons a user understands. */
#include <stdio.h>

#include "p11-internal.h"

struct rv_entry {
	CK_RV rv;
	const char *name;
	int code;
};

static const struct rv_entry rv_table[] = {
	{ CKR_OK, "CKR_OK", ERR_OK },
	{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY", ERR_ALLOC },
	{ CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID", ERR_TOKEN_REMOVED },
	{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR", ERR_TOKEN },
	{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED", ERR_TOKEN },
	{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD", ERR_INTERNAL },
	{ CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID", ERR_TOKEN },
	{ CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE", ERR_FORMAT },
	{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR", ERR_TOKEN },
	{ CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY", ERR_TOKEN },
	{ CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED", ERR_TOKEN_REMOVED },
	{ CKR_FUNCTION_CANCELED, "CKR_FUNCTION_CANCELED", ERR_DENIED },
	{ CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID", ERR_KEY_NOT_FOUND },
	{ CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT", ERR_MECHANISM },
	{ CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED", ERR_MECHANISM },
	{ CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID", ERR_MECHANISM },
	{ CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID", ERR_MECHANISM },
	{ CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID", ERR_KEY_NOT_FOUND },
	{ CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE", ERR_TOKEN },
	{ CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT", ERR_PIN_INCORRECT },
	{ CKR_PIN_INVALID, "CKR_PIN_INVALID", ERR_PIN_INCORRECT },
	{ CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE", ERR_PIN_INCORRECT },
	{ CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED", ERR_PIN_LOCKED },
	{ CKR_PIN_LOCKED, "CKR_PIN_LOCKED", ERR_PIN_LOCKED },
	{ CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED", ERR_TOKEN_REMOVED },
	{ CKR_SESSION_COUNT, "CKR_SESSION_COUNT", ERR_LIMIT },
	{ CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID", ERR_TOKEN_REMOVED },
	{ CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT", ERR_TOKEN_REMOVED },
	{ CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED", ERR_TOKEN },
	{ CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN", ERR_OK },
	{ CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN", ERR_PIN_NEEDED },
	{ CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED", ERR_PIN_LOCKED },
	{ CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID", ERR_TOKEN },
	{ CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL", ERR_INTERNAL },
	{ CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED", ERR_MODULE_LOAD },
	{ CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED", ERR_OK },
	{ CKR_CANT_LOCK, "CKR_CANT_LOCK", ERR_MODULE_LOAD },
};

static const struct rv_entry *rv_lookup(CK_RV rv)
{
	for (size_t i = 0; i < sizeof(rv_table) / sizeof(rv_table[0]); i++)
		if (rv_table[i].rv == rv)
			return &rv_table[i];
	return NULL;
}

const char *p11_rv_name(CK_RV rv)
{
	static __thread char unknown[32];
	const struct rv_entry *e = rv_lookup(rv);

	if (e != NULL)
		return e->name;
	snprintf(unknown, sizeof(unknown), "CKR_0x%lx", (unsigned long)rv);
	return unknown;
}

int p11_rv_code(CK_RV rv)
{
	const struct rv_entry *e = rv_lookup(rv);

	return e != NULL ? e->code : ERR_TOKEN;
}

int p11_rv_session_dead(CK_RV rv)
{
	return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	       rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
	       rv == CKR_DEVICE_ERROR || rv == CKR_SLOT_ID_INVALID;
}

int p11_fail(struct reason *why, const struct p11_token *t, const char *call, CK_RV rv)
{
	int code = p11_rv_code(rv);

	if (t == NULL)
		return reason_set(why, code, "%s: %s", call, p11_rv_name(rv));
	return reason_set(why, code, "%s: %s (slot %lu, %s #%s)", call, p11_rv_name(rv),
	                  t->desc.slot_id, t->desc.label, t->desc.serial);
}

void p11_copy_padded(char *dst, size_t dst_size, const unsigned char *src, size_t src_len)
{
	size_t n = src_len < dst_size - 1 ? src_len : dst_size - 1;

	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}
