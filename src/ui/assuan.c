/* Assuan reply lines and argument escaping, read through the bounded buffer API. */
#include <string.h>

#include "assuan.h"
#include "wire.h"

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Whether the line starts with `word` followed by the end or a space; consumes both. */
static int take_word(struct wbuf *b, const char *word)
{
	struct wbuf t = *b;     /* a view: copying it only copies the read position */
	const uint8_t *p;
	uint8_t sp;

	if (wbuf_get_bytes(&t, strlen(word), &p) != ERR_OK || memcmp(p, word, strlen(word)) != 0)
		return 0;
	if (wbuf_avail(&t) > 0 && (wbuf_get_u8(&t, &sp) != ERR_OK || sp != ' '))
		return 0;
	*b = t;
	return 1;
}

static int is_comment(const struct wbuf *b)
{
	struct wbuf t = *b;
	uint8_t c;

	return wbuf_get_u8(&t, &c) == ERR_OK && c == '#';
}

static int decode_data(struct wbuf *b, char *data, size_t size, size_t *len)
{
	uint8_t c, hi, lo;

	while (wbuf_avail(b) > 0) {
		if (wbuf_get_u8(b, &c) != ERR_OK)
			return ERR_FORMAT;
		if (c == '%') {
			if (wbuf_get_u8(b, &hi) != ERR_OK || wbuf_get_u8(b, &lo) != ERR_OK ||
			    hex_value(hi) < 0 || hex_value(lo) < 0)
				return ERR_FORMAT;
			c = (uint8_t)(hex_value(hi) << 4 | hex_value(lo));
		}
		if (c == '\0')
			return ERR_FORMAT;
		if (*len + 1 >= size)
			return ERR_TOO_LARGE;
		data[(*len)++] = (char)c;
		data[*len] = '\0';
	}
	return ERR_OK;
}

/* "ERR 83886179 Operation cancelled": the number, then free text. */
static int parse_code(struct wbuf *b, unsigned long *code)
{
	uint8_t c;
	int digits = 0;

	*code = 0;
	while (wbuf_get_u8(b, &c) == ERR_OK && c != ' ') {
		if (c < '0' || c > '9' || ++digits > 10)
			return ERR_FORMAT;
		*code = *code * 10 + (unsigned long)(c - '0');
	}
	return digits > 0 ? ERR_OK : ERR_FORMAT;
}

int assuan_parse_reply(const uint8_t *line, size_t len, struct assuan_reply *reply,
                       char *data, size_t data_size, size_t *data_len)
{
	struct wbuf b;

	if (len > ASSUAN_LINE_MAX || data_size == 0)
		return ERR_FORMAT;
	wbuf_view(&b, line, len);
	memset(reply, 0, sizeof(*reply));
	if (is_comment(&b)) {
		reply->kind = ASSUAN_COMMENT;
		return ERR_OK;
	}
	if (take_word(&b, "OK")) {
		reply->kind = ASSUAN_OK;
		return ERR_OK;
	}
	if (take_word(&b, "ERR")) {
		reply->kind = ASSUAN_ERR;
		return parse_code(&b, &reply->code);
	}
	if (take_word(&b, "S")) {
		reply->kind = ASSUAN_STATUS;
		return ERR_OK;
	}
	if (take_word(&b, "INQUIRE")) {
		reply->kind = ASSUAN_INQUIRE;
		return ERR_OK;
	}
	if (take_word(&b, "D")) {
		reply->kind = ASSUAN_DATA;
		return decode_data(&b, data, data_size, data_len);
	}
	return ERR_FORMAT;
}

int assuan_escape(const char *text, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		int plain = *p >= 0x20 && *p != '%' && *p != 0x7f;

		if (n + (plain ? 1 : 3) >= size)
			return ERR_TOO_LARGE;
		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	if (size == 0)
		return ERR_TOO_LARGE;
	out[n] = '\0';
	return ERR_OK;
}
