/* Loading the configuration file's `tokens` section into plain structures. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"
#include "notice.h"
#include "path.h"
#include "pinentry.h"
#include "policy-load.h"
#include "yaml-walk.h"

const char config_builtin_default[] =
	"# Built in: used when no configuration file exists.\n"
	"tokens:\n"
	"  - name: demo\n"
	"    module: softhsm2\n"
	"    uri: \"pkcs11:token=p11guard-demo\"\n"
	"    pin: askpass\n";

static const char *const top_keys[] = {
	"tokens", "policy", "audit", "prompt_timeout", "confirm_prompt", "rescan_interval",
	"notify", "software_keys", NULL
};
static const char *const notify_keys[] = { "after", "command", "refusals", NULL };
static const char *const audit_keys[] = { "file", "syslog", NULL };
static const char *const token_keys[] = {
	"name", "module", "uri", "pin", "pin_cache", "confirm_prompt", "certificates", NULL
};
static const char *const cache_keys[] = { "idle", "max", "keep_on_removal", NULL };

static int dup_string(struct ywalk *w, yaml_node_t *n, const char *what, char **out)
{
	const char *s;
	int r;

	if ((r = yw_string(w, n, what, &s)) != ERR_OK)
		return r;
	if ((*out = strdup(s)) == NULL)
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	return ERR_OK;
}

/* A time like 30, 45s, 2m or 1h, within [min, max] seconds. */
static int parse_duration(struct ywalk *w, yaml_node_t *n, const char *what, long min,
                          long max, unsigned *out)
{
	const char *s;
	long secs;
	int r;

	if ((r = yw_string(w, n, what, &s)) != ERR_OK)
		return r;
	if ((secs = duration_parse(s)) < min || secs > max)
		return yw_error(w, n, "expected a time from %lds to %ldh for %s (like 30, 45s or "
		                "2m), not \"%s\"", min, max / 3600, what, s);
	*out = (unsigned)secs;
	return ERR_OK;
}

/* pin_cache: {idle: 15m, max: 8h, keep_on_removal: false}; 0 means no limit. */
static int parse_pin_cache(struct ywalk *w, yaml_node_t *n, struct p11_pin_cache *c)
{
	yaml_node_t *v;
	int r;

	if ((r = yw_mapping(w, n, "pin_cache", cache_keys)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "idle")) != NULL &&
	    (r = parse_duration(w, v, "pin_cache idle", 0, 7L * 24 * 3600, &c->idle)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "max")) != NULL &&
	    (r = parse_duration(w, v, "pin_cache max", 0, 7L * 24 * 3600, &c->max)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "keep_on_removal")) != NULL)
		return yw_bool(w, v, "keep_on_removal", &c->keep_on_removal);
	return ERR_OK;
}

/* "pinentry" or "pinentry:/absolute/path". */
static int is_pinentry(const char *s)
{
	return strcmp(s, "pinentry") == 0 || (strncmp(s, "pinentry:", 9) == 0 && s[9] == '/');
}

static int dup_pinentry(struct ywalk *w, const char *s, char **program)
{
	if ((*program = strdup(s[8] ? s + 9 : PINENTRY_DEFAULT)) == NULL)
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	return ERR_OK;
}

/* confirm_prompt: askpass | pinentry | pinentry:/absolute/path */
static int parse_confirm(struct ywalk *w, yaml_node_t *n, struct config_confirm *c)
{
	const char *s;
	int r;

	if ((r = yw_string(w, n, "confirm_prompt", &s)) != ERR_OK)
		return r;
	if (strcmp(s, "askpass") == 0) {
		c->via = CONFIRM_VIA_ASKPASS;
		return ERR_OK;
	}
	if (!is_pinentry(s))
		return yw_error(w, n, "expected askpass, pinentry or pinentry:/absolute/path for "
		                "confirm_prompt, not \"%s\"", s);
	c->via = CONFIRM_VIA_PINENTRY;
	return dup_pinentry(w, s, &c->program);
}

/* software_keys: allow | deny */
static int parse_software_keys(struct ywalk *w, yaml_node_t *n, struct config *cfg)
{
	const char *s;
	int r;

	if ((r = yw_string(w, n, "software_keys", &s)) != ERR_OK)
		return r;
	if (strcmp(s, "allow") != 0 && strcmp(s, "deny") != 0)
		return yw_error(w, n, "expected allow or deny for software_keys, not \"%s\"", s);
	cfg->software_keys_deny = strcmp(s, "deny") == 0;
	return ERR_OK;
}

static int parse_pin(struct ywalk *w, yaml_node_t *n, struct config_token *t)
{
	const char *s;
	int r;

	if (n == NULL) {
		t->pin = PIN_SOURCE_ASKPASS;
		return ERR_OK;
	}
	if ((r = yw_string(w, n, "pin", &s)) != ERR_OK)
		return r;
	if (strcmp(s, "askpass") == 0) {
		t->pin = PIN_SOURCE_ASKPASS;
	} else if (strcmp(s, "none") == 0) {
		t->pin = PIN_SOURCE_NONE;
	} else if (strncmp(s, "file:", 5) == 0 && s[5] == '/') {
		t->pin = PIN_SOURCE_FILE;
		if ((t->pin_path = strdup(s + 5)) == NULL)
			return reason_set(w->why, ERR_ALLOC, "out of memory");
	} else if (is_pinentry(s)) {
		t->pin = PIN_SOURCE_PINENTRY;
		return dup_pinentry(w, s, &t->pin_path);
	} else {
		return yw_error(w, n, "expected askpass, pinentry, pinentry:/absolute/path, none "
		                "or file:/absolute/path for pin, not \"%s\"", s);
	}
	return ERR_OK;
}

/* certificates: [ /path/id-cert.pub, ... ] (absolute paths; read when the token is served) */
static int parse_certificates(struct ywalk *w, yaml_node_t *seq, struct config_token *t)
{
	size_t n;
	int r;

	if ((r = yw_sequence(w, seq, "certificates")) != ERR_OK)
		return r;
	if ((n = yw_seq_len(seq)) > CONFIG_MAX_CERTIFICATES)
		return yw_error(w, seq, "too many certificates (at most %d)", CONFIG_MAX_CERTIFICATES);
	if ((t->certificates = calloc(n + 1, sizeof(*t->certificates))) == NULL)
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	while (t->ncertificates < n) {
		yaml_node_t *item = yw_seq_item(w, seq, t->ncertificates);
		char **path = &t->certificates[t->ncertificates];

		if ((r = dup_string(w, item, "a certificate file", path)) != ERR_OK)
			return r;
		t->ncertificates++;     /* counted at once, so config_free frees it on an error */
		if ((*path)[0] != '/')
			return yw_error(w, item, "expected an absolute path for a certificate file");
	}
	return ERR_OK;
}

static struct config_pos pos_of(const yaml_node_t *n)
{
	return (struct config_pos){ (unsigned)n->start_mark.line + 1,
	                            (unsigned)n->start_mark.column + 1 };
}

static int parse_token(struct ywalk *w, yaml_node_t *n, struct config_token *t, size_t index)
{
	yaml_node_t *v;
	int r;

	if ((r = yw_mapping(w, n, "a token", token_keys)) != ERR_OK)
		return r;
	t->line = (unsigned)n->start_mark.line + 1;
	if ((v = yw_get(w, n, "module")) == NULL)
		return yw_error(w, n, "token needs a \"module\" (a path or p11-kit module name)");
	if ((r = dup_string(w, v, "module", &t->module)) != ERR_OK)
		return r;
	t->at_module = pos_of(v);
	if ((v = yw_get(w, n, "name")) != NULL) {
		if ((r = dup_string(w, v, "name", &t->name)) != ERR_OK)
			return r;
		if (strcmp(t->name, KEYSTORE_SOFTWARE) == 0)
			return yw_error(w, v, "the token name \"%s\" is reserved for software keys",
			                KEYSTORE_SOFTWARE);
	} else if (asprintf(&t->name, "token%zu", index + 1) < 0) {
		t->name = NULL;
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	}
	if ((v = yw_get(w, n, "uri")) != NULL) {
		if ((r = dup_string(w, v, "uri", &t->uri)) != ERR_OK)
			return r;
		if (strncmp(t->uri, "pkcs11:", 7) != 0)
			return yw_error(w, v, "expected a pkcs11: URI (RFC 7512) for uri");
		t->at_uri = pos_of(v);
	}
	if ((v = yw_get(w, n, "pin")) != NULL)
		t->at_pin = pos_of(v);
	if ((v = yw_get(w, n, "pin_cache")) != NULL &&
	    (r = parse_pin_cache(w, v, &t->cache)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "confirm_prompt")) != NULL &&
	    (r = parse_confirm(w, v, &t->confirm)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "certificates")) != NULL &&
	    (r = parse_certificates(w, v, t)) != ERR_OK)
		return r;
	return parse_pin(w, yw_get(w, n, "pin"), t);
}

static int parse_tokens(struct ywalk *w, yaml_node_t *seq, struct config *cfg)
{
	size_t n;
	int r;

	if ((r = yw_sequence(w, seq, "tokens")) != ERR_OK)
		return r;
	if ((n = yw_seq_len(seq)) > CONFIG_MAX_TOKENS)
		return yw_error(w, seq, "too many tokens (at most %d)", CONFIG_MAX_TOKENS);
	if (n == 0)
		return ERR_OK;
	if ((cfg->tokens = calloc(n, sizeof(*cfg->tokens))) == NULL)
		return reason_set(w->why, ERR_ALLOC, "out of memory");
	for (size_t i = 0; i < n; i++) {
		cfg->ntokens++;
		if ((r = parse_token(w, yw_seq_item(w, seq, i), &cfg->tokens[i], i)) != ERR_OK)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg->tokens[j].name, cfg->tokens[i].name) == 0)
				return yw_error(w, yw_seq_item(w, seq, i), "duplicate token name \"%s\"",
				                cfg->tokens[i].name);
	}
	return ERR_OK;
}

/* notify: {after: 1s, command: /usr/bin/notify-send}; command "none" logs only. */
static int parse_notify(struct ywalk *w, yaml_node_t *n, struct config_notify *nt)
{
	yaml_node_t *v;
	unsigned secs;
	int r;

	if ((r = yw_mapping(w, n, "notify", notify_keys)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "after")) != NULL) {
		if ((r = parse_duration(w, v, "notify after", 0, 3600, &secs)) != ERR_OK)
			return r;
		nt->after_ms = secs * 1000;
	}
	if ((v = yw_get(w, n, "command")) != NULL) {
		if ((r = dup_string(w, v, "notify command", &nt->command)) != ERR_OK)
			return r;
		if (strcmp(nt->command, "none") == 0)
			nt->command[0] = '\0';
		else if (nt->command[0] != '/')
			return yw_error(w, v, "expected an absolute path (or none for the log only) "
			                "for the notify command");
	}
	if ((v = yw_get(w, n, "refusals")) != NULL &&
	    (r = yw_bool(w, v, "notify refusals", &nt->refusals)) != ERR_OK)
		return r;
	return ERR_OK;
}

static int parse_audit(struct ywalk *w, yaml_node_t *n, struct audit_settings *a,
                       struct config_pos *at)
{
	yaml_node_t *v;
	int r;

	if ((r = yw_mapping(w, n, "audit", audit_keys)) != ERR_OK)
		return r;
	if ((v = yw_get(w, n, "file")) != NULL) {
		char path[4096];

		if ((r = dup_string(w, v, "audit file", &a->file)) != ERR_OK)
			return r;
		*at = pos_of(v);
		if (a->file[0] != '/' && strncmp(a->file, "~/", 2) != 0)
			return yw_error(w, v, "expected an absolute path (or ~/...) for the audit file");
		if (path_expand_home(a->file, path, sizeof(path)) != ERR_OK)
			return yw_error(w, v, "cannot expand %s: HOME is not set, or the path is too "
			                "long", a->file);
		free(a->file);
		if ((a->file = strdup(path)) == NULL)
			return yw_error(w, v, "out of memory");
	}
	if ((v = yw_get(w, n, "syslog")) != NULL &&
	    (r = yw_bool(w, v, "syslog", &a->syslog)) != ERR_OK)
		return r;
	return ERR_OK;
}

static int parse_sections(struct ywalk *w, yaml_node_t *root, struct config *cfg)
{
	yaml_node_t *v;
	int r;

	if ((r = yw_mapping(w, root, "the top level", top_keys)) != ERR_OK)
		return r;
	if ((v = yw_get(w, root, "tokens")) != NULL &&
	    (r = parse_tokens(w, v, cfg)) != ERR_OK)
		return r;
	if ((v = yw_get(w, root, "policy")) != NULL &&
	    (r = policy_parse(w, v, &cfg->policy)) != ERR_OK)
		return r;
	if ((v = yw_get(w, root, "prompt_timeout")) != NULL &&
	    (r = parse_duration(w, v, "prompt_timeout", 1, 3600, &cfg->prompt_timeout)) != ERR_OK)
		return r;
	if ((v = yw_get(w, root, "confirm_prompt")) != NULL &&
	    (r = parse_confirm(w, v, &cfg->confirm)) != ERR_OK)
		return r;
	if ((v = yw_get(w, root, "software_keys")) != NULL &&
	    (r = parse_software_keys(w, v, cfg)) != ERR_OK)
		return r;
	if ((v = yw_get(w, root, "rescan_interval")) != NULL &&
	    (r = parse_duration(w, v, "rescan_interval", 1, 3600, &cfg->rescan_interval)) !=
	    ERR_OK)
		return r;
	cfg->notify.after_ms = NOTICE_DELAY_DEFAULT_MS;
	if ((v = yw_get(w, root, "notify")) != NULL &&
	    (r = parse_notify(w, v, &cfg->notify)) != ERR_OK)
		return r;
	if ((v = yw_get(w, root, "audit")) != NULL)
		return parse_audit(w, v, &cfg->audit, &cfg->at_audit_file);
	return ERR_OK;
}

int config_load_text(const char *name, const char *text, size_t len, struct config *cfg,
                     struct reason *why)
{
	struct ywalk w;
	yaml_node_t *root;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if ((cfg->path = strdup(name)) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	if ((r = yw_load(&w, cfg->path, text, len, why)) != ERR_OK)
		goto out;
	root = yw_root(&w);
	if (root == NULL)
		r = reason_set(why, ERR_CONFIG, "%s:1:1: expected a mapping with \"tokens\", "
		               "found an empty file", name);
	else
		r = parse_sections(&w, root, cfg);
	yw_free(&w);
out:
	if (r != ERR_OK)
		config_free(cfg);
	return r;
}

static int read_file(const char *path, char **text, size_t *len, struct reason *why)
{
	struct stat st;
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return reason_set(why, errno == ENOENT ? ERR_KEY_NOT_FOUND : ERR_CONFIG,
		                  "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_FILE) {
		close(fd);
		return reason_set(why, ERR_CONFIG, "%s: not a regular file under %d bytes", path,
		                  CONFIG_MAX_FILE);
	}
	if ((*text = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return reason_set(why, ERR_ALLOC, "out of memory");
	}
	*len = 0;
	while (*len < (size_t)st.st_size &&
	       (got = read(fd, *text + *len, (size_t)st.st_size - *len)) > 0)
		*len += (size_t)got;
	close(fd);
	(*text)[*len] = '\0';
	return ERR_OK;
}

int config_load_file(const char *path, struct config *cfg, struct reason *why)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if ((r = read_file(path, &text, &len, why)) != ERR_OK)
		return r;
	r = config_load_text(path, text, len, cfg, why);
	free(text);
	if (r == ERR_OK && cfg->policy != NULL && (r = policy_resolve(cfg->policy, why)) != ERR_OK)
		config_free(cfg);
	return r;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->ntokens; i++) {
		free(cfg->tokens[i].name);
		free(cfg->tokens[i].module);
		free(cfg->tokens[i].uri);
		free(cfg->tokens[i].pin_path);
		free(cfg->tokens[i].confirm.program);
		for (size_t k = 0; k < cfg->tokens[i].ncertificates; k++)
			free(cfg->tokens[i].certificates[k]);
		free(cfg->tokens[i].certificates);
	}
	free(cfg->tokens);
	free(cfg->notify.command);
	free(cfg->confirm.program);
	free(cfg->path);
	free(cfg->audit.file);
	policy_unref(cfg->policy);
	memset(cfg, 0, sizeof(*cfg));
}

/* $XDG_<KIND>_HOME/p11guard/<name>, or ~/<fallback>/p11guard/<name>. */
static int xdg_path(char *buf, size_t size, const char *xdg_var, const char *fallback,
                    const char *name)
{
	const char *xdg = getenv(xdg_var), *home = getenv("HOME");
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, size, "%s/p11guard/%s", xdg, name);
	else if (home != NULL)
		n = snprintf(buf, size, "%s/%s/p11guard/%s", home, fallback, name);
	else
		return ERR_CONFIG;
	return n > 0 && (size_t)n < size ? ERR_OK : ERR_TOO_LARGE;
}

int config_default_path(char *buf, size_t size)
{
	return xdg_path(buf, size, "XDG_CONFIG_HOME", ".config", "config.yaml");
}

/*
 * The built-in configuration names the demo token, which lives in SoftHSM files of its own
 * (made by scripts/demo); SoftHSM finds them through SOFTHSM2_CONF, so point it there when
 * nothing else does. Only for the built-in configuration: a file says what it wants.
 */
static void point_softhsm_at_demo(void)
{
	char conf[4096];

	if (getenv("SOFTHSM2_CONF") == NULL &&
	    xdg_path(conf, sizeof(conf), "XDG_DATA_HOME", ".local/share",
	             "demo/softhsm2.conf") == ERR_OK && access(conf, R_OK) == 0)
		setenv("SOFTHSM2_CONF", conf, 0);
}

int config_load_default(const char *path, struct config *cfg, struct reason *why)
{
	char def[4096];

	if (path != NULL)
		return config_load_file(path, cfg, why);
	if (config_default_path(def, sizeof(def)) == ERR_OK && access(def, F_OK) == 0)
		return config_load_file(def, cfg, why);
	point_softhsm_at_demo();
	return config_load_text("<built-in>", config_builtin_default,
	                        strlen(config_builtin_default), cfg, why);
}
