/* PINs in locked, non-dumpable pages, wiped with explicit_bzero when dropped. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "p11-internal.h"

struct p11_pin {
	size_t len;
	int locked;
	char value[];
};

/* One page each: small enough to lock, and never shared with other heap data. */
#define PIN_PAGE 4096

struct p11_pin *p11_pin_new(const char *pin)
{
	size_t len = strlen(pin);
	struct p11_pin *p;

	if (len > P11_MAX_PIN)
		return NULL;
	p = mmap(NULL, PIN_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	p->locked = mlock(p, PIN_PAGE) == 0;
	madvise(p, PIN_PAGE, MADV_DONTDUMP);
	p->len = len;
	memcpy(p->value, pin, len + 1);
	return p;
}

const char *p11_pin_value(const struct p11_pin *p)
{
	return p->value;
}

void p11_pin_free(struct p11_pin *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, PIN_PAGE);
	if (p->locked)
		munlock(p, PIN_PAGE);
	munmap(p, PIN_PAGE);
}
