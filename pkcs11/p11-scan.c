/*
 * Which tokens a module has now: the start-up scan and every hot-plug rescan. Tokens still
 * in their slot are kept as they are (sessions, login, PIN); gone ones are marked removed.
 */
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "p11-internal.h"

/* A remoting module (p11-kit-client) whose server died answers CKR_DEVICE_ERROR forever. */
static int rv_module_dead(CK_RV rv)
{
	return rv == CKR_DEVICE_ERROR || rv == CKR_DEVICE_REMOVED || rv == CKR_GENERAL_ERROR ||
	       rv == CKR_CRYPTOKI_NOT_INITIALIZED;
}

int p11_slot_list(struct p11_module *m, CK_SLOT_ID *slots, CK_ULONG *n, struct reason *why)
{
	CK_RV rv;

	*n = P11_MAX_SLOTS;
	rv = m->fn->C_GetSlotList(CK_TRUE, slots, n);
	if (rv == CKR_BUFFER_TOO_SMALL)
		return reason_set(why, ERR_LIMIT, "module %s: more than %d slots", m->path,
		                  P11_MAX_SLOTS);
	if (rv != CKR_OK) {
		if (rv_module_dead(rv))
			__atomic_store_n(&m->broken, 1, __ATOMIC_RELAXED);
		p11_fail(why, NULL, "C_GetSlotList", rv);
		return reason_wrap(why, "module %s", m->path);
	}
	return ERR_OK;
}

/* C_Finalize and C_Initialize again, with no other call on the module in flight. */
static void module_recover(struct p11_module *m)
{
	CK_C_INITIALIZE_ARGS args;

	if (!__atomic_load_n(&m->broken, __ATOMIC_RELAXED) || m->watched)
		return;
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	pthread_rwlock_wrlock(&m->life);
	m->fn->C_Finalize(NULL);
	if (m->fn->C_Initialize(&args) == CKR_OK)
		__atomic_store_n(&m->broken, 0, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&m->life);
}

/* The token of `old` (all of this module) still in `slot`, if it is the one found there. */
static struct p11_token *find_kept(struct p11_token *const *old, size_t nold, CK_SLOT_ID slot,
                                   const struct p11_token_desc *found)
{
	for (size_t i = 0; i < nold; i++)
		if (old[i]->slot == slot && !p11_token_is_removed(old[i]) &&
		    p11_desc_same_token(&old[i]->desc, found))
			return old[i];
	return NULL;
}

/* Fills `list` with the tokens present and selected; called under the module's life lock. */
static int scan(struct p11_module *m, const char *uri_text, P11KitUri *uri,
                struct p11_token *const *old, size_t nold, struct p11_token **list,
                size_t *n, struct reason *why)
{
	CK_SLOT_ID slots[P11_MAX_SLOTS];
	struct p11_token_desc found;
	struct p11_token *t;
	CK_TOKEN_INFO info;
	CK_ULONG nslots;
	int r;

	if ((r = p11_slot_list(m, slots, &nslots, why)) != ERR_OK)
		return r;
	for (CK_ULONG i = 0; i < nslots; i++) {
		if (m->fn->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;       /* pulled between the two calls */
		if ((info.flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;       /* e.g. SoftHSM's spare slot: nothing to serve */
		if (uri != NULL && !p11_kit_uri_match_token_info(uri, &info))
			continue;
		p11_desc_from_info(&found, &info);
		if ((t = find_kept(old, nold, slots[i], &found)) != NULL) {
			p11_token_ref(t);
			t->desc.flags = info.flags;
		} else if ((r = p11_token_open(m, slots[i], &info, uri_text, &t, why)) != ERR_OK) {
			/* A token pulled while we read it is simply not there yet. */
			if (r == ERR_TOKEN_REMOVED)
				continue;
			return r;
		}
		list[(*n)++] = t;
	}
	return ERR_OK;
}

int p11_tokens_refresh(struct p11_module *m, const char *uri_text, struct p11_token *const *old,
                       size_t nold, struct p11_token ***tokens, size_t *ntokens,
                       int *changed, struct reason *why)
{
	struct p11_token **list = NULL;
	P11KitUri *uri = NULL;
	size_t n = 0;
	int r;

	*tokens = NULL;
	*ntokens = 0;
	*changed = 0;
	if (uri_text != NULL) {
		uri = p11_kit_uri_new();
		if (uri == NULL || p11_kit_uri_parse(uri_text, P11_KIT_URI_FOR_ANY, uri) != 0) {
			r = reason_set(why, ERR_CONFIG, "invalid pkcs11 URI \"%s\"", uri_text);
			goto out;
		}
	}
	if ((list = calloc(P11_MAX_SLOTS + 1, sizeof(*list))) == NULL) {
		r = reason_set(why, ERR_ALLOC, "out of memory");
		goto out;
	}
	module_recover(m);
	pthread_rwlock_rdlock(&m->life);
	r = scan(m, uri_text, uri, old, nold, list, &n, why);
	pthread_rwlock_unlock(&m->life);
	/* A module that cannot list its slots has none we could use: theirs are gone too. */
	if (r != ERR_OK && !__atomic_load_n(&m->broken, __ATOMIC_RELAXED))
		goto out;
	for (size_t i = 0; i < nold; i++) {
		if (!p11_tokens_contain(list, n, old[i])) {
			if (!p11_token_is_removed(old[i]))
				p11_token_mark_removed(old[i]);
			*changed = 1;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!p11_tokens_contain(old, nold, list[i]))
			*changed = 1;
	*tokens = list;
	*ntokens = n;
	list = NULL;
	if (r == ERR_OK)
		reason_clear(why);
out:
	if (list != NULL)
		p11_tokens_unref(list, n);
	if (uri != NULL)
		p11_kit_uri_free(uri);
	return r;
}
