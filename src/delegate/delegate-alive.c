/* ServerAliveInterval: keepalives due, and the server given up after CountMax of them. */
#include <stdio.h>

#include "deadline.h"
#include "delegate-alive.h"
#include "delegate-tty.h"

void delegate_alive_start(struct delegate_alive *a, int interval_seconds, int count_max)
{
	a->interval_us = (uint64_t)interval_seconds * 1000000;
	a->max = count_max;
	delegate_alive_heard(a);
}

int delegate_alive_timeout(const struct delegate_alive *a)
{
	uint64_t now = monotonic_us();

	if (a->interval_us == 0)
		return -1;
	return a->next_us <= now ? 0 : (int)((a->next_us - now + 999) / 1000);
}

void delegate_alive_heard(struct delegate_alive *a)
{
	a->missed = 0;
	a->next_us = monotonic_us() + a->interval_us;
}

int delegate_alive_due(struct delegate_alive *a)
{
	if (a->interval_us == 0 || monotonic_us() < a->next_us)
		return 0;
	if (a->missed >= a->max) {
		delegate_tty_restore();
		fprintf(stderr, "p11guard-ssh: Timeout, the server is not responding (%d keepalives "
		        "unanswered)\n", a->missed);
		return -1;
	}
	a->missed++;
	a->next_us = monotonic_us() + a->interval_us;
	return 1;
}
