/*
 * OpenSSH destination constraints (restrict-destination-v00@openssh.com, sent by `ssh-add -h`):
 * parsing them and deciding, exactly as ssh-agent does, whether a connection's bindings and
 * the user logging in satisfy them.
 */
#ifndef P11G_DEST_CONSTRAINT_H
#define P11G_DEST_CONSTRAINT_H

#include "session-bind.h"

/* Far above what ssh-add sends for any real known_hosts; bounds the work per request. */
#define DEST_MAX_CONSTRAINTS 256
#define DEST_MAX_KEYS 64

struct dest_key {
	struct sshpub key;
	int usable;             /* a type we can compare (not a certificate or security key) */
	int is_ca;
};

struct dest_hop {
	char *user;             /* NULL: any user */
	char *hostname;         /* NULL: the local machine (a "from" hop only) */
	struct dest_key *keys;
	size_t nkeys;
};

struct dest_constraints {
	struct {
		struct dest_hop from, to;
	} *c;
	size_t n;
	int refs;
};

/* Parses the extension's payload (a sequence of constraint strings) into a shared object. */
int dest_constraints_parse(const uint8_t *data, size_t len, struct dest_constraints **out,
                           struct reason *why) WUR;
void dest_constraints_unref(struct dest_constraints *dc);
struct dest_constraints *dest_constraints_ref(struct dest_constraints *dc);

/*
 * Whether `dc` permits use over `bs`. `user` is the user logging in when signing, NULL when
 * only listing. On success `*dest_name` (if given) names the matched destination.
 */
int dest_constraints_permit(const struct dest_constraints *dc, const struct bindings *bs,
                            const char *user, const char **dest_name, struct reason *why) WUR;

#endif
