/*
 * A test-only PKCS#11 module that forwards to a real one (SoftHSM) and plays a token being
 * pulled, reinserted, nearly locked or slow, as files in $P11WRAP_STATE say:
 *   absent       the token is out of its reader: no token in the slot list, sessions dead
 *   sign-removes the next C_Sign pulls the token (creates `absent`) and fails
 *   flags        words OR-ed into the token flags: count_low final_try locked pinpad
 *   sign-delay   milliseconds each C_Sign waits (a token waiting for a touch)
 *   pad-pin      with pinpad: the PIN "typed on the pad" for a C_Login without one
 * The real module is $P11WRAP_TARGET. Nothing here is linked into p11guard.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST real_fns, *real = NULL, wrapped;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static int was_absent;

static int state_file(const char *name, char *buf, size_t size)
{
	const char *dir = getenv("P11WRAP_STATE");
	char path[4096];
	FILE *f;
	size_t n;

	if (dir == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = buf != NULL ? fread(buf, 1, size - 1, f) : 0;
	if (buf != NULL)
		buf[n] = '\0';
	fclose(f);
	return 1;
}

static void make_absent(void)
{
	const char *dir = getenv("P11WRAP_STATE");
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/absent", dir ? dir : ".");
	if ((f = fopen(path, "w")) != NULL)
		fclose(f);
}

/* Whether the token is out; on pulling, every session dies as on a real reader. */
static int absent(void)
{
	int now = state_file("absent", NULL, 0);
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;

	pthread_mutex_lock(&state_lock);
	if (now && !was_absent && real->C_GetSlotList(CK_FALSE, slots, &n) == CKR_OK)
		for (CK_ULONG i = 0; i < n; i++)
			real->C_CloseAllSessions(slots[i]);
	was_absent = now;
	pthread_mutex_unlock(&state_lock);
	return now;
}

static CK_FLAGS extra_flags(void)
{
	char words[256];
	CK_FLAGS f = 0;

	if (!state_file("flags", words, sizeof(words)))
		return 0;
	if (strstr(words, "count_low"))
		f |= CKF_USER_PIN_COUNT_LOW;
	if (strstr(words, "final_try"))
		f |= CKF_USER_PIN_FINAL_TRY;
	if (strstr(words, "locked"))
		f |= CKF_USER_PIN_LOCKED;
	if (strstr(words, "pinpad"))
		f |= CKF_PROTECTED_AUTHENTICATION_PATH;
	return f;
}

static CK_RV w_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n)
{
	if (present && absent()) {
		*n = 0;
		return CKR_OK;
	}
	return real->C_GetSlotList(present, list, n);
}

static CK_RV w_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CK_RV rv;

	if (absent())
		return CKR_TOKEN_NOT_PRESENT;
	if ((rv = real->C_GetTokenInfo(slot, info)) == CKR_OK)
		info->flags |= extra_flags();
	return rv;
}

static CK_RV w_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                           CK_SESSION_HANDLE_PTR s)
{
	return absent() ? CKR_TOKEN_NOT_PRESENT : real->C_OpenSession(slot, flags, app, notify, s);
}

static CK_RV w_Login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	if (absent())
		return CKR_DEVICE_REMOVED;
	char pad[64];

	if (extra_flags() & CKF_USER_PIN_LOCKED)
		return CKR_PIN_LOCKED;
	if (pin == NULL && (extra_flags() & CKF_PROTECTED_AUTHENTICATION_PATH)) {
		if (!state_file("pad-pin", pad, sizeof(pad)))
			return CKR_FUNCTION_CANCELED;
		pad[strcspn(pad, "\n")] = '\0';
		usleep(1500 * 1000);    /* the user typing on the pad */
		return real->C_Login(s, user, (CK_UTF8CHAR_PTR)pad, strlen(pad));
	}
	return real->C_Login(s, user, pin, len);
}

static CK_RV w_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
	return absent() ? CKR_DEVICE_REMOVED : real->C_SignInit(s, m, key);
}

static CK_RV w_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
                    CK_ULONG_PTR sig_len)
{
	char ms[32];

	if (absent())
		return CKR_DEVICE_REMOVED;
	if (sig != NULL && state_file("sign-delay", ms, sizeof(ms)))
		usleep((useconds_t)atoi(ms) * 1000);
	if (sig != NULL && state_file("sign-removes", NULL, 0)) {
		make_absent();
		absent();
		return CKR_DEVICE_REMOVED;
	}
	return real->C_Sign(s, data, len, sig, sig_len);
}

static CK_RV w_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	return absent() ? CKR_DEVICE_REMOVED : real->C_FindObjectsInit(s, t, n);
}

static CK_RV w_GetSessionInfo(CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR info)
{
	return absent() ? CKR_DEVICE_REMOVED : real->C_GetSessionInfo(s, info);
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	const char *target = getenv("P11WRAP_TARGET");
	CK_C_GetFunctionList get;
	void *lib;

	if (real == NULL) {
		if (target == NULL || (lib = dlopen(target, RTLD_NOW | RTLD_LOCAL)) == NULL)
			return CKR_GENERAL_ERROR;
		if ((get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList")) == NULL ||
		    get(&real) != CKR_OK)
			return CKR_GENERAL_ERROR;
		real_fns = *real;
		real = &real_fns;
		wrapped = real_fns;
		wrapped.C_GetSlotList = w_GetSlotList;
		wrapped.C_GetTokenInfo = w_GetTokenInfo;
		wrapped.C_OpenSession = w_OpenSession;
		wrapped.C_Login = w_Login;
		wrapped.C_SignInit = w_SignInit;
		wrapped.C_Sign = w_Sign;
		wrapped.C_FindObjectsInit = w_FindObjectsInit;
		wrapped.C_GetSessionInfo = w_GetSessionInfo;
	}
	*out = &wrapped;
	return CKR_OK;
}
