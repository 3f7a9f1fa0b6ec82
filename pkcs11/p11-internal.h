/* Shared inside the token layer only: the structures behind the opaque handles. */
#ifndef P11G_P11_INTERNAL_H
#define P11G_P11_INTERNAL_H

#include <pthread.h>
#include <time.h>
#include <p11-kit/pkcs11.h>

#include "p11.h"

/* Sessions kept open per token, so independent signatures run in parallel. */
#define P11_POOL_MAX 8

struct p11_module {
	char *path;
	CK_FUNCTION_LIST *fn;
	int refs;                       /* guarded by the module registry lock */
	/*
	 * Held shared by every call sequence on the module and exclusively to re-initialize it
	 * (a remoting module whose server went away recovers only through C_Initialize).
	 */
	pthread_rwlock_t life;
	int broken;                     /* C_GetSlotList failed; re-initialize on next scan */
	int watched;                    /* a thread waits in C_WaitForSlotEvent */
};

struct p11_pin;

struct p11_token {
	struct p11_module *module;
	struct p11_token_desc desc;
	CK_SLOT_ID slot;
	int refs;                       /* atomic */

	pthread_mutex_t lock;           /* guards the pool, the key handles and `logged_in` */
	pthread_cond_t pool_cond;
	CK_SESSION_HANDLE idle[P11_POOL_MAX];
	size_t n_idle, n_open;
	int logged_in;
	int removed;                    /* pulled: every call fails with "token removed" */

	pthread_mutex_t login_lock;     /* one login (and one prompt) per token at a time */
	struct p11_pin *pin;
	time_t pin_since, pin_used;     /* when the cached PIN was given and last used */
	struct p11_pin_cache cache;
	p11_pin_fn pin_fn;
	void *pin_ctx;

	struct p11_key **keys;
	size_t nkeys;
};

struct p11_key {
	struct p11_token *token;
	struct key_material pub;
	CK_KEY_TYPE key_type;
	uint8_t *id;
	size_t id_len;
	char *label;
	CK_OBJECT_HANDLE priv;          /* cached; CK_INVALID_HANDLE until found */
	int always_authenticate;
};

/* A token's description (label, identity, flags) from its CK_TOKEN_INFO. */
void p11_desc_from_info(struct p11_token_desc *d, const CK_TOKEN_INFO *info);
/* The same physical token: manufacturer, model and serial (never the slot). */
int p11_desc_same_token(const struct p11_token_desc *a, const struct p11_token_desc *b);
/* Opens one token found in `slot`, with its keys selected by `uri` (NULL: all). */
int p11_token_open(struct p11_module *m, CK_SLOT_ID slot, const CK_TOKEN_INFO *info,
                   const char *uri, struct p11_token **out, struct reason *why);
/* Lists slots with a token; marks the module broken when it cannot. */
int p11_slot_list(struct p11_module *m, CK_SLOT_ID *slots, CK_ULONG *n, struct reason *why);
#define P11_MAX_SLOTS 64

/* Errors: a CKR_ code's name, and its mapping onto our error space. */
const char *p11_rv_name(CK_RV rv);
int p11_rv_code(CK_RV rv);
/* Sets `why` from a failed call, naming the token: "C_Sign: CKR_X (slot 0, label #serial)". */
int p11_fail(struct reason *why, const struct p11_token *t, const char *call, CK_RV rv);

/* The session pool. */
int p11_session_get(struct p11_token *t, CK_SESSION_HANDLE *s, struct reason *why);
/* Returns a session; `broken` closes it instead (dead handle, token gone). */
void p11_session_put(struct p11_token *t, CK_SESSION_HANDLE s, int broken);
void p11_session_close_all(struct p11_token *t);
/* Whether a CKR_ says the session (not just the call) is unusable. */
int p11_rv_session_dead(CK_RV rv);
/* Fails with "token removed" when `t` was pulled; ERR_OK otherwise. */
int p11_token_check_present(struct p11_token *t, struct reason *why);
/*
 * Asks the token whether it is still the one we opened, in the same slot: ERR_OK,
 * ERR_TOKEN_REMOVED (another token or none), or ERR_TOKEN_UNREACHABLE when the module cannot
 * tell (a remote module whose server is gone, a failing driver).
 */
int p11_token_presence(struct p11_token *t);
/* Drops sessions, handles and the login state after a token was replugged or logged out. */
void p11_token_reset(struct p11_token *t);
/* Tells the hot-plug handler that a slot may have changed. */
void p11_events_notify(void);

/* Login with the cached PIN or the PIN source; context-specific login for one operation. */
int p11_login_ensure(struct p11_token *t, CK_SESSION_HANDLE s, const char *purpose,
                     struct reason *why);
int p11_login_context(struct p11_token *t, CK_SESSION_HANDLE s, const char *purpose,
                      struct reason *why);

/* PINs live in locked, non-dumpable memory and are wiped when dropped. */
struct p11_pin *p11_pin_new(const char *pin);
const char *p11_pin_value(const struct p11_pin *p);
void p11_pin_free(struct p11_pin *p);

/* Key discovery on a token. */
int p11_keys_load(struct p11_token *t, CK_SESSION_HANDLE s, const char *uri, struct reason *why);
void p11_key_free(struct p11_key *k);
/* Public key material from a DER X.509 certificate. */
int p11_pubkey_from_cert(const uint8_t *der, size_t len, struct key_material *pub);

/* Trims PKCS#11 blank-padded fixed-width strings into C strings. */
void p11_copy_padded(char *dst, size_t dst_size, const unsigned char *src, size_t src_len);

#endif
