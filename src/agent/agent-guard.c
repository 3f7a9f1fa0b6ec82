/*
 * guarded-exec@p11guard (design sections 2-5): the request is read strictly, decided by the
 * policy's guarded: list with the connection's hops, confirmed if the rule says so, and only
 * then accepted. The connection then leaves the library and a thread of its own runs the
 * session: frames from the delegate into the engine (guard-relay.c, guard-handoff.c), frames
 * out. The agent verifies the server's host key, offers the keys the rule selects and signs
 * the login itself; the delegate only moves bytes, until a handoff gives it the connection.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "agent.h"
#include "confirm.h"
#include "deadline.h"
#include "guard-relay.h"
#include "log.h"
#include "policy-index.h"
#include "softkey.h"

#define MAX_SESSIONS 8
#define MAX_TRUSTED 16
#define MAX_CANDIDATES 16
#define HIGH_WATER (4 * 1024 * 1024)    /* output for the delegate before input pauses */
#define PAST_SESSIONS 1024              /* ended sessions whose ids stay refused */

/* The sessions: at most MAX_SESSIONS accepted, and those running, for the agent's exit. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t ended;
	struct guard_session *live[MAX_SESSIONS];
	size_t reserved;        /* accepted and not yet ended */
	int stopping;           /* the agent exits: no new session, running ones end */
	/* Session ids of ended sessions, newest last: a handed-off session goes on without
	 * the agent, and its id must stay refused (design section 5). */
	uint8_t past[PAST_SESSIONS][SSH_KEX_MAX_HASH];
	uint8_t past_len[PAST_SESSIONS];
	size_t past_next;
} sessions = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { NULL }, 0, 0,
               { { 0 } }, { 0 }, 0 };

struct candidate {
	uint8_t *blob;
	size_t len;
	char alg[32];
	char fingerprint[SSHKEY_FP_LEN];
};

struct guard_session {
	struct agent *a;
	/* The SSH session id (exchange hash) once known; under sessions.lock. */
	uint8_t sid[SSH_KEX_MAX_HASH];
	size_t sid_len;
	struct guard_request_wire req;
	struct sshpub trusted[MAX_TRUSTED];
	size_t ntrusted;
	struct candidate cand[MAX_CANDIDATES];
	struct ssh_user_key keys[MAX_CANDIDATES];
	size_t ncand;
	struct ssh_env env[SSH_MAX_ENV];
	size_t nenv;
	char host_name[300], purpose[600];
	/* For the audit: who asked, through which hops, and the key that logged in. */
	uint8_t id_raw[8];
	char id[17];
	pid_t pid;
	uid_t uid;
	char exe[256];
	char hop_fp[BIND_MAX][SSHKEY_FP_LEN], hop_name[BIND_MAX][128];
	size_t nhops;
	char rule_text[320];            /* the deciding rule, "file:line" */
	long signed_with;               /* the candidate that signed; -1: none yet */
	/* Handoff: asked for by rule and delegate, how forwarding is judged, the deadline
	 * (monotonic, moved on by the time signatures take: PIN prompts, touches). */
	int handoff, probe_forwarding, fallback_deny;
	const char *forwarding;
	uint64_t handoff_deadline_us;
	int fd;
	uint8_t *pending;
	size_t npending;
};

static void session_free(struct guard_session *s)
{
	guard_request_free(&s->req);
	for (size_t i = 0; i < s->ntrusted; i++)
		sshpub_free(&s->trusted[i]);
	for (size_t i = 0; i < s->ncand; i++)
		free(s->cand[i].blob);
	free(s->pending);
	free(s);
}

/* The server's host keys, as the policy's known_hosts give them for host or [host]:port. */
static void trusted_keys(const struct policy *p, struct guard_session *s)
{
	for (size_t i = 0; i < p->kh.n && s->ntrusted < MAX_TRUSTED; i++) {
		const struct kh_entry *e = &p->kh.e[i];

		if (e->marker == KH_PLAIN && kh_entry_names(e, s->host_name) &&
		    sshpub_copy(&e->key, &s->trusted[s->ntrusted]) == ERR_OK)
			s->ntrusted++;
	}
}

struct selecting {
	const struct policy_guard *rule;
	struct guard_session *s;
};

/* The served keys the rule selects, in listing order, each with its signature algorithm. */
static int select_key(void *ctx, const struct ks_identity *id)
{
	struct selecting *sel = ctx;
	struct guard_session *s = sel->s;
	struct policy_key key = { id->fingerprint, id->src->name, id->uri };
	const struct key_material *pub;
	enum sig_alg alg;
	const char *name;

	if (s->ncand >= MAX_CANDIDATES || !policy_key_selected(&sel->rule->sel, &key))
		return 0;
	pub = id->soft != NULL ? softkey_public(id->soft) : p11_key_public(id->key);
	/* RSA logs in with rsa-sha2-512 (SSH_AGENT_RSA_SHA2_512). */
	if (sshkey_sigalg(pub, agent_rsa_sig(4), &alg, &name) != ERR_OK ||
	    (s->cand[s->ncand].blob = malloc(id->blob_len)) == NULL)
		return 0;
	memcpy(s->cand[s->ncand].blob, id->blob, id->blob_len);
	s->cand[s->ncand].len = id->blob_len;
	snprintf(s->cand[s->ncand].alg, sizeof(s->cand[s->ncand].alg), "%s", name);
	snprintf(s->cand[s->ncand].fingerprint, SSHKEY_FP_LEN, "%s", id->fingerprint);
	s->keys[s->ncand] = (struct ssh_user_key){ s->cand[s->ncand].blob, id->blob_len,
	                                           s->cand[s->ncand].alg };
	s->ncand++;
	return 0;
}

/* The login signature: the key the server accepted, on its token, no signing rule asked
 * (the guarded rule decided). */
static int session_sign(void *ctx, size_t k, const uint8_t *data, size_t len, struct wbuf *sig,
                        struct reason *why)
{
	struct guard_session *s = ctx;
	struct ks_identity *id = keystore_find(&s->a->keys, s->cand[k].blob, s->cand[k].len);
	uint64_t started;
	const char *alg;
	int r;

	if (id == NULL)
		return reason_set(why, ERR_KEY_NOT_FOUND, "key %s is no longer served",
		                  s->cand[k].fingerprint);
	started = monotonic_us();

	r = agent_sign_data(id, 4, data, len, s->purpose, sig, &alg, why);
	keystore_put(&s->a->keys, id);
	s->handoff_deadline_us += monotonic_us() - started;
	if (r == ERR_OK) {
		s->signed_with = (long)k;
		log_info("guarded login to %s as %s signed with %s", s->host_name, s->req.user,
		         s->cand[k].fingerprint);
	}
	return r;
}

static const char *kind_name(enum ssh_session_kind kind)
{
	return kind == SSH_SESSION_EXEC ? "exec" : kind == SSH_SESSION_SUBSYSTEM ? "subsystem" :
	       "shell";
}

/* How the session ran, for the audit's "end": the mode, why not the one asked for, what
 * the forwarding probes saw, whether the key exchange was strict. */
static void describe_mode(const struct guard_relay *g, char *probes, size_t size,
                          struct audit_session *as)
{
	const struct ssh_client *c = &g->client;
	size_t used = 0;

	as->mode = g->handed_off ? "handoff" : "relay";
	as->strict = c->exchanges > 0 ? (c->kex.strict ? "yes" : "no") : NULL;
	if (g->cfg.handoff && !g->handed_off && c->relay_why[0] != '\0')
		as->mode_reason = c->relay_why;
	for (int k = 0; k < SSH_PROBES && c->probe[k] != PROBE_NOT_RUN; k++) {
		static const char *const seen[] = { "", "closed", "open", "limited to a list" };

		used += (size_t)snprintf(probes + used, size - used, "%s%s %s", k ? ", " : "",
		                         ssh_probe_name((enum ssh_probe_kind)k), seen[c->probe[k]]);
		if (used >= size)
			break;
	}
	if (probes[0] != '\0')
		as->probes = probes;
}

/* One audit line for the session: "exec" when decided, "end" with `g` when it ended. */
static void audit_session(const struct guard_session *s, const char *decision,
                          const char *reason, const struct guard_relay *g)
{
	const char *hops[BIND_MAX], *hop_names[BIND_MAX];
	const struct candidate *key = s->signed_with >= 0 ? &s->cand[s->signed_with] : NULL;
	struct audit_session as = {
		.id = s->id, .kind = kind_name(s->req.kind), .command = s->req.command,
		.mode = s->handoff ? "handoff" : "relay", .forwarding = s->handoff ? s->forwarding : NULL,
	};
	char probes[300] = "";
	struct audit_event ev = {
		.event = g != NULL ? "end" : "exec", .decision = decision, .rule = s->rule_text,
		.reason = reason, .pid = s->pid, .uid = s->uid, .exe = s->exe[0] ? s->exe : NULL,
		.key_fingerprint = key != NULL ? key->fingerprint : NULL,
		.dest_name = s->host_name[0] ? s->host_name : NULL, .user = s->req.user,
		.hops = hops, .hop_names = hop_names, .nhops = s->nhops, .session = &as,
	};

	for (size_t i = 0; i < s->nhops; i++) {
		hops[i] = s->hop_fp[i];
		hop_names[i] = s->hop_name[i];
	}
	if (g != NULL) {
		as.outcome = g->outcome[0] ? g->outcome : "aborted: the delegate went away";
		as.to_server = g->to_server;
		as.from_server = g->from_server;
		if (g->connected && g->client.kex.host_key.fingerprint[0] != '\0')
			as.server_host_key = g->client.kex.host_key.fingerprint;
		if (g->connected)
			describe_mode(g, probes, sizeof(probes), &as);
	}
	audit_record(&s->a->audit, &ev);
}

/* A place among the MAX_SESSIONS, taken before the acceptance is sent. */
static int session_reserve(struct reason *why)
{
	int rc = ERR_OK;

	pthread_mutex_lock(&sessions.lock);
	if (sessions.stopping)
		rc = reason_set(why, ERR_DENIED, "the agent is exiting");
	else if (sessions.reserved >= MAX_SESSIONS)
		rc = reason_set(why, ERR_LIMIT, "%d guarded sessions already run", MAX_SESSIONS);
	else
		sessions.reserved++;
	pthread_mutex_unlock(&sessions.lock);
	return rc;
}

/* Gives the place back; the agent's exit may be waiting for it. */
static void session_end(struct guard_session *s)
{
	pthread_mutex_lock(&sessions.lock);
	for (size_t i = 0; i < MAX_SESSIONS; i++)
		if (sessions.live[i] == s)
			sessions.live[i] = NULL;
	if (s->sid_len > 0) {
		size_t at = sessions.past_next++ % PAST_SESSIONS;

		memcpy(sessions.past[at], s->sid, s->sid_len);
		sessions.past_len[at] = (uint8_t)s->sid_len;
	}
	sessions.reserved--;
	pthread_cond_broadcast(&sessions.ended);
	pthread_mutex_unlock(&sessions.lock);
	if (s->fd >= 0)
		close(s->fd);
	session_free(s);
}

/* The session id, so that no one else has a signature or a binding for this session. */
static void remember_sid(struct guard_session *s, const struct ssh_kex *k)
{
	char hex[2 * SSH_KEX_MAX_HASH + 1];

	pthread_mutex_lock(&sessions.lock);
	memcpy(s->sid, k->session_id, k->session_id_len);
	s->sid_len = k->session_id_len;
	pthread_mutex_unlock(&sessions.lock);
	for (size_t i = 0; i < k->session_id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", k->session_id[i]);
	log_debug("guarded session %s: SSH session id %s", s->id, hex);
}

int agent_guard_report(struct wbuf *out)
{
	const struct guard_session *running[MAX_SESSIONS];
	uint32_t n = 0;
	int r;

	pthread_mutex_lock(&sessions.lock);
	for (size_t i = 0; i < MAX_SESSIONS; i++)
		if (sessions.live[i] != NULL)
			running[n++] = sessions.live[i];
	/* The fields written never change while a session lives; the lock keeps it alive. */
	r = wbuf_put_u32(out, n);
	for (uint32_t i = 0; i < n && r == ERR_OK; i++)
		if ((r = wbuf_put_cstring(out, running[i]->id)) == ERR_OK &&
		    (r = wbuf_put_cstring(out, running[i]->host_name)) == ERR_OK &&
		    (r = wbuf_put_cstring(out, running[i]->req.user)) == ERR_OK)
			r = wbuf_put_cstring(out, running[i]->req.command);
	pthread_mutex_unlock(&sessions.lock);
	return r;
}

int agent_guard_owns_session(const uint8_t *sid, size_t len)
{
	int owned = 0;

	pthread_mutex_lock(&sessions.lock);
	for (size_t i = 0; i < MAX_SESSIONS && !owned; i++) {
		const struct guard_session *s = sessions.live[i];

		owned = s != NULL && s->sid_len == len && len > 0 && memcmp(s->sid, sid, len) == 0;
	}
	for (size_t i = 0; i < PAST_SESSIONS && !owned; i++)
		owned = sessions.past_len[i] == len && len > 0 &&
		        memcmp(sessions.past[i], sid, len) == 0;
	pthread_mutex_unlock(&sessions.lock);
	return owned;
}

/* A session that ended before its thread ran: the audit's "end" all the same. */
static void session_end_early(struct guard_session *s, const char *outcome)
{
	struct guard_relay *g = calloc(1, sizeof(*g));

	log_info("guarded session %s to %s ended: %s", s->id, s->host_name, outcome);
	if (g != NULL) {
		snprintf(g->outcome, sizeof(g->outcome), "%s", outcome);
		audit_session(s, "allow", outcome, g);
		free(g);
	}
	session_end(s);
}

/* From acceptance to HANDOFF at most; test builds may shorten it to test the limit. */
static unsigned handoff_seconds(void)
{
#ifdef P11GUARD_TEST_HOOKS
	const char *v = getenv("P11GUARD_TEST_HANDOFF_SECONDS");

	if (v != NULL && atoi(v) > 0)
		return (unsigned)atoi(v);
#endif
	return GUARD_HANDOFF_MAX_SECONDS;
}

/* How long the session may wait for the delegate: until the handoff's deadline while one
 * is due (0: passed), else without end. */
static int handoff_wait_ms(const struct guard_session *s, const struct guard_relay *g)
{
	uint64_t now = monotonic_us();

	if (!s->handoff || g->finished || (g->connected && !g->client.handoff))
		return -1;
	if (now >= s->handoff_deadline_us)
		return 0;
	return (int)((s->handoff_deadline_us - now + 999) / 1000);
}

/* The session thread: frames from the delegate into the engine, frames out. */
static void *session_main(void *arg)
{
	struct guard_session *s = arg;
	struct ssh_client_config cfg = {
		.user = s->req.user, .trusted = s->trusted, .ntrusted = s->ntrusted,
		.keys = s->keys, .nkeys = s->ncand, .sign = session_sign, .sign_ctx = s,
		.kind = s->req.kind, .command = s->req.command, .pty = s->req.pty ? &s->req.term : NULL,
		.env = s->env, .nenv = s->nenv,
		.handoff = s->handoff, .probe_forwarding = s->probe_forwarding,
		.fallback_deny = s->fallback_deny, .handoff_kex = s->req.kex,
		.handoff_ciphers = s->req.ciphers,
#ifdef P11GUARD_TEST_HOOKS
		/* The non-strict path (AES-GCM only) can be tested against any sshd. */
		.omit_strict_kex = getenv("P11GUARD_TEST_OMIT_STRICT_KEX") != NULL,
#endif
	};
	enum guard_frame_type type;
	struct guard_relay g;
	struct wbuf in, payload;
	uint8_t buf[65536];
	char reason[400];

	wbuf_init(&in, 4 * GUARD_FRAME_MAX);
	if (guard_relay_start(&g, &cfg) != ERR_OK)
		goto out;
	if (wbuf_put_bytes(&in, s->pending, s->npending) != ERR_OK)
		(void)!guard_relay_abort(&g, 2, "out of memory");
	/*
	 * Never wait on a write: a delegate that sends while we send would deadlock with us.
	 * Output waits in to_delegate; past HIGH_WATER we read no more input until it drains,
	 * and the delegate in turn stops reading the server: TCP holds the server back.
	 */
	for (;;) {
		int busy = wbuf_avail(&g.to_delegate) >= HIGH_WATER, r = ERR_INCOMPLETE, wait_ms;
		struct pollfd pfd = { s->fd, 0, 0 };
		ssize_t n;

		while (!busy && !g.finished && (r = guard_frame_get(&in, &type, &payload)) == ERR_OK) {
			(void)!guard_relay_frame(&g, type, &payload);
			if (s->sid_len == 0 && g.connected && g.client.kex.session_id_len > 0)
				remember_sid(s, &g.client.kex);
			busy = wbuf_avail(&g.to_delegate) >= HIGH_WATER;
		}
		if (r == ERR_FORMAT)
			(void)!guard_relay_abort(&g, 3, "a malformed frame from the delegate");
		wbuf_compact(&in);
		if (wbuf_send(s->fd, &g.to_delegate) != 0 ||
		    (g.finished && wbuf_avail(&g.to_delegate) == 0))
			break;
		busy = wbuf_avail(&g.to_delegate) >= HIGH_WATER;
		pfd.events = (busy || g.finished || wbuf_avail(&in) >= 2 * GUARD_FRAME_MAX ? 0 : POLLIN) |
		             (wbuf_avail(&g.to_delegate) > 0 ? POLLOUT : 0);
		if (pfd.events == 0)
			continue;       /* frames are waiting in `in`: take them first */
		if (__atomic_load_n(&sessions.stopping, __ATOMIC_SEQ_CST)) {
			if (!g.finished) {
				(void)!guard_relay_abort(&g, 5, "the agent is exiting; the session "
				                         "to the server is closed");
				continue;
			}
			/* The ABORT gets a second to go out: the agent does not wait for more. */
			if (poll(&pfd, 1, 1000) <= 0)
				break;
			continue;
		}
		if ((wait_ms = handoff_wait_ms(s, &g)) == 0) {
			char why[120];

			snprintf(why, sizeof(why), "no handoff within %u s of the acceptance (PIN "
			         "prompts not counted)", handoff_seconds());
			(void)!guard_relay_abort(&g, 2, why);
			continue;
		}
		if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR)
			break;
		if (__atomic_load_n(&sessions.stopping, __ATOMIC_SEQ_CST))
			continue;       /* woken by the agent's exit, not by the delegate */
		if (pfd.revents & (POLLERR | POLLHUP) && !(pfd.revents & POLLIN))
			break;
		if (pfd.revents & POLLIN) {
			if ((n = read(s->fd, buf, sizeof(buf))) <= 0) {
				if (n < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				break;
			}
			if (wbuf_put_bytes(&in, buf, (size_t)n) != ERR_OK)
				break;
		}
	}
	if (g.outcome[0] == '\0')
		snprintf(g.outcome, sizeof(g.outcome), "aborted: the delegate went away");
	if (g.handed_off)
		log_info("guarded session %s to %s as %s handed off: the delegate carries the "
		         "connection on (%s); %llu bytes from the server, %llu to it", s->id,
		         s->host_name, s->req.user, g.outcome, (unsigned long long)g.from_server,
		         (unsigned long long)g.to_server);
	else
		log_info("guarded session %s to %s as %s ended (%s): %llu bytes from the server, "
		         "%llu to it", s->id, s->host_name, s->req.user, g.outcome,
		         (unsigned long long)g.from_server, (unsigned long long)g.to_server);
	snprintf(reason, sizeof(reason), "%s; %llu bytes from the server, %llu to it", g.outcome,
	         (unsigned long long)g.from_server, (unsigned long long)g.to_server);
	audit_session(s, "allow", reason, &g);
	guard_relay_free(&g);
out:
	wbuf_free(&in);
	session_end(s);
	return NULL;
}

/* After the reply: the fd is ours (-1: the delegate left first); the session gets a thread
 * of its own. */
static void detached(void *arg, int fd, const uint8_t *pending, size_t len)
{
	struct guard_session *s = arg;
	pthread_attr_t attr;
	pthread_t thread;
	int placed = 0;

	s->fd = fd;
	if (fd < 0)
		return session_end_early(s, "aborted: the delegate left before the acceptance "
		                         "reached it");
	if (len > 0) {
		if ((s->pending = malloc(len)) == NULL)
			return session_end_early(s, "aborted: out of memory");
		memcpy(s->pending, pending, len);
		s->npending = len;
	}
	pthread_mutex_lock(&sessions.lock);
	for (size_t i = 0; i < MAX_SESSIONS && !placed && !sessions.stopping; i++)
		if (sessions.live[i] == NULL) {
			sessions.live[i] = s;
			placed = 1;
		}
	pthread_mutex_unlock(&sessions.lock);
	if (!placed)
		return session_end_early(s, "aborted: the agent is exiting");
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, session_main, s) != 0)
		session_end_early(s, "aborted: no thread for the session");
	pthread_attr_destroy(&attr);
}

int agent_guard_stop(void)
{
	struct timespec until;
	size_t left;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&sessions.lock);
	sessions.stopping = 1;
	/* Each session thread wakes from its poll: no more input, its ABORT goes out. */
	for (size_t i = 0; i < MAX_SESSIONS; i++)
		if (sessions.live[i] != NULL)
			shutdown(sessions.live[i]->fd, SHUT_RD);
	while (sessions.reserved > 0 &&
	       pthread_cond_timedwait(&sessions.ended, &sessions.lock, &until) == 0)
		;
	left = sessions.reserved;
	pthread_mutex_unlock(&sessions.lock);
	if (left > 0)
		log_warn("%zu guarded session(s) did not end in 5 s (a signature still waits)", left);
	return left > 0 ? -1 : 0;
}

static int confirm_guarded(struct agent *a, const struct agent_client *c,
                           struct guard_session *s, const char *hops, struct reason *why)
{
	struct ks_identity *id = keystore_find(&a->keys, s->cand[0].blob, s->cand[0].len);
	struct confirm_prompt how = { CONFIRM_VIA_ASKPASS, NULL };
	char text[2048], program[4096];
	int r;

	if (id != NULL) {
		agent_confirm_prompt(a, id->src->pin, &how, program, sizeof(program));
		keystore_put(&a->keys, id);
	}
	snprintf(text, sizeof(text), "Allow running a command with your key?\n"
	         "Command: %.600s\nServer: %s\nUser: %s\nThrough: %s\nKey: %s%s\n"
	         "Requested by: pid %ld", s->req.kind == SSH_SESSION_SHELL ? "a shell" :
	         s->req.command, s->host_name, s->req.user, hops, s->cand[0].fingerprint,
	         s->ncand > 1 ? " (or another the rule selects)" : "", (long)c->pid);
	r = confirm_ask(&how, c->bindings->n > 0 ? c->bindings->hop[0].hostkey.fingerprint : NULL,
	                text, why);
	return r;
}

/* Handoff when the rule asks for it and the delegate can do it (design section 5). */
static void choose_mode(const struct policy_guard *rule, struct guard_session *s)
{
	static const char *const forwarding[] = { "probe", "off-asserted", "ignore" };

	s->handoff = rule->mode == GUARD_HANDOFF && !s->req.relay_only &&
	             s->req.kex != NULL && s->req.kex[0] != '\0' &&
	             s->req.ciphers != NULL && s->req.ciphers[0] != '\0';
	s->probe_forwarding = rule->forwarding == GUARD_FWD_PROBE;
	s->fallback_deny = rule->fallback == GUARD_FALLBACK_DENY;
	s->forwarding = forwarding[rule->forwarding];
}

int agent_guarded_exec(struct agent *a, struct agent_client *c,
                       const struct sshagent_request *req, struct sshagent_reply *r,
                       struct reason *why)
{
	const struct sshpub *hops[BIND_MAX];
	struct guard_session *s = calloc(1, sizeof(*s));
	struct policy *pol = agent_policy(a);
	struct guard_decision d;
	struct guard_request gr;
	struct selecting sel;
	char hop_text[600];
	struct wbuf ok;
	int rc;

	if (s == NULL) {
		policy_unref(pol);
		return reason_set(why, ERR_ALLOC, "out of memory");
	}
	s->a = a;
	s->signed_with = -1;
	s->pid = c->pid;
	s->uid = c->uid;
	snprintf(s->exe, sizeof(s->exe), "%s", c->exe);
	snprintf(s->rule_text, sizeof(s->rule_text), "default");
	for (size_t i = 0; i < c->bindings->n; i++) {
		snprintf(s->hop_fp[i], SSHKEY_FP_LEN, "%s", c->bindings->hop[i].hostkey.fingerprint);
		policy_host_names(pol, &c->bindings->hop[i].hostkey, s->hop_name[i],
		                  sizeof(s->hop_name[i]));
	}
	s->nhops = c->bindings->n;
	if (RAND_bytes(s->id_raw, sizeof(s->id_raw)) != 1) {
		rc = reason_set(why, ERR_INTERNAL, "no random bytes for the session id");
		goto out;
	}
	for (size_t i = 0; i < sizeof(s->id_raw); i++)
		snprintf(s->id + 2 * i, 3, "%02x", s->id_raw[i]);
	if (agent_is_locked(a)) {
		rc = reason_set(why, ERR_AGENT_LOCKED, "the agent is locked (ssh-add -X unlocks it)");
		goto out;
	}
	if ((rc = guard_request_decode(req->u.extension.data.data, req->u.extension.data.len,
	                               &s->req, why)) != ERR_OK)
		goto out;
	for (size_t i = 0; i < c->bindings->n; i++)
		hops[i] = &c->bindings->hop[i].hostkey;
	gr = (struct guard_request){
		.host = s->req.host, .port = s->req.port, .user = s->req.user, .hops = hops,
		.nhops = c->bindings->n, .pty = s->req.pty, .command = s->req.command,
		.kind = s->req.kind == SSH_SESSION_EXEC ? GUARD_EXEC :
		        s->req.kind == SSH_SESSION_SUBSYSTEM ? GUARD_SUBSYSTEM : GUARD_SHELL,
	};
	policy_decide_guarded(pol, &gr, &d);
	snprintf(s->host_name, sizeof(s->host_name), "%s", d.host_name);
	snprintf(s->rule_text, sizeof(s->rule_text), "%s", d.where);
	if (d.action != POLICY_ALLOW) {
		rc = reason_set(why, ERR_DENIED, "%s", d.reason);
		goto out;
	}
	trusted_keys(pol, s);
	if (s->ntrusted == 0) {
		rc = reason_set(why, ERR_DENIED, "no host key known for %s in the policy's "
		                "known_hosts: the agent verifies the server itself, with no trust on "
		                "first use", s->host_name);
		goto out;
	}
	sel = (struct selecting){ d.rule, s };
	keystore_foreach(&a->keys, select_key, &sel);
	if (s->ncand == 0) {
		rc = reason_set(why, ERR_KEY_NOT_FOUND, "no served key is selected by the rule %s",
		                d.where);
		goto out;
	}
	for (size_t i = 0; i < s->req.nenv; i++)
		if (policy_guard_env(d.rule, s->req.env[i].name))
			s->env[s->nenv++] = s->req.env[i];
	if (gr.nhops == 0)
		snprintf(hop_text, sizeof(hop_text), "this machine");
	else
		policy_hop_list(pol, gr.hops, gr.nhops, 1, hop_text, sizeof(hop_text));
	snprintf(s->purpose, sizeof(s->purpose), "log in as %.64s on %.256s to run a guarded "
	         "command", s->req.user, s->host_name);
	if (d.confirm && (rc = confirm_guarded(a, c, s, hop_text, why)) != ERR_OK) {
		reason_wrap(why, "confirmation for guarded rule %s", d.where);
		goto out;
	}
	choose_mode(d.rule, s);
	if ((rc = session_reserve(why)) != ERR_OK)
		goto out;
	s->handoff_deadline_us = monotonic_us() + handoff_seconds() * 1000000ULL;
	wbuf_init(&ok, 16);
	if ((rc = wbuf_put_u32(&ok, GUARD_VERSION)) != ERR_OK ||
	    (rc = wbuf_put_u8(&ok, s->handoff ? GUARD_MODE_HANDOFF : GUARD_MODE_RELAY)) != ERR_OK ||
	    (rc = sshagent_reply_extension(r, wbuf_ptr(&ok), wbuf_avail(&ok))) != ERR_OK ||
	    (rc = sshagent_conn_detach(c->conn, detached, s)) != ERR_OK) {
		wbuf_free(&ok);
		pthread_mutex_lock(&sessions.lock);
		sessions.reserved--;
		pthread_mutex_unlock(&sessions.lock);
		rc = reason_set(why, rc, "accepting the guarded session failed");
		goto out;
	}
	wbuf_free(&ok);
	log_info("guarded session %s accepted for %s: %s (%s), through %s", s->id,
	         s->handoff ? "a handoff" : "relay mode", d.reason, d.where, hop_text);
	audit_session(s, "allow", d.reason, NULL);
	policy_unref(pol);
	return ERR_OK;
out:
	if (s->req.host != NULL)
		audit_session(s, "deny", why->text, NULL);
	policy_unref(pol);
	session_free(s);
	return rc;
}
