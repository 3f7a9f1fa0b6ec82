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
#include <strings.h>
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

/*
 * Reads the child's output until EOF or the deadline into `out` (NUL-terminated); returns 0,
 * or -1 on timeout. Output beyond `size` - 1 bytes is read and dropped, and `*cut` is set.
 */
static int read_answer(int fd, char *out, size_t size, size_t *len, int *cut,
                       const struct timespec *deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char sink[256];
	ssize_t got;
	long wait;
	int r = -1;

	*len = 0;
	*cut = 0;
	for (;;) {
		if ((wait = deadline_ms_left(deadline)) <= 0)
			break;
		if (poll(&pfd, 1, (int)wait) <= 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (*len + 1 < size)
			got = read(fd, out + *len, size - 1 - *len);
		else
			got = read(fd, sink, sizeof(sink));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = 0;
			break;
		}
		if (*len + 1 < size)
			*len += (size_t)got;
		else
			*cut = 1;
	}
	explicit_bzero(sink, sizeof(sink));
	out[*len] = '\0';
	return r;
}

/* What one askpass run gave: its output (whole, unless `cut`) and how it ended. */
struct askpass_run {
	size_t len;
	int cut;
	int status;
};

static int run_askpass(const char *text, int confirm, char *out, size_t size,
                       struct askpass_run *run, struct reason *why)
{
	const char *prog = askpass_program();
	struct timespec deadline;
	char **env;
	int fds[2], timed_out;
	unsigned timeout;
	pid_t pid;

	if (prog == NULL)
		return reason_set(why, ERR_SYSTEM, "no SSH_ASKPASS program to ask the user");
	if (access(prog, X_OK) != 0)
		return reason_set(why, ERR_SYSTEM, "cannot run the SSH_ASKPASS program %s: %s",
		                  prog, strerror(errno));
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
	timeout = prompt_get_timeout();
	deadline_in(&deadline, (long)timeout * 1000);
	timed_out = read_answer(fds[0], out, size, &run->len, &run->cut, &deadline) != 0;
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &run->status, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		explicit_bzero(out, size);
		return reason_set(why, ERR_DENIED, "no answer from %s within %u s", prog,
		                  timeout);
	}
	return ERR_OK;
}

int prompt_secret(const char *text, char *out, size_t size, struct reason *why)
{
	struct askpass_run run;
	int r;

	if ((r = run_askpass(text, 0, out, size, &run, why)) != ERR_OK) {
		if (r == ERR_SYSTEM)
			why->code = r = ERR_PIN_NEEDED;
		return r;
	}
	if (!WIFEXITED(run.status) || WEXITSTATUS(run.status) != 0) {
		explicit_bzero(out, size);
		return reason_set(why, ERR_PIN_NEEDED, "PIN prompt was cancelled");
	}
	out[strcspn(out, "\r\n")] = '\0';
	return ERR_OK;
}

int prompt_answer_is_yes(const char *answer, size_t len)
{
	if (len > 0 && answer[len - 1] == '\n') {
		len--;
		if (len > 0 && answer[len - 1] == '\r')
			len--;
	}
	return len == 0 || (len == 3 && strncasecmp(answer, "yes", 3) == 0);
}

int prompt_confirm(const char *text, struct reason *why)
{
	struct askpass_run run;
	char answer[64];
	int r;

	if ((r = run_askpass(text, 1, answer, sizeof(answer), &run, why)) != ERR_OK)
		return r;
	if (WIFSIGNALED(run.status))
		return reason_set(why, ERR_DENIED, "the prompt program died of signal %d",
		                  WTERMSIG(run.status));
	if (WEXITSTATUS(run.status) != 0)
		return reason_set(why, ERR_DENIED, "the prompt exited with status %d (no)",
		                  WEXITSTATUS(run.status));
	/* Stricter than OpenSSH, which reads only the first line: all of it must say yes. */
	if (run.cut || !prompt_answer_is_yes(answer, run.len))
		return reason_set(why, ERR_DENIED, "the prompt answered something other than yes");
	return ERR_OK;
}
