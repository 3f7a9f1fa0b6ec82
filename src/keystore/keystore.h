/*
 * The agent's identities: tokens grouped by where they came from (a config entry or an
 * `ssh-add -s` provider), each key with its SSH blob and comment. Workers hold references, so
 * removing a source never frees a key that a signature is using.
 */
#ifndef P11G_KEYSTORE_H
#define P11G_KEYSTORE_H

#include <pthread.h>
#include <time.h>

#include "confirm.h"
#include "dest-constraint.h"
#include "p11.h"
#include "sshkey.h"

/* Token sources (config entries and ssh-add -s), and software keys (ssh-add FILE). */
#define KEYSTORE_MAX_TOKEN_SOURCES 64
#define KEYSTORE_MAX_SOFTWARE_KEYS 1000
#define KEYSTORE_MAX_SOURCES (KEYSTORE_MAX_TOKEN_SOURCES + KEYSTORE_MAX_SOFTWARE_KEYS)
/* The token name software keys carry for the policy's `keys:` selectors. */
#define KEYSTORE_SOFTWARE "software:"

struct softkey;

struct ks_source;

struct ks_identity {
	struct ks_source *src;
	const struct p11_key *key;      /* a token key; NULL for a software key */
	struct softkey *soft;           /* a software key (owned here); NULL for a token key */
	uint8_t *blob;
	size_t blob_len;
	char *comment;
	char *uri;              /* the key's pkcs11: URI, for policy key selectors */
	char fingerprint[SSHKEY_FP_LEN];
	int removed;            /* by REMOVE_IDENTITY */
};

/* Where a token's PIN comes from (`pin:` in the config file). */
enum pin_source { PIN_SOURCE_ASKPASS, PIN_SOURCE_NONE, PIN_SOURCE_FILE, PIN_SOURCE_PINENTRY };

/*
 * How a source asks its user: for the PIN, and for confirmations. Shared by a source and
 * the sources that replace it on hot-plug: tokens point to it.
 */
struct ks_pin_spec {
	enum pin_source kind;
	char *path;             /* the PIN file, or the pinentry program */
	p11_pin_fn fn;          /* asks for the PIN as `kind` says; NULL: never asks */
	enum confirm_via confirm;       /* the token's confirm_prompt; UNSET: not given */
	char *confirm_program;          /* its pinentry program */
	int refs;               /* atomic: renewals take references outside the lock */
};

/*
 * OpenSSH certificates served with a token source's keys (ssh-add -s -C, or `certificates:`
 * in the config): each one whose key is on the token is listed beside that key, or instead
 * of it with certs_only. Shared by a source and the sources that replace it on hot-plug.
 */
struct ks_certs {
	struct ks_cert {
		uint8_t *blob;          /* the certificate */
		size_t len;
		uint8_t *key;           /* the certified key's plain blob */
		size_t key_len;
	} *cert;
	size_t n;
	int certs_only;
	int refs;               /* atomic */
};

/* Removed tokens whose PIN is kept for their return (pin_cache keep_on_removal). */
#define KS_MAX_KEPT 8

/*
 * A source is immutable once listed, but for `removed` flags and refs: a hot-plug rescan
 * that finds other tokens lists a new source in its place (see keystore-sync.c). A
 * software key is a source of its own, without a module, so that its constraints are the
 * source's.
 */
struct ks_source {
	char *name;
	char *provider;         /* canonical module path for ssh-add -s sources */
	struct p11_module *module;
	char *uri;              /* selects the tokens and keys; NULL: all */
	struct p11_pin_cache cache;
	struct p11_token **tokens;
	size_t ntokens;
	struct p11_token *kept[KS_MAX_KEPT];
	size_t nkept;
	struct ks_identity *ids;
	size_t nids;
	time_t expires;         /* 0: never */
	int confirm;
	struct dest_constraints *dest;  /* ssh-add -h restrictions; NULL: none */
	struct ks_pin_spec *pin;
	struct ks_certs *certs;         /* NULL: none */
	char last_error[384];   /* the last rescan failure, logged once */
	int refs;
};

struct keystore {
	pthread_mutex_t lock;
	struct ks_source *sources[KEYSTORE_MAX_SOURCES];
	size_t nsources;
};

void keystore_init(struct keystore *ks);
void keystore_clear(struct keystore *ks);

/*
 * Lists a source. A software key already listed is replaced (its constraints and comment
 * renewed, as ssh-agent does); caps: 64 token sources, 1,000 software keys.
 */
int keystore_add(struct keystore *ks, struct ks_source *src, struct reason *why)
	__attribute__((warn_unused_result));
/*
 * A new, unlisted source: loads module `spec` and opens the tokens `uri` selects, with the
 * given PIN source and cache. On success `*out` is set; so it is when the module loaded but
 * could not list its tokens (the error says why): they may come later.
 */
int ks_source_open(const char *name, const char *provider, const char *spec, const char *uri,
                   const struct ks_pin_spec *pin, const struct p11_pin_cache *cache,
                   struct ks_source **out, struct reason *why)
	__attribute__((warn_unused_result));
/* A new, unlisted source for one software key (taken over); `comment` is ssh-add's. */
int ks_source_software(struct softkey *sk, const char *comment, struct ks_source **out,
                       struct reason *why) __attribute__((warn_unused_result));
/* A certificate list with room for `n`; add with ks_certs_add, drop with ks_certs_unref. */
struct ks_certs *ks_certs_new(size_t n, int certs_only);
/* Adds a certificate blob after checking it (sshcert.h); its errors name what is wrong. */
int ks_certs_add(struct ks_certs *certs, const uint8_t *blob, size_t len, struct reason *why)
	__attribute__((warn_unused_result));
void ks_certs_unref(struct ks_certs *certs);
/* Serves `certs` (taken over) with an unlisted source's keys; its identities are rebuilt. */
int ks_source_attach_certs(struct ks_source *src, struct ks_certs *certs)
	__attribute__((warn_unused_result));
/* A new source like `old`, on the same tokens, serving `certs` (taken over) instead. */
struct ks_source *ks_source_with_certs(const struct ks_source *old, struct ks_certs *certs);
/* A new source like `old` with `tokens` (taken over); NULL when out of memory. */
struct ks_source *ks_source_renew(const struct ks_source *old, struct p11_token **tokens,
                                  size_t ntokens);
void ks_source_unref(struct ks_source *src);
/* Lists `next` in the place of `old`, if `old` is still listed; returns whether it was. */
int keystore_replace(struct keystore *ks, struct ks_source *old, struct ks_source *next);
/* The listed sources, each referenced; release with keystore_release. */
size_t keystore_snapshot(struct keystore *ks, struct ks_source **out, size_t max);
void keystore_release(struct keystore *ks, struct ks_source **srcs, size_t n);

int keystore_remove_provider(struct keystore *ks, const char *provider);
/* Unlists `src` if it is still listed. */
void keystore_remove_source(struct keystore *ks, const struct ks_source *src);
void keystore_remove_all(struct keystore *ks);
/* A token key is marked removed; a software key is dropped and wiped at once. */
int keystore_remove_identity(struct keystore *ks, const uint8_t *blob, size_t len);
/* Drops sources whose lifetime has passed. */
void keystore_expire(struct keystore *ks, time_t now);

/* Finds a live identity by key blob and takes a reference; release with keystore_put. */
struct ks_identity *keystore_find(struct keystore *ks, const uint8_t *blob, size_t len);
void keystore_put(struct keystore *ks, struct ks_identity *id);
/* Calls `fn` for each live identity, under the lock (fn must be quick). */
int keystore_foreach(struct keystore *ks, int (*fn)(void *ctx, const struct ks_identity *id),
                     void *ctx);
/* Re-reads every source's tokens (hot-plug) and expires cached PINs (keystore-sync.c). */
void keystore_rescan(struct keystore *ks);
/* Calls `fn` for each token, kept ones included, outside the lock (ssh-add -x). */
void keystore_each_token(struct keystore *ks, void (*fn)(struct p11_token *t));

#endif
