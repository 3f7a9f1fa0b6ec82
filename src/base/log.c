/* Log sink selection; thread-safe because each entry is one write, send or syslog call. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

#define MAX_FIELDS 16
#define MAX_ENTRY 4096

static int log_to_stderr = 1;
static int log_verbose;
static int journal_fd = -1;
static const char *log_ident = "p11guard";

/*
 * Foreground: stderr, unless stderr is systemd's journal stream, when native entries carry
 * the fields too. A daemon: the journal when its socket exists, else syslog.
 */
void log_init(const char *ident, int to_stderr, int verbose)
{
	log_ident = ident;
	log_to_stderr = to_stderr;
	log_verbose = verbose;
	if (!to_stderr || journal_is_stderr())
		journal_fd = journal_connect(JOURNAL_SOCKET);
	if (!to_stderr)
		openlog(ident, LOG_PID, LOG_AUTH);      /* also when the journal refuses an entry */
}

static int send_journal(int prio, const char *line, const struct journal_field *extra,
                        size_t n)
{
	struct journal_field f[MAX_FIELDS + 4];
	uint8_t entry[MAX_ENTRY];
	char priority[2] = { (char)('0' + (prio & 7)), '\0' };
	size_t len, k = 0;

	f[k++] = (struct journal_field){ "MESSAGE", line };
	f[k++] = (struct journal_field){ "PRIORITY", priority };
	f[k++] = (struct journal_field){ "SYSLOG_IDENTIFIER", log_ident };
	f[k++] = (struct journal_field){ "SYSLOG_FACILITY", "4" };     /* auth, as syslog */
	for (size_t i = 0; i < n && i < MAX_FIELDS; i++)
		f[k++] = extra[i];
	if ((len = journal_build(entry, sizeof(entry), f, k)) == 0)
		len = journal_build(entry, sizeof(entry), f, 4);        /* the line, at least */
	return len > 0 && send(journal_fd, entry, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static void emit(int prio, const char *line, const struct journal_field *f, size_t n)
{
	if (journal_fd >= 0 && send_journal(prio, line, f, n) == 0)
		return;
	if (log_to_stderr)
		fprintf(stderr, "%s: %s\n", log_ident, line);
	else
		syslog(prio, "%s", line);
}

static void vlog(int prio, const struct journal_field *fields, size_t n, const char *fmt,
                 va_list ap)
{
	char line[1024];

	if (prio == LOG_DEBUG && !log_verbose)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	emit(prio, line, fields, n);
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_fields(int prio, const struct journal_field *fields, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, fields, n, fmt, ap);
	va_end(ap);
}
