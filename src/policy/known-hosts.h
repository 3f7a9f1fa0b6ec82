/*
 * known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): which host names carry which host
 * keys, hashed names included, so that a policy naming a host can be checked against the
 * host key a session was verified with.
 */
#ifndef P11G_KNOWN_HOSTS_H
#define P11G_KNOWN_HOSTS_H

#include <stdio.h>

#include "err.h"
#include "sshpub.h"

#define KNOWN_HOSTS_MAX_ENTRIES 200000

enum kh_marker { KH_PLAIN, KH_CERT_AUTHORITY, KH_REVOKED };

struct kh_entry {
	char *hosts;                    /* the host field as written; NULL when hashed */
	uint8_t salt[20], hash[20];     /* a hashed "|1|salt|hash" entry */
	enum kh_marker marker;
	struct sshpub key;
	const char *file;
	unsigned line;
};

struct known_hosts {
	struct kh_entry *e;
	size_t n;
	char **files;
	size_t nfiles;
	size_t skipped;                 /* lines with key types we cannot use, or malformed */
};

/* Adds the entries of one file; a missing file adds nothing and is not an error. */
int known_hosts_load(struct known_hosts *kh, const char *path, struct reason *why) WUR;
/* Adds the entries read from `f`; `path` names it in messages. */
int known_hosts_read(struct known_hosts *kh, FILE *f, const char *path, struct reason *why)
	WUR;
void known_hosts_free(struct known_hosts *kh);

/*
 * Whether entry `e` names `name`. A literal name (like "a.example" or "[127.0.0.1]:2201")
 * matches as ssh would look it up, hashed entries included. A wildcard pattern matches the
 * entry's literal names (hashed entries cannot be matched by a pattern).
 */
int kh_entry_names(const struct kh_entry *e, const char *name);
/* Whether `name` contains wildcards. */
int kh_is_pattern(const char *name);

#endif
