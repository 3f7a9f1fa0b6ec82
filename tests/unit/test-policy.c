/*
 * Unit tests for the policy (src/policy-*.c), known_hosts matching (src/known-hosts.c) and
 * OpenSSH patterns (src/match.c): decisions, the rule that made them, and refused files.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "match.h"
#include "policy.h"

/* A fresh Ed25519 host key as known_hosts text, and parsed. */
static void new_host(char *text, size_t size, struct sshpub *key)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	uint8_t raw[32], blob[51] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5',
	                              '1', '9', 0, 0, 0, 32 };
	char b64[80];
	size_t len = sizeof(raw);

	EVP_PKEY_get_raw_public_key(pkey, raw, &len);
	memcpy(blob + 19, raw, 32);
	EVP_EncodeBlock((unsigned char *)b64, blob, sizeof(blob));
	snprintf(text, size, "ssh-ed25519 %s", b64);
	CHECK(sshpub_parse_text(text, key) == ERR_OK, "host key parses");
	EVP_PKEY_free(pkey);
}

static char kh_path[] = "/tmp/p11g-test-kh.XXXXXX";
static char host_a[128], host_b[128], host_c[128], host_r[128];
static struct sshpub key_a, key_b, key_c, key_r, key_x;

/* "|1|salt|hash" for `name`, as ssh-keygen -H writes it. */
static void hashed(const char *name, char *out, size_t size)
{
	uint8_t salt[20], md[20];
	char s64[32], h64[32];
	unsigned int md_len = 0;

	memset(salt, 0x42, sizeof(salt));
	HMAC(EVP_sha1(), salt, sizeof(salt), (const unsigned char *)name, strlen(name), md,
	     &md_len);
	EVP_EncodeBlock((unsigned char *)s64, salt, 20);
	EVP_EncodeBlock((unsigned char *)h64, md, 20);
	snprintf(out, size, "|1|%s|%s", s64, h64);
}

static void write_known_hosts(void)
{
	char c_hashed[128], x[128];
	int fd = mkstemp(kh_path);
	FILE *f = fdopen(fd, "w");

	new_host(host_a, sizeof(host_a), &key_a);
	new_host(host_b, sizeof(host_b), &key_b);
	new_host(host_c, sizeof(host_c), &key_c);
	new_host(host_r, sizeof(host_r), &key_r);
	new_host(x, sizeof(x), &key_x);         /* in no file */
	hashed("c.example", c_hashed, sizeof(c_hashed));
	fprintf(f, "# comment\n\nA.Example,[10.0.0.1]:2222 %s\n", host_a);
	fprintf(f, "b.example,!bad.example %s\n", host_b);
	fprintf(f, "%s %s\n", c_hashed, host_c);
	fprintf(f, "@revoked * %s\n", host_r);
	fprintf(f, "r.example %s\n", host_r);
	fprintf(f, "broken line\n@bogus x %s\n", host_a);
	fclose(f);
}

/* A policy of `section` ("rules" or "guarded") holding `entries`, on the test known_hosts. */
static struct policy *load_section(const char *file, const char *section, const char *entries,
                                   struct reason *why)
{
	char text[8192];
	struct config cfg;
	struct policy *p = NULL;

	snprintf(text, sizeof(text), "policy:\n  known_hosts: [ \"%s\" ]\n  default: deny\n"
	         "  %s:\n%s", kh_path, section, entries);
	if (config_load_text(file, text, strlen(text), &cfg, why) != ERR_OK)
		return NULL;
	p = policy_ref(cfg.policy);
	config_free(&cfg);
	if (policy_resolve(p, why) != ERR_OK) {
		policy_unref(p);
		return NULL;
	}
	return p;
}

static struct policy *load(const char *rules, struct reason *why)
{
	return load_section("p.yaml", "rules", rules, why);
}

static const struct policy_key k1 = { "SHA256:k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k",
                                      "work", "pkcs11:token=work;object=k1;type=private" };
static const struct policy_key k2 = { "SHA256:k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k",
                                      "backup", "pkcs11:token=spare;object=k2;type=private" };

/* Decides and returns "allow", "confirm" or "deny", with the rule line in *line. */
static const char *decide(const struct policy *p, const struct policy_key *k,
                          const struct sshpub *dest, const char *user,
                          const struct sshpub *hop, int listing, unsigned *line)
{
	const struct sshpub *hops[1] = { hop };
	struct policy_request req = {
		.listing = listing, .key = k, .dest = dest, .hops = hops, .nhops = hop ? 1 : 0,
		.user = user, .client_exe = "/usr/bin/ssh",
	};
	struct policy_decision d;

	policy_decide(p, &req, &d);
	*line = d.rule ? d.rule->line : 0;
	return d.action == POLICY_DENY ? "deny" : d.confirm ? "confirm" : "allow";
}

#define EXPECT(want, want_line, ...) do { \
	unsigned line_; \
	const char *got_ = decide(__VA_ARGS__, &line_); \
	CHECK(strcmp(got_, want) == 0 && line_ == (want_line), "%s by line %u, got %s by %u", \
	      want, (unsigned)(want_line), got_, line_); \
} while (0)

static void test_rules(void)
{
	struct reason why;
	struct policy *p = load(
		"    - action: deny\n"                          /* line 5 */
		"      users: [ \"root\" ]\n"
		"      to: a.example\n"
		"    - action: allow\n"                         /* line 8 */
		"      keys: \"pkcs11:object=k1\"\n"
		"      to: [ a.example, \"[10.0.0.1]:2222\" ]\n"
		"      users: [ \"*\", \"!guest\" ]\n"
		"    - action: allow\n"                         /* line 12 */
		"      keys: backup\n"
		"      to: c.example\n"
		"      via: b.example\n"
		"      confirm: forwarded\n"
		"    - action: allow\n"                         /* line 17 */
		"      keys: SHA256:k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k\n"
		"      to: r.example\n"
		"    - action: allow\n"                         /* line 20 */
		"      to: \"*.example\"\n"
		"      via: any\n"
		"      clients: [ sftp ]\n", &why);

	CHECK(p != NULL, "policy loads: %s", why.text);
	if (p == NULL)
		return;
	EXPECT("allow", 8, p, &k1, &key_a, "git", NULL, 0);
	EXPECT("deny", 5, p, &k1, &key_a, "root", NULL, 0);     /* the first match wins */
	EXPECT("deny", 0, p, &k1, &key_a, "guest", NULL, 0);    /* negation beats "*" */
	EXPECT("deny", 0, p, &k1, &key_b, "git", NULL, 0);
	EXPECT("deny", 0, p, &k1, &key_x, "git", NULL, 0);      /* unknown host key */
	EXPECT("deny", 0, p, &k1, NULL, "git", NULL, 0);        /* no verified destination */
	EXPECT("deny", 0, p, &k1, &key_a, "git", &key_b, 0);    /* via omitted: direct only */
	EXPECT("confirm", 12, p, &k2, &key_c, "git", &key_b, 0);        /* hashed name */
	EXPECT("deny", 0, p, &k2, &key_c, "git", NULL, 0);
	EXPECT("deny", 0, p, &k2, &key_c, "git", &key_a, 0);
	EXPECT("deny", 0, p, &k2, &key_r, "git", NULL, 0);      /* @revoked wins over rules */
	/* Listing: the user and the destination may still be unknown. */
	EXPECT("allow", 8, p, &k1, NULL, NULL, NULL, 1);
	EXPECT("allow", 8, p, &k1, &key_a, NULL, NULL, 1);      /* deny for root only: maybe */
	EXPECT("deny", 0, p, &k1, &key_b, NULL, NULL, 1);
	EXPECT("confirm", 12, p, &k2, NULL, NULL, &key_b, 1);
	EXPECT("deny", 0, p, &k2, NULL, NULL, &key_a, 1);
	policy_unref(p);
}

static void test_bad_files(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "policy:\n  rules: []\n", "p.yaml:2:3: policy needs \"default: deny\"" },
		{ "policy:\n  default: allow\n", "p.yaml:2:12: expected deny for default" },
		{ "policy:\n  default: deny\n  rules:\n    - keys: x\n",
		  "p.yaml:4:7: rule needs an \"action\"" },
		{ "policy:\n  default: deny\n  rules:\n    - action: deny\n      confirm: always\n",
		  "p.yaml:5:16: confirm applies to allow rules only" },
		{ "policy:\n  default: deny\n  rules:\n    - action: allow\n      via: [any, x]\n",
		  "p.yaml:5:12: \"any\" already covers every hop" },
		{ "policy:\n  default: deny\n  rules:\n    - action: allow\n      to: \"ssh-ed25519 AA\"\n",
		  "p.yaml:5:11: expected a host key" },
		{ "policy:\n  default: deny\n  rules:\n    - action: allow\n      keys: \"pkcs11:foo=bar\"\n",
		  "p.yaml:5:13: expected a pkcs11: URI" },
		{ "policy:\n  default: deny\n  rules:\n    - action: allow\n      users: []\n",
		  "p.yaml:5:14: expected at least one entry in users" },
		{ "policy:\n  default: deny\n  rules:\n    - action: allow\n      users: { a: b }\n",
		  "p.yaml:5:14: expected a string for users" },
		{ "policy:\n  default: deny\n  rules:\n  - action: allow\n     to: x\n",
		  "p.yaml:5:" },
	};
	struct config cfg;
	struct reason why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = config_load_text("p.yaml", cases[i].text, strlen(cases[i].text), &cfg, &why);

		CHECK(r == ERR_CONFIG && strstr(why.text, cases[i].want) != NULL,
		      "case %zu: want \"%s\", got \"%s\"", i, cases[i].want, why.text);
		if (r == ERR_OK)
			config_free(&cfg);
	}
}

static void test_known_hosts_and_patterns(void)
{
	struct known_hosts kh = { 0 };
	struct reason why;

	CHECK(known_hosts_load(&kh, kh_path, &why) == ERR_OK, "load");
	CHECK(kh.n == 5, "5 usable entries, got %zu", kh.n);
	CHECK(kh.skipped == 2, "2 broken lines skipped, got %zu", kh.skipped);
	CHECK(kh_entry_names(&kh.e[0], "a.example"), "names match in lower case");
	CHECK(kh_entry_names(&kh.e[0], "[10.0.0.1]:2222"), "bracketed host and port");
	CHECK(!kh_entry_names(&kh.e[0], "10.0.0.1"), "port matters");
	CHECK(kh_entry_names(&kh.e[0], "*.example"), "a pattern matches a literal name");
	CHECK(!kh_entry_names(&kh.e[1], "bad.example"), "a negated name does not match");
	CHECK(kh_entry_names(&kh.e[2], "c.example"), "hashed entry by its name");
	CHECK(!kh_entry_names(&kh.e[2], "*.example"), "patterns cannot match hashed entries");
	CHECK(kh.e[3].marker == KH_REVOKED, "@revoked marker");
	CHECK(known_hosts_load(&kh, "/nonexistent/known_hosts", &why) == ERR_OK,
	      "a missing file adds nothing");
	known_hosts_free(&kh);

	CHECK(match_pattern("web1.example.com", "web?.*.com"), "? and *");
	CHECK(!match_pattern("web.example.org", "*.com"), "suffix");
	CHECK(match_pattern("", "*"), "* matches empty");
	CHECK(match_pattern("aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*b"), "backtracking");
	CHECK(match_pattern_list("git", "root,git") == 1, "list");
	CHECK(match_pattern_list("guest", "*,!guest") == -1, "negation");
	CHECK(match_pattern_list("x", "root,git") == 0, "no match");
}

static struct policy *load_guarded(const char *guarded, struct reason *why)
{
	return load_section("g.yaml", "guarded", guarded, why);
}

static const char *guard(const struct policy *p, const char *host, uint32_t port,
                         const char *user, const struct sshpub *hop, int kind,
                         const char *command, int pty, struct guard_decision *d)
{
	const struct sshpub *hops[1] = { hop };
	struct guard_request req = { host, port, user, hops, hop ? 1 : 0, kind, command, pty };

	policy_decide_guarded(p, &req, d);
	return d->action == POLICY_ALLOW ? "allow" : "deny";
}

/*
 * Regression (found by fuzz-policy): matching backtracked, exponential in the stars, and the
 * intermediary chooses the command: an agent thread spun for minutes. This pair took
 * forever then; now it is one pass.
 */
static void test_exec_many_stars(void)
{
	static char command[4100];
	const char *t = "'a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b'";

	command[0] = '\'';
	memset(command + 1, 'a', sizeof(command) - 3);
	command[sizeof(command) - 2] = '\'';
	CHECK(!policy_exec_matches(t, command), "4,096 a's against 20 stars and a b");
	command[sizeof(command) - 3] = 'b';
	CHECK(policy_exec_matches(t, command), "and with the b");
}

static void test_exec_templates(void)
{
	const char *problem;
	const char *t = "git-upload-pack '/srv/*.git'";

	CHECK(policy_exec_template_ok(t, &problem), "a quoted wildcard");
	CHECK(policy_exec_matches(t, "git-upload-pack '/srv/app.git'"), "template matches");
	CHECK(policy_exec_matches(t, "git-upload-pack '/srv/.git'"), "empty expansion");
	/* The classic injection: the wildcard may not leave its quoted word. */
	CHECK(!policy_exec_matches(t, "git-upload-pack '/srv/x'; id; echo '.git'"), "injection");
	CHECK(!policy_exec_matches(t, "git-upload-pack '/srv/a\n.git'"), "a newline");
	CHECK(!policy_exec_matches(t, "git-upload-pack '/srv/app.git' extra"), "a suffix");
	CHECK(!policy_exec_matches("uptime", "uptime; id"), "exact means exact");
	CHECK(policy_exec_matches("uptime", "uptime"), "exact");
	/* Unquoted, '*' is one word of characters a shell gives no meaning (rsync's paths). */
	t = "rsync --server --sender -logDtpre.iLsfxCIvu . /srv/data/*";
	CHECK(policy_exec_template_ok(t, &problem), "an unquoted wildcard: %s", problem);
	CHECK(policy_exec_matches(t, "rsync --server --sender -logDtpre.iLsfxCIvu . /srv/data/a/"),
	      "a plain path");
	CHECK(!policy_exec_matches(t, "rsync --server --sender -logDtpre.iLsfxCIvu . /srv/data/a b"),
	      "a second word");
	CHECK(!policy_exec_matches(t, "rsync --server --sender -logDtpre.iLsfxCIvu . /srv/data/x;id"),
	      "shell syntax");
	CHECK(!policy_exec_matches(t, "rsync --server --sender -logDtpre.iLsfxCIvu . /srv/data/$(id)"),
	      "a substitution");
	CHECK(!policy_exec_matches(t, "rsync --server --sender -logDtpre.iLsfxCIvu . /srv/data/../../etc/"),
	      "climbing out unquoted");
	/* Regression: a quoted '*' matched "..", so a template for the repositories under /srv
	 * allowed any repository on the server. */
	CHECK(!policy_exec_matches("git-upload-pack '/srv/*.git'",
	                           "git-upload-pack '/srv/../home/u/secret.git'"), "climbing out quoted");
	CHECK(policy_exec_matches("git-upload-pack '/srv/*.git'", "git-upload-pack '/srv/a.b.git'"),
	      "single dots are names");
	CHECK(!policy_exec_matches("cat '/srv/*'", "cat '/srv/x/..'"), ".. at the end");
	CHECK(policy_exec_matches("cat ../x", "cat ../x"), "an exact string may hold ..");
	test_exec_many_stars();
	CHECK(!policy_exec_template_ok("echo 'unclosed", &problem), "an unclosed quote");
	CHECK(!policy_exec_template_ok("", &problem), "empty");
	CHECK(policy_exec_matches("a '*' b '*'", "a 'x' b 'y'"), "two quoted wildcards");
}

static void test_guarded(void)
{
	struct guard_decision d;
	struct reason why;
	struct policy *p;
	char rules[2048];

	snprintf(rules, sizeof(rules),
	         "    - action: allow\n"                          /* line 5 */
	         "      to: a.example\n"
	         "      users: [ git ]\n"
	         "      via: b.example\n"
	         "      exec: [ \"git-upload-pack '/srv/*.git'\" ]\n"
	         "      env: [ GIT_PROTOCOL ]\n"
	         "      confirm: always\n"
	         "    - action: deny\n"                           /* line 12 */
	         "      users: root\n"
	         "      via: any\n"
	         "    - action: allow\n"                          /* line 15 */
	         "      to: \"[10.0.0.1]:2222\"\n"
	         "      users: deploy\n"
	         "      subsystems: [ sftp ]\n"
	         "      pty: true\n"
	         "      exec: [ uptime ]\n"
	         "      mode: handoff\n");
	CHECK((p = load_guarded(rules, &why)) != NULL, "guarded rules load: %s", why.text);
	if (p == NULL)
		return;
	CHECK(p->nguards == 3 && p->guards[0].nenv == 1 && p->guards[2].pty &&
	      p->guards[2].mode == GUARD_HANDOFF && p->guards[0].mode == GUARD_RELAY &&
	      p->guards[0].forwarding == GUARD_FWD_PROBE, "fields and defaults");
	CHECK(strcmp(guard(p, "a.example", 22, "git", &key_b, GUARD_EXEC,
	                   "git-upload-pack '/srv/app.git'", 0, &d), "allow") == 0 && d.confirm &&
	      strcmp(d.where, "g.yaml:5") == 0, "allowed through b: %s", d.reason);
	CHECK(policy_guard_env(d.rule, "GIT_PROTOCOL") && !policy_guard_env(d.rule, "LANG"), "env");
	CHECK(strcmp(guard(p, "a.example", 22, "git", &key_c, GUARD_EXEC,
	                   "git-upload-pack '/srv/app.git'", 0, &d), "deny") == 0 &&
	      strstr(d.reason, "default: deny") != NULL, "through another hop: %s", d.reason);
	CHECK(strcmp(guard(p, "a.example", 22, "git", NULL, GUARD_EXEC,
	                   "git-upload-pack '/srv/app.git'", 0, &d), "deny") == 0, "direct");
	CHECK(strcmp(guard(p, "a.example", 22, "git", &key_b, GUARD_EXEC,
	                   "git-receive-pack '/srv/app.git'", 0, &d), "deny") == 0,
	      "another command");
	CHECK(strcmp(guard(p, "a.example", 2222, "git", &key_b, GUARD_EXEC,
	                   "git-upload-pack '/srv/app.git'", 0, &d), "deny") == 0 &&
	      strcmp(d.host_name, "[a.example]:2222") == 0, "another port: %s", d.host_name);
	CHECK(strcmp(guard(p, "a.example", 22, "root", &key_b, GUARD_EXEC, "uptime", 0, &d),
	             "deny") == 0 && strcmp(d.where, "g.yaml:12") == 0, "the deny rule");
	CHECK(strcmp(guard(p, "10.0.0.1", 2222, "deploy", NULL, GUARD_SUBSYSTEM, "sftp", 1, &d),
	             "allow") == 0 && !d.confirm, "[host]:port subsystem with a pty: %s", d.reason);
	CHECK(strcmp(guard(p, "10.0.0.1", 2222, "deploy", NULL, GUARD_SHELL, "", 1, &d),
	             "deny") == 0, "a shell is never allowed");
	CHECK(strcmp(guard(p, "a.example", 22, "git", &key_b, GUARD_EXEC,
	                   "git-upload-pack '/srv/app.git'", 1, &d), "deny") == 0,
	      "a pty the rule does not grant");
	policy_unref(p);

	/* No guarded list at all: refused with how to allow it. */
	p = load("    - action: allow\n", &why);
	CHECK(p != NULL && strcmp(guard(p, "a.example", 22, "git", NULL, GUARD_EXEC, "uptime", 0,
	                                &d), "deny") == 0 &&
	      strstr(d.reason, "no guarded: list in the policy") != NULL &&
	      strstr(d.reason, "to: a.example") != NULL, "no list: %s", d.reason);
	policy_unref(p);
}

static void test_bad_guarded(void)
{
	static const struct {
		const char *guarded, *want;
	} cases[] = {
		{ "    - action: allow\n      exec: [ \"echo 'unclosed\" ]\n",
		  "g.yaml:6:15: exec \"echo 'unclosed\": a single quote is not closed" },
		{ "    - action: allow\n      clients: ssh\n", "g.yaml:6:7: unknown key \"clients\"" },
		{ "    - action: allow\n      mode: teleport\n", "expected relay or handoff" },
		{ "    - action: allow\n      forwarding: maybe\n",
		  "expected probe, off-asserted or ignore" },
		{ "    - action: allow\n      fallback: allow\n", "expected relay or deny" },
		{ "    - action: allow\n      pty: yes\n", "expected true or false for pty" },
	};
	struct reason why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *p = load_guarded(cases[i].guarded, &why);

		CHECK(p == NULL && strstr(why.text, cases[i].want) != NULL,
		      "bad guarded %zu: want \"%s\", got \"%s\"", i, cases[i].want, why.text);
		policy_unref(p);
	}
}

int main(void)
{
	write_known_hosts();
	test_rules();
	test_bad_files();
	test_exec_templates();
	test_guarded();
	test_bad_guarded();
	test_known_hosts_and_patterns();
	unlink(kh_path);
	sshpub_free(&key_a);
	sshpub_free(&key_b);
	sshpub_free(&key_c);
	sshpub_free(&key_r);
	sshpub_free(&key_x);
	CHECK_DONE();
}
