/*
 * Runs SSH_ASKPASS as OpenSSH does (SSH_ASKPASS_PROMPT=confirm for yes/no questions) with a
 * deadline. It is called from worker threads, so the child only execs: the environment is
 * built before fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "prompt.h"

extern char **environ;

static unsigned prompt_timeout = PROMPT_TIMEOUT_DEFAULT;

/* Set by a reload on the event loop while workers may be prompting. */
void prompt_set_timeout(unsigned seconds)
{
	__atomic_store_n(&prompt_timeout, seconds, __ATOMIC_RELAXED);
}

unsigned prompt_get_timeout(void)
{
	return __atomic_load_n(&prompt_timeout, __ATOMIC_RELAXED);
}

static const char *askpass_program(void)
{
	const char *p = getenv("SSH_ASKPASS");

	if (p != NULL && *p != '\0')
		return p;
	if (access("/usr/bin/ssh-askpass", X_OK) == 0)
		return "/usr/bin/ssh-askpass";
	return NULL;
}

/* environ plus SSH_ASKPASS_PROMPT=confirm when asked; freed with free() (one block). */
static char **build_env(int confirm)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SSH_ASKPASS_PROMPT=", 19) != 0)
			env[k++] = environ[i];
	if (confirm)
		env[k++] = "SSH_ASKPASS_PROMPT=confirm";
	env[k] = NULL;
	return env;
}

/* Reads the child's output until EOF or the deadline; returns 0, or -1 on timeout. */
static int read_answer(int fd, char *out, size_t size, size_t *len,
                       const struct timespec *deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char sink[256];
	ssize_t got;
	long wait;

	*len = 0;
	for (;;) {
		if ((wait = deadline_ms_left(deadline)) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)wait) <= 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (*len + 1 < size)
			got = read(fd, out + *len, size - 1 - *len);
		else
			got = read(fd, sink, sizeof(sink));  /* an over-long answer is cut */
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return 0;
		if (*len + 1 < size)
			*len += (size_t)got;
		explicit_bzero(sink, sizeof(sink));
	}
}

static int run_askpass(const char *text, int confirm, char *out, size_t size, int *status,
                       struct reason *why)
{
	const char *prog = askpass_program();
	struct timespec deadline;
	char **env;
	int fds[2], timed_out;
	unsigned timeout;
	size_t len = 0;
	pid_t pid;

	if (prog == NULL)
		return reason_set(why, ERR_DENIED, "no SSH_ASKPASS program to ask the user");
	if ((env = build_env(confirm)) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	if (pipe2(fds, O_CLOEXEC) != 0) {
		free(env);
		return reason_set(why, ERR_SYSTEM, "pipe: %s", strerror(errno));
	}
	if ((pid = fork()) == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		execve(prog, (char *[]){ (char *)prog, (char *)text, NULL }, env);
		_exit(127);
	}
	free(env);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return reason_set(why, ERR_SYSTEM, "fork: %s", strerror(errno));
	}
	timeout = __atomic_load_n(&prompt_timeout, __ATOMIC_RELAXED);
	deadline_in(&deadline, (long)timeout * 1000);
	timed_out = read_answer(fds[0], out, size, &len, &deadline) != 0;
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	out[len] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (timed_out) {
		explicit_bzero(out, size);
		return reason_set(why, ERR_DENIED, "no answer from %s within %u s", prog,
		                  timeout);
	}
	return ERR_OK;
}

int prompt_secret(const char *text, char *out, size_t size, struct reason *why)
{
	int status = 0, r;

	if ((r = run_askpass(text, 0, out, size, &status, why)) != ERR_OK)
		return r;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		explicit_bzero(out, size);
		return reason_set(why, ERR_PIN_NEEDED, "PIN prompt was cancelled");
	}
	return ERR_OK;
}

int prompt_confirm(const char *text, struct reason *why)
{
	char answer[64];
	int status = 0, r;

	if ((r = run_askpass(text, 1, answer, sizeof(answer), &status, why)) != ERR_OK)
		return r;
	/* OpenSSH's rule: exit 0 means yes, whatever was printed. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return reason_set(why, ERR_DENIED, "the user declined the confirmation");
	return ERR_OK;
}
