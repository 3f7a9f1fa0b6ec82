/* p11guard tokens: what the configured (or named) modules hold, ready to paste. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "keystore.h"

static void print_identity(const struct ks_identity *id)
{
	const struct key_material *pub = p11_key_public(id->key);
	char *uri = p11_key_uri(id->key);
	char *line = sshkey_authorized_line(pub, id->comment);

	printf("    key \"%s\": %s %u %s\n", p11_key_label(id->key), sshkey_type_name(pub),
	       key_material_bits(pub), id->fingerprint);
	printf("      uri: %s\n", uri ? uri : "(unavailable)");
	printf("      %s\n", line ? line : "(unavailable)");
	free(uri);
	free(line);
}

static void print_source(const struct ks_source *src)
{
	for (size_t t = 0; t < src->ntokens; t++) {
		const struct p11_token_desc *d = p11_token_describe(src->tokens[t]);

		printf("  slot %lu: token \"%s\" (%s, %s #%s)\n", d->slot_id, d->label,
		       d->manufacturer, d->model, d->serial);
		for (size_t i = 0; i < src->nids; i++)
			if (p11_key_token(src->ids[i].key) == src->tokens[t])
				print_identity(&src->ids[i]);
	}
}

/* Lists one module's tokens; returns 0 when it could be read. */
static int list_entry(const char *name, const char *module, const char *uri)
{
	struct ks_source *src;

	if ((src = cli_open_source(name, module, uri)) == NULL)
		return 1;
	printf("%s: module %s%s%s\n", name, module, uri ? " " : "", uri ? uri : "");
	if (src->ntokens == 0)
		printf("  no token present\n");
	print_source(src);
	ks_source_unref(src);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: p11guard tokens [--config FILE | --module MODULE [--uri URI]]\n"
	        "Lists the configured tokens (or MODULE's) and their keys: fingerprints, pkcs11: "
	        "URIs,\nauthorized_keys lines. MODULE is a path or a p11-kit module name.\n");
}

int cli_tokens(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "module", required_argument, NULL, 'm' },
		{ "uri", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *module = NULL, *uri = NULL;
	struct config cfg;
	int ch, failed = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:m:u:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'm': module = optarg; break;
		case 'u': uri = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "p11guard tokens: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (uri != NULL && module == NULL) {
		fprintf(stderr, "p11guard tokens: --uri selects tokens of a --module; with the "
		        "configuration, each entry has its own uri:\n");
		return 2;
	}
	if (module != NULL && config_path != NULL) {
		fprintf(stderr, "p11guard tokens: --module and --config each say what to list: "
		        "give one\n");
		return 2;
	}
	if (module != NULL)
		return list_entry(module, module, uri);
	if (cli_load_config(config_path, &cfg) != 0)
		return 1;
	for (size_t i = 0; i < cfg.ntokens; i++)
		failed |= list_entry(cfg.tokens[i].name, cfg.tokens[i].module, cfg.tokens[i].uri);
	config_free(&cfg);
	return failed;
}
