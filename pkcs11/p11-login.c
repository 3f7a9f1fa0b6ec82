/*
 * Logging in to a token: the cached PIN, the PIN source, PIN pads, and lockout protection.
 * A stored PIN is never tried when the token says the next failure could lock it, and a PIN
 * found wrong is dropped at once and never retried by itself.
 */
#include <string.h>

#include "p11-internal.h"

_Static_assert(P11_PIN_COUNT_LOW == CKF_USER_PIN_COUNT_LOW &&
               P11_PIN_FINAL_TRY == CKF_USER_PIN_FINAL_TRY &&
               P11_PIN_LOCKED == CKF_USER_PIN_LOCKED &&
               P11_PIN_PAD == CKF_PROTECTED_AUTHENTICATION_PATH, "PIN flags as in PKCS#11");

static CK_FLAGS token_flags(struct p11_token *t)
{
	CK_TOKEN_INFO info;

	if (t->module->fn->C_GetTokenInfo(t->slot, &info) == CKR_OK)
		t->desc.flags = info.flags;
	return t->desc.flags;
}

static const char *tries_left_note(CK_FLAGS flags)
{
	if (flags & CKF_USER_PIN_LOCKED)
		return ", PIN now locked: unblock with the token's tool";
	if (flags & CKF_USER_PIN_FINAL_TRY)
		return ", 1 try left";
	if (flags & CKF_USER_PIN_COUNT_LOW)
		return ", few tries left";
	return "";
}

static int cache_expired(const struct p11_token *t, time_t now)
{
	return (t->cache.max > 0 && now - t->pin_since >= (time_t)t->cache.max) ||
	       (t->cache.idle > 0 && now - t->pin_used >= (time_t)t->cache.idle);
}

/* Fills `pin` from the cache, or from the PIN source when the cache is empty or unsafe. */
static int pin_obtain(struct p11_token *t, CK_FLAGS flags, const char *purpose, char *pin,
                      int *from_cache, struct reason *why)
{
	int r;

	*from_cache = 0;
	if (t->pin != NULL && cache_expired(t, time(NULL))) {
		p11_pin_free(t->pin);
		t->pin = NULL;
	}
	if (t->pin != NULL && (flags & CKF_USER_PIN_FINAL_TRY) == 0) {
		strcpy(pin, p11_pin_value(t->pin));
		*from_cache = 1;
		return ERR_OK;
	}
	if (t->pin_fn == NULL) {
		if (t->pin != NULL)
			return reason_set(why, ERR_PIN_FINAL_TRY,
			                  "token %s #%s: one PIN try left, not trying the stored PIN",
			                  t->desc.label, t->desc.serial);
		return reason_set(why, ERR_PIN_NEEDED, "token %s #%s needs a PIN and no PIN "
		                  "source is configured", t->desc.label, t->desc.serial);
	}
	r = t->pin_fn(t->pin_ctx, t, purpose, pin, P11_MAX_PIN + 1, why);
	if (r != ERR_OK)
		explicit_bzero(pin, P11_MAX_PIN + 1);
	return r;
}

static int login_as(struct p11_token *t, CK_SESSION_HANDLE s, CK_USER_TYPE user,
                    const char *purpose, struct reason *why)
{
	char pin[P11_MAX_PIN + 1];
	CK_FLAGS flags = token_flags(t);
	int from_cache, r;
	CK_RV rv;

	if (flags & CKF_USER_PIN_LOCKED)
		return reason_set(why, ERR_PIN_LOCKED, "token %s #%s: PIN locked: unblock with "
		                  "the token's tool", t->desc.label, t->desc.serial);
	if (flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
		/* The PIN is typed on the reader's pad; the module asks for it. */
		rv = t->module->fn->C_Login(s, user, NULL, 0);
		if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
			return p11_fail(why, t, "C_Login (PIN pad)", rv);
		t->pin_since = time(NULL);
		return ERR_OK;
	}
	if ((r = pin_obtain(t, flags, purpose, pin, &from_cache, why)) != ERR_OK)
		return r;
	rv = t->module->fn->C_Login(s, user, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		if (!from_cache) {
			p11_pin_free(t->pin);
			t->pin = p11_pin_new(pin);
			t->pin_since = time(NULL);
		}
		r = ERR_OK;
	} else {
		/* A wrong PIN is forgotten at once so nothing retries it. */
		p11_pin_free(t->pin);
		t->pin = NULL;
		r = p11_fail(why, t, "C_Login", rv);
		if (r == ERR_PIN_INCORRECT)
			reason_set(why, r, "PIN incorrect%s (token %s #%s)",
			           tries_left_note(token_flags(t)), t->desc.label, t->desc.serial);
	}
	explicit_bzero(pin, sizeof(pin));
	return r;
}

static int session_is_user(struct p11_token *t, CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO info;

	if (t->module->fn->C_GetSessionInfo(s, &info) != CKR_OK)
		return 0;
	return info.state == CKS_RO_USER_FUNCTIONS || info.state == CKS_RW_USER_FUNCTIONS;
}

int p11_login_ensure(struct p11_token *t, CK_SESSION_HANDLE s, const char *purpose,
                     struct reason *why)
{
	int r = ERR_OK;

	if ((t->desc.flags & CKF_LOGIN_REQUIRED) == 0)
		return ERR_OK;
	pthread_mutex_lock(&t->lock);
	r = t->logged_in;
	if (r)
		t->pin_used = time(NULL);       /* the idle timer counts from the last use */
	pthread_mutex_unlock(&t->lock);
	if (r)
		return ERR_OK;

	pthread_mutex_lock(&t->login_lock);
	if (!session_is_user(t, s))
		r = login_as(t, s, CKU_USER, purpose, why);
	else
		r = ERR_OK;
	if (r == ERR_OK) {
		pthread_mutex_lock(&t->lock);
		t->logged_in = 1;
		t->pin_used = time(NULL);
		pthread_mutex_unlock(&t->lock);
	}
	pthread_mutex_unlock(&t->login_lock);
	return r;
}

int p11_login_context(struct p11_token *t, CK_SESSION_HANDLE s, const char *purpose,
                      struct reason *why)
{
	int r;

	pthread_mutex_lock(&t->login_lock);
	r = login_as(t, s, CKU_CONTEXT_SPECIFIC, purpose, why);
	pthread_mutex_unlock(&t->login_lock);
	return r;
}

void p11_token_set_pin(struct p11_token *t, const char *pin)
{
	pthread_mutex_lock(&t->login_lock);
	p11_pin_free(t->pin);
	t->pin = pin != NULL ? p11_pin_new(pin) : NULL;
	t->pin_since = t->pin_used = time(NULL);
	pthread_mutex_unlock(&t->login_lock);
}

void p11_token_set_pin_source(struct p11_token *t, p11_pin_fn fn, void *ctx)
{
	pthread_mutex_lock(&t->login_lock);
	t->pin_fn = fn;
	t->pin_ctx = ctx;
	pthread_mutex_unlock(&t->login_lock);
}

void p11_token_logout(struct p11_token *t)
{
	CK_SESSION_HANDLE s;
	struct reason why;

	/* The order signing takes them in: the module's life lock, then the login lock. */
	pthread_rwlock_rdlock(&t->module->life);
	pthread_mutex_lock(&t->login_lock);
	p11_pin_free(t->pin);
	t->pin = NULL;
	if (p11_session_get(t, &s, &why) == ERR_OK) {
		t->module->fn->C_Logout(s);
		p11_session_put(t, s, 0);
	}
	pthread_mutex_lock(&t->lock);
	t->logged_in = 0;
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_unlock(&t->login_lock);
	pthread_rwlock_unlock(&t->module->life);
}

int p11_token_pin_cached(struct p11_token *t)
{
	int cached;

	if (pthread_mutex_trylock(&t->login_lock) != 0)
		return -1;
	cached = t->pin != NULL;
	pthread_mutex_unlock(&t->login_lock);
	return cached;
}

int p11_token_needs_login(const struct p11_token *t)
{
	struct p11_token *mt = (struct p11_token *)t;  /* the lock is not part of the value */
	int needs;

	if ((t->desc.flags & CKF_LOGIN_REQUIRED) == 0)
		return 0;
	pthread_mutex_lock(&mt->lock);
	needs = !mt->logged_in;
	pthread_mutex_unlock(&mt->lock);
	return needs;
}

void p11_token_set_pin_cache(struct p11_token *t, const struct p11_pin_cache *cache)
{
	pthread_mutex_lock(&t->login_lock);
	t->cache = *cache;
	pthread_mutex_unlock(&t->login_lock);
}

int p11_token_expire_pin(struct p11_token *t, time_t now)
{
	int expired;

	if (t->cache.idle == 0 && t->cache.max == 0)
		return 0;
	pthread_mutex_lock(&t->login_lock);
	pthread_mutex_lock(&t->lock);
	expired = (t->logged_in || t->pin != NULL) && !t->removed && cache_expired(t, now);
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_unlock(&t->login_lock);
	if (expired)
		p11_token_logout(t);
	return expired;
}

void p11_token_take_pin(struct p11_token *to, struct p11_token *from)
{
	struct p11_pin *pin;
	time_t since;

	pthread_mutex_lock(&from->login_lock);
	pin = from->pin;
	since = from->pin_since;
	from->pin = NULL;
	pthread_mutex_unlock(&from->login_lock);
	if (pin == NULL)
		return;
	pthread_mutex_lock(&to->login_lock);
	if (to->pin == NULL) {
		to->pin = pin;
		to->pin_since = since;  /* the maximum lifetime counts from when it was typed */
		pin = NULL;
	}
	pthread_mutex_unlock(&to->login_lock);
	p11_pin_free(pin);
}

int p11_token_login(struct p11_token *t, struct reason *why)
{
	CK_SESSION_HANDLE s;
	int r;

	pthread_rwlock_rdlock(&t->module->life);
	if ((r = p11_session_get(t, &s, why)) == ERR_OK) {
		r = p11_login_ensure(t, s, "log in", why);
		p11_session_put(t, s, 0);
	}
	pthread_rwlock_unlock(&t->module->life);
	return r;
}
