/*
 * libFuzzer target: p11guard-ssh's reader of `ssh -G` output (delegate-config.c), fed line
 * by line as it reads the pipe, then checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delegate-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct delegate_config c;
	struct reason why;
	char *text = malloc(size + 1), *line, *next;
	int r = ERR_OK;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&c, 0, sizeof(c));
	for (line = text; line != NULL && r == ERR_OK; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		r = delegate_config_line(&c, line, &why);
	}
	if (r == ERR_OK)
		(void)!delegate_config_check(&c, &why);
	delegate_config_free(&c);
	free(text);
	return 0;
}
