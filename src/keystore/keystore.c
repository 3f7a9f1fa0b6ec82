/* The identity list and its reference counting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keystore.h"
#include "softkey.h"
#include "sshcert.h"

void keystore_init(struct keystore *ks)
{
	memset(ks, 0, sizeof(*ks));
	pthread_mutex_init(&ks->lock, NULL);
}

static void identity_clear(struct ks_identity *id)
{
	softkey_free(id->soft);
	free(id->blob);
	free(id->comment);
	free(id->uri);
	memset(id, 0, sizeof(*id));
}

static void pin_spec_unref(struct ks_pin_spec *spec)
{
	if (spec == NULL || __atomic_sub_fetch(&spec->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(spec->path);
	free(spec->confirm_program);
	free(spec);
}

struct ks_certs *ks_certs_new(size_t n, int certs_only)
{
	struct ks_certs *certs = calloc(1, sizeof(*certs));

	if (certs == NULL || (certs->cert = calloc(n + 1, sizeof(*certs->cert))) == NULL) {
		free(certs);
		return NULL;
	}
	certs->refs = 1;
	certs->certs_only = certs_only;
	return certs;
}

int ks_certs_add(struct ks_certs *certs, const uint8_t *blob, size_t len, struct reason *why)
{
	struct ks_cert *c = &certs->cert[certs->n];
	struct sshcert parsed;
	int r;

	if ((r = sshcert_parse(blob, len, &parsed)) != ERR_OK)
		return reason_set(why, r, "not an OpenSSH certificate with a valid CA signature "
		                  "(%s)", err_text(r));
	if (parsed.type != SSHCERT_USER) {
		sshcert_free(&parsed);
		return reason_set(why, ERR_FORMAT, "a host certificate cannot log in a user");
	}
	c->blob = parsed.blob;
	c->len = parsed.blob_len;
	c->key = parsed.key.blob;
	c->key_len = parsed.key.blob_len;
	parsed.blob = NULL;
	parsed.key.blob = NULL;
	sshcert_free(&parsed);
	certs->n++;
	return ERR_OK;
}

void ks_certs_unref(struct ks_certs *certs)
{
	if (certs == NULL || __atomic_sub_fetch(&certs->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < certs->n; i++) {
		free(certs->cert[i].blob);
		free(certs->cert[i].key);
	}
	free(certs->cert);
	free(certs);
}

static void source_free(struct ks_source *src)
{
	for (size_t i = 0; i < src->nids; i++)
		identity_clear(&src->ids[i]);
	free(src->ids);
	/* Tokens first: the PIN spec they point to must outlive them. */
	p11_tokens_unref(src->tokens, src->ntokens);
	for (size_t i = 0; i < src->nkept; i++)
		p11_token_unref(src->kept[i]);
	pin_spec_unref(src->pin);
	ks_certs_unref(src->certs);
	p11_module_release(src->module);
	free(src->name);
	free(src->provider);
	free(src->uri);
	dest_constraints_unref(src->dest);
	free(src);
}

/* The identity's SSH blob and fingerprint, from its public key. */
static int identity_blob(struct ks_identity *id, const struct key_material *pub)
{
	struct wbuf blob;
	int r;

	wbuf_init(&blob, 64 * 1024);
	if ((r = sshkey_blob(pub, &blob)) != ERR_OK) {
		wbuf_free(&blob);
		return r;
	}
	id->blob_len = wbuf_avail(&blob);
	id->blob = malloc(id->blob_len);
	if (id->blob != NULL)
		memcpy(id->blob, wbuf_ptr(&blob), id->blob_len);
	wbuf_free(&blob);
	if (id->blob == NULL)
		return ERR_ALLOC;
	sshkey_fingerprint(id->blob, id->blob_len, id->fingerprint);
	return ERR_OK;
}

static int identity_init(struct ks_identity *id, struct ks_source *src,
                         const struct p11_key *key)
{
	const struct p11_token_desc *d = p11_token_describe(p11_key_token(key));
	int r;

	id->src = src;
	id->key = key;
	if ((r = identity_blob(id, p11_key_public(key))) != ERR_OK)
		return r;
	/* The comment names key and token, so `ssh-add -l` says where a key lives. */
	if (asprintf(&id->comment, "%s (%s #%s)", p11_key_label(key), d->label, d->serial) < 0)
		id->comment = NULL;
	id->uri = p11_key_uri(key);
	return id->comment == NULL || id->uri == NULL ? ERR_ALLOC : ERR_OK;
}

/* The certificate identity for `plain`'s key: the same key, listed by the certificate. */
static int certificate_identity(struct ks_identity *id, const struct ks_identity *plain,
                                const struct ks_cert *cert)
{
	*id = *plain;
	id->blob = malloc(cert->len);
	id->comment = strdup(plain->comment);
	id->uri = strdup(plain->uri);
	if (id->blob == NULL || id->comment == NULL || id->uri == NULL)
		return ERR_ALLOC;
	memcpy(id->blob, cert->blob, cert->len);
	id->blob_len = cert->len;
	return ERR_OK;
}

/* A key's identity, then one per certificate of it; with certs_only, those alone. */
static void add_key_identities(struct ks_source *src, const struct p11_key *key)
{
	struct ks_identity plain;

	memset(&plain, 0, sizeof(plain));
	/* A key type we cannot encode is skipped, never half-listed. */
	if (identity_init(&plain, src, key) != ERR_OK) {
		identity_clear(&plain);
		return;
	}
	for (size_t c = 0; src->certs != NULL && c < src->certs->n; c++) {
		const struct ks_cert *cert = &src->certs->cert[c];

		if (cert->key_len != plain.blob_len || memcmp(cert->key, plain.blob, plain.blob_len))
			continue;
		if (certificate_identity(&src->ids[src->nids], &plain, cert) == ERR_OK)
			src->nids++;
		else
			identity_clear(&src->ids[src->nids]);
	}
	if (src->certs != NULL && src->certs->certs_only)
		identity_clear(&plain);
	else
		src->ids[src->nids++] = plain;
}

static int build_identities(struct ks_source *src)
{
	size_t nkeys = 0, per_key = 1 + (src->certs != NULL ? src->certs->n : 0);

	for (size_t i = 0; i < src->nids; i++)
		identity_clear(&src->ids[i]);
	free(src->ids);
	src->nids = 0;
	for (size_t i = 0; i < src->ntokens; i++)
		nkeys += p11_token_nkeys(src->tokens[i]);
	if ((src->ids = calloc(nkeys * per_key + 1, sizeof(*src->ids))) == NULL)
		return ERR_ALLOC;
	for (size_t i = 0; i < src->ntokens; i++)
		for (size_t k = 0; k < p11_token_nkeys(src->tokens[i]); k++)
			add_key_identities(src, p11_token_key(src->tokens[i], k));
	return ERR_OK;
}

/* Tokens get the source's PIN source and cache; identities are computed for their keys. */
static int source_fill(struct ks_source *src, struct p11_token **tokens, size_t ntokens)
{
	src->tokens = tokens;
	src->ntokens = ntokens;
	for (size_t i = 0; i < ntokens; i++) {
		p11_token_set_pin_cache(tokens[i], &src->cache);
		if (src->pin->kind != PIN_SOURCE_NONE && src->pin->fn != NULL)
			p11_token_set_pin_source(tokens[i], src->pin->fn, src->pin);
	}
	return build_identities(src);
}

int ks_source_attach_certs(struct ks_source *src, struct ks_certs *certs)
{
	ks_certs_unref(src->certs);
	src->certs = certs;
	return build_identities(src);
}

static struct ks_source *source_new(const char *name, const char *provider, const char *uri)
{
	struct ks_source *src = calloc(1, sizeof(*src));

	if (src == NULL)
		return NULL;
	src->refs = 1;
	if ((src->name = strdup(name)) == NULL ||
	    (provider != NULL && (src->provider = strdup(provider)) == NULL) ||
	    (uri != NULL && (src->uri = strdup(uri)) == NULL)) {
		source_free(src);
		return NULL;
	}
	return src;
}

int ks_source_open(const char *name, const char *provider, const char *spec, const char *uri,
                   const struct ks_pin_spec *pin, const struct p11_pin_cache *cache,
                   struct ks_source **out, struct reason *why)
{
	struct p11_token **tokens = NULL;
	struct ks_source *src;
	size_t n = 0;
	int r, changed;

	*out = NULL;
	if ((src = source_new(name, provider, uri)) == NULL ||
	    (src->pin = calloc(1, sizeof(*src->pin))) == NULL ||
	    (pin->path != NULL && (src->pin->path = strdup(pin->path)) == NULL) ||
	    (pin->confirm_program != NULL &&
	     (src->pin->confirm_program = strdup(pin->confirm_program)) == NULL)) {
		r = reason_set(why, ERR_ALLOC, "out of memory");
		goto fail;
	}
	src->pin->refs = 1;
	src->pin->kind = pin->kind;
	src->pin->fn = pin->fn;
	src->pin->confirm = pin->confirm;
	src->cache = *cache;
	if ((r = p11_module_load(spec, &src->module, why)) != ERR_OK)
		goto fail;
	r = p11_tokens_refresh(src->module, uri, NULL, 0, &tokens, &n, &changed, why);
	if (tokens == NULL)
		goto fail;
	if (source_fill(src, tokens, n) != ERR_OK) {
		r = reason_set(why, ERR_ALLOC, "out of memory");
		goto fail;
	}
	*out = src;
	return r;
fail:
	if (src != NULL)
		source_free(src);
	return r;
}

/*
 * A certified key is listed and asked for by its certificate; its fingerprint stays the
 * key's, as OpenSSH prints it.
 */
static int certificate_blob(struct ks_identity *id, const uint8_t *cert, size_t len)
{
	uint8_t *blob = malloc(len);

	if (blob == NULL)
		return ERR_ALLOC;
	memcpy(blob, cert, len);
	free(id->blob);
	id->blob = blob;
	id->blob_len = len;
	return ERR_OK;
}

int ks_source_software(struct softkey *sk, const char *comment, struct ks_source **out,
                       struct reason *why)
{
	struct ks_source *src = source_new(KEYSTORE_SOFTWARE, NULL, NULL);
	const uint8_t *cert;
	struct ks_identity *id;
	size_t cert_len;

	*out = NULL;
	if (src == NULL || (src->pin = calloc(1, sizeof(*src->pin))) == NULL ||
	    (src->ids = calloc(1, sizeof(*src->ids))) == NULL) {
		softkey_free(sk);
		if (src != NULL)
			source_free(src);
		return reason_set(why, ERR_ALLOC, "out of memory");
	}
	src->pin->refs = 1;
	src->pin->kind = PIN_SOURCE_NONE;
	id = &src->ids[0];
	id->src = src;
	id->soft = sk;
	src->nids = 1;
	if (identity_blob(id, softkey_public(sk)) != ERR_OK ||
	    (id->comment = strdup(comment)) == NULL ||
	    ((cert = softkey_certificate(sk, &cert_len)) != NULL &&
	     certificate_blob(id, cert, cert_len) != ERR_OK)) {
		source_free(src);
		return reason_set(why, ERR_ALLOC, "out of memory");
	}
	*out = src;
	return ERR_OK;
}

static struct ks_identity *find_blob(const struct ks_source *src, const uint8_t *blob,
                                     size_t len)
{
	for (size_t i = 0; i < src->nids; i++)
		if (src->ids[i].blob_len == len && memcmp(src->ids[i].blob, blob, len) == 0)
			return &src->ids[i];
	return NULL;
}

struct ks_source *ks_source_renew(const struct ks_source *old, struct p11_token **tokens,
                                  size_t ntokens)
{
	struct ks_source *src = source_new(old->name, old->provider, old->uri);
	struct ks_identity *was;

	if (src == NULL) {
		p11_tokens_unref(tokens, ntokens);
		return NULL;
	}
	/* Atomic: a rescan and a reload may renew the same source at once. */
	src->pin = old->pin;
	__atomic_add_fetch(&src->pin->refs, 1, __ATOMIC_ACQ_REL);
	if ((src->certs = old->certs) != NULL)
		__atomic_add_fetch(&src->certs->refs, 1, __ATOMIC_ACQ_REL);
	p11_module_ref(old->module);
	src->module = old->module;
	src->cache = old->cache;
	src->expires = old->expires;
	src->confirm = old->confirm;
	src->dest = dest_constraints_ref(old->dest);
	memcpy(src->last_error, old->last_error, sizeof(src->last_error));
	if (source_fill(src, tokens, ntokens) != ERR_OK) {
		source_free(src);
		return NULL;
	}
	/* A key deleted with ssh-add -d stays deleted when its token comes back. */
	for (size_t i = 0; i < src->nids; i++)
		if ((was = find_blob(old, src->ids[i].blob, src->ids[i].blob_len)) != NULL)
			src->ids[i].removed = was->removed;
	return src;
}

struct ks_source *ks_source_with_certs(const struct ks_source *old, struct ks_certs *certs)
{
	struct p11_token **tokens = calloc(old->ntokens + 1, sizeof(*tokens));
	struct ks_source *src;

	if (tokens == NULL) {
		ks_certs_unref(certs);
		return NULL;
	}
	for (size_t i = 0; i < old->ntokens; i++) {
		p11_token_ref(old->tokens[i]);
		tokens[i] = old->tokens[i];
	}
	if ((src = ks_source_renew(old, tokens, old->ntokens)) == NULL) {
		ks_certs_unref(certs);
		return NULL;
	}
	/* A removed token whose PIN is kept for its return keeps it. */
	for (size_t i = 0; i < old->nkept; i++) {
		p11_token_ref(old->kept[i]);
		src->kept[src->nkept++] = old->kept[i];
	}
	if (ks_source_attach_certs(src, certs) != ERR_OK) {
		ks_source_unref(src);
		return NULL;
	}
	return src;
}

void ks_source_unref(struct ks_source *src)
{
	if (src != NULL && --src->refs == 0)
		source_free(src);
}

/* Unlists source `i`; called with the lock held. */
static void unlist(struct keystore *ks, size_t i)
{
	struct ks_source *src = ks->sources[i];

	ks->sources[i] = ks->sources[--ks->nsources];
	ks->sources[ks->nsources] = NULL;
	ks_source_unref(src);
}

static int is_software(const struct ks_source *src)
{
	return src->module == NULL;
}

/* The same software key added again replaces the old entry; under the lock. */
static void unlist_same_software(struct keystore *ks, const struct ks_source *src)
{
	for (size_t i = ks->nsources; i-- > 0;)
		if (is_software(ks->sources[i]) &&
		    find_blob(ks->sources[i], src->ids[0].blob, src->ids[0].blob_len) != NULL)
			unlist(ks, i);
}

int keystore_add(struct keystore *ks, struct ks_source *src, struct reason *why)
{
	size_t same_kind = 0;
	int r = ERR_OK;

	pthread_mutex_lock(&ks->lock);
	if (is_software(src))
		unlist_same_software(ks, src);
	for (size_t i = 0; i < ks->nsources; i++) {
		same_kind += is_software(ks->sources[i]) == is_software(src);
		if (src->provider != NULL && ks->sources[i]->provider != NULL &&
		    strcmp(ks->sources[i]->provider, src->provider) == 0)
			r = reason_set(why, ERR_DENIED, "provider %s is already added", src->provider);
	}
	if (r == ERR_OK && is_software(src) && same_kind >= KEYSTORE_MAX_SOFTWARE_KEYS)
		r = reason_set(why, ERR_LIMIT, "the agent holds %d software keys already; remove "
		               "some first (ssh-add -d)", KEYSTORE_MAX_SOFTWARE_KEYS);
	else if (r == ERR_OK && !is_software(src) && same_kind >= KEYSTORE_MAX_TOKEN_SOURCES)
		r = reason_set(why, ERR_LIMIT, "too many token sources (%d)",
		               KEYSTORE_MAX_TOKEN_SOURCES);
	else if (r == ERR_OK)
		ks->sources[ks->nsources++] = src;
	pthread_mutex_unlock(&ks->lock);
	return r;
}

int keystore_remove_provider(struct keystore *ks, const char *provider)
{
	int r = ERR_KEY_NOT_FOUND;

	pthread_mutex_lock(&ks->lock);
	for (size_t i = 0; i < ks->nsources; i++) {
		if (ks->sources[i]->provider != NULL &&
		    strcmp(ks->sources[i]->provider, provider) == 0) {
			unlist(ks, i);
			r = ERR_OK;
			break;
		}
	}
	pthread_mutex_unlock(&ks->lock);
	return r;
}

void keystore_remove_source(struct keystore *ks, const struct ks_source *src)
{
	pthread_mutex_lock(&ks->lock);
	for (size_t i = 0; i < ks->nsources; i++) {
		if (ks->sources[i] == src) {
			unlist(ks, i);
			break;
		}
	}
	pthread_mutex_unlock(&ks->lock);
}

void keystore_remove_all(struct keystore *ks)
{
	pthread_mutex_lock(&ks->lock);
	while (ks->nsources > 0)
		unlist(ks, ks->nsources - 1);
	pthread_mutex_unlock(&ks->lock);
}

void keystore_clear(struct keystore *ks)
{
	keystore_remove_all(ks);
	pthread_mutex_destroy(&ks->lock);
}

int keystore_remove_identity(struct keystore *ks, const uint8_t *blob, size_t len)
{
	int r = ERR_KEY_NOT_FOUND;

	pthread_mutex_lock(&ks->lock);
	for (size_t i = ks->nsources; i-- > 0;) {
		for (size_t k = 0; k < ks->sources[i]->nids; k++) {
			struct ks_identity *id = &ks->sources[i]->ids[k];

			if (id->removed || id->blob_len != len || memcmp(id->blob, blob, len) != 0)
				continue;
			r = ERR_OK;
			if (is_software(ks->sources[i])) {
				unlist(ks, i);
				break;
			}
			id->removed = 1;
		}
	}
	pthread_mutex_unlock(&ks->lock);
	return r;
}

void keystore_expire(struct keystore *ks, time_t now)
{
	pthread_mutex_lock(&ks->lock);
	for (size_t i = ks->nsources; i-- > 0;)
		if (ks->sources[i]->expires != 0 && ks->sources[i]->expires <= now)
			unlist(ks, i);
	pthread_mutex_unlock(&ks->lock);
}

static int live(const struct ks_identity *id, time_t now)
{
	return !id->removed && (id->src->expires == 0 || id->src->expires > now);
}

struct ks_identity *keystore_find(struct keystore *ks, const uint8_t *blob, size_t len)
{
	struct ks_identity *found = NULL;
	time_t now = time(NULL);

	pthread_mutex_lock(&ks->lock);
	for (size_t i = 0; i < ks->nsources && found == NULL; i++) {
		for (size_t k = 0; k < ks->sources[i]->nids && found == NULL; k++) {
			struct ks_identity *id = &ks->sources[i]->ids[k];

			if (live(id, now) && id->blob_len == len && memcmp(id->blob, blob, len) == 0) {
				id->src->refs++;
				found = id;
			}
		}
	}
	pthread_mutex_unlock(&ks->lock);
	return found;
}

void keystore_put(struct keystore *ks, struct ks_identity *id)
{
	pthread_mutex_lock(&ks->lock);
	ks_source_unref(id->src);
	pthread_mutex_unlock(&ks->lock);
}

int keystore_foreach(struct keystore *ks, int (*fn)(void *ctx, const struct ks_identity *id),
                     void *ctx)
{
	time_t now = time(NULL);
	int r = ERR_OK;

	pthread_mutex_lock(&ks->lock);
	for (size_t i = 0; i < ks->nsources && r == ERR_OK; i++)
		for (size_t k = 0; k < ks->sources[i]->nids && r == ERR_OK; k++)
			if (live(&ks->sources[i]->ids[k], now))
				r = fn(ctx, &ks->sources[i]->ids[k]);
	pthread_mutex_unlock(&ks->lock);
	return r;
}

int keystore_replace(struct keystore *ks, struct ks_source *old, struct ks_source *next)
{
	int done = 0;

	pthread_mutex_lock(&ks->lock);
	for (size_t i = 0; i < ks->nsources && !done; i++) {
		if (ks->sources[i] == old) {
			ks->sources[i] = next;
			ks_source_unref(old);
			done = 1;
		}
	}
	pthread_mutex_unlock(&ks->lock);
	return done;
}

size_t keystore_snapshot(struct keystore *ks, struct ks_source **out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&ks->lock);
	for (size_t i = 0; i < ks->nsources && n < max; i++) {
		ks->sources[i]->refs++;
		out[n++] = ks->sources[i];
	}
	pthread_mutex_unlock(&ks->lock);
	return n;
}

void keystore_release(struct keystore *ks, struct ks_source **srcs, size_t n)
{
	pthread_mutex_lock(&ks->lock);
	for (size_t i = 0; i < n; i++)
		ks_source_unref(srcs[i]);
	pthread_mutex_unlock(&ks->lock);
}

void keystore_each_token(struct keystore *ks, void (*fn)(struct p11_token *t))
{
	struct ks_source *srcs[KEYSTORE_MAX_SOURCES];
	size_t n = keystore_snapshot(ks, srcs, KEYSTORE_MAX_SOURCES);

	/* Without the lock: fn may wait on a token, or on a login that waits on a prompt. */
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < srcs[i]->ntokens; k++)
			fn(srcs[i]->tokens[k]);
		for (size_t k = 0; k < srcs[i]->nkept; k++)
			fn(srcs[i]->kept[k]);
	}
	keystore_release(ks, srcs, n);
}
