/*
 * sshagent_serve(): the poll() loop, connection buffers and the hand-off to worker threads,
 * so that a slow operation (a token, a prompt) or a stalled client delays no one else. The
 * loop only moves bytes and dispatches; requests are handled in serve-request.c.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "listener.h"
#include "reason-export.h"
#include "server-conn.h"

/* A read chunk; a message may be up to SSHAGENT_MAX_MESSAGE plus its length prefix. */
#define READ_CHUNK 16384
#define IN_MAX (SSHAGENT_MAX_MESSAGE + 4 + READ_CHUNK)
#define OUT_MAX (4 * SSHAGENT_MAX_MESSAGE)

#define DEFAULT_WORKERS 16
#define DEFAULT_MAX_CONNECTIONS 128
/* A client that leaves a message half-sent this long is disconnected. */
#define STALL_SECONDS 10

struct server {
	struct serve_config cfg;
	const struct sshagent_server_options *opt;
	int listen_fd;
	struct sshagent_conn **conns;
	size_t nconns, max_conns;
	struct pollfd *pfds;
	size_t *map;
	int wake_fd;
	pthread_t *workers;
	size_t nworkers, want_workers;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct sshagent_conn *queue, *queue_tail, *done;
	int stopping;
	size_t busy;
};

static int conn_read(struct sshagent_conn *c);

/* How long a worker sleeps waiting for a client's next request, and for how many in a row. */
#define LINGER_US 300
#define LINGER_RUN 256
/*
 * Before that sleep, the worker polls for a tenth of the time the last request took, at most
 * 50 us. A client that asks again at once is then answered without a thread wake-up, and
 * the spin costs at most a tenth of the work it follows.
 */
#define SPIN_SHARE 10
#define SPIN_MAX_US 50
/* A run ends after this many waits in a row longer than a quarter of the request's work. */
#define LINGER_SLOW 4
#define LINGER_PATIENCE 4

/* A worker's run of requests on one connection, served without going back to the loop. */
struct conn_run {
	unsigned served;        /* requests in this run */
	unsigned slow;          /* consecutive waits that outlasted a share of the work */
	uint64_t work_us;       /* how long the last request took */
};

/*
 * Polls for the next request for `spin_us` before sleeping on it. Yielding between polls lets
 * the client run when it shares our CPU; on another CPU it finds us awake.
 */
static int wait_readable(int fd, uint64_t spin_us)
{
	struct timespec linger = { 0, LINGER_US * 1000L }, now = { 0, 0 };
	struct pollfd p = { fd, POLLIN, 0 };
	uint64_t start = monotonic_us();

	while (monotonic_us() - start < spin_us) {
		if (ppoll(&p, 1, &now, NULL) == 1)
			return (p.revents & POLLIN) != 0;
		sched_yield();
	}
	return ppoll(&p, 1, &linger, NULL) == 1 && (p.revents & POLLIN);
}

/*
 * A client that asks again at once (ssh-add -T in a loop, git fetching many repositories)
 * is served by the same worker: it waits a moment for the next request on this connection,
 * sparing two hand-offs through the event loop. Only while no other request is queued, and
 * for a bounded run, so that no client can keep a worker from the others.
 *
 * A client that keeps making the worker wait longer than a share of a request's work is
 * handed back to the loop. Mostly this means the scheduler put the client and this worker
 * on different CPUs, so that every request pays two cross-CPU wake-ups; the next dispatch
 * places them anew.
 */
static int next_request_here(struct server *s, struct sshagent_conn *c, struct conn_run *l)
{
	uint64_t spin_us = l->work_us / SPIN_SHARE, start;
	int r;

	if (c->failed || wbuf_avail(&c->out) > 0 || ++l->served >= LINGER_RUN ||
	    l->slow >= LINGER_SLOW || __atomic_load_n(&s->queue, __ATOMIC_RELAXED) != NULL)
		return 0;
	r = agent_frame_take(&c->in, &c->msg);
	if (r != ERR_INCOMPLETE || wbuf_avail(&c->in) > 0)
		return r == ERR_OK;     /* a partial message or a bad length is the loop's */
	start = monotonic_us();
	if (!wait_readable(c->fd, spin_us < SPIN_MAX_US ? spin_us : SPIN_MAX_US) ||
	    conn_read(c) != 0)
		return 0;               /* no request in time, or a closed peer: the loop's too */
	if (monotonic_us() - start > l->work_us / LINGER_PATIENCE)
		l->slow++;
	else
		l->slow = 0;
	return agent_frame_take(&c->in, &c->msg) == ERR_OK;
}

/*
 * An extension took the connection: its reply goes out in full, then the fd and the bytes
 * already read after the request go to the extension, and the loop forgets the connection.
 */
static void conn_hand_over(struct sshagent_conn *c)
{
	struct pollfd p = { c->fd, POLLOUT, 0 };

	while (!c->failed && wbuf_avail(&c->out) > 0) {
		if (poll(&p, 1, STALL_SECONDS * 1000) != 1 || wbuf_send(c->fd, &c->out) != 0)
			c->failed = 1;
	}
	if (c->failed) {
		/* The loop closes it as any failed connection; the extension only frees. */
		c->detach(c->detach_arg, -1, NULL, 0);
		return;
	}
	c->detached = 1;
	c->detach(c->detach_arg, c->fd, wbuf_ptr(&c->in), wbuf_avail(&c->in));
}

static void *worker_main(void *arg)
{
	struct server *s = arg;
	struct sshagent_conn *c;
	struct conn_run l;
	uint64_t one = 1;

	for (;;) {
		pthread_mutex_lock(&s->qlock);
		while (s->queue == NULL && !s->stopping)
			pthread_cond_wait(&s->qcond, &s->qlock);
		if (s->queue == NULL) {
			pthread_mutex_unlock(&s->qlock);
			return NULL;
		}
		c = s->queue;
		s->queue = c->next;
		if (s->queue == NULL)
			s->queue_tail = NULL;
		pthread_mutex_unlock(&s->qlock);

		memset(&l, 0, sizeof(l));
		do {
			uint64_t start = monotonic_us();

			c->failed = serve_request(&s->cfg, c) != ERR_OK;
			/* The loop does not touch a busy connection: the reply goes out from here. */
			if (!c->failed && wbuf_send(c->fd, &c->out) != 0)
				c->failed = 1;
			l.work_us = monotonic_us() - start;
		} while (c->detach == NULL && next_request_here(s, c, &l));
		if (c->detach != NULL)
			conn_hand_over(c);

		pthread_mutex_lock(&s->qlock);
		c->next = s->done;
		s->done = c;
		pthread_mutex_unlock(&s->qlock);
		/* Should the write fail, the loop's one-second tick collects the connection. */
		(void)!write(s->wake_fd, &one, sizeof(one));
	}
}

static void conn_close(struct server *s, size_t i)
{
	struct sshagent_conn *c = s->conns[i];

	if (s->cfg.ops->close != NULL)
		s->cfg.ops->close(s->cfg.ctx, c);
	if (!c->detached)
		close(c->fd);
	bindings_clear(&c->bindings);
	wbuf_free(&c->in);
	wbuf_free(&c->out);
	free(c);
	s->conns[i] = s->conns[--s->nconns];
}

static void dispatch(struct server *s, struct sshagent_conn *c)
{
	c->busy = 1;
	c->next = NULL;
	s->busy++;
	pthread_mutex_lock(&s->qlock);
	if (s->queue_tail != NULL)
		s->queue_tail->next = c;
	else
		s->queue = c;
	s->queue_tail = c;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
}

/* Takes the next complete message, if any; returns -1 when the connection must close. */
static int conn_process(struct server *s, struct sshagent_conn *c)
{
	struct reason why;
	int r;

	if (c->busy || wbuf_avail(&c->out) > 0)
		return 0;       /* one request at a time; the reply goes first */
	r = agent_frame_take(&c->in, &c->msg);
	if (r == ERR_INCOMPLETE) {
		if (wbuf_avail(&c->in) > 0 && c->partial_since == 0)
			c->partial_since = time(NULL);
		return 0;
	}
	if (r != ERR_OK) {
		reason_set(&why, ERR_TOO_LARGE, "message length over %d bytes: connection closed",
		           SSHAGENT_MAX_MESSAGE);
		serve_refused(&s->cfg, c, "request", &why);
		return -1;
	}
	c->partial_since = wbuf_avail(&c->in) > 0 ? time(NULL) : 0;
	dispatch(s, c);
	return 0;
}

static int conn_read(struct sshagent_conn *c)
{
	uint8_t *p;
	ssize_t n;

	if (wbuf_reserve(&c->in, READ_CHUNK, &p) != ERR_OK)
		return -1;
	n = recv(c->fd, p, READ_CHUNK, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	wbuf_commit(&c->in, (size_t)n);
	return 0;
}

/* A connection refused before it had a state: the implementation hears of it too. */
static void refuse_peer(struct server *s, int fd, struct reason *why)
{
	struct sshagent_reason pub;

	close(fd);
	if (s->cfg.ops->refused == NULL)
		return;
	reason_export(why, &pub);
	s->cfg.ops->refused(s->cfg.ctx, NULL, "connection", &pub);
}

static void accept_one(struct server *s)
{
	struct sshagent_conn *c;
	struct reason why;
	uid_t uid;
	pid_t pid;
	int fd;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (listener_peer(fd, &uid, &pid) != ERR_OK) {
		reason_set(&why, ERR_SYSTEM, "the peer's credentials (SO_PEERCRED) are unknown");
		return refuse_peer(s, fd, &why);
	}
	/* Only our own user (and root, when allowed, as with ssh-agent) may use the keys. */
	if (uid != getuid() && (uid != 0 || !s->opt->allow_root)) {
		reason_set(&why, ERR_DENIED, "from uid %ld pid %ld: not uid %ld", (long)uid,
		           (long)pid, (long)getuid());
		return refuse_peer(s, fd, &why);
	}
	if (s->nconns >= s->max_conns || (c = calloc(1, sizeof(*c))) == NULL) {
		reason_set(&why, ERR_LIMIT, "from pid %ld: %zu connections open", (long)pid,
		           s->max_conns);
		return refuse_peer(s, fd, &why);
	}
	c->fd = fd;
	c->uid = uid;
	c->pid = pid;
	if (s->cfg.ops->open != NULL && (c->data = s->cfg.ops->open(s->cfg.ctx, c)) == NULL) {
		free(c);
		reason_set(&why, ERR_ALLOC, "from pid %ld: the agent could not take it", (long)pid);
		return refuse_peer(s, fd, &why);
	}
	wbuf_init(&c->in, IN_MAX);
	wbuf_init(&c->out, OUT_MAX);
	s->conns[s->nconns++] = c;
}

/* Collects connections whose request a worker finished. */
static void collect_done(struct server *s)
{
	struct sshagent_conn *c, *next;
	uint64_t count;

	/* Only clears the counter; the done list is what counts. */
	(void)!read(s->wake_fd, &count, sizeof(count));
	pthread_mutex_lock(&s->qlock);
	c = s->done;
	s->done = NULL;
	pthread_mutex_unlock(&s->qlock);
	for (; c != NULL; c = next) {
		next = c->next;
		c->busy = 0;
		s->busy--;
		/* Wipes the request (it may have carried a PIN) now that it is answered. */
		wbuf_compact(&c->in);
	}
}

static void service_connections(struct server *s, struct pollfd *pfds, size_t *map, size_t np)
{
	time_t now = time(NULL);

	for (size_t k = 2; k < np; k++) {
		struct sshagent_conn *c = s->conns[map[k]];
		short re = pfds[k].revents;

		if (c->busy)
			continue;
		if ((re & POLLIN) && conn_read(c) != 0)
			c->failed = 1;
		else if ((re & (POLLHUP | POLLERR)) && !(re & POLLIN))
			c->failed = 1;
		if (!c->failed && (re & POLLOUT) && wbuf_send(c->fd, &c->out) != 0)
			c->failed = 1;
		if (!c->failed && c->partial_since != 0 && now - c->partial_since > STALL_SECONDS) {
			struct reason why;

			reason_set(&why, ERR_INCOMPLETE, "message left unfinished for %d s: "
			           "connection closed", STALL_SECONDS);
			serve_refused(&s->cfg, c, "request", &why);
			c->failed = 1;
		}
	}
}

static void sweep(struct server *s)
{
	for (size_t i = s->nconns; i-- > 0;) {
		struct sshagent_conn *c = s->conns[i];

		if (c->busy)
			continue;
		/* A detached connection's fd is the extension's: never read it again. */
		if (!c->failed && !c->detached && conn_process(s, c) != 0)
			c->failed = 1;
		/*
		 * Once dispatched, the connection is a worker's, which may set failed or detached
		 * at any moment: only a connection still ours is judged by them.
		 */
		if (!c->busy && (c->failed || c->detached))
			conn_close(s, i);
	}
}

/* Returns 1 when the implementation's tick says stop, -1 when poll fails. */
static int loop_once(struct server *s)
{
	struct pollfd *pfds = s->pfds;
	size_t *map = s->map, np = 2;
	int n;

	pfds[0] = (struct pollfd){ s->listen_fd, POLLIN, 0 };
	pfds[1] = (struct pollfd){ s->wake_fd, POLLIN, 0 };
	for (size_t i = 0; i < s->nconns; i++) {
		struct sshagent_conn *c = s->conns[i];

		if (c->busy)
			continue;
		pfds[np] = (struct pollfd){ c->fd, POLLIN, 0 };
		if (wbuf_avail(&c->out) > 0)
			pfds[np].events = POLLOUT;      /* reply first, then the next request */
		map[np++] = i;
	}
	/* Stall checks and the implementation's timers need this regular tick. */
	n = poll(pfds, np, 1000);
	if (n < 0 && errno != EINTR)
		return -1;
	if (s->cfg.ops->tick != NULL && s->cfg.ops->tick(s->cfg.ctx) != 0)
		return 1;
	if (n < 0)
		return 0;
	if (pfds[1].revents & POLLIN)
		collect_done(s);
	service_connections(s, pfds, map, np);
	if (pfds[0].revents & POLLIN)
		accept_one(s);
	sweep(s);
	return 0;
}

static int start_workers(struct server *s)
{
	for (; s->nworkers < s->want_workers; s->nworkers++)
		if (pthread_create(&s->workers[s->nworkers], NULL, worker_main, s) != 0)
			return -1;
	return 0;
}

static void stop_workers(struct server *s)
{
	pthread_mutex_lock(&s->qlock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	for (size_t i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
}

static int server_init(struct server *s, const struct sshagent_ops *ops, void *ctx,
                       const struct sshagent_server_options *opt, struct reason *why)
{
	memset(s, 0, sizeof(*s));
	s->cfg = (struct serve_config){ ops, ctx, opt->forwarded_may_change_keys };
	s->opt = opt;
	s->wake_fd = -1;
	s->max_conns = opt->max_connections ? opt->max_connections : DEFAULT_MAX_CONNECTIONS;
	s->want_workers = opt->workers ? opt->workers : DEFAULT_WORKERS;
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	s->listen_fd = opt->listen_fd >= 0 ? opt->listen_fd : opt->path != NULL ?
	               listener_open(opt->path, why) : reason_set(why, ERR_INTERNAL, "no socket");
	if (s->listen_fd < 0)
		return why->code;
	if ((s->conns = calloc(s->max_conns, sizeof(*s->conns))) == NULL ||
	    (s->pfds = calloc(s->max_conns + 2, sizeof(*s->pfds))) == NULL ||
	    (s->map = calloc(s->max_conns + 2, sizeof(*s->map))) == NULL ||
	    (s->workers = calloc(s->want_workers, sizeof(*s->workers))) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	if ((s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 || start_workers(s) != 0)
		return reason_set(why, ERR_SYSTEM, "starting the event loop: %s", strerror(errno));
	return ERR_OK;
}

static void server_free(struct server *s)
{
	/* Waits for requests in flight; a prompt is bounded by its timeout. */
	while (s->busy > 0) {
		struct pollfd pfd = { s->wake_fd, POLLIN, 0 };

		if (poll(&pfd, 1, 1000) > 0)
			collect_done(s);
	}
	stop_workers(s);
	while (s->nconns > 0)
		conn_close(s, s->nconns - 1);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	if (s->listen_fd >= 0 && s->opt->listen_fd < 0) {
		close(s->listen_fd);
		unlink(s->opt->path);
	}
	free(s->conns);
	free(s->pfds);
	free(s->map);
	free(s->workers);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qcond);
}

int sshagent_serve(const struct sshagent_ops *ops, void *ctx,
                   const struct sshagent_server_options *opt, struct sshagent_reason *pub)
{
	struct server s;
	struct reason why;
	int r;

	reason_clear(&why);
	if ((r = server_init(&s, ops, ctx, opt, &why)) == ERR_OK) {
		if (ops->serving != NULL)
			ops->serving(ctx);
		while ((opt->quit == NULL || !*opt->quit) && (r = loop_once(&s)) == 0)
			;
		if (r < 0)
			r = reason_set(&why, ERR_SYSTEM, "poll: %s", strerror(errno));
		else
			r = ERR_OK;
	}
	server_free(&s);
	reason_export(&why, pub);
	pub->code = r;
	return r;
}
