/*
 * What `p11guard policy check` can find beyond the file itself, on this machine: modules that
 * do not load, tokens that are not present, PIN files that are missing or that others can
 * read, prompt programs that cannot run, an audit file that cannot be written. Each finding
 * is FILE:LINE:COLUMN: error|warning: text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static void finding(struct check_counts *n, const char *file, struct config_pos at,
                    int error, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void finding(struct check_counts *n, const char *file, struct config_pos at,
                    int error, const char *fmt, ...)
{
	va_list ap;

	printf("%s:%u:%u: %s: ", file, at.line, at.col, error ? "error" : "warning");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (error)
		n->errors++;
	else
		n->warnings++;
}

/* The module loads, and some token it offers matches the entry's URI. */
static void check_module(const char *file, const struct config_token *ct,
                         struct check_counts *n)
{
	struct ks_pin_spec no_pin = { .kind = PIN_SOURCE_NONE };
	struct p11_pin_cache cache = { 0, 0, 0 };
	struct ks_source *src = NULL;
	struct reason why;
	int r;

	reason_clear(&why);
	r = ks_source_open(ct->name, NULL, ct->module, ct->uri, &no_pin, &cache, &src, &why);
	if (src == NULL) {
		finding(n, file, ct->at_module, 1, "token \"%s\": %s", ct->name, why.text);
		return;
	}
	if (r != ERR_OK)
		finding(n, file, ct->at_module, 0, "token \"%s\": the module loads but cannot list "
		        "its tokens now: %s", ct->name, why.text);
	else if (src->ntokens == 0)
		finding(n, file, ct->uri ? ct->at_uri : ct->at_module, 0, "token \"%s\": no token "
		        "present matches %s (the agent waits for one; is it plugged in?)", ct->name,
		        ct->uri ? ct->uri : "the module");
	ks_source_unref(src);
}

/* A PIN file must exist, be ours and be readable by nobody else. */
static void check_pin_file(const char *file, const struct config_token *ct,
                           struct check_counts *n)
{
	struct stat st;

	if (stat(ct->pin_path, &st) != 0)
		finding(n, file, ct->at_pin, 1, "token \"%s\": PIN file %s: %s", ct->name,
		        ct->pin_path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		finding(n, file, ct->at_pin, 1, "token \"%s\": PIN file %s is not a regular file",
		        ct->name, ct->pin_path);
	else if (st.st_uid != getuid())
		finding(n, file, ct->at_pin, 1, "token \"%s\": PIN file %s belongs to uid %ld, "
		        "not to you", ct->name, ct->pin_path, (long)st.st_uid);
	else if (st.st_mode & 077)
		finding(n, file, ct->at_pin, 1, "token \"%s\": PIN file %s is mode %04o: others "
		        "can read it; chmod 600 %s", ct->name, ct->pin_path,
		        (unsigned)(st.st_mode & 07777), ct->pin_path);
}

static void check_program(const char *file, struct config_pos at, const char *what,
                          const char *name, const char *program, struct check_counts *n)
{
	if (program != NULL && access(program, X_OK) != 0)
		finding(n, file, at, 1, "token \"%s\": %s %s cannot run: %s", name, what, program,
		        strerror(errno));
}

/* The audit file, or the nearest directory above it that exists, must be writable. */
static void check_audit(const struct config *cfg, struct check_counts *n)
{
	char dir[4096];
	struct stat st;
	char *slash;

	if (cfg->audit.file == NULL)
		return;
	if (access(cfg->audit.file, F_OK) == 0) {
		if (access(cfg->audit.file, W_OK) != 0)
			finding(n, cfg->path, cfg->at_audit_file, 1, "audit file %s: %s",
			        cfg->audit.file, strerror(errno));
		return;
	}
	snprintf(dir, sizeof(dir), "%s", cfg->audit.file);
	while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (access(dir, F_OK) == 0)
			break;
	}
	if (slash == dir)
		snprintf(dir, sizeof(dir), "/");
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		finding(n, cfg->path, cfg->at_audit_file, 1, "audit file %s cannot be made: %s is "
		        "not a directory", cfg->audit.file, dir);
	else if (access(dir, W_OK) != 0)
		finding(n, cfg->path, cfg->at_audit_file, 1, "audit file %s cannot be made: %s: %s",
		        cfg->audit.file, dir, strerror(errno));
}

void cli_check_machine(const struct config *cfg, struct check_counts *n)
{
	for (size_t i = 0; i < cfg->ntokens; i++) {
		const struct config_token *ct = &cfg->tokens[i];

		check_module(cfg->path, ct, n);
		if (ct->pin == PIN_SOURCE_FILE)
			check_pin_file(cfg->path, ct, n);
		if (ct->pin == PIN_SOURCE_PINENTRY)
			check_program(cfg->path, ct->at_pin, "pinentry", ct->name, ct->pin_path, n);
	}
	check_audit(cfg, n);
}
