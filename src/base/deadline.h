/* Deadlines on the monotonic clock: prompts, the unlock back-off, rescans, notices, spins. */
#ifndef P11G_DEADLINE_H
#define P11G_DEADLINE_H

#include <stdint.h>
#include <time.h>

/* Sets `d` to `ms` milliseconds from now. */
void deadline_in(struct timespec *d, long ms);
/* Milliseconds until `d`; zero or negative once it has passed. */
long deadline_ms_left(const struct timespec *d);
/* Whether `d` has been reached. */
int deadline_passed(const struct timespec *d);
/* Microseconds on the monotonic clock, for measuring short intervals. */
uint64_t monotonic_us(void);

#endif
