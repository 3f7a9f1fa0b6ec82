/* libFuzzer target: audit lines as `p11guard audit` reads them. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "audit-read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_entry e;

	/* Every field must come back NUL-terminated within its buffer. */
	if (audit_entry_parse((const char *)data, size, &e) == ERR_OK &&
	    (strnlen(e.reason, sizeof(e.reason)) == sizeof(e.reason) ||
	     strnlen(e.time, sizeof(e.time)) == sizeof(e.time)))
		__builtin_trap();
	return 0;
}
