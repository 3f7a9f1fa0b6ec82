/* ssh's options, sorted into passed on, honoured here, ignored and refused. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delegate-args.h"
#include "guard-wire.h"

/* Options that a guarded session cannot honour, and why, for the message. */
static const struct {
	char option;
	const char *what;
} refused[] = {
	{ 'A', "agent forwarding" }, { 'X', "X11 forwarding" }, { 'Y', "X11 forwarding" },
	{ 'L', "local port forwarding" }, { 'R', "remote port forwarding" },
	{ 'D', "dynamic (SOCKS) forwarding" }, { 'W', "stdio forwarding" },
	{ 'J', "a jump host (run p11guard-ssh on the last hop instead)" },
	{ 'M', "connection sharing" }, { 'S', "connection sharing" }, { 'O', "connection sharing" },
	{ 'w', "tunnel forwarding" }, { 'N', "no command (a guarded session is one command)" },
	{ 'f', "going to the background" }, { 'g', "remote hosts on forwarded ports" },
	{ 'K', "GSSAPI credentials delegation" }, { 'I', "a PKCS#11 provider (keys are the agent's)" },
	{ 'b', "a bind address" }, { 'B', "a bind interface" }, { 'Q', "a query" },
};

/* Options that ssh -G reads (so that -o, -F, -p, -l mean what they mean to ssh). */
static const char passed_on[] = "46CFilopcmPx";

#define FLAGS "46ACfGgKkMNnqsTtVvXxYy"
#define WITH_ARG "BbcDEeFIiJLlmOoPpQRSWw"
#define OPTIONS FLAGS "B:b:c:D:E:e:F:I:i:J:L:l:m:O:o:P:p:Q:R:S:W:w:"

static void usage(FILE *f)
{
	fprintf(f, "usage: p11guard-ssh [-46CnqsTtvVx] [-F configfile] [-l user] [-o option]\n"
	        "                    [-p port] [user@]host command...\n"
	        "       p11guard-ssh -s [options] [user@]host subsystem\n"
	        "       p11guard-ssh -G [options] [user@]host\n");
}

static int push(struct delegate_args *a, const char *s)
{
	if (a->nssh_g + 2 >= DELEGATE_MAX_ARGS || (a->ssh_g[a->nssh_g] = strdup(s)) == NULL) {
		fprintf(stderr, "p11guard-ssh: too many options\n");
		return -1;
	}
	a->nssh_g++;
	return 0;
}

/* The command's words joined as ssh joins them. */
static char *join(char **argv, int argc)
{
	size_t len = 1;
	char *out;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((out = calloc(1, len)) == NULL)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, argv[i]);
	}
	return out;
}

static int refuse(int ch)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (refused[i].option == ch) {
			fprintf(stderr, "p11guard-ssh: -%c (%s) is refused: a guarded session runs one "
			        "command and nothing else\n", ch, refused[i].what);
			return 1;
		}
	return 0;
}

/* One option: honoured here, passed on to ssh -G, or refused. -1 refuses the line. */
static int option(struct delegate_args *a, int ch, const char *arg)
{
	char flag[3] = { '-', (char)ch, '\0' };

	if (ch == 't' || ch == 'T') {
		a->tty = ch == 'T' ? -1 : a->tty < 0 ? a->tty : a->tty + 1;
		return 0;
	}
	if (refuse(ch))
		return -1;
	switch (ch) {
	case 'v': a->verbose = 1; return 0;
	case 'q': a->quiet = 1; return 0;
	case 'n': a->stdin_null = 1; return 0;
	case 's': a->kind = SSH_SESSION_SUBSYSTEM; return 0;
	case 'G': a->print_config = 1; return 0;
	case 'k': case 'y': case 'E': case 'e':
		return 0;       /* these change nothing here */
	}
	if (strchr(passed_on, ch) == NULL) {
		fprintf(stderr, "p11guard-ssh: unknown option -%c\n", ch);
		return -1;
	}
	if (push(a, flag) != 0 || (strchr(WITH_ARG, ch) != NULL && push(a, arg) != 0))
		return -1;
	return 0;
}

enum delegate_parsed delegate_args_parse(int argc, char **argv, struct delegate_args *a)
{
	static const struct option longs[] = {
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	a->kind = SSH_SESSION_EXEC;
	if (push(a, "ssh") != 0 || push(a, "-G") != 0)
		return ARGS_BAD;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+h" OPTIONS, longs, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return ARGS_DONE;
		}
		if (ch == 'V') {
			fprintf(stderr, "p11guard-ssh %s (guarded-exec version %d)\n",
			        PACKAGE_VERSION, GUARD_VERSION);
			return ARGS_DONE;
		}
		if (ch == '?' || ch == ':') {
			if (strchr(WITH_ARG, optopt) != NULL && optopt != 0)
				fprintf(stderr, "p11guard-ssh: -%c needs an argument\n", optopt);
			else
				fprintf(stderr, "p11guard-ssh: unknown option -%c\n", optopt ? optopt : '?');
			usage(stderr);
			return ARGS_BAD;
		}
		if (option(a, ch, optarg) != 0)
			return ARGS_BAD;
	}
	if (optind >= argc) {
		fprintf(stderr, "p11guard-ssh: no host given\n");
		usage(stderr);
		return ARGS_BAD;
	}
	if (push(a, "--") != 0 || push(a, argv[optind]) != 0)
		return ARGS_BAD;
	optind++;
	if (a->print_config)
		return ARGS_RUN;
	if (optind >= argc) {
		fprintf(stderr, "p11guard-ssh: a command is needed: a guarded session runs one "
		        "command (or, with -s, one subsystem); there is no shell\n");
		return ARGS_BAD;
	}
	if (a->kind == SSH_SESSION_SUBSYSTEM && optind + 1 != argc) {
		fprintf(stderr, "p11guard-ssh: -s takes one subsystem name\n");
		return ARGS_BAD;
	}
	if ((a->command = join(argv + optind, argc - optind)) == NULL)
		return ARGS_BAD;
	return ARGS_RUN;
}

void delegate_args_free(struct delegate_args *a)
{
	for (size_t i = 0; i < a->nssh_g; i++)
		free(a->ssh_g[i]);
	free(a->command);
	memset(a, 0, sizeof(*a));
}
