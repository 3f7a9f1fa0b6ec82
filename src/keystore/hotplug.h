/*
 * The hot-plug thread: rescans the tokens every few seconds, and at once when a slot event,
 * a pcsc-lite reader event or a failed signature says something changed.
 */
#ifndef P11G_HOTPLUG_H
#define P11G_HOTPLUG_H

#include <pthread.h>

#include "keystore.h"

#define HOTPLUG_INTERVAL_DEFAULT 2      /* seconds */

struct hotplug {
	struct keystore *ks;
	unsigned interval;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int kicked, stop, running;
};

int hotplug_start(struct hotplug *h, struct keystore *ks, unsigned interval)
	__attribute__((warn_unused_result));
/* Asks for a rescan now; safe from any thread. */
void hotplug_kick(struct hotplug *h);
/* Stops and joins the thread; the keystore may be freed after. */
void hotplug_stop(struct hotplug *h);

#endif
