/* Log sink selection; thread-safe because each line is one write or one syslog call. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static int log_to_stderr = 1;
static int log_verbose;
static const char *log_ident = "p11guard";

void log_init(const char *ident, int to_stderr, int verbose)
{
	log_ident = ident;
	log_to_stderr = to_stderr;
	log_verbose = verbose;
	if (!to_stderr)
		openlog(ident, LOG_PID, LOG_AUTH);
}

void log_msg(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (prio == LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_to_stderr)
		fprintf(stderr, "%s: %s\n", log_ident, line);
	else
		syslog(prio, "%s", line);
}
