/*
 * Logging to stderr (-d, -D), the journal (with fields, when systemd runs us or its socket
 * exists) or syslog. Nothing logged ever contains a PIN.
 */
#ifndef P11G_LOG_H
#define P11G_LOG_H

#include <stddef.h>
#include <syslog.h>

#include "journal.h"

void log_init(const char *ident, int to_stderr, int verbose);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line with fields of its own for the journal (P11GUARD_REASON=...); elsewhere, the line. */
void log_fields(int prio, const struct journal_field *fields, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
