/* What several subcommands share: the configuration file and the tokens it names. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_load_config(const char *path, struct config *cfg)
{
	struct reason why;

	reason_clear(&why);
	if (config_load_default(path, cfg, &why) == ERR_OK)
		return 0;
	fprintf(stderr, "p11guard: %s\n", why.text);
	return 1;
}

struct ks_source *cli_open_source(const char *name, const char *module, const char *uri)
{
	struct ks_pin_spec no_pin = { .kind = PIN_SOURCE_NONE };
	struct p11_pin_cache cache = { 0, 0, 0 };
	struct ks_source *src;
	struct reason why;

	reason_clear(&why);
	if (ks_source_open(name, NULL, module, uri, &no_pin, &cache, &src, &why) != ERR_OK)
		fprintf(stderr, "p11guard: %s: %s: %s\n", name, err_name(why.code), why.text);
	return src;
}
