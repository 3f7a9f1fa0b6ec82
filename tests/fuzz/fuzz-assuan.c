/* libFuzzer target: Assuan reply lines from a pinentry (src/assuan.c). */
#include <stdint.h>
#include <stdlib.h>

#include "assuan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct assuan_reply reply;
	char out[64];
	size_t len = 0;

	(void)!assuan_parse_reply(data, size, &reply, out, sizeof(out), &len);
	return 0;
}
