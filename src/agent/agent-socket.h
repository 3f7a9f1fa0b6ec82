/*
 * Where p11guard-agent listens when -a is not given, as ssh-agent 10.x does: by default a
 * socket with a random name in ~/.ssh/agent, named after a hash of the host name (homes are
 * shared between hosts); with -T, a fresh private directory under $TMPDIR. Also ssh-agent's
 * clean-up of sockets left there by agents that died. And the one stable path (--stable).
 */
#ifndef P11G_AGENT_SOCKET_H
#define P11G_AGENT_SOCKET_H

#include <stddef.h>

#include "err.h"

/* Binds ~/.ssh/agent/s.HOSTHASH.agent.RANDOM (0600; the directories 0700 and ours). Returns
 * the listening fd, or -1 with `why` set; `path` receives the socket's name. */
int agent_socket_in_home(char *path, size_t size, struct reason *why);

/* Binds $XDG_RUNTIME_DIR/p11guard/agent.sock, the path the systemd units use, replacing a
 * socket nothing listens on; refused while another agent serves there. */
int agent_socket_stable(char *path, size_t size, struct reason *why);

/*
 * Removes sockets in ~/.ssh/agent that nothing listens on any more, last changed over an hour
 * ago and made on this host (any host with `any_host`). Returns how many went, or -1 with
 * `why` set when the directory cannot be read.
 */
int agent_socket_remove_stale(int any_host, struct reason *why);

#endif
