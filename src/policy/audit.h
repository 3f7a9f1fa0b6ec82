/*
 * The audit trail: one JSON object per line for every policy decision, appended to a file
 * and/or sent to syslog (which journald collects). The file is reopened on SIGHUP.
 */
#ifndef P11G_AUDIT_H
#define P11G_AUDIT_H

#include <pthread.h>
#include <sys/types.h>

#include "err.h"

/* Where audit lines go (the config file's `audit` section). */
struct audit_settings {
	char *file;             /* JSON lines appended here; NULL: no file */
	int syslog;             /* also send each line to syslog (journald) */
};

struct audit {
	pthread_mutex_t lock;
	int fd;                 /* -1: no file */
	char *path;
	int syslog;
};

/* What a guarded session adds: its id, what it ran and, at its end, how it ended. */
struct audit_session {
	const char *id;                 /* random, one per request: ties "exec" to "end" */
	const char *kind, *command;     /* "exec", "subsystem" or "shell"; the approved text */
	const char *mode;               /* "relay" or "handoff" */
	const char *forwarding;         /* handoff asked for: the rule's forwarding setting */
	const char *mode_reason;        /* "end" only: why a handoff asked for ran relayed */
	const char *probes;             /* "end" only: what the forwarding probes saw */
	const char *strict;             /* "end" only: "yes" or "no", the strict key exchange */
	const char *server_host_key;    /* verified by the agent; NULL before the key exchange */
	const char *outcome;            /* "end" only: "exit status 3", "aborted: ..." */
	unsigned long long to_server, from_server;      /* "end" only: bytes */
};

struct audit_event {
	const char *event;              /* "sign", "list", "exec" (guarded), "end" (of one) */
	const char *decision;           /* "allow", "deny", "hide" */
	const char *rule;               /* "file:line", or "default" */
	const char *reason;
	pid_t pid;
	uid_t uid;
	const char *exe;
	const char *key_fingerprint, *key_comment, *token_serial;
	const char *key_source;         /* the token entry's name, or "software:" */
	unsigned long slot;
	const char *dest_fingerprint, *dest_name;       /* NULL: none verified */
	const char *user;
	const char *const *hops;        /* host key fingerprints, first hop first */
	const char *const *hop_names;
	size_t nhops;
	const struct audit_session *session;    /* guarded execution only */
};

void audit_init(struct audit *au);
/* Opens the configured destinations; on failure the previous ones stay. */
int audit_configure(struct audit *au, const struct audit_settings *cfg, struct reason *why)
	__attribute__((warn_unused_result));
void audit_reopen(struct audit *au);
void audit_close(struct audit *au);
void audit_record(struct audit *au, const struct audit_event *ev);

#endif
