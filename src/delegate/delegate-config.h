/*
 * What ssh would do for this host: p11guard-ssh asks `ssh -G` with the options it was given
 * and reads the answer, so ~/.ssh/config, /etc/ssh/ssh_config and -o options mean what they
 * mean to ssh (host aliases, Port, User, SendEnv, SetEnv, RequestTTY, ConnectTimeout, ...),
 * and so that settings a guarded session cannot honour (a proxy, forwardings, agent or X11
 * forwarding, a remote command, a tunnel, connection sharing) are refused by name instead
 * of being dropped in silence.
 */
#ifndef P11G_DELEGATE_CONFIG_H
#define P11G_DELEGATE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define DELEGATE_MAX_ENV 32

enum delegate_tty { TTY_AUTO, TTY_NO, TTY_YES, TTY_FORCE };

struct delegate_config {
	char *hostname, *user;
	uint32_t port;
	int family;                     /* AF_UNSPEC, AF_INET or AF_INET6 */
	int connect_timeout;            /* seconds; 0: none */
	int alive_interval, alive_count_max;    /* ServerAliveInterval (0: off), CountMax */
	uint64_t rekey_bytes;           /* RekeyLimit's volume; 0: the default */
	enum delegate_tty tty;
	char *send_env[DELEGATE_MAX_ENV];       /* patterns */
	size_t nsend_env;
	char *set_env[DELEGATE_MAX_ENV];        /* NAME=VALUE */
	size_t nset_env;
	int clear_forwardings;
	char refused[160];              /* the first setting refused, "" when none */
	char forwarding[160];           /* the first forwarding, "" when none */
};

/* One line of `ssh -G` output ("key value"). ERR_FORMAT, with a reason, for a line that is
 * not one; settings that cannot be honoured are noted in `refused`, not failed here. */
int delegate_config_line(struct delegate_config *c, const char *line, struct reason *why)
	__attribute__((warn_unused_result));
/* After the last line: a forwarding refused unless ClearAllForwardings. ERR_DENIED with the
 * setting's name when one is refused; ERR_FORMAT when a needed key was missing. */
int delegate_config_check(struct delegate_config *c, struct reason *why)
	__attribute__((warn_unused_result));
void delegate_config_free(struct delegate_config *c);

/* Runs `ssh -G` with `argv` (the options, then the host) and reads its answer. */
int delegate_config_read(char *const argv[], struct delegate_config *c, struct reason *why)
	__attribute__((warn_unused_result));

#endif
