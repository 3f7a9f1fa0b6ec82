/* OpenSSH's destination constraints: the wire format and ssh-agent's identity_permitted(). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dest-constraint.h"
#include "match.h"

static void hop_free(struct dest_hop *h)
{
	for (size_t i = 0; i < h->nkeys; i++)
		sshpub_free(&h->keys[i].key);
	free(h->keys);
	free(h->user);
	free(h->hostname);
}

static int get_optional_text(struct wbuf *b, char **out)
{
	const uint8_t *p;
	size_t n;
	int r;

	*out = NULL;
	if ((r = wbuf_get_string(b, &p, &n)) != ERR_OK)
		return r;
	if (n == 0)
		return ERR_OK;
	if (n > 1024 || memchr(p, '\0', n) != NULL)
		return ERR_FORMAT;
	if ((*out = strndup((const char *)p, n)) == NULL)
		return ERR_ALLOC;
	return ERR_OK;
}

static int parse_key(struct wbuf *b, struct dest_key *k)
{
	const uint8_t *blob;
	size_t len;
	uint8_t is_ca;
	int r;

	if ((r = wbuf_get_string(b, &blob, &len)) != ERR_OK ||
	    (r = wbuf_get_u8(b, &is_ca)) != ERR_OK)
		return r;
	if (is_ca > 1)
		return ERR_FORMAT;
	k->is_ca = is_ca;
	r = sshpub_parse(blob, len, &k->key);
	/* A key type we cannot compare still counts as a constraint; it just never matches. */
	k->usable = r == ERR_OK;
	return r == ERR_UNSUPPORTED ? ERR_OK : r;
}

static int parse_hop(struct wbuf *outer, struct dest_hop *h)
{
	const uint8_t *reserved;
	size_t reserved_len;
	struct wbuf b;
	int r;

	if ((r = wbuf_get_stringb(outer, &b)) != ERR_OK ||
	    (r = get_optional_text(&b, &h->user)) != ERR_OK ||
	    (r = get_optional_text(&b, &h->hostname)) != ERR_OK ||
	    (r = wbuf_get_string(&b, &reserved, &reserved_len)) != ERR_OK)
		return r;
	if (reserved_len != 0)
		return ERR_UNSUPPORTED;
	while (wbuf_avail(&b) > 0) {
		if (h->nkeys >= DEST_MAX_KEYS)
			return ERR_LIMIT;
		if (h->nkeys % 8 == 0) {
			struct dest_key *k = realloc(h->keys, (h->nkeys + 8) * sizeof(*k));

			if (k == NULL)
				return ERR_ALLOC;
			h->keys = k;
		}
		memset(&h->keys[h->nkeys], 0, sizeof(h->keys[0]));
		if ((r = parse_key(&b, &h->keys[h->nkeys])) != ERR_OK)
			return r;
		h->nkeys++;
	}
	return ERR_OK;
}

/* The sanity rules ssh-agent applies to each constraint. */
static const char *constraint_problem(const struct dest_hop *from, const struct dest_hop *to)
{
	if (from->user != NULL)
		return "a \"from\" hop may not name a user";
	if (from->hostname == NULL && from->nkeys != 0)
		return "a \"from\" hop with keys but no host name";
	if (from->hostname != NULL && from->nkeys == 0)
		return "a \"from\" hop with a host name but no keys";
	if (to->hostname == NULL || to->nkeys == 0)
		return "a \"to\" hop without a host name or keys";
	return NULL;
}

int dest_constraints_parse(const uint8_t *data, size_t len, struct dest_constraints **out,
                           struct reason *why)
{
	struct dest_constraints *dc;
	const uint8_t *reserved;
	size_t reserved_len;
	struct wbuf all, one;
	const char *problem;
	int r = ERR_OK;

	if ((dc = calloc(1, sizeof(*dc))) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	dc->refs = 1;
	wbuf_view(&all, data, len);
	while (r == ERR_OK && wbuf_avail(&all) > 0) {
		if (dc->n >= DEST_MAX_CONSTRAINTS) {
			r = reason_set(why, ERR_LIMIT, "more than %d destination constraints",
			               DEST_MAX_CONSTRAINTS);
			break;
		}
		if (dc->n % 8 == 0) {
			void *c = realloc(dc->c, (dc->n + 8) * sizeof(dc->c[0]));

			if (c == NULL) {
				r = reason_set(why, ERR_ALLOC, "out of memory");
				break;
			}
			dc->c = c;
		}
		memset(&dc->c[dc->n], 0, sizeof(dc->c[0]));
		dc->n++;
		if ((r = wbuf_get_stringb(&all, &one)) != ERR_OK ||
		    (r = parse_hop(&one, &dc->c[dc->n - 1].from)) != ERR_OK ||
		    (r = parse_hop(&one, &dc->c[dc->n - 1].to)) != ERR_OK ||
		    (r = wbuf_get_string(&one, &reserved, &reserved_len)) != ERR_OK ||
		    (r = wbuf_avail(&one) != 0 || reserved_len != 0 ? ERR_FORMAT : ERR_OK) !=
		    ERR_OK) {
			reason_set(why, r, "destination constraint %zu: %s", dc->n, err_text(r));
		} else if ((problem = constraint_problem(&dc->c[dc->n - 1].from,
		                                         &dc->c[dc->n - 1].to)) != NULL) {
			r = reason_set(why, ERR_UNSUPPORTED, "destination constraint %zu: %s", dc->n,
			               problem);
		}
	}
	if (r == ERR_OK && dc->n == 0)
		r = reason_set(why, ERR_FORMAT, "empty destination constraint");
	if (r != ERR_OK) {
		dest_constraints_unref(dc);
		return r;
	}
	*out = dc;
	return ERR_OK;
}

struct dest_constraints *dest_constraints_ref(struct dest_constraints *dc)
{
	if (dc != NULL)
		__atomic_add_fetch(&dc->refs, 1, __ATOMIC_SEQ_CST);
	return dc;
}

void dest_constraints_unref(struct dest_constraints *dc)
{
	if (dc == NULL || __atomic_sub_fetch(&dc->refs, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	for (size_t i = 0; i < dc->n; i++) {
		hop_free(&dc->c[i].from);
		hop_free(&dc->c[i].to);
	}
	free(dc->c);
	free(dc);
}

/*
 * ssh-agent's sshkey_cert_check_host() for a CA entry: a host certificate, valid now,
 * without critical options, naming the hop's host among its principals (patterns allowed,
 * and none listed means any), as OpenSSH checks it for ssh-add -h.
 */
static int cert_names_host(const struct sshcert *cert, const char *hostname)
{
	if (!sshcert_host_usable(cert, (uint64_t)time(NULL)))
		return 0;
	if (cert->nprincipals == 0)
		return 1;
	for (size_t i = 0; hostname != NULL && i < cert->nprincipals; i++)
		if (match_pattern(hostname, cert->principals[i]))
			return 1;
	return 0;
}

/* ssh-agent's match_key_hop(): the host's key itself, or a CA that certified it for the hop. */
static int hop_has_key(const struct dest_hop *h, const struct binding *b)
{
	if (b == NULL)
		return 0;
	for (size_t i = 0; i < h->nkeys; i++) {
		const struct dest_key *k = &h->keys[i];

		if (!k->usable)
			continue;
		if (!k->is_ca && sshpub_equal(&k->key, &b->hostkey))
			return 1;
		if (k->is_ca && b->cert != NULL && sshpub_equal(&k->key, &b->cert->ca) &&
		    cert_names_host(b->cert, h->hostname))
			return 1;
	}
	return 0;
}

/* ssh-agent's permitted_by_dest_constraints(): one hop, from `fromkey` to `tokey`. */
static int hop_permitted(const struct dest_constraints *dc, const struct binding *fromkey,
                         const struct binding *tokey, const char *user, const char **name)
{
	for (size_t i = 0; i < dc->n; i++) {
		const struct dest_hop *from = &dc->c[i].from, *to = &dc->c[i].to;

		if (fromkey == NULL) {
			if (from->hostname != NULL || from->nkeys != 0)
				continue;       /* the first hop must start here */
		} else if (!hop_has_key(from, fromkey)) {
			continue;
		}
		if (tokey != NULL && !hop_has_key(to, tokey))
			continue;
		if (to->user != NULL && user != NULL && !match_pattern(user, to->user))
			continue;
		if (name != NULL)
			*name = to->hostname;
		return 1;
	}
	return 0;
}

int dest_constraints_permit(const struct dest_constraints *dc, const struct bindings *bs,
                            const char *user, const char **dest_name, struct reason *why)
{
	const struct binding *last;

	if (dc == NULL || bs->n == 0)
		return ERR_OK;          /* unconstrained, or local use */
	for (size_t i = 0; i < bs->n; i++) {
		const struct binding *b = &bs->hop[i];
		const struct binding *from = i > 0 ? &bs->hop[i - 1] : NULL;
		int is_last = i == bs->n - 1;

		if (is_last && b->forwarded && user != NULL)
			return reason_set(why, ERR_DENIED, "refusing to sign on a forwarding hop");
		if (!is_last && !b->forwarded)
			return reason_set(why, ERR_DENIED, "forwarded through a hop bound for "
			                  "authentication");
		if (!hop_permitted(dc, from, b, is_last ? user : NULL, dest_name))
			return reason_set(why, ERR_DENIED, "ssh-add -h constraints do not permit "
			                  "hop %zu (%s%s%s)", i + 1, b->hostkey.fingerprint,
			                  is_last && user ? ", user " : "", is_last && user ? user : "");
	}
	/* Listing on a forwarded connection: show only keys usable beyond this host. */
	last = bindings_last(bs);
	if (last->forwarded && user == NULL &&
	    !hop_permitted(dc, last, NULL, NULL, NULL))
		return reason_set(why, ERR_DENIED, "ssh-add -h constraints permit no use beyond %s",
		                  last->hostkey.fingerprint);
	return ERR_OK;
}
