/* One token: opening it, its identity, its life (references, removal) and its keys. */
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "p11-internal.h"

void p11_desc_from_info(struct p11_token_desc *d, const CK_TOKEN_INFO *info)
{
	d->flags = info->flags;
	p11_copy_padded(d->label, sizeof(d->label), info->label, sizeof(info->label));
	p11_copy_padded(d->manufacturer, sizeof(d->manufacturer), info->manufacturerID,
	                sizeof(info->manufacturerID));
	p11_copy_padded(d->model, sizeof(d->model), info->model, sizeof(info->model));
	p11_copy_padded(d->serial, sizeof(d->serial), info->serialNumber,
	                sizeof(info->serialNumber));
}

int p11_desc_same_token(const struct p11_token_desc *a, const struct p11_token_desc *b)
{
	return strcmp(a->manufacturer, b->manufacturer) == 0 &&
	       strcmp(a->model, b->model) == 0 && strcmp(a->serial, b->serial) == 0;
}

static struct p11_token *token_new(struct p11_module *m, CK_SLOT_ID slot,
                                   const CK_TOKEN_INFO *info)
{
	struct p11_token *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->module = m;
	t->slot = slot;
	t->refs = 1;
	t->desc.slot_id = slot;
	t->desc.module_path = m->path;
	p11_desc_from_info(&t->desc, info);
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->login_lock, NULL);
	pthread_cond_init(&t->pool_cond, NULL);
	p11_module_ref(m);
	return t;
}

void p11_token_ref(struct p11_token *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
}

void p11_token_unref(struct p11_token *t)
{
	if (t == NULL || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
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

void p11_tokens_unref(struct p11_token **tokens, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p11_token_unref(tokens[i]);
	free(tokens);
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

int p11_token_open(struct p11_module *m, CK_SLOT_ID slot, const CK_TOKEN_INFO *info,
                   const char *uri, struct p11_token **out, struct reason *why)
{
	struct p11_token *t = token_new(m, slot, info);
	int r;

	if (t == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	if ((r = token_load_keys(t, uri, why)) != ERR_OK) {
		p11_token_unref(t);
		return r;
	}
	*out = t;
	return ERR_OK;
}

int p11_token_same(const struct p11_token *a, const struct p11_token *b)
{
	return a->module == b->module && p11_desc_same_token(&a->desc, &b->desc);
}

int p11_tokens_contain(struct p11_token *const *list, size_t n, const struct p11_token *t)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == t)
			return 1;
	return 0;
}

int p11_token_presence(struct p11_token *t)
{
	struct p11_token_desc now;
	CK_TOKEN_INFO info;
	CK_RV rv;

	if ((rv = t->module->fn->C_GetTokenInfo(t->slot, &info)) != CKR_OK)
		return p11_rv_code(rv) == ERR_TOKEN_REMOVED ? ERR_TOKEN_REMOVED : ERR_TOKEN_UNREACHABLE;
	p11_desc_from_info(&now, &info);
	return p11_desc_same_token(&now, &t->desc) ? ERR_OK : ERR_TOKEN_REMOVED;
}

void p11_token_reset(struct p11_token *t)
{
	p11_session_close_all(t);
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->nkeys; i++)
		t->keys[i]->priv = CK_INVALID_HANDLE;
	pthread_mutex_unlock(&t->lock);
}

void p11_token_mark_removed(struct p11_token *t)
{
	pthread_mutex_lock(&t->lock);
	t->removed = 1;
	pthread_mutex_unlock(&t->lock);
	p11_token_reset(t);
	pthread_mutex_lock(&t->login_lock);
	if (!t->cache.keep_on_removal) {
		p11_pin_free(t->pin);
		t->pin = NULL;
	}
	pthread_mutex_unlock(&t->login_lock);
}

int p11_token_is_removed(const struct p11_token *t)
{
	struct p11_token *mt = (struct p11_token *)t;  /* the lock is not part of the value */
	int removed;

	pthread_mutex_lock(&mt->lock);
	removed = mt->removed;
	pthread_mutex_unlock(&mt->lock);
	return removed;
}

int p11_token_check_present(struct p11_token *t, struct reason *why)
{
	if (!p11_token_is_removed(t))
		return ERR_OK;
	return reason_set(why, ERR_TOKEN_REMOVED, "token removed (%s #%s, was in slot %lu)",
	                  t->desc.label, t->desc.serial, (unsigned long)t->slot);
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

const struct key_material *p11_key_public(const struct p11_key *k)
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
