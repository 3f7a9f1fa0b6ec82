/*
 * p11guard-ssh: the delegate of guarded execution, run on an intermediary in place of ssh.
 * It asks the agent at $SSH_AUTH_SOCK (a forwarded p11guard) to run one command on a server
 * (guarded-exec@p11guard), opens the TCP connection only once the agent accepted, and then
 * only moves bytes: the server's to the agent and back, its own input to the command, the
 * command's output to its own. The agent verifies the server, logs in and writes every packet.
 *
 *   p11guard-ssh [-v] [-p PORT] [-l USER] [USER@]HOST COMMAND...
 *
 * Exit status: the command's, or 255 for p11guard-ssh's own errors and refusals, as ssh.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delegate.h"

#define FAILED DELEGATE_FAILED

static void usage(FILE *f)
{
	fprintf(f, "usage: p11guard-ssh [-vV] [-p PORT] [-l USER] [USER@]HOST COMMAND...\n");
}

/* 1 to 65535, all digits; 0 for anything else. */
static uint32_t port_number(const char *s)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && v >= 1 && v <= 65535 ? (uint32_t)v : 0;
}

/*
 * LANG and LC_*, as Debian's ssh_config sends them (SendEnv LANG LC_*). The agent passes on
 * those the guarded rule lists (env:), and the server those it accepts; the copies stay
 * with the request until the end.
 */
static void locale_env(struct guard_request_wire *g)
{
	extern char **environ;

	for (char **e = environ; *e != NULL && g->nenv < SSH_MAX_ENV; e++) {
		char *eq = strchr(*e, '='), *name;

		if (eq == NULL || (strncmp(*e, "LANG=", 5) != 0 && strncmp(*e, "LC_", 3) != 0) ||
		    (name = strndup(*e, (size_t)(eq - *e))) == NULL)
			continue;
		if (guard_env_ok(name, eq + 1))
			g->env[g->nenv++] = (struct ssh_env){ name, eq + 1 };
		else
			free(name);
	}
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

int main(int argc, char **argv)
{
	struct guard_request_wire g = { .version = GUARD_VERSION, .port = 22,
	                                .kind = SSH_SESSION_EXEC, .relay_only = 1 };
	const char *user = NULL, *sock = getenv("SSH_AUTH_SOCK");
	char *target, *at, *command = NULL;
	struct passwd *pw;
	struct delegate_options opts = { 0, NULL };
	int ch, status;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "+vVp:l:h")) != -1) {
		switch (ch) {
		case 'v': opts.verbose = 1; break;
		case 'V':
			fprintf(stderr, "p11guard-ssh %s (guarded-exec version %d)\n", PACKAGE_VERSION,
			        GUARD_VERSION);
			return 0;
		case 'p':
			if ((g.port = port_number(optarg)) == 0) {
				fprintf(stderr, "p11guard-ssh: bad port \"%s\" (1 to 65535)\n", optarg);
				return FAILED;
			}
			break;
		case 'l': user = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return FAILED;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "p11guard-ssh: a host and a command are needed (a guarded session "
		        "runs one command)\n");
		usage(stderr);
		return FAILED;
	}
	target = argv[optind];
	if ((at = strrchr(target, '@')) != NULL) {
		*at = '\0';
		user = target;
		target = at + 1;
	}
	if (user == NULL && (pw = getpwuid(getuid())) != NULL)
		user = pw->pw_name;
	if ((command = join(argv + optind + 1, argc - optind - 1)) == NULL || user == NULL) {
		free(command);
		return FAILED;
	}
	g.host = target;
	g.user = (char *)user;
	g.command = command;
	locale_env(&g);
	status = delegate_run(&g, sock, &opts);
	for (size_t i = 0; i < g.nenv; i++)
		free((char *)g.env[i].name);
	free(command);
	return status;
}
