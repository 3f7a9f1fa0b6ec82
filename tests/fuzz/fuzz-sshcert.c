/* libFuzzer target: OpenSSH certificates (src/sshwire/sshcert.c). */
#include "sshcert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshcert c;

	if (sshcert_parse(data, size, &c) == ERR_OK)
		sshcert_free(&c);
	return 0;
}
