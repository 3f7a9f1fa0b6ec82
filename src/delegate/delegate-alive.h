/*
 * ServerAliveInterval and ServerAliveCountMax as ssh has them: a keepalive when the server
 * said nothing for the interval, and the connection given up after CountMax of them went
 * unanswered. Relayed, the agent sends them (a KEEPALIVE frame); after a handoff, we do.
 */
#ifndef P11G_DELEGATE_ALIVE_H
#define P11G_DELEGATE_ALIVE_H

#include <stdint.h>

struct delegate_alive {
	uint64_t interval_us, next_us;
	int max, missed;
};

void delegate_alive_start(struct delegate_alive *a, int interval_seconds, int count_max);
/* poll()'s timeout until the next keepalive is due; -1 without keepalives. */
int delegate_alive_timeout(const struct delegate_alive *a);
/* Bytes came from the server. */
void delegate_alive_heard(struct delegate_alive *a);
/* 1: send a keepalive now; 0: nothing to do; -1: the server is given up (said on stderr). */
int delegate_alive_due(struct delegate_alive *a);

#endif
