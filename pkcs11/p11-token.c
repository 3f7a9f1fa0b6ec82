/* Opening the tokens of a module (selected by an RFC 7512 URI) and describing them. */
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "p11-internal.h"

/* More slots than any reader setup we have seen; a module claiming more is refused. */
#define MAX_SLOTS 64

static struct p11_token *token_new(struct p11_module *m, CK_SLOT_ID slot,
                                   const CK_TOKEN_INFO *info)
{
	struct p11_token *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->module = m;
	t->slot = slot;
	t->desc.slot_id = slot;
	t->desc.flags = info->flags;
	t->desc.module_path = m->path;
	p11_copy_padded(t->desc.label, sizeof(t->desc.label), info->label, sizeof(info->label));
	p11_copy_padded(t->desc.manufacturer, sizeof(t->desc.manufacturer),
	                info->manufacturerID, sizeof(info->manufacturerID));
	p11_copy_padded(t->desc.model, sizeof(t->desc.model), info->model, sizeof(info->model));
	p11_copy_padded(t->desc.serial, sizeof(t->desc.serial), info->serialNumber,
	                sizeof(info->serialNumber));
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->login_lock, NULL);
	pthread_cond_init(&t->pool_cond, NULL);
	p11_module_ref(m);
	return t;
}

void p11_token_free(struct p11_token *t)
{
	if (t == NULL)
		return;
	p11_session_close_all(t);
	for (size_t i = 0; i < t->nkeys; i++)
		p11_key_free(t->keys[i]);
	free(t->keys);
	p11_pin_free(t->pin);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->login_lock);
	pthread_cond_destroy(&t->pool_cond);
	p11_module_release(t->module);
	free(t);
}

static int token_load_keys(struct p11_token *t, const char *uri, struct reason *why)
{
	CK_SESSION_HANDLE s;
	int r;

	if ((r = p11_session_get(t, &s, why)) != ERR_OK)
		return r;
	r = p11_keys_load(t, s, uri, why);
	p11_session_put(t, s, 0);
	return r;
}

static int slot_list(struct p11_module *m, CK_SLOT_ID *slots, CK_ULONG *n,
                     struct reason *why)
{
	CK_RV rv;

	*n = MAX_SLOTS;
	rv = m->fn->C_GetSlotList(CK_TRUE, slots, n);
	if (rv == CKR_BUFFER_TOO_SMALL)
		return reason_set(why, ERR_LIMIT, "module %s: more than %d slots", m->path,
		                  MAX_SLOTS);
	if (rv != CKR_OK) {
		p11_fail(why, NULL, "C_GetSlotList", rv);
		return reason_wrap(why, "module %s", m->path);
	}
	return ERR_OK;
}

int p11_tokens_open(struct p11_module *m, const char *uri_text, struct p11_token ***tokens,
                    size_t *ntokens, struct reason *why)
{
	CK_SLOT_ID slots[MAX_SLOTS];
	struct p11_token **list = NULL, *t;
	P11KitUri *uri = NULL;
	CK_TOKEN_INFO info;
	CK_ULONG nslots;
	size_t n = 0;
	int r;

	*tokens = NULL;
	*ntokens = 0;
	if (uri_text != NULL) {
		uri = p11_kit_uri_new();
		if (uri == NULL || p11_kit_uri_parse(uri_text, P11_KIT_URI_FOR_ANY, uri) != 0) {
			r = reason_set(why, ERR_CONFIG, "invalid pkcs11 URI \"%s\"", uri_text);
			goto out;
		}
	}
	if ((r = slot_list(m, slots, &nslots, why)) != ERR_OK)
		goto out;
	if ((list = calloc(nslots + 1, sizeof(*list))) == NULL) {
		r = reason_set(why, ERR_ALLOC, "out of memory");
		goto out;
	}
	for (CK_ULONG i = 0; i < nslots; i++) {
		if (m->fn->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;       /* pulled between the two calls */
		if ((info.flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;       /* e.g. SoftHSM's spare slot: nothing to serve */
		if (uri != NULL && !p11_kit_uri_match_token_info(uri, &info))
			continue;
		if ((t = token_new(m, slots[i], &info)) == NULL) {
			r = reason_set(why, ERR_ALLOC, "out of memory");
			goto out;
		}
		list[n++] = t;
		if ((r = token_load_keys(t, uri_text, why)) != ERR_OK)
			goto out;
	}
	*tokens = list;
	*ntokens = n;
	list = NULL;
	r = ERR_OK;
out:
	for (size_t i = 0; list != NULL && i < n; i++)
		p11_token_free(list[i]);
	free(list);
	if (uri != NULL)
		p11_kit_uri_free(uri);
	return r;
}

const struct p11_token_desc *p11_token_describe(const struct p11_token *t)
{
	return &t->desc;
}

size_t p11_token_nkeys(const struct p11_token *t)
{
	return t->nkeys;
}

const struct p11_key *p11_token_key(const struct p11_token *t, size_t i)
{
	return i < t->nkeys ? t->keys[i] : NULL;
}

const struct p11_pubkey *p11_key_public(const struct p11_key *k)
{
	return &k->pub;
}

const struct p11_token *p11_key_token(const struct p11_key *k)
{
	return k->token;
}

const char *p11_key_label(const struct p11_key *k)
{
	return k->label;
}

char *p11_key_uri(const struct p11_key *k)
{
	P11KitUri *uri = p11_kit_uri_new();
	CK_TOKEN_INFO info;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE attrs[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, k->id, k->id_len },
		{ CKA_LABEL, k->label, strlen(k->label) },
	};
	char *text = NULL;

	if (uri == NULL)
		return NULL;
	if (k->token->module->fn->C_GetTokenInfo(k->token->slot, &info) == CKR_OK) {
		memcpy(p11_kit_uri_get_token_info(uri), &info, sizeof(info));
		p11_kit_uri_set_attributes(uri, attrs, sizeof(attrs) / sizeof(attrs[0]));
		if (p11_kit_uri_format(uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &text) != 0)
			text = NULL;
	}
	p11_kit_uri_free(uri);
	return text;
}

int p11_tokens_load(const char *spec, const char *uri, struct p11_token ***tokens,
                    size_t *ntokens, struct reason *why)
{
	struct p11_module *m = NULL;
	int r;

	if ((r = p11_module_load(spec, &m, why)) != ERR_OK)
		return r;
	r = p11_tokens_open(m, uri, tokens, ntokens, why);
	p11_module_release(m);  /* each token holds its own reference */
	return r;
}
