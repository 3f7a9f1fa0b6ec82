/*
 * p11guard policy check | explain: validate a configuration file, and say offline what the
 * agent would decide for a key, destination, user and hops, and which rule decides it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "policy.h"
#include "session-bind.h"

static void print_warning(void *ctx, const char *msg)
{
	((struct check_counts *)ctx)->warnings++;
	printf("%s\n", msg);
}

/* The policy in force for `cfg`: its own section, or the built-in default. */
static struct policy *policy_of(const struct config *cfg)
{
	struct policy *p;
	struct reason why;

	if (cfg->policy != NULL)
		return policy_ref(cfg->policy);
	if ((p = policy_builtin()) != NULL && policy_resolve(p, &why) != ERR_OK) {
		fprintf(stderr, "p11guard: %s\n", why.text);
		policy_unref(p);
		p = NULL;
	}
	return p;
}

static int check(const char *path)
{
	const char *names[CONFIG_MAX_TOKENS];
	struct check_counts n = { 0, 0 };
	struct config cfg;
	struct policy *p;

	if (cli_load_config(path, &cfg) != 0)
		return 1;
	if ((p = policy_of(&cfg)) == NULL) {
		config_free(&cfg);
		return 1;
	}
	for (size_t i = 0; i < cfg.ntokens; i++)
		names[i] = cfg.tokens[i].name;
	policy_lint(p, names, cfg.ntokens, print_warning, &n);
	cli_check_machine(&cfg, &n);
	printf("%s: %s; %s, %zu rule(s), %zu guarded rule(s), %zu known host key(s) from %zu "
	       "file(s), %d error(s), %d warning(s)\n", cfg.path,
	       n.errors ? "unusable here" : "valid", cfg.policy ? "policy section" :
	       "no policy section (built-in default: local use allowed, forwarded use confirmed)",
	       p->nrules, p->nguards, p->kh.n, p->kh.nfiles, n.errors, n.warnings);
	policy_unref(p);
	config_free(&cfg);
	return n.errors ? 1 : 0;
}

struct explain_args {
	const char *config, *key, *to, *user, *via, *client;
	const char *exec, *subsystem;   /* a guarded request instead of a signature */
	unsigned port;
	int pty;
};

/* Host keys for a name (through the policy's known_hosts) or a literal key. */
static int host_keys(const struct policy *p, const char *host, const struct sshpub **keys,
                     size_t max, struct sshpub *literal)
{
	size_t n = 0;

	if (strchr(host, ' ') != NULL) {
		if (sshpub_parse_text(host, literal) != ERR_OK)
			return -1;
		keys[0] = literal;
		return 1;
	}
	for (size_t i = 0; i < p->kh.n && n < max; i++)
		if (p->kh.e[i].marker != KH_CERT_AUTHORITY && kh_entry_names(&p->kh.e[i], host))
			keys[n++] = &p->kh.e[i].key;
	return (int)n;
}

/* Finds the key on the configured tokens by fingerprint or label. */
static struct ks_source *find_key(const struct config *cfg, const char *want,
                                  const struct ks_identity **found)
{
	for (size_t t = 0; t < cfg->ntokens; t++) {
		const struct config_token *ct = &cfg->tokens[t];
		struct ks_source *src = cli_open_source(ct->name, ct->module, ct->uri);

		for (size_t i = 0; src != NULL && i < src->nids; i++)
			if (strcmp(src->ids[i].fingerprint, want) == 0 ||
			    strcmp(p11_key_label(src->ids[i].key), want) == 0) {
				*found = &src->ids[i];
				return src;
			}
		if (src != NULL)
			ks_source_unref(src);
	}
	return NULL;
}

static void print_decision(const struct policy *p, const struct policy_request *req)
{
	struct policy_decision d;

	policy_decide(p, req, &d);
	printf("decision: %s\n", d.action == POLICY_DENY ? "deny" :
	       d.confirm ? "allow after confirmation" : "allow");
	printf("rule: %s\n", d.rule != NULL ? d.where :
	       p->default_line ? d.where : "default (built-in)");
	if (d.rule == NULL && p->default_line)
		printf("default: deny (%s)\n", d.where);
	if (req->dest != NULL)
		printf("destination: %s %s\n", req->dest->fingerprint,
		       d.dest_name[0] ? d.dest_name : "(no known name)");
	printf("reason: %s\n", d.reason);
}

/* The hops of --via as host keys (the first known_hosts key of each name). */
static int via_keys(const struct policy *p, const char *via, const struct sshpub **hops,
                    struct sshpub *literal, size_t *n)
{
	*n = 0;
	for (const char *v = via; v != NULL && *v != '\0';) {
		char name[512];
		size_t len = strcspn(v, ",");

		snprintf(name, sizeof(name), "%.*s", (int)len, v);
		v += len + (v[len] == ',');
		if (strcmp(name, "direct") == 0)
			continue;
		if (*n >= BIND_MAX || host_keys(p, name, &hops[*n], 1, &literal[*n]) <= 0) {
			fprintf(stderr, "p11guard: hop \"%s\" is in no known_hosts file of the "
			        "policy\n", name);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

/* A guarded request: which rule would let the agent run it, and why. */
static int explain_guarded(const struct explain_args *args)
{
	struct sshpub literal[BIND_MAX];
	const struct sshpub *hops[BIND_MAX];
	struct guard_decision d;
	struct guard_request req;
	struct config cfg;
	struct policy *p;
	size_t nhops = 0;
	int rc = 1;

	memset(literal, 0, sizeof(literal));
	if (args->to == NULL || args->user == NULL) {
		fprintf(stderr, "p11guard policy explain: a guarded request needs --to HOST and "
		        "--user USER\n");
		return 2;
	}
	if (cli_load_config(args->config, &cfg) != 0)
		return 1;
	if ((p = policy_of(&cfg)) != NULL && via_keys(p, args->via, hops, literal, &nhops) == 0) {
		req = (struct guard_request){
			.host = args->to, .port = args->port ? args->port : 22, .user = args->user,
			.hops = hops, .nhops = nhops, .pty = args->pty,
			.kind = args->exec != NULL ? GUARD_EXEC : GUARD_SUBSYSTEM,
			.command = args->exec != NULL ? args->exec : args->subsystem,
		};
		policy_decide_guarded(p, &req, &d);
		printf("decision: %s\n", d.action == POLICY_DENY ? "deny" :
		       d.confirm ? "allow after confirmation" : "allow");
		printf("rule: %s\n", d.where);
		printf("server: %s\n", d.host_name);
		printf("reason: %s\n", d.reason);
		rc = 0;
	}
	for (size_t i = 0; i < BIND_MAX; i++)
		sshpub_free(&literal[i]);
	policy_unref(p);
	config_free(&cfg);
	return rc;
}

static int explain(const struct explain_args *args)
{
	const struct sshpub *dests[16], *hops[BIND_MAX];
	struct sshpub literal_dest, literal_hops[BIND_MAX];
	const struct ks_identity *id = NULL;
	struct ks_source *src = NULL;
	struct policy_request req;
	struct policy_key key;
	struct config cfg;
	struct policy *p = NULL;
	int ndest = 0, rc = 1;
	size_t nhops = 0;

	memset(&literal_dest, 0, sizeof(literal_dest));
	memset(literal_hops, 0, sizeof(literal_hops));
	if (cli_load_config(args->config, &cfg) != 0)
		return 1;
	if ((p = policy_of(&cfg)) == NULL)
		goto out;
	memset(&key, 0, sizeof(key));
	if ((src = find_key(&cfg, args->key, &id)) != NULL) {
		key.fingerprint = id->fingerprint;
		key.token = src->name;
		key.uri = id->uri;
		printf("key: %s %s (token \"%s\")\n", id->fingerprint, id->uri, src->name);
	} else if (strncmp(args->key, "SHA256:", 7) == 0) {
		key.fingerprint = args->key;
		printf("key: %s (not on a configured token: token and URI selectors cannot "
		       "match)\n", args->key);
	} else {
		fprintf(stderr, "p11guard: no configured token holds a key \"%s\" (give a label "
		        "or SHA256: fingerprint)\n", args->key);
		goto out;
	}
	if (args->to != NULL &&
	    (ndest = host_keys(p, args->to, dests, 16, &literal_dest)) <= 0) {
		fprintf(stderr, "p11guard: destination \"%s\" is in no known_hosts file of the "
		        "policy\n", args->to);
		goto out;
	}
	if (via_keys(p, args->via, hops, literal_hops, &nhops) != 0)
		goto out;
	req = (struct policy_request){
		.key = &key, .hops = hops, .nhops = nhops, .user = args->user,
		.client_exe = args->client,
	};
	for (int i = 0; i < (ndest ? ndest : 1); i++) {
		req.dest = ndest ? dests[i] : NULL;
		if (i > 0)
			printf("\n");
		print_decision(p, &req);
	}
	rc = 0;
out:
	sshpub_free(&literal_dest);
	for (size_t i = 0; i < BIND_MAX; i++)
		sshpub_free(&literal_hops[i]);
	if (src != NULL)
		ks_source_unref(src);
	policy_unref(p);
	config_free(&cfg);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: p11guard policy check [FILE]\n"
	        "       p11guard policy explain [--config FILE] --key KEY [--to HOST] "
	        "[--user USER]\n"
	        "                               [--via HOP,...] [--client EXE]\n"
	        "       p11guard policy explain [--config FILE] --to HOST [--port N] --user USER\n"
	        "                               [--via HOP,...] (--exec CMD | --subsystem NAME)"
	        " [--pty]\n"
	        "check    validate FILE (default: the configuration) and what it needs on this "
	        "machine\nexplain  what the agent would decide for KEY, and which rule "
	        "decides\n");
}

int cli_policy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "to", required_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "via", required_argument, NULL, 'v' },
		{ "client", required_argument, NULL, 'e' },
		{ "exec", required_argument, NULL, 'x' },
		{ "subsystem", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "pty", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct explain_args args = { 0 };
	int ch;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	                  (argc == 3 && (strcmp(argv[2], "--help") == 0 ||
	                                 strcmp(argv[2], "-h") == 0)))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "check") == 0) {
		if (argc > 3 || (argc == 3 && argv[2][0] == '-')) {
			fprintf(stderr, "p11guard policy check: expected at most one FILE\n");
			usage(stderr);
			return 2;
		}
		return check(argc == 3 ? argv[2] : NULL);
	}
	if (strcmp(argv[1], "explain") != 0) {
		fprintf(stderr, "p11guard policy: unknown subcommand \"%s\"\n", argv[1]);
		usage(stderr);
		return 2;
	}
	optind = 2;
	while ((ch = getopt_long(argc, argv, "c:k:t:u:v:e:x:s:p:T", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': args.config = optarg; break;
		case 'k': args.key = optarg; break;
		case 't': args.to = optarg; break;
		case 'u': args.user = optarg; break;
		case 'v': args.via = optarg; break;
		case 'e': args.client = optarg; break;
		case 'x': args.exec = optarg; break;
		case 's': args.subsystem = optarg; break;
		case 'T': args.pty = 1; break;
		case 'p':
			if ((args.port = (unsigned)strtoul(optarg, NULL, 10)) == 0 || args.port > 65535) {
				fprintf(stderr, "p11guard policy explain: --port takes 1 to 65535\n");
				return 2;
			}
			break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "p11guard policy explain: unexpected argument \"%s\"\n",
		        argv[optind]);
		return 2;
	}
	if (args.exec != NULL && args.subsystem != NULL) {
		fprintf(stderr, "p11guard policy explain: --exec or --subsystem, not both\n");
		return 2;
	}
	if (args.exec != NULL || args.subsystem != NULL)
		return explain_guarded(&args);
	if (args.key == NULL) {
		fprintf(stderr, "p11guard policy explain: --key is required (a key label or its "
		        "SHA256: fingerprint; p11guard tokens lists them)\n");
		return 2;
	}
	return explain(&args);
}
