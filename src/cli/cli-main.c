/* p11guard: dispatches subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: p11guard tokens [--config FILE | --module MODULE [--uri URI]]\n"
	    "       p11guard policy check [FILE]\n"
	    "       p11guard policy explain [--config FILE] --key KEY [--to HOST] [--user USER]\n"
	    "                               [--via HOP,...] [--client EXE]\n"
	    "       p11guard reload\n"
	    "       p11guard tty [DEVICE]\n"
	    "       p11guard status [--json]\n"
	    "       p11guard why [--key KEY] [--to HOST] [--json]\n"
	    "       p11guard audit [--config FILE | --file FILE] [--since WHEN] [--until WHEN]\n"
	    "                      [--key KEY] [--to HOST] [--decision allow|deny|hide] [--json]\n"
	    "       p11guard --version\n"
	    "\n"
	    "tokens   list modules, tokens and keys with fingerprints, pkcs11: URIs and\n"
	    "         authorized_keys lines\n"
	    "policy   check a configuration file; explain what the agent would decide and why\n"
	    "reload   make the running agent re-read its policy (like SIGHUP)\n"
	    "tty      make the running agent's pinentry-curses use this terminal\n"
	    "status   what the running agent serves: config, policy, tokens, PIN state\n"
	    "why      the running agent's last refusals, each with its reason and rule\n"
	    "audit    the audit trail as a table, filtered\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "tokens") == 0)
		return cli_tokens(argc - 1, argv + 1);
	if (strcmp(argv[1], "policy") == 0)
		return cli_policy(argc - 1, argv + 1);
	if (strcmp(argv[1], "reload") == 0 || strcmp(argv[1], "tty") == 0)
		return cli_agent(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cli_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "why") == 0)
		return cli_why(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") == 0)
		return cli_audit(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		if (argc > 2)
			goto extra;
		printf("p11guard %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2)
			goto extra;
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "p11guard: unknown command \"%s\" (p11guard --help lists them)\n",
	        argv[1]);
	usage(stderr);
	return 2;
extra:
	fprintf(stderr, "p11guard: unexpected argument \"%s\"\n", argv[2]);
	return 2;
}
