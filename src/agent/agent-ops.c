/*
 * The table of operations p11guard-agent gives libsshagent: per-connection state, each
 * request type to its handler, every refusal logged, and the loop's tick (key lifetimes,
 * reload on SIGHUP, the end of a command-mode child's parent).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent-service.h"
#include "conn-bindings.h"
#include "log.h"
#include "notice.h"
#include "reason-export.h"

static const char *const extensions[] = {
	"refusal-reason@p11guard", "reload@p11guard", "tty@p11guard", "status@p11guard",
	"why@p11guard", "guarded-exec@p11guard", NULL
};

static int give(struct sshagent_reason *pub, int r, const struct reason *why)
{
	if (r != ERR_OK) {
		reason_export(why, pub);
		pub->code = r;          /* the handler's answer, should it differ from why's */
	}
	return r;
}

static void *op_open(void *ctx, struct sshagent_conn *conn)
{
	struct agent_client *c = calloc(1, sizeof(*c));
	char link[64];
	ssize_t n;

	(void)ctx;
	if (c == NULL)
		return NULL;
	c->conn = conn;
	c->uid = sshagent_conn_uid(conn);
	c->pid = sshagent_conn_pid(conn);
	c->bindings = conn_bindings(conn);
	/* Read now, while the peer is surely the process that connected. */
	snprintf(link, sizeof(link), "/proc/%ld/exe", (long)c->pid);
	if ((n = readlink(link, c->exe, sizeof(c->exe) - 1)) > 0)
		c->exe[n] = '\0';
	return c;
}

static void op_close(void *ctx, struct sshagent_conn *conn)
{
	(void)ctx;
	free(sshagent_conn_data(conn));
}

static int op_list(void *ctx, struct sshagent_conn *conn, struct sshagent_reply *r,
                   struct sshagent_reason *pub)
{
	struct reason why;

	reason_clear(&why);
	return give(pub, agent_list(ctx, sshagent_conn_data(conn), r, &why), &why);
}

static int op_sign(void *ctx, struct sshagent_conn *conn, const struct sshagent_request *req,
                   struct sshagent_reply *r, struct sshagent_reason *pub)
{
	struct reason why;

	reason_clear(&why);
	return give(pub, agent_sign(ctx, sshagent_conn_data(conn), req, r, &why), &why);
}

static int op_change_keys(void *ctx, struct sshagent_conn *conn,
                          const struct sshagent_request *req, struct sshagent_reason *pub)
{
	struct reason why;
	int r;

	(void)conn;
	reason_clear(&why);
	switch (req->type) {
	case SSHAGENTC_ADD_IDENTITY:
	case SSHAGENTC_ADD_ID_CONSTRAINED:
		r = agent_add_software(ctx, req, &why);
		break;
	case SSHAGENTC_REMOVE_IDENTITY:
	case SSHAGENTC_REMOVE_ALL_IDENTITIES:
		r = agent_remove(ctx, req, &why);
		break;
	default:
		r = agent_smartcard(ctx, req, &why);
		break;
	}
	return give(pub, r, &why);
}

static int op_lock(void *ctx, struct sshagent_conn *conn, const struct sshagent_request *req,
                   struct sshagent_reason *pub)
{
	struct reason why;

	reason_clear(&why);
	return give(pub, agent_lock(ctx, sshagent_conn_data(conn), req, &why), &why);
}

static int op_extension(void *ctx, struct sshagent_conn *conn,
                        const struct sshagent_request *req, struct sshagent_reply *r,
                        struct sshagent_reason *pub)
{
	struct reason why;

	reason_clear(&why);
	return give(pub, agent_extension(ctx, sshagent_conn_data(conn), req, r, &why), &why);
}

static int op_session_bind(void *ctx, struct sshagent_conn *conn,
                           const struct sshagent_binding *b, struct sshagent_reason *why)
{
	(void)ctx;
	if (agent_guard_owns_session(b->session_id.data, b->session_id.len))
		return sshagent_refuse(why, SSHAGENT_ERR_DENIED, "session-bind to a guarded "
		                       "session's id: that session is the agent's own");
	log_debug("pid %ld bound to host key %s%s (%zu binding(s))",
	          (long)sshagent_conn_pid(conn), b->fingerprint,
	          b->forwarding ? " for forwarding" : "", sshagent_conn_bindings(conn));
	return ERR_OK;
}

void agent_note_refusal(struct agent *a, const struct refusal *f)
{
	char body[600];
	int notify;

	refusals_add(&a->refusals, f);
	pthread_mutex_lock(&a->policy_lock);
	notify = a->notify_refusals;
	pthread_mutex_unlock(&a->policy_lock);
	if (notify) {
		snprintf(body, sizeof(body), "%s%s%.96s%s%.200s: %.256s", f->what,
		         f->ctx.key_label[0] ? " with " : "", f->ctx.key_label,
		         f->ctx.dest[0] ? " to " : "", f->ctx.dest, f->reason);
		notice_flash("p11guard refused a request", body, 10);
	}
}

static void remember_refusal(struct agent *a, struct sshagent_conn *conn, const char *what)
{
	struct agent_client *c = sshagent_conn_data(conn);
	struct refusal f = { .when = time(NULL), .pid = (long)sshagent_conn_pid(conn),
	                     .uid = (long)sshagent_conn_uid(conn) };

	snprintf(f.what, sizeof(f.what), "%s", what);
	snprintf(f.reason, sizeof(f.reason), "%s", sshagent_conn_last_refusal(conn) +
	         strlen(what) + 2);
	/* The key and rule are known for signatures; other requests have only their reason. */
	if (c != NULL && strcmp(what, "sign") == 0) {
		f.ctx = c->about;
		memset(&c->about, 0, sizeof(c->about));
	}
	agent_note_refusal(a, &f);
}

static void op_refused(void *ctx, struct sshagent_conn *conn, const char *what,
                       const struct sshagent_reason *why)
{
	char pid[24] = "", uid[24] = "";
	struct journal_field f[] = {
		{ "P11GUARD_OPERATION", what },
		{ "P11GUARD_REASON", err_name(why->code) },
		{ "P11GUARD_REASON_TEXT", why->text },
		{ "P11GUARD_PEER_PID", pid },
		{ "P11GUARD_PEER_UID", uid },
	};

	if (conn == NULL) {
		log_fields(LOG_WARNING, f, 3, "refused %s %s", what, why->text);
		return;
	}
	snprintf(pid, sizeof(pid), "%ld", (long)sshagent_conn_pid(conn));
	snprintf(uid, sizeof(uid), "%ld", (long)sshagent_conn_uid(conn));
	log_fields(LOG_INFO, f, sizeof(f) / sizeof(f[0]), "refused %s for pid %s uid %s: %s", what,
	           pid, uid, sshagent_conn_last_refusal(conn) + strlen(what) + 2);
	remember_refusal(ctx, conn, what);
}

static int op_tick(void *ctx)
{
	struct agent *a = ctx;
	struct reason why;

	keystore_expire(&a->keys, time(NULL));
	if (a->remove_all != NULL && *a->remove_all) {
		*a->remove_all = 0;
		keystore_remove_all(&a->keys);
		log_info("SIGUSR1: all keys removed");
	}
	if (a->watch_pid > 0 && kill(a->watch_pid, 0) != 0 && errno == ESRCH)
		return 1;
	if (a->reload != NULL && *a->reload) {
		*a->reload = 0;
		service_notify("RELOADING=1");
		if (agent_reload(a, &why) != ERR_OK)
			log_error("%s", why.text);
		service_notify("READY=1");
	}
	return 0;
}

static void op_serving(void *ctx)
{
	struct agent *a = ctx;

	if (a->on_serving != NULL)
		a->on_serving(a->on_serving_arg);
	service_report_started(&a->startup_fd, NULL);
	service_notify("READY=1");
}

const struct sshagent_ops agent_ops = {
	.open = op_open,
	.close = op_close,
	.list = op_list,
	.sign = op_sign,
	.change_keys = op_change_keys,
	.lock = op_lock,
	.extension = op_extension,
	.session_bind = op_session_bind,
	.refused = op_refused,
	.tick = op_tick,
	.serving = op_serving,
	.extensions = extensions,
};
