/*
 * p11guard's own EXTENSION requests (query and session-bind are the library's): the reason
 * for this connection's last refusal, reloading the policy, and the terminal for pinentry.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "guard-wire.h"
#include "log.h"
#include "pinentry.h"

#define EXT_REFUSAL "refusal-reason@p11guard"
#define EXT_RELOAD "reload@p11guard"
#define EXT_TTY "tty@p11guard"
#define EXT_STATUS "status@p11guard"
#define EXT_WHY "why@p11guard"
#define MAX_TERM 63

/* A response body: one string. */
static int answer_string(struct sshagent_reply *r, const char *text, struct reason *why)
{
	struct wbuf b;
	int rc;

	wbuf_init(&b, SSHAGENT_REASON_MAX + 16);
	if ((rc = wbuf_put_cstring(&b, text)) == ERR_OK)
		rc = sshagent_reply_extension(r, wbuf_ptr(&b), wbuf_avail(&b));
	wbuf_free(&b);
	return rc == ERR_OK ? ERR_OK : reason_set(why, rc, "encoding the answer failed");
}

/* Answers with a report's body (status, why), which `rc` says was built or not. */
static int answer_report(struct sshagent_reply *r, int rc, struct wbuf *body,
                         struct reason *why)
{
	if (rc == ERR_OK && sshagent_reply_extension(r, wbuf_ptr(body), wbuf_avail(body)) != ERR_OK)
		rc = reason_set(why, ERR_TOO_LARGE, "the answer does not fit in a message");
	else if (rc != ERR_OK && why->code == ERR_OK)
		rc = reason_set(why, rc, "the report could not be built");
	wbuf_free(body);
	return rc;
}

static int reload(struct agent *a, struct agent_client *c, struct reason *why)
{
	if (c->bindings->n > 0)
		return reason_set(why, ERR_DENIED, "reload is refused on a forwarded connection");
	if (agent_reload(a, why) != ERR_OK) {
		log_error("%s", why->text);
		return why->code;
	}
	return ERR_OK;
}

/* A terminal type is a short name of letters, digits and ._+- ("xterm-256color"). */
static int term_ok(const char *term)
{
	size_t len = strlen(term);

	if (len == 0 || len > MAX_TERM)
		return 0;
	return strspn(term, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") ==
	       len;
}

/* A terminal (isatty, so not /dev/null) that belongs to the agent's user. */
static int own_terminal(const char *tty)
{
	struct stat st;
	int fd, ok;

	if (strncmp(tty, "/dev/", 5) != 0 || strstr(tty, "/..") != NULL || strlen(tty) > 200 ||
	    stat(tty, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_uid != getuid())
		return 0;
	if ((fd = open(tty, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return 0;
	ok = isatty(fd);
	close(fd);
	return ok;
}

/*
 * `p11guard tty`: the terminal pinentry-curses draws on from now on. Only a terminal of the
 * agent's own user: pinentry would read a PIN from whatever it is pointed at.
 */
static int set_terminal(struct agent_client *c, const struct sshagent_bytes *data,
                        struct reason *why)
{
	char *tty = NULL, *term = NULL;
	struct wbuf b;
	int r = ERR_OK;

	if (c->bindings->n > 0)
		return reason_set(why, ERR_DENIED, "tty is refused on a forwarded connection");
	wbuf_view(&b, data->data, data->len);
	if (wbuf_get_cstring(&b, &tty) != ERR_OK || wbuf_get_cstring(&b, &term) != ERR_OK ||
	    wbuf_avail(&b) != 0)
		r = reason_set(why, ERR_FORMAT, EXT_TTY ": expected two strings, a terminal and "
		               "its TERM");
	else if (!own_terminal(tty))
		r = reason_set(why, ERR_DENIED, "tty: \"%.200s\" is not a terminal of this user",
		               tty);
	else if (!term_ok(term))
		r = reason_set(why, ERR_FORMAT, "tty: \"%.64s\" is not a terminal type", term);
	if (r == ERR_OK) {
		pinentry_set_terminal(tty, term);
		log_info("pinentry's terminal is now %s (TERM=%s), named by pid %ld", tty, term,
		         (long)c->pid);
	}
	free(tty);
	free(term);
	return r;
}

int agent_extension(struct agent *a, struct agent_client *c,
                    const struct sshagent_request *req, struct sshagent_reply *r,
                    struct reason *why)
{
	const char *name = req->u.extension.name;
	int no_data = req->u.extension.data.len == 0;
	struct wbuf body;

	if (strcmp(name, EXT_REFUSAL) == 0 && no_data)
		return answer_string(r, sshagent_conn_last_refusal(c->conn), why);
	if (strcmp(name, EXT_RELOAD) == 0 && no_data)
		return reload(a, c, why);
	if (strcmp(name, EXT_TTY) == 0)
		return set_terminal(c, &req->u.extension.data, why);
	if (strcmp(name, GUARD_EXTENSION) == 0)
		return agent_guarded_exec(a, c, req, r, why);
	if (strcmp(name, EXT_STATUS) == 0 && no_data) {
		wbuf_init(&body, SSHAGENT_MAX_MESSAGE - 64);
		return answer_report(r, agent_report_status(a, &body), &body, why);
	}
	if (strcmp(name, EXT_WHY) == 0) {
		wbuf_init(&body, SSHAGENT_MAX_MESSAGE - 64);
		return answer_report(r, agent_report_refusals(a, &req->u.extension.data, &body, why),
		                     &body, why);
	}
	return reason_set(why, ERR_UNSUPPORTED, "unknown or malformed extension request");
}
