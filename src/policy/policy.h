/*
 * The policy: ordered rules saying which token keys may sign for which verified destination,
 * user, forwarding hops and local client. The first matching rule decides; without one the
 * answer is deny. The policy knows nothing of sockets or tokens: callers describe a request.
 */
#ifndef P11G_POLICY_H
#define P11G_POLICY_H

#include <stddef.h>

#include "err.h"
#include "known-hosts.h"
#include "sshcert.h"
#include "sshpub.h"

#define POLICY_MAX_RULES 100000
#define POLICY_MAX_SELECTORS 1024       /* per rule and field */
#define POLICY_MAX_KNOWN_HOSTS_FILES 16

enum policy_action { POLICY_DENY, POLICY_ALLOW };
enum policy_confirm { CONFIRM_NEVER, CONFIRM_FORWARDED, CONFIRM_ALWAYS };

/* A host as the policy names it: the text written, and the host keys it stands for. */
struct policy_host {
	char *text;
	unsigned line, col;
	enum { HOST_NAME, HOST_KEY, HOST_FINGERPRINT } kind;
	struct sshpub key;              /* HOST_KEY */
	size_t nresolved;               /* HOST_NAME: known_hosts entries found at load */
};

struct policy_hosts {
	struct policy_host *h;
	size_t n;
};

struct policy_rule {
	unsigned line, col;
	enum policy_action action;
	enum policy_confirm confirm;
	char **keys;                    /* key selectors; none: every key */
	size_t nkeys;
	struct policy_hosts to;         /* none: any destination */
	char **users;                   /* user patterns, '!' negates; none: any user */
	size_t nusers;
	int via_any, via_direct;        /* no via at all means direct only */
	struct policy_hosts via;
	char **clients;                 /* executable paths or names; none: any */
	size_t nclients;
};

/*
 * A guarded rule (`policy: guarded:`): which command, subsystem or terminal a forwarded agent
 * may have the agent run on which server, as which user, through which hops. The selectors
 * are a signing rule's (no clients: the agent itself is the client).
 */
struct policy;

enum guard_mode { GUARD_RELAY, GUARD_HANDOFF };
enum guard_forwarding { GUARD_FWD_PROBE, GUARD_FWD_OFF_ASSERTED, GUARD_FWD_IGNORE };
enum guard_fallback { GUARD_FALLBACK_RELAY, GUARD_FALLBACK_DENY };

struct policy_guard {
	struct policy_rule sel;
	char **exec;                    /* exact commands, or templates (policy-guard.c) */
	size_t nexec;
	char **subsystems;
	size_t nsubsystems;
	int pty;
	char **env;                     /* variable names passed on; others are dropped */
	size_t nenv;
	enum guard_mode mode;
	enum guard_forwarding forwarding;
	enum guard_fallback fallback;
};

enum guard_kind { GUARD_EXEC = 1, GUARD_SUBSYSTEM, GUARD_SHELL };

/* A guarded request as the delegate asked and the connection's bindings show. */
struct guard_request {
	const char *host;               /* as the user typed it */
	uint32_t port;
	const char *user;
	const struct sshpub *const *hops;       /* the intermediaries, first hop first */
	size_t nhops;
	enum guard_kind kind;
	const char *command;            /* exec: the command line; subsystem: its name */
	int pty;
};

struct guard_decision {
	enum policy_action action;
	int confirm;
	const struct policy_guard *rule;        /* NULL: the default */
	char where[300];
	char host_name[300];            /* the name known_hosts is asked: host or [host]:port */
	char reason[1024];
};

/* The guarded rule that decides `req`, the first that matches; deny when none does. */
void policy_decide_guarded(const struct policy *p, const struct guard_request *req,
                           struct guard_decision *d);
/* Whether a guarded rule passes environment variable `name` on. */
int policy_guard_env(const struct policy_guard *g, const char *name);
/* `exec` entries: an exact string, or a template. Inside single quotes '*' matches any run
 * of characters but a quote and a newline; unquoted, a run of characters a shell gives no
 * meaning (letters, digits, _./,:=+@%-). A template never matches a command with "..". Time
 * linear in the command for a given template. */
int policy_exec_template_ok(const char *t, const char **problem);
int policy_exec_matches(const char *t, const char *command);

struct policy_index;

struct policy {
	char *file;                     /* where it was read; "built-in" for the default */
	unsigned default_line, default_col;     /* where "default: deny" stands; 0 built-in */
	struct policy_rule *rules;
	size_t nrules;
	char **known_hosts_files;
	size_t nknown_hosts_files;
	unsigned known_hosts_line, known_hosts_col;     /* where the list stands */
	struct known_hosts kh;          /* loaded by policy_resolve */
	struct policy_index *index;     /* built by policy_resolve */
	int builtin;                    /* the default without a policy section */
	struct policy_guard *guards;    /* `guarded:`; none: every guarded request refused */
	size_t nguards;
	int refs;
};

/* A key as the agent holds it. */
struct policy_key {
	const char *fingerprint;        /* SHA256:... */
	const char *token;              /* the token's name in the configuration, or its label */
	const char *uri;                /* the key's full pkcs11: URI */
};

/* One request to decide, described by the agent. NULL fields are unknown. */
struct policy_request {
	int listing;                    /* deciding whether to list, not to sign */
	const struct policy_key *key;
	const struct sshpub *dest;      /* the verified server, or NULL */
	const struct sshcert *dest_cert;        /* the host certificate it was bound with */
	const struct sshpub *const *hops;       /* intermediaries holding the forwarded socket */
	size_t nhops;
	const char *user;
	const char *client_exe;
};

struct policy_decision {
	enum policy_action action;
	int confirm;                    /* ask the user before signing */
	const struct policy_rule *rule; /* NULL: the default */
	char where[300];                /* "file:line" of the rule or of the default */
	char dest_name[256];            /* the name the destination matched, or "" */
	char reason[384];
};

/* The built-in policy: local use allowed, forwarded use only after confirmation. */
struct policy *policy_builtin(void);
struct policy *policy_ref(struct policy *p);
void policy_unref(struct policy *p);

/* Loads the known_hosts files and resolves host names; problems are warnings. */
int policy_resolve(struct policy *p, struct reason *why) WUR;
/* Resolves against the known_hosts entries already in p->kh (policy_resolve's second half). */
int policy_build_index(struct policy *p) WUR;
void policy_decide(const struct policy *p, const struct policy_request *req,
                   struct policy_decision *d);
/* Names `key` carries in the policy's known_hosts ("a.example, [10.0.0.1]:22"), or "". */
void policy_host_names(const struct policy *p, const struct sshpub *key, char *out,
                       size_t size);
/* The hops of a forwarded connection, first hop first: "i.test -> j.test", each by its first
 * known_hosts name, with its key's fingerprint in parentheses when `with_keys`; a hop the
 * policy knows no name for by its fingerprint alone. */
void policy_hop_list(const struct policy *p, const struct sshpub *const *hops, size_t n,
                     int with_keys, char *out, size_t size);

/* Calls `warn` for each rule part that can never match (for `p11guard policy check`). */
void policy_lint(const struct policy *p, const char *const *token_names, size_t ntokens,
                 void (*warn)(void *ctx, const char *msg), void *ctx);

#endif
