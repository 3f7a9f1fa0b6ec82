/*
 * The pinentry conversation: greeting, a few SET commands, GETPIN or CONFIRM, BYE. The PIN
 * arrives in D lines, is decoded straight into the caller's buffer, and every line buffer
 * that held it is wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "assuan.h"
#include "deadline.h"
#include "pinentry.h"

/* gpg-error codes pinentry answers with: the user said no, or let it time out. */
#define ASSUAN_TIMEOUT 62
#define ASSUAN_CANCELED 99
#define ASSUAN_NOT_CONFIRMED 114

struct conversation {
	int fd;
	struct timespec deadline;
	char line[ASSUAN_LINE_MAX + 2];
	size_t used;            /* bytes in `line` not yet consumed */
};

/* Reads one line (without LF) into cv->line; returns its length, or -1. */
static long read_line(struct conversation *cv)
{
	struct pollfd p = { cv->fd, POLLIN, 0 };
	char *lf;
	ssize_t n;
	long len;

	while ((lf = memchr(cv->line, '\n', cv->used)) == NULL) {
		if (cv->used >= sizeof(cv->line) - 1 || deadline_ms_left(&cv->deadline) <= 0 ||
		    poll(&p, 1, (int)deadline_ms_left(&cv->deadline)) != 1)
			return -1;
		n = read(cv->fd, cv->line + cv->used, sizeof(cv->line) - 1 - cv->used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		cv->used += (size_t)n;
	}
	len = lf - cv->line;
	return len;
}

/* Drops the line just read (wiping it: a D line carries the PIN). */
static void consume_line(struct conversation *cv, long len)
{
	size_t rest = cv->used - (size_t)len - 1;

	memmove(cv->line, cv->line + len + 1, rest);
	explicit_bzero(cv->line + rest, sizeof(cv->line) - rest);
	cv->used = rest;
}

/* Waits for the reply to a command; D data goes to `data`. ERR replies are returned. */
static int await_reply(struct conversation *cv, struct assuan_reply *reply, char *data,
                       size_t size, size_t *data_len, struct reason *why)
{
	long len;
	int r;

	for (;;) {
		if ((len = read_line(cv)) < 0)
			return reason_set(why, ERR_DENIED, "pinentry: no answer in time, or it "
			                  "went away");
		r = assuan_parse_reply((const uint8_t *)cv->line, (size_t)len, reply, data, size,
		                       data_len);
		consume_line(cv, len);
		if (r != ERR_OK)
			return reason_set(why, ERR_DENIED, "pinentry: malformed reply");
		if (reply->kind == ASSUAN_OK || reply->kind == ASSUAN_ERR)
			return ERR_OK;
		if (reply->kind == ASSUAN_INQUIRE)
			return reason_set(why, ERR_DENIED, "pinentry: unexpected INQUIRE");
	}
}

static int send_command(struct conversation *cv, const char *verb, const char *arg,
                        struct reason *why)
{
	char line[ASSUAN_LINE_MAX + 2], escaped[ASSUAN_LINE_MAX];
	int n;

	if (arg != NULL && assuan_escape(arg, escaped, sizeof(escaped)) != ERR_OK)
		return reason_set(why, ERR_TOO_LARGE, "pinentry: %s text too long", verb);
	n = snprintf(line, sizeof(line), "%s%s%s\n", verb, arg ? " " : "", arg ? escaped : "");
	if (n < 0 || (size_t)n >= sizeof(line) || write(cv->fd, line, (size_t)n) != n)
		return reason_set(why, ERR_DENIED, "pinentry: could not send %s", verb);
	return ERR_OK;
}

/* A command whose ERR reply is tolerated (older pinentries lack some options). */
static int set_option(struct conversation *cv, const char *verb, const char *arg,
                      struct reason *why)
{
	struct assuan_reply reply;
	char none[1];
	size_t none_len = 0;
	int r;

	if ((r = send_command(cv, verb, arg, why)) != ERR_OK)
		return r;
	return await_reply(cv, &reply, none, sizeof(none), &none_len, why);
}

/* Named by `p11guard tty`; it outranks $GPG_TTY, which a service usually lacks anyway. */
static pthread_mutex_t terminal_lock = PTHREAD_MUTEX_INITIALIZER;
static char terminal_tty[256], terminal_type[64];

void pinentry_set_terminal(const char *tty, const char *term)
{
	pthread_mutex_lock(&terminal_lock);
	snprintf(terminal_tty, sizeof(terminal_tty), "%s", tty);
	snprintf(terminal_type, sizeof(terminal_type), "%s", term);
	pthread_mutex_unlock(&terminal_lock);
}

static void current_terminal(char *tty, size_t tty_size, char *term, size_t term_size)
{
	const char *env_tty = getenv("GPG_TTY"), *env_term = getenv("TERM");

	pthread_mutex_lock(&terminal_lock);
	if (terminal_tty[0] != '\0') {
		snprintf(tty, tty_size, "%s", terminal_tty);
		snprintf(term, term_size, "%s", terminal_type);
	} else {
		snprintf(tty, tty_size, "%s", env_tty ? env_tty : "");
		snprintf(term, term_size, "%s", env_term ? env_term : "");
	}
	pthread_mutex_unlock(&terminal_lock);
}

/* Greeting, terminal, timeout, title and text: what a PIN and a confirmation dialog share. */
static int open_dialog(struct conversation *cv, const char *description, unsigned timeout,
                       struct reason *why)
{
	struct assuan_reply reply;
	char none[1], num[32], opt[512], tty[256], term[64];
	size_t none_len = 0;
	int r;

	current_terminal(tty, sizeof(tty), term, sizeof(term));
	if ((r = await_reply(cv, &reply, none, sizeof(none), &none_len, why)) != ERR_OK)
		return r;
	if (reply.kind != ASSUAN_OK)
		return reason_set(why, ERR_DENIED, "pinentry refused to start");
	snprintf(num, sizeof(num), "%u", timeout);
	if (tty[0] != '\0') {
		snprintf(opt, sizeof(opt), "ttyname=%s", tty);
		if ((r = set_option(cv, "OPTION", opt, why)) != ERR_OK)
			return r;
		snprintf(opt, sizeof(opt), "ttytype=%s", term[0] ? term : "vt100");
		if ((r = set_option(cv, "OPTION", opt, why)) != ERR_OK)
			return r;
	}
	if ((r = set_option(cv, "SETTIMEOUT", num, why)) != ERR_OK ||
	    (r = set_option(cv, "SETTITLE", "p11guard", why)) != ERR_OK)
		return r;
	return set_option(cv, "SETDESC", description, why);
}

struct pin_request {
	char *pin;
	size_t size;
};

static int ask_pin(struct conversation *cv, void *ctx, unsigned timeout, struct reason *why)
{
	struct pin_request *req = ctx;
	struct assuan_reply reply;
	size_t pin_len = 0;
	int r;

	(void)timeout;
	if ((r = set_option(cv, "SETPROMPT", "PIN:", why)) != ERR_OK ||
	    (r = send_command(cv, "GETPIN", NULL, why)) != ERR_OK ||
	    (r = await_reply(cv, &reply, req->pin, req->size, &pin_len, why)) != ERR_OK)
		return r;
	if (reply.kind == ASSUAN_ERR && (reply.code & 0xffff) == ASSUAN_CANCELED)
		return reason_set(why, ERR_PIN_NEEDED, "PIN entry was cancelled");
	if (reply.kind == ASSUAN_ERR)
		return reason_set(why, ERR_PIN_NEEDED, "PIN entry failed (pinentry error %lu)",
		                  reply.code);
	if (pin_len == 0)
		return reason_set(why, ERR_PIN_NEEDED, "an empty PIN was entered");
	return ERR_OK;
}

static int ask_confirm(struct conversation *cv, void *ctx, unsigned timeout,
                       struct reason *why)
{
	struct assuan_reply reply;
	char none[1];
	size_t none_len = 0;
	int r;

	(void)ctx;
	if ((r = set_option(cv, "SETOK", "_Allow", why)) != ERR_OK ||
	    (r = set_option(cv, "SETCANCEL", "_Deny", why)) != ERR_OK ||
	    (r = send_command(cv, "CONFIRM", NULL, why)) != ERR_OK ||
	    (r = await_reply(cv, &reply, none, sizeof(none), &none_len, why)) != ERR_OK)
		return r;
	if (reply.kind == ASSUAN_OK)
		return ERR_OK;
	switch (reply.code & 0xffff) {
	case ASSUAN_CANCELED:
	case ASSUAN_NOT_CONFIRMED:
		return reason_set(why, ERR_DENIED, "Deny was chosen in pinentry");
	case ASSUAN_TIMEOUT:
		return reason_set(why, ERR_DENIED, "no answer in pinentry within %u s", timeout);
	default:
		return reason_set(why, ERR_DENIED, "pinentry error %lu", reply.code);
	}
}

/* Runs `program`, opens a dialog showing `description`, and lets `ask` finish it. */
static int run_dialog(const char *program, const char *description, unsigned timeout,
                      int (*ask)(struct conversation *, void *, unsigned, struct reason *),
                      void *ctx, struct reason *why)
{
	struct conversation cv;
	int sv[2], r, status;
	pid_t pid;

	if (access(program, X_OK) != 0)
		return reason_set(why, ERR_SYSTEM, "%s: cannot run the pinentry program: %s",
		                  program, strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return reason_set(why, ERR_SYSTEM, "socketpair: %s", strerror(errno));
	if ((pid = fork()) == 0) {
		dup2(sv[1], STDIN_FILENO);
		dup2(sv[1], STDOUT_FILENO);
		execl(program, program, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return reason_set(why, ERR_SYSTEM, "fork: %s", strerror(errno));
	}
	memset(&cv, 0, sizeof(cv));
	cv.fd = sv[0];
	deadline_in(&cv.deadline, ((long)timeout + 1) * 1000);  /* pinentry's own comes first */
	if ((r = open_dialog(&cv, description, timeout, why)) == ERR_OK &&
	    (r = ask(&cv, ctx, timeout, why)) == ERR_OK)
		(void)!write(cv.fd, "BYE\n", 4);
	close(cv.fd);
	explicit_bzero(cv.line, sizeof(cv.line));
	if (r != ERR_OK)
		kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r != ERR_OK && strstr(why->text, "pinentry") != NULL)
		reason_wrap(why, "%s", program);
	return r;
}

int pinentry_get_pin(const char *program, const char *description, unsigned timeout,
                     char *pin, size_t size, struct reason *why)
{
	struct pin_request req = { pin, size };
	int r;

	pin[0] = '\0';
	if ((r = run_dialog(program, description, timeout, ask_pin, &req, why)) == ERR_OK)
		return ERR_OK;
	explicit_bzero(pin, size);
	/* A PIN that could not be asked for is a missing PIN, whatever the cause. */
	if (r == ERR_SYSTEM || r == ERR_DENIED)
		why->code = r = ERR_PIN_NEEDED;
	return r;
}

int pinentry_confirm(const char *program, const char *description, unsigned timeout,
                     struct reason *why)
{
	return run_dialog(program, description, timeout, ask_confirm, NULL, why);
}
