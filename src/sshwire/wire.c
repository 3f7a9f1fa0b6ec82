/* Bounds-checked reading and writing of SSH wire types (RFC 4251 section 5). */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "wire.h"

void wbuf_init(struct wbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void wbuf_view(struct wbuf *b, const uint8_t *p, size_t n)
{
	memset(b, 0, sizeof(*b));
	/* A view never writes: alloc == 0 makes every writer refuse. */
	b->data = (uint8_t *)p;
	b->len = n;
}

void wbuf_free(struct wbuf *b)
{
	if (b->alloc > 0 && b->data != NULL) {
		explicit_bzero(b->data, b->alloc);
		free(b->data);
	}
	b->data = NULL;
	b->alloc = b->off = b->len = 0;
}

void wbuf_reset(struct wbuf *b)
{
	if (b->alloc > 0 && b->data != NULL)
		explicit_bzero(b->data, b->len);
	b->off = b->len = 0;
}

size_t wbuf_avail(const struct wbuf *b)
{
	return b->len - b->off;
}

const uint8_t *wbuf_ptr(const struct wbuf *b)
{
	static const uint8_t nothing[1];

	/* An empty buffer may have no storage yet: NULL + 0 is undefined in C. */
	return b->data != NULL ? b->data + b->off : nothing;
}

int wbuf_skip(struct wbuf *b, size_t n)
{
	if (n > wbuf_avail(b))
		return ERR_INCOMPLETE;
	b->off += n;
	return ERR_OK;
}

void wbuf_compact(struct wbuf *b)
{
	size_t n = wbuf_avail(b);

	if (b->alloc == 0 || b->off == 0)
		return;
	memmove(b->data, b->data + b->off, n);
	explicit_bzero(b->data + n, b->len - n);
	b->off = 0;
	b->len = n;
}

int wbuf_get_bytes(struct wbuf *b, size_t n, const uint8_t **p)
{
	if (n > wbuf_avail(b))
		return ERR_INCOMPLETE;
	*p = b->data + b->off;
	b->off += n;
	return ERR_OK;
}

int wbuf_get_u8(struct wbuf *b, uint8_t *v)
{
	const uint8_t *p;
	int r;

	if ((r = wbuf_get_bytes(b, 1, &p)) != ERR_OK)
		return r;
	*v = p[0];
	return ERR_OK;
}

static uint32_t load_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

int wbuf_peek_u32(const struct wbuf *b, uint32_t *v)
{
	if (wbuf_avail(b) < 4)
		return ERR_INCOMPLETE;
	*v = load_be32(wbuf_ptr(b));
	return ERR_OK;
}

int wbuf_get_u32(struct wbuf *b, uint32_t *v)
{
	const uint8_t *p;
	int r;

	if ((r = wbuf_get_bytes(b, 4, &p)) != ERR_OK)
		return r;
	*v = load_be32(p);
	return ERR_OK;
}

int wbuf_get_u64(struct wbuf *b, uint64_t *v)
{
	uint32_t hi, lo;
	int r;

	if ((r = wbuf_get_u32(b, &hi)) != ERR_OK || (r = wbuf_get_u32(b, &lo)) != ERR_OK)
		return r;
	*v = (uint64_t)hi << 32 | lo;
	return ERR_OK;
}

int wbuf_get_string(struct wbuf *b, const uint8_t **p, size_t *n)
{
	uint32_t len;
	int r;

	if ((r = wbuf_peek_u32(b, &len)) != ERR_OK)
		return r;
	if (len > wbuf_avail(b) - 4)
		return ERR_FORMAT;
	b->off += 4;
	*n = len;
	return wbuf_get_bytes(b, len, p);
}

int wbuf_get_stringb(struct wbuf *b, struct wbuf *sub)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = wbuf_get_string(b, &p, &n)) != ERR_OK)
		return r;
	wbuf_view(sub, p, n);
	return ERR_OK;
}

int wbuf_get_cstring(struct wbuf *b, char **s)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = wbuf_get_string(b, &p, &n)) != ERR_OK)
		return r;
	if (memchr(p, '\0', n) != NULL)
		return ERR_FORMAT;
	if ((*s = malloc(n + 1)) == NULL)
		return ERR_ALLOC;
	memcpy(*s, p, n);
	(*s)[n] = '\0';
	return ERR_OK;
}

int wbuf_get_string_eq(struct wbuf *b, const char *expect, int *equal)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = wbuf_get_string(b, &p, &n)) != ERR_OK)
		return r;
	*equal = n == strlen(expect) && memcmp(p, expect, n) == 0;
	return ERR_OK;
}

int wbuf_get_mpint_unsigned(struct wbuf *b, const uint8_t **p, size_t *n)
{
	const uint8_t *v;
	size_t len;
	int r;

	if ((r = wbuf_get_string(b, &v, &len)) != ERR_OK)
		return r;
	if (len > 0 && (v[0] & 0x80) != 0)
		return ERR_FORMAT;      /* negative */
	/* One leading zero is allowed only to clear the sign bit (no padding). */
	if (len > 0 && v[0] == 0) {
		if (len == 1 || (v[1] & 0x80) == 0)
			return ERR_FORMAT;
		v++;
		len--;
	}
	*p = v;
	*n = len;
	return ERR_OK;
}

int wbuf_reserve(struct wbuf *b, size_t n, uint8_t **p)
{
	size_t need, alloc;
	uint8_t *d;

	if (b->alloc == 0 && b->data != NULL)
		return ERR_INTERNAL;    /* a read-only view */
	/* The cap is on the bytes held: consumed ones make room once compacted. */
	if (n > b->max || wbuf_avail(b) > b->max - n)
		return ERR_TOO_LARGE;
	need = b->len + n;
	if (need > b->alloc) {
		if (b->off > 0) {
			wbuf_compact(b);
			need = b->len + n;
		}
	}
	if (need > b->alloc) {
		alloc = b->alloc < 256 ? 256 : b->alloc;
		while (alloc < need)
			alloc = alloc > b->max / 2 ? b->max : alloc * 2;
		/* Grow by copy so the old bytes can be wiped, never left behind by realloc. */
		if ((d = malloc(alloc)) == NULL)
			return ERR_ALLOC;
		if (b->data != NULL) {
			memcpy(d, b->data, b->len);
			explicit_bzero(b->data, b->alloc);
			free(b->data);
		}
		b->data = d;
		b->alloc = alloc;
	}
	*p = b->data != NULL ? b->data + b->len : NULL;        /* NULL: n was 0 */
	return ERR_OK;
}

void wbuf_commit(struct wbuf *b, size_t n)
{
	b->len += n;
}

int wbuf_put_bytes(struct wbuf *b, const void *p, size_t n)
{
	uint8_t *d;
	int r;

	if ((r = wbuf_reserve(b, n, &d)) != ERR_OK)
		return r;
	if (n > 0)
		memcpy(d, p, n);
	wbuf_commit(b, n);
	return ERR_OK;
}

int wbuf_put_u8(struct wbuf *b, uint8_t v)
{
	return wbuf_put_bytes(b, &v, 1);
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int wbuf_put_u32(struct wbuf *b, uint32_t v)
{
	uint8_t be[4];

	store_be32(be, v);
	return wbuf_put_bytes(b, be, sizeof(be));
}

int wbuf_put_u64(struct wbuf *b, uint64_t v)
{
	int r;

	if ((r = wbuf_put_u32(b, (uint32_t)(v >> 32))) != ERR_OK)
		return r;
	return wbuf_put_u32(b, (uint32_t)v);
}

int wbuf_poke_u32(struct wbuf *b, size_t at, uint32_t v)
{
	if (b->alloc == 0 || at > b->len || b->len - at < 4)
		return ERR_INTERNAL;
	store_be32(b->data + at, v);
	return ERR_OK;
}

int wbuf_put_string(struct wbuf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return ERR_TOO_LARGE;
	if ((r = wbuf_put_u32(b, (uint32_t)n)) != ERR_OK)
		return r;
	return wbuf_put_bytes(b, p, n);
}

int wbuf_put_cstring(struct wbuf *b, const char *s)
{
	return wbuf_put_string(b, s, strlen(s));
}

int wbuf_put_stringb(struct wbuf *b, const struct wbuf *from)
{
	return wbuf_put_string(b, wbuf_ptr(from), wbuf_avail(from));
}

int wbuf_put_mpint_unsigned(struct wbuf *b, const uint8_t *p, size_t n)
{
	int r, pad;

	while (n > 0 && p[0] == 0) {    /* mpints carry no leading zero bytes... */
		p++;
		n--;
	}
	pad = n > 0 && (p[0] & 0x80) != 0;      /* ...except one to keep them positive */
	if (n + pad > UINT32_MAX)
		return ERR_TOO_LARGE;
	if ((r = wbuf_put_u32(b, (uint32_t)(n + pad))) != ERR_OK)
		return r;
	if (pad && (r = wbuf_put_u8(b, 0)) != ERR_OK)
		return r;
	return wbuf_put_bytes(b, p, n);
}
