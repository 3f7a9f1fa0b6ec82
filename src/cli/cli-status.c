/*
 * p11guard status and p11guard why: what the running agent says about itself and about its
 * last refusals, as text with labels or as JSON with the same names.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent-proto.h"
#include "cli.h"
#include "cli-report.h"
#include "json.h"

static void print_time(char *out, size_t size, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || localtime_r(&tt, &tm) == NULL)
		snprintf(out, size, "never");
	else
		strftime(out, size, "%Y-%m-%d %H:%M:%S %z", &tm);
}

static int emit_json(struct json *j)
{
	if (!j->ok) {
		fprintf(stderr, "p11guard: the JSON output is too large\n");
		return 1;
	}
	fwrite(wbuf_ptr(&j->b), 1, wbuf_avail(&j->b), stdout);
	putchar('\n');
	return 0;
}

static int status_json(const struct agent_status *st)
{
	struct json j;
	int r;

	json_init(&j, 1 << 20);
	json_open(&j, '{');
	json_field_num(&j, "pid", st->pid);
	json_field(&j, "socket", st->socket);
	json_field_num(&j, "started", (long long)st->started);
	json_key(&j, "config");
	json_open(&j, '{');
	json_field(&j, "path", st->config);
	json_field_num(&j, "loaded", (long long)st->config_loaded);
	json_field(&j, "last_reload_error", st->reload_error[0] ? st->reload_error : NULL);
	json_close(&j, '}');
	json_key(&j, "policy");
	json_open(&j, '{');
	json_field(&j, "path", st->policy_file);
	json_field_num(&j, "rules", st->rules);
	json_key(&j, "builtin");
	json_bool(&j, st->builtin);
	json_close(&j, '}');
	json_key(&j, "tokens");
	json_open(&j, '[');
	for (size_t i = 0; i < st->ntokens; i++) {
		const struct status_token *t = &st->tokens[i];

		json_open(&j, '{');
		json_field(&j, "name", t->name);
		json_key(&j, "present");
		json_bool(&j, t->present);
		json_field(&j, "label", t->present ? t->label : NULL);
		json_field(&j, "pin", t->present ? t->pin : NULL);
		json_field(&j, "pin_tries", t->present ? t->tries : NULL);
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_key(&j, "locked");
	json_bool(&j, st->locked);
	json_key(&j, "guarded_sessions");
	json_open(&j, '[');
	for (size_t i = 0; i < st->nsessions; i++) {
		json_open(&j, '{');
		json_field(&j, "id", st->sessions[i].id);
		json_field(&j, "server", st->sessions[i].server);
		json_field(&j, "user", st->sessions[i].user);
		json_field(&j, "command", st->sessions[i].command);
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_close(&j, '}');
	r = emit_json(&j);
	json_free(&j);
	return r;
}

static void status_text(const struct agent_status *st)
{
	char started[64], loaded[64];

	print_time(started, sizeof(started), st->started);
	print_time(loaded, sizeof(loaded), st->config_loaded);
	printf("agent:   pid %u, socket %s, since %s\n", st->pid, st->socket, started);
	printf("config:  %s, loaded %s%s%s\n", st->config, loaded,
	       st->reload_error[0] ? "; last reload failed: " : "", st->reload_error);
	printf("policy:  %s, %u rule(s)%s\n", st->policy_file, st->rules,
	       st->builtin ? " (built-in: local use allowed, forwarded use confirmed)" : "");
	printf("tokens:%s\n", st->ntokens == 0 ? "  none configured" : "");
	for (size_t i = 0; i < st->ntokens; i++) {
		const struct status_token *t = &st->tokens[i];

		if (t->present)
			printf("  %s: present (\"%s\"), PIN %s, PIN tries %s\n", t->name, t->label,
			       t->pin, t->tries);
		else
			printf("  %s: missing\n", t->name);
	}
	printf("locked:  %s\n", st->locked ? "yes" : "no");
	printf("guarded sessions:%s\n", st->nsessions == 0 ? " none running" : "");
	for (size_t i = 0; i < st->nsessions; i++)
		printf("  %s: %s@%s: %s\n", st->sessions[i].id, st->sessions[i].user,
		       st->sessions[i].server, st->sessions[i].command);
}

static void usage(FILE *f, const char *what)
{
	if (strcmp(what, "status") == 0)
		fprintf(f, "usage: p11guard status [--json]\n");
	else
		fprintf(f, "usage: p11guard why [--key KEY] [--to HOST] [--json]\n");
}

/* --json, and for `why` the two filters; 0, or the exit status of a usage error. */
static int parse(int argc, char **argv, int filters, int *json, const char **key,
                 const char **to)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "key", required_argument, NULL, 'k' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*json = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hjk:t:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': *json = 1; break;
		case 'k': if (!filters) goto bad; *key = optarg; break;
		case 't': if (!filters) goto bad; *to = optarg; break;
		case 'h': usage(stdout, argv[0]); return -1;
		default: goto bad;
		}
	}
	if (optind == argc)
		return 0;
	fprintf(stderr, "p11guard %s: unexpected argument \"%s\"\n", argv[0], argv[optind]);
bad:
	usage(stderr, argv[0]);
	return 2;
}

int cli_status(int argc, char **argv)
{
	struct agent_status st;
	struct reason why;
	struct wbuf body;
	int json, r;

	if ((r = parse(argc, argv, 0, &json, NULL, NULL)) != 0)
		return r < 0 ? 0 : r;
	reason_clear(&why);
	wbuf_init(&body, SSHAGENT_MAX_MESSAGE);
	if ((r = cli_agent_query("status@p11guard", NULL, &body)) == 0) {
		if (status_decode(wbuf_ptr(&body), wbuf_avail(&body), &st, &why) != ERR_OK) {
			fprintf(stderr, "p11guard: %s\n", why.text);
			r = 1;
		} else if (json) {
			r = status_json(&st);
		} else {
			status_text(&st);
		}
		status_free(&st);
	}
	wbuf_free(&body);
	return r;
}

static int refusals_json(const struct refusal_rows *rows)
{
	struct json j;
	int r;

	json_init(&j, 1 << 20);
	json_open(&j, '[');
	for (size_t i = 0; i < rows->n; i++) {
		const struct refusal_row *f = &rows->row[i];

		json_open(&j, '{');
		json_field_num(&j, "time", (long long)f->when);
		json_field(&j, "request", f->what);
		json_field_num(&j, "pid", f->pid);
		json_field_num(&j, "uid", f->uid);
		json_field(&j, "key", f->key[0] ? f->key : NULL);
		json_field(&j, "key_label", f->key_label[0] ? f->key_label : NULL);
		json_field(&j, "destination", f->dest[0] ? f->dest : NULL);
		json_field(&j, "rule", f->rule[0] ? f->rule : NULL);
		json_field(&j, "reason", f->reason);
		json_close(&j, '}');
	}
	json_close(&j, ']');
	r = emit_json(&j);
	json_free(&j);
	return r;
}

static void refusals_text(const struct refusal_rows *rows)
{
	char when[64];

	if (rows->n == 0)
		printf("no refusals remembered (the agent keeps its last 100)\n");
	for (size_t i = 0; i < rows->n; i++) {
		const struct refusal_row *f = &rows->row[i];

		print_time(when, sizeof(when), f->when);
		printf("%s%s  %s refused, pid %u (uid %u)\n", i ? "\n" : "", when, f->what, f->pid,
		       f->uid);
		if (f->key[0])
			printf("  key:     %s (%s)\n", f->key, f->key_label);
		if (f->dest[0])
			printf("  to:      %s\n", f->dest);
		if (f->rule[0])
			printf("  rule:    %s\n", f->rule);
		printf("  reason:  %s\n", f->reason);
	}
}

int cli_why(int argc, char **argv)
{
	const char *key = NULL, *to = NULL;
	struct refusal_rows rows;
	struct wbuf filters, body;
	struct reason why;
	int json, r;

	if ((r = parse(argc, argv, 1, &json, &key, &to)) != 0)
		return r < 0 ? 0 : r;
	reason_clear(&why);
	wbuf_init(&filters, 4096);
	wbuf_init(&body, SSHAGENT_MAX_MESSAGE);
	if (wbuf_put_cstring(&filters, key ? key : "") != ERR_OK ||
	    wbuf_put_cstring(&filters, to ? to : "") != ERR_OK) {
		fprintf(stderr, "p11guard why: filters too long\n");
		r = 2;
	} else if ((r = cli_agent_query("why@p11guard", &filters, &body)) == 0) {
		if (refusals_decode(wbuf_ptr(&body), wbuf_avail(&body), &rows, &why) != ERR_OK) {
			fprintf(stderr, "p11guard: %s\n", why.text);
			r = 1;
		} else if (json) {
			r = refusals_json(&rows);
		} else {
			refusals_text(&rows);
		}
		refusals_rows_free(&rows);
	}
	wbuf_free(&filters);
	wbuf_free(&body);
	return r;
}
