/* p11guard-agent: ssh-agent's command line, and what it does without serving (-k, -u). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent-daemon.h"
#include "agent-socket.h"
#include "config.h"
#include "duration.h"

#define DEFAULT_ALLOWED_PROVIDERS "/usr/lib*/*,/usr/local/lib*/*"

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: p11guard-agent [-c | -s] [-DdTU] [-a bind_address] [-E fingerprint_hash]\n"
	    "                      [-O option] [-P allowed_providers] [-t life]\n"
	    "                      [--config FILE] [--stable] [command [arg ...]]\n"
	    "       p11guard-agent [-c | -s] -k\n"
	    "       p11guard-agent -u\n"
	    "       p11guard-agent -V | --version | --help\n");
}

static int parse_options(int argc, char **argv, struct agent_options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'C' },
		{ "stable", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shell = getenv("SHELL");
	int ch, sh = 0;

	memset(o, 0, sizeof(*o));
	o->allowed_providers = DEFAULT_ALLOWED_PROVIDERS;
	o->csh = shell != NULL && strlen(shell) >= 3 && strcmp(shell + strlen(shell) - 3, "csh") == 0;
	while ((ch = getopt_long(argc, argv, "+a:cDdE:kO:P:st:TuUV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': o->socket_path = optarg; break;
		case 'c': o->csh = 1; break;
		case 's': o->csh = 0; sh = 1; break;
		case 'D': o->foreground = 1; break;
		case 'd': o->foreground = o->debug = 1; break;
		case 'k': o->kill_agent = 1; break;
		case 'P': o->allowed_providers = optarg; break;
		case 'C': o->config_path = optarg; break;
		case 'E':
			if (strcasecmp(optarg, "sha256") != 0) {
				fprintf(stderr, "p11guard-agent: -E %s: only sha256 fingerprints are "
				        "supported\n", optarg);
				return -1;
			}
			break;
		case 'O':
			/* FIDO keys never reach this agent, so the websafe rule has nothing to do. */
			if (strcmp(optarg, "no-restrict-websafe") != 0) {
				fprintf(stderr, "p11guard-agent: unknown -O option \"%s\"\n", optarg);
				return -1;
			}
			break;
		case 't':
			if ((o->lifetime = duration_parse(optarg)) <= 0) {
				fprintf(stderr, "p11guard-agent: invalid lifetime \"%s\"\n", optarg);
				return -1;
			}
			break;
		case 'T': o->socket_in_tmpdir = 1; break;
		case 'S': o->socket_stable = 1; break;
		case 'U': o->keep_stale_sockets = 1; break;
		case 'u': o->clean_stale_sockets++; break;
		case 'h': usage(stdout); exit(0);
		case 'v': printf("p11guard-agent %s\n", PACKAGE_VERSION); exit(0);
		/* ssh-agent -V writes its version to standard error. */
		case 'V': fprintf(stderr, "p11guard-agent %s, %s\n", PACKAGE_VERSION,
		                  OpenSSL_version(OPENSSL_VERSION)); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if ((o->socket_path != NULL) + o->socket_in_tmpdir + o->socket_stable > 1) {
		fprintf(stderr, "p11guard-agent: -a, -T and --stable each choose the socket: "
		        "give one\n");
		return -1;
	}
	if (sh && o->csh)
		o->csh = 0;
	o->command = optind < argc ? argv + optind : NULL;
	if (o->command != NULL && (o->foreground || o->kill_agent || o->clean_stale_sockets)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static int kill_agent(const struct agent_options *o)
{
	const char *s = getenv("SSH_AGENT_PID");
	char *end;
	long pid = s ? strtol(s, &end, 10) : 0;

	if (s == NULL || *end != '\0' || pid < 2) {
		fprintf(stderr, "p11guard-agent: SSH_AGENT_PID not set or invalid, cannot kill\n");
		return 1;
	}
	if (kill((pid_t)pid, SIGTERM) != 0) {
		fprintf(stderr, "p11guard-agent: kill %ld: %s\n", pid, strerror(errno));
		return 1;
	}
	printf(o->csh ? "unsetenv SSH_AUTH_SOCK;\nunsetenv SSH_AGENT_PID;\n" :
	       "unset SSH_AUTH_SOCK;\nunset SSH_AGENT_PID;\n");
	printf("echo Agent pid %ld killed;\n", pid);
	return 0;
}

/* -u: ssh-agent's clean-up of sockets whose agent died, and nothing else. */
static int remove_stale_sockets(const struct agent_options *o)
{
	struct reason why;
	int n;

	reason_clear(&why);
	if ((n = agent_socket_remove_stale(o->clean_stale_sockets > 1, &why)) < 0) {
		fprintf(stderr, "p11guard-agent: %s\n", why.text);
		return 1;
	}
	printf("Deleted %d stale agent socket(s) in ~/.ssh/agent\n", n);
	return 0;
}

/* The file named by --config, else the default file, else the built-in demo config. */
static int load_config(const struct agent_options *o, struct config *cfg)
{
	struct reason why;

	reason_clear(&why);
	if (config_load_default(o->config_path, cfg, &why) == ERR_OK)
		return 0;
	fprintf(stderr, "p11guard-agent: %s\n", why.text);
	return -1;
}

static void harden_process(void)
{
	struct rlimit no_core = { 0, 0 };

	/* No core dumps and no ptrace by same-uid processes: PINs live in this memory. */
	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &no_core);
}

int main(int argc, char **argv)
{
	struct agent_options o;
	struct config cfg;
	int r;

	harden_process();
	if (parse_options(argc, argv, &o) != 0)
		return 1;
	if (o.kill_agent)
		return kill_agent(&o);
	if (o.clean_stale_sockets)
		return remove_stale_sockets(&o);
	if (load_config(&o, &cfg) != 0)
		return 1;
	r = agent_daemon_serve(&o, &cfg);
	config_free(&cfg);
	return r;
}
