/* Unit tests for src/delegate/delegate-config.c: reading `ssh -G`, refusing what a guarded
 * session cannot honour, and lines that are not ssh -G's. */
#include <sys/socket.h>

#include "check.h"
#include "delegate-config.h"

/* Feeds `lines` (NULL-terminated) and checks; the result of the check, or the first error. */
static int feed(const char *const *lines, struct delegate_config *c, struct reason *why)
{
	int r = ERR_OK;

	memset(c, 0, sizeof(*c));
	reason_clear(why);
	for (size_t i = 0; lines[i] != NULL && r == ERR_OK; i++)
		r = delegate_config_line(c, lines[i], why);
	return r == ERR_OK ? delegate_config_check(c, why) : r;
}

static const char *const base[] = { "user git", "hostname git.example.com", "port 2222",
	"addressfamily inet6", "connecttimeout 7", "requesttty no", "sendenv GIT_PROTOCOL",
	"sendenv LANG", "setenv \"A=x y\"", "forwardagent no", "forwardx11 no", "tunnel false",
	"controlmaster false", "proxyusefdpass no", "clearallforwardings no",
	"serveraliveinterval 15", "serveralivecountmax 4", NULL };

static void whole(void)
{
	struct delegate_config c;
	struct reason why;

	CHECK(feed(base, &c, &why) == ERR_OK, "%s", why.text);
	CHECK(strcmp(c.hostname, "git.example.com") == 0 && strcmp(c.user, "git") == 0 &&
	      c.port == 2222 && c.family == AF_INET6 && c.connect_timeout == 7 && c.tty == TTY_NO &&
	      c.alive_interval == 15 && c.alive_count_max == 4, "fields");
	CHECK(c.nsend_env == 2 && strcmp(c.send_env[0], "GIT_PROTOCOL") == 0 && c.nset_env == 1 &&
	      strcmp(c.set_env[0], "\"A=x y\"") == 0, "env");
	delegate_config_free(&c);
}

/* One line more than base: refused with `name` in the reason, or accepted (name NULL). */
static void with(const char *line, const char *extra, const char *name)
{
	const char *lines[32];
	struct delegate_config c;
	struct reason why;
	size_t n = 0;
	int r;

	for (; base[n] != NULL; n++)
		lines[n] = base[n];
	lines[n++] = line;
	lines[n++] = extra;
	lines[n] = NULL;
	r = feed(lines, &c, &why);
	if (name == NULL)
		CHECK(r == ERR_OK, "%s: %s", line, why.text);
	else
		CHECK(r == ERR_DENIED && strstr(why.text, name) != NULL, "%s: %s", line, why.text);
	delegate_config_free(&c);
}

static void refusals(void)
{
	with("proxyjump bastion", NULL, "jump host");
	with("proxycommand nc %h %p", NULL, "proxy command");
	with("ProxyCommand none", NULL, NULL);
	with("forwardagent yes", NULL, "agent forwarding");
	with("forwardagent /tmp/other.sock", NULL, "agent forwarding");
	with("forwardx11 yes", NULL, "X11");
	with("remotecommand ls", NULL, "remote command");
	with("tunnel point-to-point", NULL, "tunnel");
	with("controlmaster auto", NULL, "connection sharing");
	with("localforward 1234 [localhost]:22", NULL, "local port forwarding");
	with("remoteforward 1234 [localhost]:22", NULL, "remote port forwarding");
	with("dynamicforward 1080", NULL, "dynamic");
	/* scp passes ClearAllForwardings=yes: forwardings from a config are then dropped. */
	with("localforward 1234 [localhost]:22", "clearallforwardings yes", NULL);
	with("clearallforwardings yes", "proxyjump bastion", "jump host");
}

static void malformed(void)
{
	static const char *const bad[] = { "", " user x", "user", "user ", "port 0",
		"port 65536", "port 22x", "port -1", "connecttimeout soon", "connecttimeout 99999999",
		"a-key-much-longer-than-sixty-four-characters-is-not-one-ssh-prints x",
		"serveraliveinterval often", "serveralivecountmax -1", NULL };
	static const char *const missing[] = { "user git", "port 22", NULL };
	struct delegate_config c;
	struct reason why;

	for (size_t i = 0; bad[i] != NULL; i++) {
		const char *lines[] = { bad[i], NULL };

		CHECK(feed(lines, &c, &why) == ERR_FORMAT, "\"%s\" accepted", bad[i]);
		delegate_config_free(&c);
	}
	CHECK(feed(missing, &c, &why) == ERR_FORMAT && strstr(why.text, "host name") != NULL,
	      "no hostname: %s", why.text);
	delegate_config_free(&c);
	memset(&c, 0, sizeof(c));
	for (int i = 0; i < 32; i++)
		CHECK(delegate_config_line(&c, "sendenv X", &why) == ERR_OK, "sendenv %d", i);
	CHECK(delegate_config_line(&c, "sendenv X", &why) == ERR_LIMIT, "a 33rd sendenv");
	delegate_config_free(&c);
}

int main(void)
{
	whole();
	refusals();
	malformed();
	CHECK_DONE();
}
