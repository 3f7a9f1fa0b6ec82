/*
 * Forwarding probes (design section 6), on the agent's own connection before the session
 * channel exists, for a session that would be handed over: after the handoff the server
 * honours whatever forwarding it allows, and no client can switch that off. Three probes,
 * none of which touches anything on the server:
 *   local TCP    direct-tcpip to 127.0.0.1 port 0 (Linux refuses to connect there);
 *   remote TCP   tcpip-forward on 127.0.0.1 port 0 (a port it opens is cancelled at once);
 *   remote Unix  streamlocal-forward on a path under /dev/null (its bind fails).
 * Closed means OpenSSH's refusal that is given only when forwarding is off for this login:
 * "administratively prohibited" for a channel, a failure announced by "Server has disabled
 * ... forwarding." for a request. A remote TCP failure without that notice is a PermitListen
 * list (LIMITED). What no probe can see, and the man pages say: a local TCP refusal is the
 * same for "off" and for "on, limited to a PermitOpen list"; local Unix-socket forwarding
 * (direct-streamlocal) fails alike whether allowed or not (OpenSSH answers "connect
 * failed" to both), so `AllowStreamLocalForwarding local` stays unseen.
 */
#include <string.h>

#include "ssh-client-int.h"

#define PROBE_PATH "/dev/null/p11guard-probe"
#define PROBE_WINDOW_PACKET 32768
#define OPEN_ADMINISTRATIVELY_PROHIBITED 1

/* The probe's channel id: the session channel, opened later, is 0. */
enum { LOCAL_TCP_CHANNEL = 1 };
/* What a global request before the session was, for its reply. */
enum { GLOBAL_REMOTE_TCP = 1, GLOBAL_REMOTE_UNIX, GLOBAL_CANCEL, GLOBAL_NO_MORE_SESSIONS };

static int open_probe_channel(struct ssh_client *c)
{
	struct wbuf b;
	int r;

	wbuf_init(&b, 256);
	if ((r = wbuf_put_u8(&b, MSG_CHANNEL_OPEN)) || (r = wbuf_put_cstring(&b, "direct-tcpip")) ||
	    (r = wbuf_put_u32(&b, LOCAL_TCP_CHANNEL)) || (r = wbuf_put_u32(&b, 0)) ||
	    (r = wbuf_put_u32(&b, PROBE_WINDOW_PACKET)) ||
	    (r = wbuf_put_cstring(&b, "127.0.0.1")) || (r = wbuf_put_u32(&b, 0)) ||
	    (r = wbuf_put_cstring(&b, "127.0.0.1")) || (r = wbuf_put_u32(&b, 0))) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building a forwarding probe failed%s", "");
	}
	return ssh_send_payload(c, &b);
}

int ssh_global_request(struct ssh_client *c, uint8_t what, const char *name,
                       const char *host_or_path, int with_port, uint32_t port)
{
	struct wbuf b;
	int r;

	if (c->nglobal >= sizeof(c->global_awaited))
		return ssh_fail(c, ERR_LIMIT, "too many global requests%s", "");
	wbuf_init(&b, 256);
	if ((r = wbuf_put_u8(&b, MSG_GLOBAL_REQUEST)) || (r = wbuf_put_cstring(&b, name)) ||
	    (r = wbuf_put_u8(&b, 1)) ||
	    (host_or_path != NULL && (r = wbuf_put_cstring(&b, host_or_path))) ||
	    (with_port && (r = wbuf_put_u32(&b, port)))) {
		wbuf_free(&b);
		return ssh_fail(c, r, "building a global request failed%s", "");
	}
	c->global_awaited[c->nglobal++] = what;
	return ssh_send_payload(c, &b);
}

int ssh_probes_begin(struct ssh_client *c)
{
	int r;

	c->state = SSH_PROBING;
	c->probes_pending = 3;          /* the channel's answer, the two requests' replies */
	if ((r = open_probe_channel(c)))
		return r;
	if ((r = ssh_global_request(c, GLOBAL_REMOTE_TCP, "tcpip-forward", "127.0.0.1", 1, 0)))
		return r;
	return ssh_global_request(c, GLOBAL_REMOTE_UNIX, "streamlocal-forward@openssh.com",
	                          PROBE_PATH, 0, 0);
}

static const char *const probe_names[SSH_PROBES] = {
	"local TCP forwarding", "remote TCP forwarding", "remote Unix-socket forwarding",
};

const char *ssh_probe_name(enum ssh_probe_kind k)
{
	return probe_names[k];
}

/* All probes answered: hand over only when every one showed forwarding closed. */
static int probes_done(struct ssh_client *c)
{
	for (int k = 0; k < SSH_PROBES; k++)
		if (c->probe[k] != PROBE_CLOSED) {
			char why[200];

			snprintf(why, sizeof(why), "the server allows forwarding (%s is %s)",
			         probe_names[k], c->probe[k] == PROBE_LIMITED ?
			         "limited to a list, not off" : "on");
			if (ssh_handoff_fallback(c, why) != ERR_OK)
				return c->why.code;
			break;
		}
	return ssh_channel_open(c);
}

static int probe_answered(struct ssh_client *c)
{
	if (--c->probes_pending == 0)
		return probes_done(c);
	return ERR_OK;
}

/* The server's DEBUG message while probing: the notice that forwarding is off. */
int ssh_probe_debug(struct ssh_client *c, struct wbuf *m)
{
	const uint8_t *text;
	uint8_t display;
	size_t n;
	static const char notice[] = "Server has disabled ";

	if (wbuf_get_u8(m, &display) == ERR_OK && wbuf_get_string(m, &text, &n) == ERR_OK &&
	    n >= sizeof(notice) - 1 && memcmp(text, notice, sizeof(notice) - 1) == 0)
		c->probe_debug_seen = 1;
	return ERR_OK;
}

static int cancel_remote(struct ssh_client *c, uint8_t what, struct wbuf *m)
{
	uint32_t port = 0;

	c->probes_pending++;
	if (what == GLOBAL_REMOTE_TCP) {
		if (wbuf_get_u32(m, &port) != ERR_OK || port == 0 || port > 65535)
			return ssh_fail(c, ERR_FORMAT, "a tcpip-forward reply without a port%s", "");
		return ssh_global_request(c, GLOBAL_CANCEL, "cancel-tcpip-forward", "127.0.0.1", 1,
		                          port);
	}
	return ssh_global_request(c, GLOBAL_CANCEL, "cancel-streamlocal-forward@openssh.com",
	                          PROBE_PATH, 0, 0);
}

/* REQUEST_SUCCESS or FAILURE for the oldest global request before the session. */
int ssh_global_reply(struct ssh_client *c, int ok, struct wbuf *m)
{
	uint8_t what;
	int disabled = c->probe_debug_seen, r;

	if (c->nglobal == 0)
		return ssh_fail(c, ERR_FORMAT, "an answer to a request never made%s", "");
	what = c->global_awaited[0];
	memmove(c->global_awaited, c->global_awaited + 1, --c->nglobal);
	c->probe_debug_seen = 0;
	switch (what) {
	case GLOBAL_NO_MORE_SESSIONS:
		return ssh_no_more_sessions_reply(c, ok);
	case GLOBAL_CANCEL:
		return probe_answered(c);
	}
	if (c->state != SSH_PROBING)
		return ssh_fail(c, ERR_FORMAT, "a probe's answer out of place%s", "");
	c->probe[what == GLOBAL_REMOTE_TCP ? PROBE_REMOTE_TCP : PROBE_REMOTE_UNIX] =
		ok ? PROBE_OPEN : disabled ? PROBE_CLOSED :
		what == GLOBAL_REMOTE_TCP ? PROBE_LIMITED : PROBE_OPEN;
	if (ok && (r = cancel_remote(c, what, m)) != ERR_OK)
		return r;
	return probe_answered(c);
}

/* A reply about a probe channel: its refusal, or its opening (then closed again). */
int ssh_probe_channel(struct ssh_client *c, uint8_t type, struct wbuf *m)
{
	uint32_t id, reason, remote;
	struct wbuf b;
	int r;

	if (wbuf_get_u32(m, &id) != ERR_OK || id != LOCAL_TCP_CHANNEL)
		return ssh_fail(c, ERR_FORMAT, "a message for a channel we did not open%s", "");
	switch (type) {
	case MSG_CHANNEL_OPEN_FAILURE:
		if (wbuf_get_u32(m, &reason) != ERR_OK)
			return ssh_fail(c, ERR_FORMAT, "a malformed channel refusal%s", "");
		c->probe[PROBE_LOCAL_TCP] = reason == OPEN_ADMINISTRATIVELY_PROHIBITED ?
		                            PROBE_CLOSED : PROBE_OPEN;
		return probe_answered(c);
	case MSG_CHANNEL_OPEN_CONFIRMATION:
		if (wbuf_get_u32(m, &remote) != ERR_OK)
			return ssh_fail(c, ERR_FORMAT, "a malformed channel confirmation%s", "");
		c->probe[PROBE_LOCAL_TCP] = PROBE_OPEN;
		wbuf_init(&b, 16);
		if ((r = wbuf_put_u8(&b, MSG_CHANNEL_CLOSE)) || (r = wbuf_put_u32(&b, remote))) {
			wbuf_free(&b);
			return ssh_fail(c, r, "closing a probe channel failed%s", "");
		}
		return ssh_send_payload(c, &b);         /* its CLOSE answers the probe */
	case MSG_CHANNEL_CLOSE:
		return probe_answered(c);
	case MSG_CHANNEL_WINDOW_ADJUST: case MSG_CHANNEL_EOF: case MSG_CHANNEL_REQUEST:
		return ERR_OK;  /* on an opened probe channel before its CLOSE: nothing to do */
	}
	return ssh_fail(c, ERR_FORMAT, "an unexpected message on a probe channel%s", "");
}

int ssh_no_more_sessions(struct ssh_client *c)
{
	c->state = SSH_NO_MORE_SESSIONS;
	return ssh_global_request(c, GLOBAL_NO_MORE_SESSIONS, "no-more-sessions@openssh.com",
	                          NULL, 0, 0);
}
