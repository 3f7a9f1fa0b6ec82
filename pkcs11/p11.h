/*
 * The token layer: PKCS#11 modules, their tokens and the keys on them. It knows nothing of
 * SSH; it hands out public key material and raw signatures, and explains every failure.
 */
#ifndef P11G_P11_H
#define P11G_P11_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "keytype.h"

#define P11_WUR __attribute__((warn_unused_result))

struct p11_module;
struct p11_token;
struct p11_key;

/* Large enough for RSA-8192 moduli and every ECDSA/EdDSA raw signature. */
#define P11_MAX_SIG 1024
/* Longest PIN we accept (PKCS#11 tokens allow far less). */
#define P11_MAX_PIN 256

/* The CK_TOKEN_INFO flags about PIN tries, for callers that do not include pkcs11.h. */
enum {
	P11_PIN_COUNT_LOW = 0x00010000,
	P11_PIN_FINAL_TRY = 0x00020000,
	P11_PIN_LOCKED = 0x00040000,
	P11_PIN_PAD = 0x00000100,       /* CKF_PROTECTED_AUTHENTICATION_PATH */
	P11_LOGIN_REQUIRED = 0x00000004,        /* CKF_LOGIN_REQUIRED */
};

struct p11_token_desc {
	char label[33], manufacturer[33], model[17], serial[17];
	unsigned long slot_id;
	unsigned long flags;            /* CK_TOKEN_INFO.flags as last read */
	const char *module_path;
};

/*
 * Called when a login needs a PIN. It writes a NUL-terminated PIN into `pin` and returns
 * ERR_OK, or explains in `why` why none could be had. `purpose` says what the PIN is for.
 * The token's flags are fresh: a source that asks no person (a stored PIN) must refuse
 * when they say P11_PIN_FINAL_TRY.
 */
typedef int (*p11_pin_fn)(void *ctx, const struct p11_token *t, const char *purpose,
                          char *pin, size_t pin_max, struct reason *why);

/* Modules: loaded once per canonical path and shared; `spec` is a path or p11-kit name. */
int p11_module_load(const char *spec, struct p11_module **out, struct reason *why) P11_WUR;
void p11_module_release(struct p11_module *m);
/* Takes one more reference on a loaded module (each token holds one). */
void p11_module_ref(struct p11_module *m);
/* Resolves a p11-kit registry name or a path to the canonical module file path. */
int p11_module_resolve(const char *spec, char **path, struct reason *why) P11_WUR;

/*
 * The tokens of `m` present now and selected by the RFC 7512 `uri` (NULL: all). A token of
 * `old` still in its slot is kept (referenced again); one that is gone is marked removed;
 * new ones are opened. `*changed` says whether the list differs from `old`. A module that
 * cannot list its slots (a remoting server gone) has none present: the list is set (empty)
 * and the error says why; the module is re-initialized on the next call.
 */
int p11_tokens_refresh(struct p11_module *m, const char *uri, struct p11_token *const *old,
                       size_t nold, struct p11_token ***tokens, size_t *ntokens,
                       int *changed, struct reason *why) P11_WUR;
void p11_token_ref(struct p11_token *t);
void p11_token_unref(struct p11_token *t);
/* Frees a list of tokens from a refresh or load, dropping one reference on each. */
void p11_tokens_unref(struct p11_token **tokens, size_t n);
/* The same physical token: same module, manufacturer, model and serial (never the slot). */
int p11_token_same(const struct p11_token *a, const struct p11_token *b);
/* Whether `t` itself (this object, not an equal token) is among the `n` of `list`. */
int p11_tokens_contain(struct p11_token *const *list, size_t n, const struct p11_token *t);
/*
 * The token was pulled: its sessions are closed, its handles and login state dropped, its
 * PIN forgotten unless its cache keeps PINs across removal. Every later call on it fails
 * with "token removed".
 */
void p11_token_mark_removed(struct p11_token *t);
int p11_token_is_removed(const struct p11_token *t);

/*
 * Hot-plug. `fn` runs on a watcher thread whenever a slot may have changed: a module's
 * C_WaitForSlotEvent returned, pcsc-lite saw a reader or card come or go, or a signature
 * found its token gone. It should rescan soon, and must not block.
 */
void p11_events_set_handler(void (*fn)(void *ctx), void *ctx);
/*
 * Starts a thread blocking in C_WaitForSlotEvent if `m` seems to offer it (the thread ends
 * if the blocking call turns out unsupported, as in SoftHSM); returns whether it started.
 */
int p11_module_watch(struct p11_module *m);
/* Starts a thread following pcsc-lite reader events (waiting for pcscd while it is absent). */
int p11_pcsc_watch(void);
const struct p11_token_desc *p11_token_describe(const struct p11_token *t);
size_t p11_token_nkeys(const struct p11_token *t);
const struct p11_key *p11_token_key(const struct p11_token *t, size_t i);
/* How long a cached PIN lives: idle seconds since its last use and seconds since it was
 * given (0: no limit), and whether it survives the token being pulled and reinserted. */
struct p11_pin_cache {
	unsigned idle, max;
	int keep_on_removal;
};
void p11_token_set_pin_cache(struct p11_token *t, const struct p11_pin_cache *cache);
/* Forgets the PIN and logs out once a cache limit has passed; returns 1 if it did. */
int p11_token_expire_pin(struct p11_token *t, time_t now);
/* Moves the PIN a pulled token kept (keep_on_removal) to the same token reinserted. */
void p11_token_take_pin(struct p11_token *to, struct p11_token *from);
/* A PIN to use when login is needed (copied into locked memory); NULL forgets it. */
void p11_token_set_pin(struct p11_token *t, const char *pin);
void p11_token_set_pin_source(struct p11_token *t, p11_pin_fn fn, void *ctx);
/* Whether a PIN is cached: 1, 0, or -1 while a login is under way (it may wait on a
 * prompt, and this never does). */
int p11_token_pin_cached(struct p11_token *t);
/* Whether the next use must log in first (a prompt or a PIN pad is ahead). */
int p11_token_needs_login(const struct p11_token *t);
/* Logs in now (with the PIN set or the PIN source), to check a PIN when it is given. */
int p11_token_login(struct p11_token *t, struct reason *why) P11_WUR;
/* Ends the login state and forgets the PIN (ssh-add -x, PIN expiry). */
void p11_token_logout(struct p11_token *t);

const struct key_material *p11_key_public(const struct p11_key *k);
const struct p11_token *p11_key_token(const struct p11_key *k);
const char *p11_key_label(const struct p11_key *k);
/* The RFC 7512 URI naming this key on its token; the caller frees it. */
char *p11_key_uri(const struct p11_key *k);

/*
 * Signs with the private half of `k`. Logs in (asking the PIN source, which is told the
 * `purpose`) when needed and recovers from stale handles. On success `sig` holds the raw
 * signature: PKCS#1 v1.5 for RSA, r||s for ECDSA, R||S for Ed25519.
 */
int p11_key_sign(const struct p11_key *k, enum sig_alg alg, const uint8_t *data,
                 size_t len, const char *purpose, uint8_t *sig, size_t *sig_len,
                 struct reason *why) P11_WUR;


/* Decoders for token attributes, exposed for unit tests and fuzzing. */
int p11_decode_ec_params(const uint8_t *der, size_t len, enum key_alg *type,
                         enum key_curve *curve) P11_WUR;
int p11_decode_ec_point(const uint8_t *der, size_t len, enum key_alg type,
                        enum key_curve curve, uint8_t **point, size_t *point_len) P11_WUR;

#endif
