/*
 * The agent's identities: tokens grouped by where they came from (a config entry or an
 * `ssh-add -s` provider), each key with its SSH blob and comment. Workers hold references, so
 * removing a source never frees a key that a signature is using.
 */
#ifndef P11G_KEYSTORE_H
#define P11G_KEYSTORE_H

#include <pthread.h>
#include <time.h>

#include "config.h"
#include "dest-constraint.h"
#include "p11.h"
#include "sshkey.h"

#define KEYSTORE_MAX_SOURCES 64

struct ks_source;

struct ks_identity {
	struct ks_source *src;
	const struct p11_key *key;
	uint8_t *blob;
	size_t blob_len;
	char *comment;
	char *uri;              /* the key's pkcs11: URI, for policy key selectors */
	char fingerprint[SSHKEY_FP_LEN];
	int removed;            /* by REMOVE_IDENTITY */
};

struct ks_pin_spec {
	enum pin_source kind;
	char *file;
};

struct ks_source {
	char *name;
	char *provider;         /* canonical module path for ssh-add -s sources */
	struct p11_token **tokens;
	size_t ntokens;
	struct ks_identity *ids;
	size_t nids;
	time_t expires;         /* 0: never */
	int confirm;
	struct dest_constraints *dest;  /* ssh-add -h restrictions; NULL: none */
	struct ks_pin_spec pin;
	int refs;
};

struct keystore {
	pthread_mutex_t lock;
	struct ks_source *sources[KEYSTORE_MAX_SOURCES];
	size_t nsources;
};

void keystore_init(struct keystore *ks);
void keystore_clear(struct keystore *ks);

/* Builds a source from opened tokens (taking them over) and lists it. */
int keystore_add(struct keystore *ks, struct ks_source *src, struct reason *why)
	__attribute__((warn_unused_result));
/* A new, unlisted source owning `tokens`; computes blobs and comments. */
struct ks_source *ks_source_new(const char *name, const char *provider,
                                struct p11_token **tokens, size_t ntokens);
void ks_source_unref(struct ks_source *src);

int keystore_remove_provider(struct keystore *ks, const char *provider);
void keystore_remove_all(struct keystore *ks);
int keystore_remove_identity(struct keystore *ks, const uint8_t *blob, size_t len);
/* Drops sources whose lifetime has passed. */
void keystore_expire(struct keystore *ks, time_t now);

/* Finds a live identity by key blob and takes a reference; release with keystore_put. */
struct ks_identity *keystore_find(struct keystore *ks, const uint8_t *blob, size_t len);
void keystore_put(struct keystore *ks, struct ks_identity *id);
/* Calls `fn` for each live identity, under the lock (fn must be quick). */
int keystore_foreach(struct keystore *ks, int (*fn)(void *ctx, const struct ks_identity *id),
                     void *ctx);
/* Calls `fn` for each token, under the lock (lock and logout). */
void keystore_each_token(struct keystore *ks, void (*fn)(struct p11_token *t));

#endif
