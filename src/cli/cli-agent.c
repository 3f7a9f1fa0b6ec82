/*
 * p11guard reload: asks the running agent (at $SSH_AUTH_SOCK) to re-read its policy, and on
 * refusal fetches and prints the agent's reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-proto.h"
#include "cli.h"

/* Sends an extension request with no data; returns the reply type or -1. */
static int extension(int fd, const char *name, struct wbuf *reply)
{
	struct wbuf req;
	size_t mark;
	int r = -1;

	wbuf_init(&req, 1024);
	if (agent_frame_begin(&req, SSHAGENTC_EXTENSION, &mark) == ERR_OK &&
	    wbuf_put_cstring(&req, name) == ERR_OK && agent_frame_end(&req, mark) == ERR_OK)
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
	if (extension(fd, "refusal-reason@p11guard", &reply) == SSHAGENT_EXTENSION_RESPONSE &&
	    wbuf_get_cstring(&reply, &name) == ERR_OK &&
	    wbuf_get_cstring(&reply, &text) == ERR_OK && text[0] != '\0')
		fprintf(stderr, "p11guard: the agent refused: %s\n", text);
	else
		fprintf(stderr, "p11guard: the agent refused and gave no reason (not p11guard?)\n");
	free(name);
	free(text);
	wbuf_free(&reply);
}

int cli_agent(int argc, char **argv)
{
	const char *sock = getenv("SSH_AUTH_SOCK");
	struct wbuf reply;
	int fd, type;

	if (argc != 1 || strcmp(argv[0], "reload") != 0) {
		fprintf(stderr, "usage: p11guard reload\n");
		return 2;
	}
	if ((fd = agent_client_connect(sock)) < 0) {
		fprintf(stderr, "p11guard: cannot reach the agent at %s: %s\n",
		        sock ? sock : "(SSH_AUTH_SOCK is not set)", strerror(errno));
		return 1;
	}
	wbuf_init(&reply, SSHAGENT_MAX_MESSAGE);
	type = extension(fd, "reload@p11guard", &reply);
	wbuf_free(&reply);
	if (type == SSHAGENT_SUCCESS)
		printf("p11guard: the agent reloaded its policy\n");
	else
		print_refusal(fd);
	close(fd);
	return type == SSHAGENT_SUCCESS ? 0 : 1;
}
