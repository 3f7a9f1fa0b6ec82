/*
 * Finding the keys on a token: public key objects and X.509 certificates, paired with their
 * private keys by CKA_ID. Private keys are usually hidden until login, so the public half is
 * what gets listed; the private handle is looked up at the first signature.
 */
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "p11-internal.h"

/* Caps on what a token may make us allocate. */
#define MAX_ATTR_LEN (64 * 1024)
#define MAX_OBJECTS 1024

static int attr_get(struct p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                    CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*val = NULL;
	*len = 0;
	rv = t->module->fn->C_GetAttributeValue(s, obj, &a, 1);
	if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return ERR_UNSUPPORTED;
	if (a.ulValueLen > MAX_ATTR_LEN)
		return ERR_TOO_LARGE;
	/* One spare byte keeps an empty value a valid allocation and strings terminable. */
	if ((a.pValue = calloc(1, a.ulValueLen + 1)) == NULL)
		return ERR_ALLOC;
	if (t->module->fn->C_GetAttributeValue(s, obj, &a, 1) != CKR_OK) {
		free(a.pValue);
		return ERR_UNSUPPORTED;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return ERR_OK;
}

static int attr_get_ulong(struct p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                          CK_ATTRIBUTE_TYPE type, CK_ULONG *out)
{
	CK_ATTRIBUTE a = { type, out, sizeof(*out) };

	return t->module->fn->C_GetAttributeValue(s, obj, &a, 1) == CKR_OK ? ERR_OK :
	       ERR_UNSUPPORTED;
}

static int find_objects(struct p11_token *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
                        CK_ULONG ntmpl, CK_OBJECT_HANDLE *objs, size_t *count,
                        struct reason *why)
{
	CK_ULONG got;
	CK_RV rv;

	*count = 0;
	if ((rv = t->module->fn->C_FindObjectsInit(s, tmpl, ntmpl)) != CKR_OK)
		return p11_fail(why, t, "C_FindObjectsInit", rv);
	do {
		rv = t->module->fn->C_FindObjects(s, objs + *count, MAX_OBJECTS - *count, &got);
		if (rv != CKR_OK)
			break;
		*count += got;
	} while (got > 0 && *count < MAX_OBJECTS);
	t->module->fn->C_FindObjectsFinal(s);
	return rv == CKR_OK ? ERR_OK : p11_fail(why, t, "C_FindObjects", rv);
}

static int pubkey_from_object(struct p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                              CK_KEY_TYPE kt, struct key_material *pub)
{
	uint8_t *params = NULL, *point = NULL;
	size_t params_len, point_len;
	int r;

	memset(pub, 0, sizeof(*pub));
	if (kt == CKK_RSA) {
		pub->alg = KEY_RSA;
		if ((r = attr_get(t, s, obj, CKA_MODULUS, &pub->modulus, &pub->modulus_len)) ||
		    (r = attr_get(t, s, obj, CKA_PUBLIC_EXPONENT, &pub->exponent,
		                  &pub->exponent_len)))
			goto out;
		r = pub->modulus_len > 0 && pub->exponent_len > 0 ? ERR_OK : ERR_FORMAT;
		goto out;
	}
	if (kt != CKK_EC && kt != CKK_EC_EDWARDS)
		return ERR_UNSUPPORTED;
	if ((r = attr_get(t, s, obj, CKA_EC_PARAMS, &params, &params_len)) ||
	    (r = attr_get(t, s, obj, CKA_EC_POINT, &point, &point_len)) ||
	    (r = p11_decode_ec_params(params, params_len, &pub->alg, &pub->curve)) ||
	    (r = p11_decode_ec_point(point, point_len, pub->alg, pub->curve, &pub->point,
	                             &pub->point_len)))
		goto out;
out:
	free(params);
	free(point);
	if (r != ERR_OK)
		key_material_clear(pub);
	return r;
}

static int key_has_id(const struct p11_token *t, const uint8_t *id, size_t id_len)
{
	for (size_t i = 0; i < t->nkeys; i++)
		if (t->keys[i]->id_len == id_len && memcmp(t->keys[i]->id, id, id_len) == 0)
			return 1;
	return 0;
}

static int uri_selects(P11KitUri *uri, const uint8_t *id, size_t id_len, const char *label)
{
	CK_ATTRIBUTE attrs[2] = {
		{ CKA_ID, (void *)id, id_len },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};

	return uri == NULL || p11_kit_uri_match_attributes(uri, attrs, 2);
}

void p11_key_free(struct p11_key *k)
{
	if (k == NULL)
		return;
	key_material_clear(&k->pub);
	free(k->id);
	free(k->label);
	free(k);
}

/* Takes ownership of `pub`, `id` and `label` whatever happens. */
static int key_add(struct p11_token *t, CK_KEY_TYPE kt, struct key_material *pub, uint8_t *id,
                   size_t id_len, char *label)
{
	struct p11_key *k = calloc(1, sizeof(*k)), **keys;

	keys = k ? realloc(t->keys, (t->nkeys + 1) * sizeof(*keys)) : NULL;
	if (keys == NULL) {
		free(k);
		key_material_clear(pub);
		free(id);
		free(label);
		return ERR_ALLOC;
	}
	t->keys = keys;
	k->token = t;
	k->pub = *pub;
	k->key_type = kt;
	k->id = id;
	k->id_len = id_len;
	k->label = label;
	k->priv = CK_INVALID_HANDLE;
	t->keys[t->nkeys++] = k;
	return ERR_OK;
}

/* Reads one candidate object; returns ERR_OK when it became a key or was skipped. */
static int key_from_object(struct p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                           CK_OBJECT_CLASS cls, P11KitUri *uri)
{
	uint8_t *id = NULL, *label = NULL, *value = NULL;
	size_t id_len, label_len, value_len;
	struct key_material pub;
	CK_ULONG kt = CKK_RSA;
	int r;

	if (attr_get(t, s, obj, CKA_ID, &id, &id_len) != ERR_OK)
		return ERR_OK;          /* no CKA_ID: cannot be paired with a private key */
	if (attr_get(t, s, obj, CKA_LABEL, &label, &label_len) != ERR_OK &&
	    (label = calloc(1, 1)) == NULL) {
		free(id);
		return ERR_ALLOC;
	}
	if (key_has_id(t, id, id_len) || !uri_selects(uri, id, id_len, (char *)label))
		goto skip;
	if (cls == CKO_PUBLIC_KEY) {
		if (attr_get_ulong(t, s, obj, CKA_KEY_TYPE, &kt) != ERR_OK ||
		    pubkey_from_object(t, s, obj, kt, &pub) != ERR_OK)
			goto skip;
	} else {
		if (attr_get(t, s, obj, CKA_VALUE, &value, &value_len) != ERR_OK ||
		    p11_pubkey_from_cert(value, value_len, &pub) != ERR_OK)
			goto skip;
		kt = pub.alg == KEY_RSA ? CKK_RSA :
		     pub.alg == KEY_ECDSA ? CKK_EC : CKK_EC_EDWARDS;
	}
	free(value);
	r = key_add(t, kt, &pub, id, id_len, (char *)label);
	return r;
skip:
	free(id);
	free(label);
	free(value);
	return ERR_OK;
}

int p11_keys_load(struct p11_token *t, CK_SESSION_HANDLE s, const char *uri_text,
                  struct reason *why)
{
	static const CK_OBJECT_CLASS classes[] = { CKO_PUBLIC_KEY, CKO_CERTIFICATE };
	CK_OBJECT_HANDLE *objs = calloc(MAX_OBJECTS, sizeof(*objs));
	P11KitUri *uri = NULL;
	size_t count;
	int r = ERR_OK;

	if (objs == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	if (uri_text != NULL) {
		uri = p11_kit_uri_new();
		if (uri == NULL || p11_kit_uri_parse(uri_text, P11_KIT_URI_FOR_ANY, uri) != 0) {
			r = reason_set(why, ERR_CONFIG, "invalid pkcs11 URI \"%s\"", uri_text);
			goto out;
		}
	}
	/* Public keys first: when a certificate shares an ID, the key object wins. */
	for (size_t c = 0; c < 2 && r == ERR_OK; c++) {
		CK_OBJECT_CLASS cls = classes[c];
		CK_ATTRIBUTE tmpl = { CKA_CLASS, &cls, sizeof(cls) };

		if ((r = find_objects(t, s, &tmpl, 1, objs, &count, why)) != ERR_OK)
			break;
		for (size_t i = 0; i < count && r == ERR_OK; i++)
			if ((r = key_from_object(t, s, objs[i], cls, uri)) != ERR_OK)
				reason_set(why, r, "reading keys: out of memory");
	}
out:
	if (uri != NULL)
		p11_kit_uri_free(uri);
	free(objs);
	return r;
}
