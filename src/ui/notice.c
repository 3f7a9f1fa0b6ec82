/*
 * The notifier thread. Signatures arm a notice (a list insert, no wake-up: the thread looks
 * five times a second), so the fast path costs a mutex and no system call.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "log.h"
#include "notice.h"

#define NOTICE_TICK_MS 200
#define NOTICE_MAX 64           /* shown at once; more are only logged */

struct notice {
	struct notice *next, *prev;
	struct timespec due;
	char title[96], body[512];
	pid_t pid;              /* the notifier process, once shown; 0: none */
	int shown, ended;
	int expires;            /* closes itself at `close_at` (notice_flash) */
	struct timespec close_at;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct notice *armed;
static unsigned delay_ms = NOTICE_DELAY_DEFAULT_MS;
static char *command;           /* NULL: log only */
static int started;

static int on_path(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	char *dirs, *save = NULL;
	int found = 0;

	if (path == NULL || (dirs = strdup(path)) == NULL)
		return 0;
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, size, "%s/%s", d, name);
		found = access(out, X_OK) == 0;
	}
	free(dirs);
	return found;
}

static pid_t spawn(const char *prog, const struct notice *n)
{
	const char *default_args[] = { prog, "--wait", "--app-name=p11guard",
	                               "--urgency=critical", n->title, n->body, NULL };
	const char *custom_args[] = { prog, n->title, n->body, NULL };
	int is_notify_send = strstr(prog, "notify-send") != NULL;
	pid_t pid = fork();

	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
		}
		execv(prog, (char *const *)(is_notify_send ? default_args : custom_args));
		_exit(127);
	}
	return pid < 0 ? 0 : pid;
}

/* Ends a shown notifier: SIGINT, a moment to close its notice, then SIGKILL. */
static void close_notifier(pid_t pid)
{
	int status;

	kill(pid, SIGINT);
	for (int i = 0; i < 50; i++) {
		if (waitpid(pid, &status, WNOHANG) != 0)
			return;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

static void unlink_notice(struct notice *n)
{
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		armed = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
}

/* One tick: shows what is due, reaps what ended. Slow work happens outside the lock. */
static void tick(void)
{
	struct notice *show[NOTICE_MAX], *done[NOTICE_MAX], *n, *next;
	size_t nshow = 0, ndone = 0;
	char prog[4096] = "";
	pid_t pid;

	pthread_mutex_lock(&lock);
	if (command != NULL)
		snprintf(prog, sizeof(prog), "%s", command);
	for (n = armed; n != NULL; n = next) {
		next = n->next;
		if (n->shown && n->expires && deadline_passed(&n->close_at))
			n->ended = 1;
		if (n->ended && ndone < NOTICE_MAX) {
			unlink_notice(n);
			done[ndone++] = n;
		} else if (!n->ended && !n->shown && deadline_passed(&n->due) && nshow < NOTICE_MAX) {
			n->shown = 1;
			show[nshow++] = n;
		}
	}
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < nshow; i++) {
		log_info("%s: %s", show[i]->title, show[i]->body);
		pid = prog[0] != '\0' ? spawn(prog, show[i]) : 0;
		pthread_mutex_lock(&lock);
		show[i]->pid = pid;
		pthread_mutex_unlock(&lock);
	}
	for (size_t i = 0; i < ndone; i++) {
		if (done[i]->pid > 0)
			close_notifier(done[i]->pid);
		if (done[i]->shown)
			log_info("%s: done", done[i]->title);
		free(done[i]);
	}
}

static void *notice_main(void *arg)
{
	(void)arg;
	for (;;) {
		usleep(NOTICE_TICK_MS * 1000);
		tick();
	}
	return NULL;
}

int notice_configure(unsigned delay, const char *cmd, struct reason *why)
{
	char found[4096];
	char *next = NULL;
	pthread_t thread;
	int r = ERR_OK;

	if (cmd != NULL && cmd[0] != '\0')
		next = strdup(cmd);
	else if (cmd == NULL && on_path("notify-send", found, sizeof(found)))
		next = strdup(found);
	pthread_mutex_lock(&lock);
	delay_ms = delay;
	free(command);
	command = next;
	if (!started) {
		if (pthread_create(&thread, NULL, notice_main, NULL) == 0 &&
		    pthread_detach(thread) == 0)
			started = 1;
		else
			r = reason_set(why, ERR_SYSTEM, "could not start the notifier thread");
	}
	pthread_mutex_unlock(&lock);
	return r;
}

static struct notice *arm(const char *title, const char *body, long delay, long expire_ms)
{
	struct notice *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	snprintf(n->title, sizeof(n->title), "%s", title);
	snprintf(n->body, sizeof(n->body), "%s", body);
	if (expire_ms > 0) {
		n->expires = 1;
		deadline_in(&n->close_at, expire_ms);
	}
	pthread_mutex_lock(&lock);
	deadline_in(&n->due, delay);
	n->next = armed;
	if (armed != NULL)
		armed->prev = n;
	armed = n;
	pthread_mutex_unlock(&lock);
	return n;
}

struct notice *notice_arm(const char *title, const char *body, int at_once)
{
	long delay;

	pthread_mutex_lock(&lock);
	delay = at_once ? 0 : (long)delay_ms;
	pthread_mutex_unlock(&lock);
	return arm(title, body, delay, 0);
}

void notice_flash(const char *title, const char *body, unsigned seconds)
{
	arm(title, body, 0, (long)seconds * 1000);     /* the notifier thread frees it */
}

void notice_end(struct notice *n)
{
	int shown;

	if (n == NULL)
		return;
	pthread_mutex_lock(&lock);
	shown = n->shown;
	if (shown)
		n->ended = 1;   /* the thread closes the notifier, unlinks and frees it */
	else
		unlink_notice(n);
	pthread_mutex_unlock(&lock);
	if (!shown)
		free(n);
}
