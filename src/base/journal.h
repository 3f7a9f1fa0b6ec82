/*
 * systemd's journal, spoken natively: one datagram per entry to its socket, each field
 * "NAME=value\n", or "NAME\n", a 64-bit little-endian length and the raw value when the
 * value holds a newline. Fields let `journalctl P11GUARD_REASON=PinLocked` find refusals.
 */
#ifndef P11G_JOURNAL_H
#define P11G_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct journal_field {
	const char *name;       /* [A-Z0-9_], not starting with '_' or a digit, at most 64 */
	const char *value;
};

/* Builds one entry into buf; returns its length, or 0 when a name is not a valid field
 * name or the entry does not fit. */
size_t journal_build(uint8_t *buf, size_t size, const struct journal_field *f, size_t n);

/* A datagram socket connected to the journal at `path`, or -1. */
int journal_connect(const char *path);

/* Is standard error the journal's stream (JOURNAL_STREAM names its device and inode)? */
int journal_is_stderr(void);

#endif
