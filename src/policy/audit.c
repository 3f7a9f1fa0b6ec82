/* Writing audit lines: JSON with every string escaped, one write(2) per line. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "json.h"
#include "log.h"
#include "wire.h"

void audit_init(struct audit *au)
{
	memset(au, 0, sizeof(*au));
	pthread_mutex_init(&au->lock, NULL);
	au->fd = -1;
}

/* The directories above the file, each made 0700 where missing (~/.local/state/p11guard). */
static int make_parents(const char *path, struct reason *why)
{
	char dir[4096];

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return reason_set(why, ERR_TOO_LARGE, "audit file path too long");
	for (char *slash = strchr(dir + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return reason_set(why, ERR_SYSTEM, "audit file %s: cannot make %s: %s", path,
			                  dir, strerror(errno));
		*slash = '/';
	}
	return ERR_OK;
}

static int open_log(const char *path, int *fd, struct reason *why)
{
	int r;

	if ((r = make_parents(path, why)) != ERR_OK)
		return r;
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

static void put_hops(struct json *j, const struct audit_event *ev)
{
	json_key(j, "hops");
	json_open(j, '[');
	for (size_t i = 0; i < ev->nhops; i++) {
		json_open(j, '{');
		json_field(j, "host_key", ev->hops[i]);
		json_field(j, "name", ev->hop_names[i][0] ? ev->hop_names[i] : NULL);
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void put_session(struct json *j, const struct audit_session *s)
{
	json_field(j, "session", s->id);
	json_field(j, "kind", s->kind);
	json_field(j, "command", s->command);
	json_field(j, "mode", s->mode);
	if (s->forwarding != NULL)
		json_field(j, "forwarding", s->forwarding);
	if (s->server_host_key != NULL)
		json_field(j, "server_host_key", s->server_host_key);
	if (s->mode_reason != NULL)
		json_field(j, "mode_reason", s->mode_reason);
	if (s->probes != NULL)
		json_field(j, "probes", s->probes);
	if (s->strict != NULL)
		json_field(j, "strict_kex", s->strict);
	if (s->outcome == NULL)
		return;
	json_field(j, "outcome", s->outcome);
	json_field_num(j, "bytes_to_server", (long long)s->to_server);
	json_field_num(j, "bytes_from_server", (long long)s->from_server);
}

void audit_record(struct audit *au, const struct audit_event *ev)
{
	char stamp[80];
	struct timespec now;
	struct tm tm;
	struct json b;
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
	json_init(&b, 32768);
	json_open(&b, '{');
	json_field(&b, "time", stamp);
	json_field(&b, "event", ev->event);
	json_field(&b, "decision", ev->decision);
	json_field(&b, "rule", ev->rule);
	json_field(&b, "reason", ev->reason);
	json_field_num(&b, "pid", ev->pid);
	json_field_num(&b, "uid", ev->uid);
	json_field(&b, "exe", ev->exe);
	json_field(&b, "key", ev->key_fingerprint);
	json_field(&b, "key_comment", ev->key_comment);
	json_field(&b, "key_source", ev->key_source);
	json_field(&b, "token_serial", ev->token_serial);
	json_field_num(&b, "slot", (long long)ev->slot);
	json_field(&b, "dest_host_key", ev->dest_fingerprint);
	json_field(&b, "dest_name", ev->dest_name);
	json_field(&b, "user", ev->user);
	put_hops(&b, ev);
	if (ev->session != NULL)
		put_session(&b, ev->session);
	json_close(&b, '}');
	if (wbuf_put_u8(&b.b, '\n') != ERR_OK)
		b.ok = 0;
	pthread_mutex_lock(&au->lock);
	if (!b.ok)
		log_error("audit line over %zu bytes not written", b.b.max);
	else if (au->fd >= 0 && write(au->fd, wbuf_ptr(&b.b), wbuf_avail(&b.b)) < 0)
		log_error("audit file %s: %s", au->path, strerror(errno));
	if (b.ok && au->syslog)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%.*s", (int)wbuf_avail(&b.b) - 1,
		       (const char *)wbuf_ptr(&b.b));
	pthread_mutex_unlock(&au->lock);
	json_free(&b);
}
