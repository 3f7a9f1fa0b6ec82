/* Writing audit lines: JSON with every string escaped, one write(2) per line. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "wire.h"

void audit_init(struct audit *au)
{
	memset(au, 0, sizeof(*au));
	pthread_mutex_init(&au->lock, NULL);
	au->fd = -1;
}

static int open_log(const char *path, int *fd, struct reason *why)
{
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return reason_set(why, ERR_SYSTEM, "audit file %s: %s", path, strerror(errno));
	return ERR_OK;
}

int audit_configure(struct audit *au, const struct audit_settings *cfg, struct reason *why)
{
	char *path = NULL;
	int fd = -1, r;

	if (cfg->file != NULL) {
		if ((r = open_log(cfg->file, &fd, why)) != ERR_OK)
			return r;
		if ((path = strdup(cfg->file)) == NULL) {
			close(fd);
			return reason_set(why, ERR_ALLOC, "out of memory");
		}
	}
	pthread_mutex_lock(&au->lock);
	if (au->fd >= 0)
		close(au->fd);
	free(au->path);
	au->fd = fd;
	au->path = path;
	au->syslog = cfg->syslog;
	pthread_mutex_unlock(&au->lock);
	return ERR_OK;
}

void audit_reopen(struct audit *au)
{
	struct reason why;
	int fd;

	pthread_mutex_lock(&au->lock);
	if (au->path != NULL) {
		/* After log rotation the old file is gone; keep writing to it only if reopening fails. */
		if (open_log(au->path, &fd, &why) == ERR_OK) {
			close(au->fd);
			au->fd = fd;
		} else {
			log_error("%s", why.text);
		}
	}
	pthread_mutex_unlock(&au->lock);
}

void audit_close(struct audit *au)
{
	if (au->fd >= 0)
		close(au->fd);
	free(au->path);
	pthread_mutex_destroy(&au->lock);
	au->fd = -1;
	au->path = NULL;
}

/* A line being built; `ok` drops to 0 if it ever outgrows its (generous) cap. */
struct line {
	struct wbuf b;
	int ok;
};

static void put_raw(struct line *l, const char *s)
{
	if (wbuf_put_bytes(&l->b, s, strlen(s)) != ERR_OK)
		l->ok = 0;
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void put_json(struct line *b, const char *s)
{
	char esc[8];

	put_raw(b, "\"");
	for (; s != NULL && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			snprintf(esc, sizeof(esc), "\\%c", c);
			put_raw(b, esc);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put_raw(b, esc);
		} else if (wbuf_put_u8(&b->b, c) != ERR_OK) {
			b->ok = 0;
		}
	}
	put_raw(b, "\"");
}

static void field(struct line *b, const char *name, const char *value)
{
	put_raw(b, ",");
	put_json(b, name);
	put_raw(b, ":");
	if (value == NULL)
		put_raw(b, "null");
	else
		put_json(b, value);
}

static void field_num(struct line *b, const char *name, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), ",\"%s\":%lld", name, v);
	put_raw(b, num);
}

static void put_hops(struct line *b, const struct audit_event *ev)
{
	put_raw(b, ",\"hops\":[");
	for (size_t i = 0; i < ev->nhops; i++) {
		put_raw(b, i ? ",{" : "{");
		put_json(b, "host_key");
		put_raw(b, ":");
		put_json(b, ev->hops[i]);
		field(b, "name", ev->hop_names[i][0] ? ev->hop_names[i] : NULL);
		put_raw(b, "}");
	}
	put_raw(b, "]");
}

void audit_record(struct audit *au, const struct audit_event *ev)
{
	char stamp[80];
	struct timespec now;
	struct tm tm;
	struct line b = { .ok = 1 };
	int wanted;

	/* Most agents have no audit destination: do not build a line per signature for nobody. */
	pthread_mutex_lock(&au->lock);
	wanted = au->fd >= 0 || au->syslog;
	pthread_mutex_unlock(&au->lock);
	if (!wanted)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         now.tv_nsec / 1000000);
	wbuf_init(&b.b, 32768);
	put_raw(&b, "{\"time\":");
	put_json(&b, stamp);
	field(&b, "event", ev->event);
	field(&b, "decision", ev->decision);
	field(&b, "rule", ev->rule);
	field(&b, "reason", ev->reason);
	field_num(&b, "pid", ev->pid);
	field_num(&b, "uid", ev->uid);
	field(&b, "exe", ev->exe);
	field(&b, "key", ev->key_fingerprint);
	field(&b, "key_comment", ev->key_comment);
	field(&b, "key_source", ev->key_source);
	field(&b, "token_serial", ev->token_serial);
	field_num(&b, "slot", (long long)ev->slot);
	field(&b, "dest_host_key", ev->dest_fingerprint);
	field(&b, "dest_name", ev->dest_name);
	field(&b, "user", ev->user);
	put_hops(&b, ev);
	put_raw(&b, "}\n");
	pthread_mutex_lock(&au->lock);
	if (!b.ok)
		log_error("audit line over %zu bytes not written", b.b.max);
	else if (au->fd >= 0 && write(au->fd, wbuf_ptr(&b.b), wbuf_avail(&b.b)) < 0)
		log_error("audit file %s: %s", au->path, strerror(errno));
	if (b.ok && au->syslog)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%.*s", (int)wbuf_avail(&b.b) - 1,
		       (const char *)wbuf_ptr(&b.b));
	pthread_mutex_unlock(&au->lock);
	wbuf_free(&b.b);
}
