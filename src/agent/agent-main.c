/* p11guard-agent: ssh-agent's command line, daemon life cycle and signals. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent.h"
#include "agent-socket.h"
#include "config.h"
#include "duration.h"
#include "listener.h"
#include "softkey.h"
#include "log.h"

#define DEFAULT_ALLOWED_PROVIDERS "/usr/lib*/*,/usr/local/lib*/*"

struct options {
	int csh, debug, foreground, kill_agent;
	int socket_in_tmpdir;           /* -T: as before OpenSSH 10, not in ~/.ssh/agent */
	int keep_stale_sockets;         /* -U */
	int clean_stale_sockets;        /* -u; twice: those of other hosts too */
	const char *socket_path, *config_path, *allowed_providers;
	long lifetime;
	char **command;
};

static volatile sig_atomic_t quit, reload, remove_all;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else if (sig == SIGUSR1)
		remove_all = 1;         /* as ssh-agent: every key goes */
	else
		quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: p11guard-agent [-c | -s] [-DdTU] [-a bind_address] [-E fingerprint_hash]\n"
	    "                      [-O option] [-P allowed_providers] [-t life]\n"
	    "                      [--config FILE] [command [arg ...]]\n"
	    "       p11guard-agent [-c | -s] -k\n"
	    "       p11guard-agent -u\n"
	    "       p11guard-agent -V | --version | --help\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'C' },
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
	if (sh && o->csh)
		o->csh = 0;
	o->command = optind < argc ? argv + optind : NULL;
	if (o->command != NULL && (o->foreground || o->kill_agent || o->clean_stale_sockets)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void print_env(const struct options *o, const char *path, pid_t pid)
{
	if (o->csh) {
		printf("setenv SSH_AUTH_SOCK %s;\nsetenv SSH_AGENT_PID %ld;\n", path, (long)pid);
	} else {
		printf("SSH_AUTH_SOCK=%s; export SSH_AUTH_SOCK;\n", path);
		printf("SSH_AGENT_PID=%ld; export SSH_AGENT_PID;\n", (long)pid);
	}
	printf("echo Agent pid %ld;\n", (long)pid);
	fflush(stdout);
}

static int kill_agent(const struct options *o)
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
static int remove_stale_sockets(const struct options *o)
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
static int load_config(const struct options *o, struct config *cfg)
{
	char path[4096];
	struct reason why;

	reason_clear(&why);
	if (o->config_path != NULL) {
		if (config_load_file(o->config_path, cfg, &why) == ERR_OK)
			return 0;
	} else if (config_default_path(path, sizeof(path)) == ERR_OK &&
	           access(path, F_OK) == 0) {
		if (config_load_file(path, cfg, &why) == ERR_OK)
			return 0;
	} else if (config_load_text("<built-in>", config_builtin_default,
	                            strlen(config_builtin_default), cfg, &why) == ERR_OK) {
		return 0;
	}
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

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void detach(int keep_stderr)
{
	int fd = open("/dev/null", O_RDWR);

	setsid();
	if (chdir("/") != 0)
		log_warn("chdir /: %s", strerror(errno));
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (!keep_stderr)
			dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/* The agent proper, after any fork: modules are initialized here, in the final process. */
static int run_agent(const struct options *o, const struct config *cfg, int fd,
                     pid_t watch_pid)
{
	struct sshagent_server_options so = { .listen_fd = fd, .allow_root = 1, .quit = &quit };
	struct sshagent_reason served;
	struct reason why;
	struct agent a;
	int r;

	if (agent_init(&a, o->allowed_providers, (uint32_t)o->lifetime) != ERR_OK) {
		log_error("out of memory");
		agent_free(&a);
		return 1;
	}
	if (agent_load_config(&a, cfg, &why) != ERR_OK) {
		log_error("%s", why.text);
		agent_free(&a);
		return 1;
	}
	a.reload = &reload;
	a.remove_all = &remove_all;
	if (softkey_init_secure_heap(&why) != ERR_OK)
		log_warn("%s: software keys (ssh-add FILE) will be refused", why.text);
	a.watch_pid = watch_pid;
	if ((r = sshagent_serve(&agent_ops, &a, &so, &served)) != ERR_OK)
		log_error("%s", served.text);
	agent_free(&a);
	return r == 0 ? 0 : 1;
}

static void remove_socket(const char *path, int private_dir)
{
	char dir[4096];

	unlink(path);
	if (private_dir) {
		snprintf(dir, sizeof(dir), "%s", path);
		rmdir(dirname(dir));
	}
}

/* Binds the socket, then serves in the foreground, as a daemon, or beside a command. */
static int serve(const struct options *o, const struct config *cfg)
{
	char path[4096], pidtext[32];
	struct reason why;
	pid_t pid, parent = getpid();
	int fd, r;

	reason_clear(&why);
	if (o->socket_path != NULL) {
		snprintf(path, sizeof(path), "%s", o->socket_path);
		fd = listener_open(path, &why);
	} else if (o->socket_in_tmpdir) {
		fd = -1;
		if (listener_private_path(path, sizeof(path), &why) == ERR_OK &&
		    (fd = listener_open(path, &why)) < 0)
			remove_socket(path, 1);
	} else {
		if (!o->keep_stale_sockets && agent_socket_remove_stale(0, &why) < 0)
			fprintf(stderr, "p11guard-agent: stale sockets stay: %s\n", why.text);
		fd = agent_socket_in_home(path, sizeof(path), &why);
	}
	if (fd < 0) {
		fprintf(stderr, "p11guard-agent: %s\n", why.text);
		return 1;
	}
	install_signals();
	if (o->foreground) {
		log_init("p11guard-agent", 1, o->debug);
		print_env(o, path, getpid());
		r = run_agent(o, cfg, fd, 0);
	} else {
		fflush(stdout);
		if ((pid = fork()) < 0) {
			fprintf(stderr, "p11guard-agent: fork: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		if (pid != 0) {
			close(fd);
			if (o->command == NULL) {
				print_env(o, path, pid);
				return 0;
			}
			/* Command mode: this process becomes the command; the child serves it. */
			snprintf(pidtext, sizeof(pidtext), "%ld", (long)pid);
			setenv("SSH_AUTH_SOCK", path, 1);
			setenv("SSH_AGENT_PID", pidtext, 1);
			execvp(o->command[0], o->command);
			fprintf(stderr, "p11guard-agent: %s: %s\n", o->command[0], strerror(errno));
			kill(pid, SIGTERM);
			return 1;
		}
		log_init("p11guard-agent", 0, 0);
		detach(0);
		r = run_agent(o, cfg, fd, o->command != NULL ? parent : 0);
	}
	close(fd);
	remove_socket(path, o->socket_path == NULL && o->socket_in_tmpdir);
	return r;
}

int main(int argc, char **argv)
{
	struct options o;
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
	r = serve(&o, &cfg);
	config_free(&cfg);
	return r;
}
