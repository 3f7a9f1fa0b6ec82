/* p11guard-agent's command line, as parsed, and its life as a daemon: socket, fork, serve. */
#ifndef P11G_AGENT_DAEMON_H
#define P11G_AGENT_DAEMON_H

#include "config.h"

struct agent_options {
	int csh, debug, foreground, kill_agent;
	int socket_in_tmpdir;           /* -T: as before OpenSSH 10, not in ~/.ssh/agent */
	int socket_stable;              /* --stable: $XDG_RUNTIME_DIR/p11guard/agent.sock */
	int keep_stale_sockets;         /* -U */
	int clean_stale_sockets;        /* -u; twice: those of other hosts too */
	const char *socket_path, *config_path, *allowed_providers;
	long lifetime;
	char **command;
};

/* Prints the environment for `eval`, as ssh-agent does. */
void agent_print_env(const struct agent_options *o, const char *path, long pid);

/*
 * Binds the socket (or takes systemd's), then serves in the foreground, as a daemon, or
 * beside a command. Every failure that stops the agent is reported before the environment
 * is printed: the exit status is then non-zero and stdout empty.
 */
int agent_daemon_serve(const struct agent_options *o, const struct config *cfg);

#endif
