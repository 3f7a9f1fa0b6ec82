/* p11guard-agent's life: the socket, the fork, signals, serving, and what is left at exit. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "agent-daemon.h"
#include "agent-service.h"
#include "agent-socket.h"
#include "listener.h"
#include "log.h"
#include "softkey.h"

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

void agent_print_env(const struct agent_options *o, const char *path, long pid)
{
	if (o->csh) {
		printf("setenv SSH_AUTH_SOCK %s;\nsetenv SSH_AGENT_PID %ld;\n", path, pid);
	} else {
		printf("SSH_AUTH_SOCK=%s; export SSH_AUTH_SOCK;\n", path);
		printf("SSH_AGENT_PID=%ld; export SSH_AGENT_PID;\n", pid);
	}
	printf("echo Agent pid %ld;\n", pid);
	fflush(stdout);
}

static void detach(void)
{
	int fd = open("/dev/null", O_RDWR);

	setsid();
	if (chdir("/") != 0)
		log_warn("chdir /: %s", strerror(errno));
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/* Where the agent listens and what to remove at exit. */
struct listening {
	char path[4096];        /* "" when systemd handed the socket in */
	int fd;
	int remove_dir;         /* -T: the private directory is ours too */
};

static void remove_socket(const struct listening *l)
{
	char dir[sizeof(l->path)];

	if (l->path[0] == '\0')
		return;
	unlink(l->path);
	if (l->remove_dir) {
		snprintf(dir, sizeof(dir), "%s", l->path);
		rmdir(dirname(dir));
	}
}

/* -a, --stable, -T, or ssh-agent 10.x's ~/.ssh/agent; under systemd, the socket it made. */
static int open_socket(const struct agent_options *o, struct listening *l, struct reason *why)
{
	memset(l, 0, sizeof(*l));
	/* As ssh-agent: a handed-in socket counts only for a foreground agent with no -a. */
	if (o->foreground && o->socket_path == NULL && !o->socket_stable && o->command == NULL &&
	    (l->fd = service_inherited_socket(why)) != -1)
		return l->fd >= 0 ? ERR_OK : why->code;
	if (o->socket_path != NULL) {
		snprintf(l->path, sizeof(l->path), "%s", o->socket_path);
		l->fd = listener_open(l->path, why);
	} else if (o->socket_stable) {
		l->fd = agent_socket_stable(l->path, sizeof(l->path), why);
	} else if (o->socket_in_tmpdir) {
		l->fd = -1;
		l->remove_dir = 1;
		if (listener_private_path(l->path, sizeof(l->path), why) == ERR_OK &&
		    (l->fd = listener_open(l->path, why)) < 0)
			remove_socket(l);
	} else {
		if (!o->keep_stale_sockets && agent_socket_remove_stale(0, why) < 0)
			fprintf(stderr, "p11guard-agent: stale sockets stay: %s\n", why->text);
		reason_clear(why);
		l->fd = agent_socket_in_home(l->path, sizeof(l->path), why);
	}
	if (l->fd < 0)
		l->path[0] = '\0';      /* nothing of ours to remove */
	return l->fd >= 0 ? ERR_OK : why->code;
}

/* The socket's path: ours, or the one systemd bound. */
static void socket_name(const struct listening *l, char *out, size_t size)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);

	memset(&sun, 0, sizeof(sun));
	if (l->path[0] != '\0')
		snprintf(out, size, "%s", l->path);
	else if (getsockname(l->fd, (struct sockaddr *)&sun, &len) == 0 && sun.sun_path[0] == '/')
		snprintf(out, size, "%.*s", (int)sizeof(sun.sun_path), sun.sun_path);
	else
		snprintf(out, size, "(handed in by systemd, fd %d)", l->fd);
}

/* A foreground agent prints its environment once it serves, not before. */
struct foreground_env {
	const struct agent_options *o;
	const struct listening *l;
};

static void print_foreground_env(void *arg)
{
	const struct foreground_env *e = arg;

	if (e->l->path[0] != '\0')
		agent_print_env(e->o, e->l->path, (long)getpid());
}

/* The agent proper, after any fork: modules are initialized here, in the final process.
 * A failure before serving goes to `startup_fd`'s reader too. */
static int run_agent(const struct agent_options *o, const struct config *cfg,
                     const struct listening *l, pid_t watch_pid, int startup_fd)
{
	struct sshagent_server_options so = { .listen_fd = l->fd, .allow_root = 1, .quit = &quit };
	struct foreground_env env = { o, l };
	struct sshagent_reason served;
	struct reason why;
	struct agent a;
	int r;

	reason_clear(&why);
	r = agent_init(&a, o->allowed_providers, (uint32_t)o->lifetime) != ERR_OK ?
	    reason_set(&why, ERR_ALLOC, "out of memory") : agent_load_config(&a, cfg, &why);
	a.startup_fd = startup_fd;
	if (r != ERR_OK) {
		log_error("%s", why.text);
		service_report_started(&a.startup_fd, why.text);
		agent_free(&a);
		return 1;
	}
	a.reload = &reload;
	a.remove_all = &remove_all;
	socket_name(l, a.socket_path, sizeof(a.socket_path));
	if (o->foreground) {
		a.on_serving = print_foreground_env;
		a.on_serving_arg = &env;
	}
	if (softkey_init_secure_heap(&why) != ERR_OK)
		log_warn("%s: software keys (ssh-add FILE) will be refused", why.text);
	a.watch_pid = watch_pid;
	r = sshagent_serve(&agent_ops, &a, &so, &served);
	service_notify("STOPPING=1");
	if (r != ERR_OK) {
		log_error("%s", served.text);
		service_report_started(&a.startup_fd, served.text);
	}
	agent_free(&a);
	return r == 0 ? 0 : 1;
}

/* The parent of a daemon: once the child serves, print the environment or become the
 * command; if it stops during start-up, say why and print nothing. */
static int parent(const struct agent_options *o, const struct listening *l, pid_t child,
                  int report_fd)
{
	char pidtext[32];

	if (service_wait_started(report_fd) != 0)
		return 1;
	if (o->command == NULL) {
		agent_print_env(o, l->path, (long)child);
		return 0;
	}
	snprintf(pidtext, sizeof(pidtext), "%ld", (long)child);
	setenv("SSH_AUTH_SOCK", l->path, 1);
	setenv("SSH_AGENT_PID", pidtext, 1);
	execvp(o->command[0], o->command);
	fprintf(stderr, "p11guard-agent: %s: %s\n", o->command[0], strerror(errno));
	kill(child, SIGTERM);
	return 1;
}

int agent_daemon_serve(const struct agent_options *o, const struct config *cfg)
{
	struct listening l;
	struct reason why;
	pid_t pid, watch = o->command != NULL ? getpid() : 0;
	int report[2], r;

	reason_clear(&why);
	if (open_socket(o, &l, &why) != ERR_OK) {
		fprintf(stderr, "p11guard-agent: %s\n", why.text);
		return 1;
	}
	install_signals();
	if (o->foreground) {
		log_init("p11guard-agent", 1, o->debug);
		r = run_agent(o, cfg, &l, 0, -1);
	} else {
		fflush(stdout);
		if (service_startup_pipe(report) != 0 || (pid = fork()) < 0) {
			fprintf(stderr, "p11guard-agent: starting the daemon: %s\n", strerror(errno));
			close(l.fd);
			remove_socket(&l);
			return 1;
		}
		if (pid != 0) {
			close(l.fd);
			close(report[1]);
			return parent(o, &l, pid, report[0]);
		}
		close(report[0]);
		log_init("p11guard-agent", 0, 0);
		detach();
		r = run_agent(o, cfg, &l, watch, report[1]);
	}
	close(l.fd);
	remove_socket(&l);
	return r;
}
