/* Reading `ssh -G`: one "key value" per line, keys in lower case. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "delegate-config.h"

#define MAX_LINE 4096

/* Settings with no place in a guarded session, refused whatever their value but these. */
static const struct {
	const char *key, *harmless;     /* harmless: the value that is no setting at all */
	const char *what;
} refused[] = {
	{ "proxycommand", "none", "a proxy command (the agent connects through p11guard-ssh alone)" },
	{ "proxyjump", "none", "a jump host (run p11guard-ssh on the last hop instead)" },
	{ "forwardagent", "no", "agent forwarding" },
	{ "forwardx11", "no", "X11 forwarding" },
	{ "remotecommand", "none", "a remote command in the configuration" },
	{ "tunnel", "false", "tunnel forwarding" },
	{ "controlmaster", "false", "connection sharing (ControlMaster)" },
	{ "localforward", NULL, "a local port forwarding" },
	{ "remoteforward", NULL, "a remote port forwarding" },
	{ "dynamicforward", NULL, "a dynamic (SOCKS) forwarding" },
};

static int add(char **list, size_t *n, const char *value, struct reason *why)
{
	if (*n >= DELEGATE_MAX_ENV)
		return reason_set(why, ERR_LIMIT, "more than %d SendEnv or SetEnv entries",
		                  DELEGATE_MAX_ENV);
	if ((list[*n] = strdup(value)) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	(*n)++;
	return ERR_OK;
}

static int set_text(char **field, const char *value, struct reason *why)
{
	free(*field);
	if ((*field = strdup(value)) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	return ERR_OK;
}

static int number(const char *value, long max, long *out)
{
	char *end;

	if (value[0] < '0' || value[0] > '9')
		return 0;
	errno = 0;
	*out = strtol(value, &end, 10);
	return errno == 0 && *end == '\0' && *out <= max;
}

/* The first refused setting; forwardings apart, as ClearAllForwardings cancels them. */
static void note_refused(struct delegate_config *c, const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char *slot = refused[i].harmless == NULL ? c->forwarding : c->refused;

		if (strcmp(key, refused[i].key) == 0 && slot[0] == '\0' &&
		    (refused[i].harmless == NULL || strcmp(value, refused[i].harmless) != 0))
			snprintf(slot, sizeof(c->refused), "%s (%s %.80s)", refused[i].what, key,
			         value);
	}
}

int delegate_config_line(struct delegate_config *c, const char *line, struct reason *why)
{
	char key[64];
	size_t klen = strcspn(line, " ");
	const char *value = line + klen;
	long n;

	if (klen == 0 || klen >= sizeof(key) || *value != ' ' || value[1] == '\0' ||
	    strchr(line, '\n') != NULL)
		return reason_set(why, ERR_FORMAT, "ssh -G printed a line that is not \"key value\"");
	memcpy(key, line, klen);
	key[klen] = '\0';
	for (size_t i = 0; i < klen; i++)
		key[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] - 'A' + 'a' : key[i]);
	value++;
	note_refused(c, key, value);
	if (strcmp(key, "hostname") == 0)
		return set_text(&c->hostname, value, why);
	if (strcmp(key, "user") == 0)
		return set_text(&c->user, value, why);
	if (strcmp(key, "port") == 0) {
		if (!number(value, 65535, &n) || n == 0)
			return reason_set(why, ERR_FORMAT, "ssh -G gave the port \"%.40s\"", value);
		c->port = (uint32_t)n;
	} else if (strcmp(key, "connecttimeout") == 0) {
		if (strcmp(value, "none") != 0 && !number(value, 86400, &n))
			return reason_set(why, ERR_FORMAT, "ssh -G gave the connect timeout \"%.40s\"",
			                  value);
		c->connect_timeout = strcmp(value, "none") == 0 ? 0 : (int)n;
	} else if (strcmp(key, "serveraliveinterval") == 0 ||
	           strcmp(key, "serveralivecountmax") == 0) {
		if (!number(value, 86400, &n))
			return reason_set(why, ERR_FORMAT, "ssh -G gave %s \"%.40s\"", key, value);
		if (strcmp(key, "serveraliveinterval") == 0)
			c->alive_interval = (int)n;
		else
			c->alive_count_max = (int)n;
	} else if (strcmp(key, "rekeylimit") == 0) {
		/* "BYTES SECONDS": the volume counts once the connection is ours (a handoff). */
		char bytes[32];
		size_t len = strcspn(value, " ");

		snprintf(bytes, sizeof(bytes), "%.*s", (int)(len < sizeof(bytes) ? len : 0), value);
		if (!number(bytes, LONG_MAX, &n))
			return reason_set(why, ERR_FORMAT, "ssh -G gave the rekey limit \"%.40s\"",
			                  value);
		c->rekey_bytes = (uint64_t)n;
	} else if (strcmp(key, "addressfamily") == 0) {
		c->family = strcmp(value, "inet") == 0 ? AF_INET :
		            strcmp(value, "inet6") == 0 ? AF_INET6 : AF_UNSPEC;
	} else if (strcmp(key, "requesttty") == 0) {
		c->tty = strcmp(value, "no") == 0 ? TTY_NO : strcmp(value, "yes") == 0 ? TTY_YES :
		         strcmp(value, "force") == 0 ? TTY_FORCE : TTY_AUTO;
	} else if (strcmp(key, "clearallforwardings") == 0) {
		c->clear_forwardings = strcmp(value, "yes") == 0;
	} else if (strcmp(key, "sendenv") == 0) {
		return add(c->send_env, &c->nsend_env, value, why);
	} else if (strcmp(key, "setenv") == 0) {
		return add(c->set_env, &c->nset_env, value, why);
	}
	return ERR_OK;
}

int delegate_config_check(struct delegate_config *c, struct reason *why)
{
	if (c->hostname == NULL || c->user == NULL || c->port == 0)
		return reason_set(why, ERR_FORMAT, "ssh -G did not say the host name, user and port");
	if (c->refused[0] != '\0' || (c->forwarding[0] != '\0' && !c->clear_forwardings))
		return reason_set(why, ERR_DENIED, "%s cannot be honoured: a guarded session runs "
		                  "one command and nothing else",
		                  c->refused[0] != '\0' ? c->refused : c->forwarding);
	return ERR_OK;
}

void delegate_config_free(struct delegate_config *c)
{
	free(c->hostname);
	free(c->user);
	for (size_t i = 0; i < c->nsend_env; i++)
		free(c->send_env[i]);
	for (size_t i = 0; i < c->nset_env; i++)
		free(c->set_env[i]);
	memset(c, 0, sizeof(*c));
}

/* The child: ssh -G, its output and its errors into pipes. */
static void run_ssh(char *const argv[], int out, int err)
{
	if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		_exit(127);
	execvp("ssh", argv);
	fprintf(stderr, "p11guard-ssh: ssh -G could not run (%s): p11guard-ssh reads the ssh "
	        "configuration through it; install openssh-client\n", strerror(errno));
	_exit(127);
}

/* ssh -G's complaints, shown only when it failed: it also remarks on terminals. */
static void show_errors(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(STDERR_FILENO, buf, (size_t)n) != n)
			break;
}

int delegate_config_read(char *const argv[], struct delegate_config *c, struct reason *why)
{
	char line[MAX_LINE];
	int fds[2], errs[2], status, r = ERR_OK;
	pid_t pid;
	FILE *in;

	memset(c, 0, sizeof(*c));
	if (pipe(fds) != 0)
		return reason_set(why, ERR_SYSTEM, "running ssh -G: %s", strerror(errno));
	if (pipe(errs) != 0 || (pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return reason_set(why, ERR_SYSTEM, "running ssh -G: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		close(errs[0]);
		run_ssh(argv, fds[1], errs[1]);
	}
	close(fds[1]);
	close(errs[1]);
	if ((in = fdopen(fds[0], "r")) == NULL) {
		close(fds[0]);
		r = reason_set(why, ERR_SYSTEM, "reading ssh -G: %s", strerror(errno));
	}
	while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (r == ERR_OK)
			r = delegate_config_line(c, line, why);
	}
	if (in != NULL)
		fclose(in);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == ERR_OK && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		show_errors(errs[0]);
		r = reason_set(why, ERR_CONFIG, "ssh -G refused these options or the configuration "
		               "(its message is above)");
	}
	close(errs[0]);
	return r == ERR_OK ? delegate_config_check(c, why) : r;
}
