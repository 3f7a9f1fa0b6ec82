/*
 * The one bounded buffer through which every byte of wire input is read and every reply is
 * built. Readers check bounds and return an error code; nothing indexes raw bytes by hand.
 */
#ifndef P11G_WIRE_H
#define P11G_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WUR __attribute__((warn_unused_result))

struct wbuf {
	uint8_t *data;
	size_t alloc;   /* bytes allocated; 0 for a read-only view */
	size_t off;     /* read position */
	size_t len;     /* end of valid data */
	size_t max;     /* growth cap for writable buffers */
};

/* A writable, growable buffer that refuses to grow past `max` bytes. */
void wbuf_init(struct wbuf *b, size_t max);
/* A read-only view of bytes owned by someone else. */
void wbuf_view(struct wbuf *b, const uint8_t *p, size_t n);
/* Wipes and frees; the buffer may be reused after wbuf_init. */
void wbuf_free(struct wbuf *b);
/* Drops all content, keeping the allocation (wiped). */
void wbuf_reset(struct wbuf *b);

size_t wbuf_avail(const struct wbuf *b);
const uint8_t *wbuf_ptr(const struct wbuf *b);
int wbuf_skip(struct wbuf *b, size_t n) WUR;
/* Moves unread bytes to the front so the allocation does not creep. */
void wbuf_compact(struct wbuf *b);
/* Sends what a socket takes now without blocking, keeping the rest; -1 when the peer is gone. */
int wbuf_send(int fd, struct wbuf *b) WUR;

int wbuf_get_u8(struct wbuf *b, uint8_t *v) WUR;
int wbuf_get_u32(struct wbuf *b, uint32_t *v) WUR;
int wbuf_get_u64(struct wbuf *b, uint64_t *v) WUR;
int wbuf_peek_u32(const struct wbuf *b, uint32_t *v) WUR;
/* A view of `n` bytes inside the buffer. */
int wbuf_get_bytes(struct wbuf *b, size_t n, const uint8_t **p) WUR;
/* An SSH string as a view into the buffer (no copy). */
int wbuf_get_string(struct wbuf *b, const uint8_t **p, size_t *n) WUR;
/* An SSH string as a sub-buffer view for nested parsing. */
int wbuf_get_stringb(struct wbuf *b, struct wbuf *sub) WUR;
/* An SSH string copied out NUL-terminated; embedded NULs are rejected. */
int wbuf_get_cstring(struct wbuf *b, char **s) WUR;
/* An SSH string compared to a literal without copying. */
int wbuf_get_string_eq(struct wbuf *b, const char *expect, int *equal) WUR;
/* A positive mpint as a view of its magnitude, leading zero removed. */
int wbuf_get_mpint_unsigned(struct wbuf *b, const uint8_t **p, size_t *n) WUR;

/* Space for `n` more bytes at the end; the caller fills it and calls wbuf_commit. */
int wbuf_reserve(struct wbuf *b, size_t n, uint8_t **p) WUR;
void wbuf_commit(struct wbuf *b, size_t n);

int wbuf_put_u8(struct wbuf *b, uint8_t v) WUR;
int wbuf_put_u32(struct wbuf *b, uint32_t v) WUR;
int wbuf_put_u64(struct wbuf *b, uint64_t v) WUR;
int wbuf_put_bytes(struct wbuf *b, const void *p, size_t n) WUR;
int wbuf_put_string(struct wbuf *b, const void *p, size_t n) WUR;
int wbuf_put_cstring(struct wbuf *b, const char *s) WUR;
/* The unread contents of `from` as one SSH string. */
int wbuf_put_stringb(struct wbuf *b, const struct wbuf *from) WUR;
/* An unsigned big-endian magnitude as an SSH mpint (RFC 4251 section 5). */
int wbuf_put_mpint_unsigned(struct wbuf *b, const uint8_t *p, size_t n) WUR;

/* Writes a u32 at an absolute offset already inside the buffer (length prefixes). */
int wbuf_poke_u32(struct wbuf *b, size_t at, uint32_t v) WUR;

#endif
