/* The last refusals, in a ring under a mutex. */
#include <string.h>

#include "agent-refusals.h"

void refusals_init(struct refusals *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
}

void refusals_free(struct refusals *r)
{
	pthread_mutex_destroy(&r->lock);
}

void refusals_add(struct refusals *r, const struct refusal *one)
{
	pthread_mutex_lock(&r->lock);
	r->ring[r->next] = *one;
	r->next = (r->next + 1) % REFUSALS_KEPT;
	if (r->count < REFUSALS_KEPT)
		r->count++;
	pthread_mutex_unlock(&r->lock);
}

static int matches(const struct refusal *f, const char *key, const char *dest)
{
	if (key != NULL && key[0] != '\0' && strstr(f->ctx.key, key) == NULL &&
	    strstr(f->ctx.key_label, key) == NULL)
		return 0;
	return dest == NULL || dest[0] == '\0' || strstr(f->ctx.dest, dest) != NULL;
}

size_t refusals_newest(struct refusals *r, const char *key, const char *dest,
                       struct refusal *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->count && n < max; i++) {
		const struct refusal *f = &r->ring[(r->next + REFUSALS_KEPT - 1 - i) % REFUSALS_KEPT];

		if (matches(f, key, dest))
			out[n++] = *f;
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}
