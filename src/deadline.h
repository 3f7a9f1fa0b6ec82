/* Deadlines on the monotonic clock: prompts, the unlock back-off, rescans and notices. */
#ifndef P11G_DEADLINE_H
#define P11G_DEADLINE_H

#include <time.h>

/* Sets `d` to `ms` milliseconds from now. */
void deadline_in(struct timespec *d, long ms);
/* Milliseconds until `d`; zero or negative once it has passed. */
long deadline_ms_left(const struct timespec *d);
/* Whether `d` has been reached. */
int deadline_passed(const struct timespec *d);

#endif
