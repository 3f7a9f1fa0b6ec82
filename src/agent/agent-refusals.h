/*
 * The agent's memory of its last refusals, for `p11guard why`: what was refused, for whom,
 * which key and destination, the whole reason and the rule that decided. It works without an
 * audit file, and holds no secret.
 */
#ifndef P11G_AGENT_REFUSALS_H
#define P11G_AGENT_REFUSALS_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "sshagent.h"

#define REFUSALS_KEPT 100

/* What a request was about, known before it may be refused (set by the policy check). */
struct refusal_context {
	char key[64];           /* SHA256:..., or "" */
	char key_label[96];
	char dest[256];         /* a name the destination matched, else its fingerprint, or "" */
	char rule[320];         /* "FILE:LINE", "default: deny (FILE:LINE)", or "" */
};

struct refusal {
	time_t when;
	long pid, uid;
	char what[24];          /* "sign", "add", ... */
	struct refusal_context ctx;
	char reason[SSHAGENT_REASON_MAX];
};

struct refusals {
	pthread_mutex_t lock;
	struct refusal ring[REFUSALS_KEPT];
	size_t next, count;
};

void refusals_init(struct refusals *r);
void refusals_free(struct refusals *r);
void refusals_add(struct refusals *r, const struct refusal *one);
/* Copies up to `max` refusals, newest first, that match `key` and `dest` (substrings of
 * the fingerprint or label, and of the destination; NULL: any). Returns how many. */
size_t refusals_newest(struct refusals *r, const char *key, const char *dest,
                       struct refusal *out, size_t max);

#endif
