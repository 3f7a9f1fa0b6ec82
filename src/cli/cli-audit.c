/*
 * p11guard audit: the audit trail as a table, or as its JSON lines, filtered by time, key,
 * destination and decision. It reads the file the configuration names (or --file).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit-read.h"
#include "cli.h"
#include "duration.h"

#define MAX_LINE 65536

struct audit_filter {
	time_t since, until;    /* 0: open */
	const char *key, *to, *decision;
};

/*
 * A time: "2026-11-29", "2026-11-29T19:30" or "2026-11-29 19:30:05" (local), or a duration
 * back from now ("90m", "2d"). Returns 0 when it is none of those.
 */
static time_t parse_when(const char *s)
{
	struct tm tm;
	long ago;
	const char *end;

	if ((ago = duration_parse(s)) > 0)
		return time(NULL) - ago;
	memset(&tm, 0, sizeof(tm));
	tm.tm_isdst = -1;
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return 0;
	if (*end == 'T' || *end == ' ') {
		const char *rest = strptime(end + 1, "%H:%M", &tm);

		if (rest == NULL)
			return 0;
		end = rest;
		if (*end == ':' && (end = strptime(end + 1, "%S", &tm)) == NULL)
			return 0;
	}
	return *end == '\0' ? mktime(&tm) : 0;
}

static int contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static int wanted(const struct audit_entry *e, const struct audit_filter *f)
{
	if ((f->since && e->when < f->since) || (f->until && e->when > f->until))
		return 0;
	if (f->key && !contains(e->key, f->key) && !contains(e->key_comment, f->key) &&
	    !contains(e->key_source, f->key))
		return 0;
	if (f->to && !contains(e->dest_name, f->to) && !contains(e->dest_host_key, f->to))
		return 0;
	return f->decision == NULL || strcmp(e->decision, f->decision) == 0;
}

/* A cell: control bytes shown as '?' (the file's text is not ours to send to a terminal),
 * cut to `width` with a trailing '~'. */
static void cell(const char *s, int width, int last)
{
	char out[600];
	size_t n = 0, len = strlen(s), max = last ? sizeof(out) - 1 : (size_t)width;

	for (size_t i = 0; i < len && n < max && n < sizeof(out) - 1; i++)
		out[n++] = iscntrl((unsigned char)s[i]) ? '?' : s[i];
	if (len > max && n > 0)
		out[n - 1] = '~';
	out[n] = '\0';
	if (last)
		printf("%s\n", out);
	else
		printf("%-*s ", width, out);
}

static void header(void)
{
	printf("%-19s %-8s %-5s %-20s %-24s %-10s %-28s %s\n", "TIME", "DECISION", "EVENT", "KEY",
	       "DESTINATION", "USER", "RULE", "REASON");
}

static void row(const struct audit_entry *e)
{
	char when[sizeof(e->time)];
	struct tm tm;

	if (e->when != 0 && localtime_r(&e->when, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	else
		snprintf(when, sizeof(when), "%s", e->time);
	cell(when, 19, 0);
	cell(e->decision, 8, 0);
	cell(e->event, 5, 0);
	cell(e->key_comment[0] ? e->key_comment : e->key, 20, 0);
	cell(e->dest_name[0] ? e->dest_name : e->dest_host_key[0] ? e->dest_host_key : "-", 24, 0);
	cell(e->user[0] ? e->user : "-", 10, 0);
	cell(e->rule, 28, 0);
	cell(e->reason, 0, 1);
}

/* Prints the matching lines; malformed lines are counted and named on stderr. */
static int show(FILE *in, const char *path, const struct audit_filter *f, int json)
{
	char *line = malloc(MAX_LINE);
	unsigned long lineno = 0, shown = 0, bad = 0;
	struct audit_entry e;

	if (line == NULL)
		return 1;
	if (!json)
		header();
	while (fgets(line, MAX_LINE, in) != NULL) {
		size_t len = strlen(line);

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (audit_entry_parse(line, len, &e) != ERR_OK) {
			if (bad++ < 5)
				fprintf(stderr, "p11guard audit: %s:%lu: not an audit line, skipped\n", path,
				        lineno);
			continue;
		}
		if (!wanted(&e, f))
			continue;
		shown++;
		if (json)
			printf("%s\n", line);
		else
			row(&e);
	}
	free(line);
	if (bad > 5)
		fprintf(stderr, "p11guard audit: %lu lines of %s skipped in all\n", bad, path);
	if (!json && shown == 0)
		printf("(no matching events)\n");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: p11guard audit [--config FILE | --file AUDIT-FILE] [--since WHEN]\n"
	        "                      [--until WHEN] [--key KEY] [--to HOST]\n"
	        "                      [--decision allow|deny|hide] [--json]\n"
	        "WHEN: 2026-11-29, 2026-11-29T19:30[:05] (local time), or a time ago: 90m, 2d\n");
}

/* The file: --file, else the configuration's audit file. */
static int audit_path(const char *config, const char *file, char **out)
{
	struct config cfg;

	if (file != NULL) {
		*out = strdup(file);
		return *out != NULL ? 0 : 1;
	}
	if (cli_load_config(config, &cfg) != 0)
		return 1;
	*out = cfg.audit.file != NULL ? strdup(cfg.audit.file) : NULL;
	if (*out == NULL)
		fprintf(stderr, "p11guard audit: %s has no audit file (audit: { file: PATH }); "
		        "name one with --file\n", cfg.path);
	config_free(&cfg);
	return *out != NULL ? 0 : 1;
}

int cli_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "file", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
		{ "key", required_argument, NULL, 'k' }, { "to", required_argument, NULL, 't' },
		{ "decision", required_argument, NULL, 'd' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct audit_filter f = { 0 };
	const char *config = NULL, *file = NULL;
	char *path = NULL;
	time_t when;
	int ch, json = 0, r;
	FILE *in;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:f:s:u:k:t:d:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'f': file = optarg; break;
		case 's': case 'u':
			if ((when = parse_when(optarg)) == 0) {
				fprintf(stderr, "p11guard audit: \"%s\" is not a time: give "
				        "2026-11-29, 2026-11-29T19:30, or a time ago such as 90m\n", optarg);
				return 2;
			}
			*(ch == 's' ? &f.since : &f.until) = when;
			break;
		case 'k': f.key = optarg; break;
		case 't': f.to = optarg; break;
		case 'd':
			if (strcmp(optarg, "allow") != 0 && strcmp(optarg, "deny") != 0 &&
			    strcmp(optarg, "hide") != 0) {
				fprintf(stderr, "p11guard audit: --decision is allow, deny or hide\n");
				return 2;
			}
			f.decision = optarg;
			break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (config != NULL && file != NULL)) {
		if (optind != argc)
			fprintf(stderr, "p11guard audit: unexpected argument \"%s\"\n", argv[optind]);
		else
			fprintf(stderr, "p11guard audit: --config and --file both name the file\n");
		usage(stderr);
		return 2;
	}
	if (audit_path(config, file, &path) != 0)
		return 1;
	if ((in = fopen(path, "r")) == NULL) {
		fprintf(stderr, "p11guard audit: %s: %s\n", path, strerror(errno));
		free(path);
		return 1;
	}
	r = show(in, path, &f, json);
	fclose(in);
	free(path);
	return r;
}
