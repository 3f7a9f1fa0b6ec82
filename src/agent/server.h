/*
 * The event loop: accepts connections, frames messages and moves bytes. Requests go to a pool
 * of worker threads, so a slow token, a PIN prompt or a stalled client delays no one else.
 */
#ifndef P11G_SERVER_H
#define P11G_SERVER_H

#include <signal.h>
#include <sys/types.h>

#include "agent.h"

#define SERVER_MAX_CONNECTIONS 128
#define SERVER_WORKERS 16
/* A client that leaves a message half-sent this long is disconnected. */
#define SERVER_STALL_SECONDS 10

struct server_options {
	int listen_fd;
	pid_t watch_pid;                /* command mode: stop when this process is gone */
	volatile sig_atomic_t *quit;    /* set by signal handlers */
	volatile sig_atomic_t *reload;  /* SIGHUP: re-read the policy, reopen the audit log */
};

/* Runs until *quit is set or the watched process exits. */
int server_run(struct agent *a, const struct server_options *opt);

#endif
