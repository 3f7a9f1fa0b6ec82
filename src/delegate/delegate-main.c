/*
 * p11guard-ssh: the delegate of guarded execution, run on an intermediary in place of ssh.
 * It asks the agent at $SSH_AUTH_SOCK (a forwarded p11guard) to run one command on a server
 * (guarded-exec@p11guard), opens the TCP connection only once the agent accepted, and then
 * only moves bytes: the server's to the agent and back, its own input to the command, the
 * command's output to its own. The agent verifies the server, logs in and writes every packet.
 * Its command line is ssh's (delegate-args.c); the configuration is ssh's, read through
 * `ssh -G` (delegate-config.c).
 *
 * Exit status: the command's, or 255 for p11guard-ssh's own errors and refusals, as ssh.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delegate-args.h"
#include "delegate-config.h"
#include "delegate-handoff.h"
#include "delegate-tty.h"
#include "delegate.h"
#include "match.h"

#define FAILED DELEGATE_FAILED

/* A NAME=VALUE of SetEnv (ssh -G quotes one with spaces) into the request; 0 or -1. */
static int set_env(struct guard_request_wire *g, const char *entry)
{
	size_t len = strlen(entry);
	char *copy, *eq;

	if (len >= 2 && entry[0] == '"' && entry[len - 1] == '"')
		copy = strndup(entry + 1, len - 2);
	else
		copy = strdup(entry);
	if (copy == NULL || (eq = strchr(copy, '=')) == NULL || g->nenv >= SSH_MAX_ENV) {
		free(copy);
		return -1;
	}
	*eq = '\0';
	if (!guard_env_ok(copy, eq + 1)) {
		fprintf(stderr, "p11guard-ssh: SetEnv %s: not a variable a request may carry\n",
		        copy);
		free(copy);
		return -1;
	}
	g->env[g->nenv++] = (struct ssh_env){ copy, eq + 1 };
	return 0;
}

/* The variables SendEnv names, from our environment; SetEnv's, given. The agent passes on
 * those the guarded rule lists (env:), the server those it accepts. */
static int environment(struct guard_request_wire *g, const struct delegate_config *c)
{
	extern char **environ;

	for (char **e = environ; *e != NULL; e++) {
		char *eq = strchr(*e, '='), *name;
		int wanted = 0;

		if (eq == NULL || (name = strndup(*e, (size_t)(eq - *e))) == NULL)
			continue;
		for (size_t i = 0; i < c->nsend_env && !wanted; i++)
			wanted = match_pattern(name, c->send_env[i]);
		if (wanted && guard_env_ok(name, eq + 1) && g->nenv < SSH_MAX_ENV)
			g->env[g->nenv++] = (struct ssh_env){ name, eq + 1 };
		else
			free(name);
	}
	for (size_t i = 0; i < c->nset_env; i++)
		if (set_env(g, c->set_env[i]) != 0)
			return -1;
	return 0;
}

/*
 * Whether the session gets a terminal, as ssh decides: -T never; -tt always; -t or
 * RequestTTY yes when stdin is one; RequestTTY auto not for a command. -1 on failure.
 */
static int terminal(const struct delegate_args *a, const struct delegate_config *c,
                    struct guard_request_wire *g, struct wbuf *modes)
{
	int force = a->tty >= 2 || (a->tty == 0 && c->tty == TTY_FORCE);
	int want = force || a->tty == 1 || (a->tty == 0 && c->tty == TTY_YES);

	if (!want || a->tty < 0)
		return 0;
	if (!isatty(STDIN_FILENO) && !force) {
		if (!a->quiet)
			fprintf(stderr, "Pseudo-terminal will not be allocated because stdin is not a "
			        "terminal.\n");
		return 0;
	}
	g->pty = 1;
	if (isatty(STDIN_FILENO))
		return delegate_tty_describe(&g->term, modes);
	/* Forced without a terminal here: the server's defaults, as ssh -tt gives them. */
	g->term = (struct ssh_pty){ getenv("TERM") ? getenv("TERM") : "dumb", 80, 24, 0, 0,
	                            NULL, 0 };
	if (wbuf_put_u8(modes, 0) != ERR_OK)
		return -1;
	g->term.modes = wbuf_ptr(modes);
	g->term.modes_len = wbuf_avail(modes);
	return 0;
}

static int run(const struct delegate_args *a)
{
	/* We can take the connection over: the agent decides whether the rule allows it. */
	struct guard_request_wire g = { .version = GUARD_VERSION, .kind = a->kind,
	                                .command = a->command, .kex = DELEGATE_HANDOFF_KEX,
	                                .ciphers = (char *)ssh_cipher_names };
	struct delegate_options opts = { .verbose = a->verbose && !a->quiet };
	struct delegate_config c;
	struct reason why;
	struct wbuf modes;
	int status = FAILED;

	reason_clear(&why);
	wbuf_init(&modes, GUARD_MAX_MODES);
	if (delegate_config_read(a->ssh_g, &c, &why) != ERR_OK) {
		fprintf(stderr, "p11guard-ssh: %s\n", why.text);
		goto out;
	}
	if (terminal(a, &c, &g, &modes) != 0 || environment(&g, &c) != 0)
		goto out;
	if (a->stdin_null) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, STDIN_FILENO) < 0) {
			perror("p11guard-ssh: /dev/null");
			goto out;
		}
		close(null);
	}
	g.host = c.hostname;
	g.user = c.user;
	g.port = c.port;
	opts.family = c.family;
	opts.connect_timeout = c.connect_timeout;
	opts.tty = g.pty && isatty(STDIN_FILENO);
	opts.alive_interval = c.alive_interval;
	opts.rekey_bytes = c.rekey_bytes;
	opts.alive_count_max = c.alive_count_max;
	status = delegate_run(&g, getenv("SSH_AUTH_SOCK"), &opts);
out:
	for (size_t i = 0; i < g.nenv; i++)
		free((char *)g.env[i].name);
	delegate_config_free(&c);
	wbuf_free(&modes);
	return status;
}

int main(int argc, char **argv)
{
	struct delegate_args a;
	enum delegate_parsed parsed;
	int status = FAILED;

	signal(SIGPIPE, SIG_IGN);
	parsed = delegate_args_parse(argc, argv, &a);
	if (parsed == ARGS_DONE)
		status = 0;
	else if (parsed == ARGS_RUN && a.print_config) {
		/* git runs this first: exit 0 tells it the program takes ssh's options. */
		fflush(stdout);
		execvp("ssh", a.ssh_g);
		perror("p11guard-ssh: ssh -G");
	} else if (parsed == ARGS_RUN) {
		status = run(&a);
	}
	delegate_args_free(&a);
	return status;
}
