/* The agent socket: a private directory, a 0600 socket, and the peer's credentials. */
#ifndef P11G_LISTENER_H
#define P11G_LISTENER_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Creates a fresh 0700 directory under $TMPDIR (or /tmp) and names a socket inside it. */
int listener_private_path(char *path, size_t size, struct reason *why)
	__attribute__((warn_unused_result));
/* Binds and listens on `path` with mode 0600; returns the fd or -1 with `why` set. */
int listener_open(const char *path, struct reason *why);
int listener_peer(int fd, uid_t *uid, pid_t *pid);

#endif
