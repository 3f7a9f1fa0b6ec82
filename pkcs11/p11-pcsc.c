/*
 * pcsc-lite reader events: a reader plugged or unplugged (the PnP notification reader) or a
 * card inserted or pulled. They only make the rescan come early; the rescan decides.
 */
#include <string.h>
#include <unistd.h>

#include <winscard.h>

#include "p11-internal.h"

#define PCSC_MAX_READERS 16
#define PCSC_RETRY_SECONDS 5

/* Fills `states` with the PnP reader and every reader; returns how many. */
static DWORD reader_states(SCARDCONTEXT ctx, char *names, DWORD names_size,
                           SCARD_READERSTATE *states)
{
	DWORD len = names_size, n = 1;

	memset(states, 0, sizeof(*states) * (PCSC_MAX_READERS + 1));
	states[0].szReader = "\\\\?PnP?\\Notification";
	states[0].dwCurrentState = SCARD_STATE_UNAWARE;
	if (SCardListReaders(ctx, NULL, names, &len) != SCARD_S_SUCCESS)
		return n;       /* no reader yet: only PnP */
	for (char *p = names; *p != '\0' && n <= PCSC_MAX_READERS; p += strlen(p) + 1) {
		states[n].szReader = p;
		states[n].dwCurrentState = SCARD_STATE_UNAWARE;
		n++;
	}
	return n;
}

/* Follows one pcscd until it goes away: each change notifies, then the list is re-read. */
static void follow(SCARDCONTEXT ctx)
{
	SCARD_READERSTATE states[PCSC_MAX_READERS + 1];
	char names[4096];
	DWORD n;
	LONG rv;

	n = reader_states(ctx, names, sizeof(names), states);
	/* The first call only learns the current states. */
	if (SCardGetStatusChange(ctx, 0, states, n) != SCARD_S_SUCCESS)
		return;
	for (;;) {
		for (DWORD i = 0; i < n; i++)
			states[i].dwCurrentState = states[i].dwEventState & ~SCARD_STATE_CHANGED;
		rv = SCardGetStatusChange(ctx, INFINITE, states, n);
		if (rv == SCARD_E_TIMEOUT)
			continue;
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_UNKNOWN_READER)
			return;
		p11_events_notify();
		usleep(100 * 1000);     /* a flapping reader costs at most ten rescans a second */
		n = reader_states(ctx, names, sizeof(names), states);
		if (SCardGetStatusChange(ctx, 0, states, n) != SCARD_S_SUCCESS)
			return;
	}
}

static void *watch_pcsc(void *arg)
{
	SCARDCONTEXT ctx;

	(void)arg;
	for (;;) {
		if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) ==
		    SCARD_S_SUCCESS) {
			follow(ctx);
			SCardReleaseContext(ctx);
			p11_events_notify();    /* pcscd went away: its cards with it */
		}
		sleep(PCSC_RETRY_SECONDS);
	}
	return NULL;
}

int p11_pcsc_watch(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	int started;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = pthread_create(&thread, &attr, watch_pcsc, NULL) == 0;
	pthread_attr_destroy(&attr);
	return started;
}
