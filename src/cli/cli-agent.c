/*
 * p11guard reload and p11guard tty: ask the running agent (at $SSH_AUTH_SOCK) to re-read its
 * policy, or to use this terminal for pinentry; on refusal, fetch and print its reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-proto.h"
#include "cli.h"

/* Sends an extension request with `data` (NULL: none); returns the reply type or -1. */
static int extension(int fd, const char *name, const struct wbuf *data, struct wbuf *reply)
{
	struct wbuf req;
	size_t mark;
	int r = -1;

	wbuf_init(&req, 1024);
	if (agent_frame_begin(&req, SSHAGENTC_EXTENSION, &mark) == ERR_OK &&
	    wbuf_put_cstring(&req, name) == ERR_OK &&
	    (data == NULL || wbuf_put_bytes(&req, wbuf_ptr(data), wbuf_avail(data)) == ERR_OK) &&
	    agent_frame_end(&req, mark) == ERR_OK)
		r = agent_client_request(fd, &req, reply);
	wbuf_free(&req);
	return r;
}

/* The agent's account of why this connection's last request was refused. */
static void print_refusal(int fd)
{
	struct wbuf reply;
	char *name = NULL, *text = NULL;

	wbuf_init(&reply, SSHAGENT_MAX_MESSAGE);
	if (extension(fd, "refusal-reason@p11guard", NULL, &reply) == SSHAGENT_EXTENSION_RESPONSE &&
	    wbuf_get_cstring(&reply, &name) == ERR_OK &&
	    wbuf_get_cstring(&reply, &text) == ERR_OK && text[0] != '\0')
		fprintf(stderr, "p11guard: the agent refused: %s\n", text);
	else
		fprintf(stderr, "p11guard: the agent refused and gave no reason (not p11guard?)\n");
	free(name);
	free(text);
	wbuf_free(&reply);
}

static int connect_agent(void)
{
	const char *sock = getenv("SSH_AUTH_SOCK");
	int fd;

	if (sock == NULL || sock[0] == '\0') {
		fprintf(stderr, "p11guard: SSH_AUTH_SOCK is not set: no agent to ask\n");
		return -1;
	}
	if ((fd = agent_client_connect(sock)) < 0)
		fprintf(stderr, "p11guard: cannot reach the agent at %s: %s\n", sock,
		        strerror(errno));
	return fd;
}

int cli_agent_query(const char *name, const struct wbuf *data, struct wbuf *body)
{
	char *echoed = NULL;
	int fd, type;

	if ((fd = connect_agent()) < 0)
		return 1;
	type = extension(fd, name, data, body);
	if (type == SSHAGENT_EXTENSION_RESPONSE && wbuf_get_cstring(body, &echoed) == ERR_OK &&
	    strcmp(echoed, name) == 0) {
		free(echoed);
		close(fd);
		return 0;
	}
	free(echoed);
	if (type == SSHAGENT_EXTENSION_RESPONSE)
		fprintf(stderr, "p11guard: the agent answered %s for another request\n", name);
	else
		print_refusal(fd);
	close(fd);
	return 1;
}

/* Sends the request; on refusal prints the agent's reason. 0 on SSH_AGENT_SUCCESS. */
static int ask(const char *name, const struct wbuf *data)
{
	struct wbuf reply;
	int fd, type;

	if ((fd = connect_agent()) < 0)
		return 1;
	wbuf_init(&reply, SSHAGENT_MAX_MESSAGE);
	type = extension(fd, name, data, &reply);
	wbuf_free(&reply);
	if (type != SSHAGENT_SUCCESS)
		print_refusal(fd);
	close(fd);
	return type == SSHAGENT_SUCCESS ? 0 : 1;
}

static int reload(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: p11guard reload\nMakes the agent at SSH_AUTH_SOCK re-read its "
		       "configuration, as SIGHUP does.\n");
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "p11guard reload: unexpected argument \"%s\"\n"
		        "usage: p11guard reload\n", argv[1]);
		return 2;
	}
	if (ask("reload@p11guard", NULL) != 0)
		return 1;
	printf("p11guard: the agent reloaded its policy\n");
	return 0;
}

/* Silent on success: it runs from shell start-up files, as gpg's updatestartuptty does. */
static int tty(int argc, char **argv)
{
	const char *term = getenv("TERM"), *name = argc == 2 ? argv[1] : ttyname(STDIN_FILENO);
	struct wbuf data;
	int r;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: p11guard tty [DEVICE]\nTells the agent at SSH_AUTH_SOCK that "
		       "pinentry-curses asks on this terminal (or DEVICE).\n");
		return 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "p11guard tty: unexpected argument \"%s\"\nusage: p11guard tty "
		        "[DEVICE]\n", argv[argc - 1]);
		return 2;
	}
	if (name == NULL) {
		fprintf(stderr, "p11guard: standard input is not a terminal; name one: "
		        "p11guard tty /dev/pts/N\n");
		return 1;
	}
	wbuf_init(&data, 1024);
	if (wbuf_put_cstring(&data, name) != ERR_OK ||
	    wbuf_put_cstring(&data, term != NULL && term[0] != '\0' ? term : "vt100") != ERR_OK) {
		fprintf(stderr, "p11guard: terminal name too long\n");
		wbuf_free(&data);
		return 1;
	}
	r = ask("tty@p11guard", &data);
	wbuf_free(&data);
	return r;
}

int cli_agent(int argc, char **argv)
{
	if (strcmp(argv[0], "tty") == 0)
		return tty(argc, argv);
	return reload(argc, argv);
}
