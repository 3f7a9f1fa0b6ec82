/* The rescan thread behind token hot-plug, and the events that wake it early. */
#include <errno.h>
#include <time.h>

#include "deadline.h"
#include "hotplug.h"
#include "log.h"

/* Events coming in bursts (a card's insertion is several) cost one rescan. */
#define HOTPLUG_SETTLE_MS 50

static void *hotplug_main(void *arg)
{
	struct hotplug *h = arg;
	struct timespec until;

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		deadline_in(&until, (long)h->interval * 1000);
		while (!h->stop && !h->kicked &&
		       pthread_cond_timedwait(&h->cond, &h->lock, &until) != ETIMEDOUT)
			;
		if (h->stop)
			break;
		if (h->kicked) {
			deadline_in(&until, HOTPLUG_SETTLE_MS);
			while (!h->stop &&
			       pthread_cond_timedwait(&h->cond, &h->lock, &until) != ETIMEDOUT)
				;
		}
		h->kicked = 0;
		pthread_mutex_unlock(&h->lock);
		keystore_rescan(h->ks);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

void hotplug_kick(struct hotplug *h)
{
	pthread_mutex_lock(&h->lock);
	h->kicked = 1;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static void kick_from_token_layer(void *ctx)
{
	hotplug_kick(ctx);
}

int hotplug_start(struct hotplug *h, struct keystore *ks, unsigned interval)
{
	pthread_condattr_t attr;

	h->ks = ks;
	h->interval = interval ? interval : HOTPLUG_INTERVAL_DEFAULT;
	h->kicked = h->stop = h->running = 0;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&h->thread, NULL, hotplug_main, h) != 0)
		return ERR_SYSTEM;
	h->running = 1;
	p11_events_set_handler(kick_from_token_layer, h);
	if (!p11_pcsc_watch())
		log_warn("could not start following pcsc-lite reader events");
	log_debug("token rescans every %us and on slot or reader events", h->interval);
	return ERR_OK;
}

void hotplug_stop(struct hotplug *h)
{
	if (!h->running)
		return;
	p11_events_set_handler(NULL, NULL);
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	h->running = 0;
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
}
