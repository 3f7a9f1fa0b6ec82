/* libFuzzer target: the YAML configuration loader (src/config.c, src/yaml-walk.c). */
#include <stdint.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct reason why;

	if (config_load_text("fuzz.yaml", (const char *)data, size, &cfg, &why) == ERR_OK)
		config_free(&cfg);
	return 0;
}
