/*
 * Confirmations: the screen gate (one prompt at a time), the per-hop decline throttle, and
 * the choice between askpass and pinentry. A hostile intermediary that raises prompts in a
 * loop, hoping for a tired "yes", gets one prompt at a time and then none for a minute.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "confirm.h"
#include "deadline.h"
#include "pinentry.h"
#include "prompt.h"

/* Hops remembered at once; the least recently seen one makes room for a new one. */
#define CONFIRM_ORIGINS_MAX 32
/*
 * Requests waiting for the screen hold a worker thread each: beyond this many, a request
 * is declined at once, so that a flood of confirmations cannot take every worker from
 * clients that need none.
 */
#define CONFIRM_MAX_WAITING 4
#define US_PER_S 1000000ULL

struct origin_state {
	char id[96];
	uint64_t declined_us[CONFIRM_DECLINES_MAX];     /* a ring; 0: empty */
	size_t next;
	uint64_t blocked_until_us;
	uint64_t seen_us;
};

static pthread_mutex_t confirm_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t screen_free;
static pthread_once_t screen_once = PTHREAD_ONCE_INIT;
static int screen_busy;
static int screen_waiting;
static struct origin_state origins[CONFIRM_ORIGINS_MAX];

/* The condition waits on the monotonic clock, as deadline.h's deadlines do. */
static void screen_init(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&screen_free, &attr);
	pthread_condattr_destroy(&attr);
}

/* The hop's record, made when `create`; NULL for local requests. Under confirm_lock. */
static struct origin_state *origin_find(const char *origin, int create, uint64_t now)
{
	struct origin_state *o, *oldest = &origins[0];

	if (origin == NULL)
		return NULL;
	for (size_t i = 0; i < CONFIRM_ORIGINS_MAX; i++) {
		o = &origins[i];
		if (o->id[0] != '\0' && strcmp(o->id, origin) == 0) {
			o->seen_us = now;
			return o;
		}
		if (o->seen_us < oldest->seen_us)
			oldest = o;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->id, sizeof(oldest->id), "%s", origin);
	oldest->seen_us = now;
	return oldest;
}

/* ERR_DENIED, without asking, while the hop is held off. Under confirm_lock. */
static int origin_check(const char *origin, uint64_t now, struct reason *why)
{
	const struct origin_state *o = origin_find(origin, 0, now);

	if (o == NULL || o->blocked_until_us <= now)
		return ERR_OK;
	return reason_set(why, ERR_DENIED, "declined without asking: %d confirmations for "
	                  "requests through %s were declined within %d s; its requests are "
	                  "refused for %llu s more", CONFIRM_DECLINES_MAX, origin,
	                  CONFIRM_DECLINE_WINDOW_S,
	                  (unsigned long long)((o->blocked_until_us - now) / US_PER_S + 1));
}

/* Counts a decline; the last of CONFIRM_DECLINES_MAX within the window holds the hop off. */
static void origin_declined(const char *origin, uint64_t now)
{
	struct origin_state *o = origin_find(origin, 1, now);
	uint64_t window = CONFIRM_DECLINE_WINDOW_S * US_PER_S, oldest;

	if (o == NULL)
		return;
	o->declined_us[o->next] = now;
	o->next = (o->next + 1) % CONFIRM_DECLINES_MAX;
	oldest = o->declined_us[o->next];
	if (oldest != 0 && now - oldest <= window) {
		o->blocked_until_us = now + window;
		memset(o->declined_us, 0, sizeof(o->declined_us));
	}
}

/* Waits until no other confirmation is on screen, at most `timeout` s. Under confirm_lock. */
static int screen_take(unsigned timeout, struct reason *why)
{
	struct timespec deadline;
	int r = 0;

	if (screen_busy && screen_waiting >= CONFIRM_MAX_WAITING)
		return reason_set(why, ERR_DENIED, "declined without asking: %d confirmations "
		                  "are already waiting for the one on screen", screen_waiting);
	deadline_in(&deadline, (long)timeout * 1000);
	screen_waiting++;
	while (screen_busy && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&screen_free, &confirm_lock, &deadline);
	screen_waiting--;
	if (screen_busy)
		return reason_set(why, ERR_DENIED, "declined without asking: another "
		                  "confirmation stayed on screen for the whole prompt timeout "
		                  "(%u s)", timeout);
	screen_busy = 1;
	return ERR_OK;
}

static int ask(const struct confirm_prompt *how, const char *text, unsigned timeout,
               struct reason *why)
{
	if (how->via == CONFIRM_VIA_PINENTRY)
		return pinentry_confirm(how->program, text, timeout, why);
	return prompt_confirm(text, why);
}

int confirm_ask(const struct confirm_prompt *how, const char *origin, const char *text,
                struct reason *why)
{
	unsigned timeout = prompt_get_timeout();
	int r;

	pthread_once(&screen_once, screen_init);
	pthread_mutex_lock(&confirm_lock);
	if ((r = origin_check(origin, monotonic_us(), why)) == ERR_OK &&
	    (r = screen_take(timeout, why)) == ERR_OK &&
	    (r = origin_check(origin, monotonic_us(), why)) != ERR_OK) {
		/* Held off while it waited: its earlier prompts were declined meanwhile. */
		screen_busy = 0;
		pthread_cond_signal(&screen_free);
	}
	pthread_mutex_unlock(&confirm_lock);
	if (r != ERR_OK)
		return r;

	r = ask(how, text, timeout, why);

	pthread_mutex_lock(&confirm_lock);
	screen_busy = 0;
	pthread_cond_signal(&screen_free);
	/* Only a person's no counts: a missing prompt program asked nobody. */
	if (r == ERR_DENIED)
		origin_declined(origin, monotonic_us());
	pthread_mutex_unlock(&confirm_lock);
	if (r == ERR_OK)
		return ERR_OK;
	reason_wrap(why, "declined");
	return why->code = ERR_DENIED;
}
