/*
 * The configuration file (YAML): the tokens to serve, the policy and the audit log. Errors
 * name file:line:column.
 */
#ifndef P11G_CONFIG_H
#define P11G_CONFIG_H

#include <stddef.h>

#include "audit.h"
#include "confirm.h"
#include "err.h"
#include "keystore.h"
#include "p11.h"


/* A `confirm_prompt` setting. */
struct config_confirm {
	enum confirm_via via;   /* UNSET: not given */
	char *program;          /* the pinentry program; NULL for askpass */
};

/* Where a value stands in the file, for `policy check` findings (1-based). */
struct config_pos {
	unsigned line, col;
};

struct config_token {
	char *name;
	char *module;           /* a path or a p11-kit registry name */
	char *uri;              /* RFC 7512, selects tokens and keys; NULL: all */
	enum pin_source pin;
	char *pin_path;         /* the PIN file, or the pinentry program */
	struct p11_pin_cache cache;     /* all zero: kept until removal, lock or logout */
	struct config_confirm confirm;  /* this token's confirm_prompt; UNSET: not given */
	char **certificates;            /* certificate files served with its keys */
	size_t ncertificates;
	unsigned line;
	struct config_pos at_module, at_uri, at_pin;
};


struct policy;

struct config {
	char *path;
	struct config_token *tokens;
	size_t ntokens;
	struct policy *policy;  /* NULL: no policy section, the built-in default applies */
	struct audit_settings audit;
	struct config_pos at_audit_file;
	unsigned prompt_timeout;        /* seconds a confirmation may wait; 0: the default */
	struct config_confirm confirm;  /* the top-level confirm_prompt; UNSET: not given */
	int software_keys_deny;         /* software_keys: deny (default allow, as ssh-agent) */
	unsigned rescan_interval;       /* seconds between token rescans; 0: the default */
	struct config_notify {
		unsigned after_ms;      /* a signature this slow gets a notice */
		char *command;          /* NULL: notify-send if present; "" (none): log only */
		int refusals;           /* a notice for each refusal too */
	} notify;
};

/* Caps on what a file may ask of us. */
#define CONFIG_MAX_TOKENS 64
#define CONFIG_MAX_CERTIFICATES 64
#define CONFIG_MAX_FILE (16 * 1024 * 1024)

/* Loads and checks a file; the policy is resolved against its known_hosts files. */
int config_load_file(const char *path, struct config *cfg, struct reason *why)
	__attribute__((warn_unused_result));
/* Parses YAML text; `name` stands for the file name in messages. */
int config_load_text(const char *name, const char *text, size_t len, struct config *cfg,
                     struct reason *why) __attribute__((warn_unused_result));
void config_free(struct config *cfg);
/* $XDG_CONFIG_HOME/p11guard/config.yaml, or ~/.config/p11guard/config.yaml. */
int config_default_path(char *buf, size_t size);
/* The built-in configuration used when no file exists: the demo SoftHSM token. */
extern const char config_builtin_default[];
/*
 * `path`, else the default file, else the built-in configuration (and then SoftHSM is
 * pointed at the demo token's files, $XDG_DATA_HOME/p11guard/demo, unless SOFTHSM2_CONF
 * is set).
 */
int config_load_default(const char *path, struct config *cfg, struct reason *why)
	__attribute__((warn_unused_result));

#endif
