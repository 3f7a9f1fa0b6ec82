/*
 * The part of the Assuan protocol a pinentry client needs: escaping a command's text and
 * reading a reply line (OK, ERR, D data, S status, # comment, INQUIRE). No I/O.
 */
#ifndef P11G_ASSUAN_H
#define P11G_ASSUAN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Assuan's line limit, without the LF. */
#define ASSUAN_LINE_MAX 1000

enum assuan_kind { ASSUAN_OK, ASSUAN_ERR, ASSUAN_DATA, ASSUAN_STATUS, ASSUAN_COMMENT,
                   ASSUAN_INQUIRE };

struct assuan_reply {
	enum assuan_kind kind;
	unsigned long code;     /* ERR: the error number */
};

/*
 * Reads one reply line (without its LF). For D lines the percent-decoded data is appended
 * to `data` (kept NUL-terminated; *data_len counts it) and must fit; a NUL in the data is
 * refused. Anything else malformed is ERR_FORMAT.
 */
int assuan_parse_reply(const uint8_t *line, size_t len, struct assuan_reply *reply,
                       char *data, size_t data_size, size_t *data_len)
	__attribute__((warn_unused_result));
/* Percent-escapes `text` for a command argument; ERR_TOO_LARGE if it does not fit. */
int assuan_escape(const char *text, char *out, size_t size) __attribute__((warn_unused_result));

#endif
