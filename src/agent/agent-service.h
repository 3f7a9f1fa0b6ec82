/*
 * Telling whoever started the agent how its start went: a parent waiting to print the
 * environment (a pipe), and systemd (socket activation and sd_notify's protocol, spoken
 * directly: two small datagram formats are less code to trust than libsystemd in a process
 * that holds PINs).
 */
#ifndef P11G_AGENT_SERVICE_H
#define P11G_AGENT_SERVICE_H

#include "err.h"

/*
 * A listening socket handed in by systemd (LISTEN_PID is us, LISTEN_FDS is 1): its fd, made
 * non-blocking and close-on-exec, and the variables unset so that children do not see them.
 * Returns -1 when none was handed in, -2 with `why` set when the hand-over is malformed or
 * the fd is not a listening Unix stream socket.
 */
int service_inherited_socket(struct reason *why);

/* Sends one state ("READY=1", "RELOADING=1", "STOPPING=1") to $NOTIFY_SOCKET, if set. */
void service_notify(const char *state);

/* The start-up report: the child writes to fds[1], the parent reads fds[0]. */
int service_startup_pipe(int fds[2]);
/* The child: serving now (an empty report), or why it stops. Closes the fd; -1 is a no-op. */
void service_report_started(int *fd, const char *failure);
/* The parent: 0 once the child serves; otherwise prints its reason and returns 1. */
int service_wait_started(int fd);

#endif
