/*
 * Slot events: a thread per module that offers a blocking C_WaitForSlotEvent, and the one
 * handler they all call. Modules without it are covered by the caller's periodic rescan.
 */
#include <unistd.h>

#include "p11-internal.h"

static void (*handler)(void *ctx);
static void *handler_ctx;
static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;

void p11_events_set_handler(void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&handler_lock);
	handler = fn;
	handler_ctx = ctx;
	pthread_mutex_unlock(&handler_lock);
}

void p11_events_notify(void)
{
	pthread_mutex_lock(&handler_lock);
	if (handler != NULL)
		handler(handler_ctx);
	pthread_mutex_unlock(&handler_lock);
}

/* Errors in a row after which a module's event wait is given up (the rescan stays). */
#define WAIT_MAX_ERRORS 10

static void *wait_events(void *arg)
{
	struct p11_module *m = arg;
	unsigned errors = 0;
	CK_SLOT_ID slot;
	CK_RV rv;

	while (errors < WAIT_MAX_ERRORS) {
		rv = m->fn->C_WaitForSlotEvent(0, &slot, NULL);
		if (rv == CKR_CRYPTOKI_NOT_INITIALIZED || rv == CKR_FUNCTION_NOT_SUPPORTED)
			break;
		if (rv != CKR_OK) {
			errors++;
			sleep(1);       /* e.g. pcscd restarting: no busy loop */
			continue;
		}
		errors = 0;
		p11_events_notify();
	}
	__atomic_store_n(&m->watched, 0, __ATOMIC_RELAXED);
	p11_module_release(m);
	return NULL;
}

int p11_module_watch(struct p11_module *m)
{
	pthread_attr_t attr;
	pthread_t thread;
	CK_SLOT_ID slot;
	CK_RV rv;
	int started;

	if (__atomic_load_n(&m->watched, __ATOMIC_RELAXED))
		return 1;
	/* Asking without blocking tells whether the module has slot events at all. */
	rv = m->fn->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL);
	if (rv != CKR_OK && rv != CKR_NO_EVENT)
		return 0;
	p11_module_ref(m);      /* the thread's own; it never lets the module be finalized */
	__atomic_store_n(&m->watched, 1, __ATOMIC_RELAXED);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = pthread_create(&thread, &attr, wait_events, m) == 0;
	pthread_attr_destroy(&attr);
	if (!started) {
		__atomic_store_n(&m->watched, 0, __ATOMIC_RELAXED);
		p11_module_release(m);
	}
	return started;
}
