/* Logging to stderr (-d, -D) or syslog. Nothing logged ever contains a PIN. */
#ifndef P11G_LOG_H
#define P11G_LOG_H

#include <syslog.h>

void log_init(const char *ident, int to_stderr, int verbose);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
