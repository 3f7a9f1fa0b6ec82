/* Unit tests for src/config.c: a valid file, and each malformed one names line and column. */
#include "check.h"
#include "config.h"
#include "notice.h"
#include "pinentry.h"

static int load(const char *text, struct config *cfg, struct reason *why)
{
	reason_clear(why);
	return config_load_text("t.yaml", text, strlen(text), cfg, why);
}

static void expect_error(const char *text, const char *where, const char *words)
{
	struct config cfg;
	struct reason why;

	CHECK(load(text, &cfg, &why) == ERR_CONFIG, "refused: %s", words);
	CHECK(strncmp(why.text, where, strlen(where)) == 0, "position %s in \"%s\"", where,
	      why.text);
	CHECK(strstr(why.text, words) != NULL, "\"%s\" in \"%s\"", words, why.text);
}

static void test_valid(void)
{
	struct config cfg;
	struct reason why;

	CHECK(load("tokens:\n  - name: yk\n    module: opensc-pkcs11\n"
	           "    uri: \"pkcs11:token=PIV\"\n    pin: askpass\n"
	           "  - module: /usr/lib/softhsm/libsofthsm2.so\n    pin: file:/etc/pin\n",
	           &cfg, &why) == ERR_OK, "valid file: %s", why.text);
	CHECK(cfg.ntokens == 2, "two tokens");
	CHECK(strcmp(cfg.tokens[0].name, "yk") == 0 && cfg.tokens[0].pin == PIN_SOURCE_ASKPASS,
	      "first token");
	CHECK(strcmp(cfg.tokens[1].name, "token2") == 0 &&
	      cfg.tokens[1].pin == PIN_SOURCE_FILE &&
	      strcmp(cfg.tokens[1].pin_path, "/etc/pin") == 0, "second token gets a name");
	config_free(&cfg);
	CHECK(load(config_builtin_default, &cfg, &why) == ERR_OK, "built-in default parses");
	config_free(&cfg);
	CHECK(load("tokens: []\n", &cfg, &why) == ERR_OK && cfg.ntokens == 0, "no tokens");
	CHECK(cfg.confirm.via == CONFIRM_VIA_UNSET, "confirm_prompt unset by default");
	config_free(&cfg);
}

static void test_confirm_prompt(void)
{
	struct config cfg;
	struct reason why;

	CHECK(load("confirm_prompt: pinentry\ntokens:\n  - module: a\n"
	           "    confirm_prompt: askpass\n  - module: b\n"
	           "    confirm_prompt: pinentry:/opt/pinentry-tty\n", &cfg, &why) == ERR_OK,
	      "confirm_prompt: %s", why.text);
	CHECK(cfg.confirm.via == CONFIRM_VIA_PINENTRY &&
	      strcmp(cfg.confirm.program, PINENTRY_DEFAULT) == 0, "top level: the default pinentry");
	CHECK(cfg.tokens[0].confirm.via == CONFIRM_VIA_ASKPASS &&
	      cfg.tokens[0].confirm.program == NULL, "token override: askpass");
	CHECK(cfg.tokens[1].confirm.via == CONFIRM_VIA_PINENTRY &&
	      strcmp(cfg.tokens[1].confirm.program, "/opt/pinentry-tty") == 0,
	      "token override: a pinentry path");
	config_free(&cfg);
	expect_error("confirm_prompt: yes\n", "t.yaml:1:17:",
	             "expected askpass, pinentry or pinentry:/absolute/path for confirm_prompt");
	expect_error("confirm_prompt: pinentry:relative\n", "t.yaml:1:17:", "not \"pinentry:relative\"");
	expect_error("confirm_prompt: [askpass]\n", "t.yaml:1:17:", "expected a string");
	expect_error("tokens:\n  - module: a\n    confirm_prompt: file:/x\n", "t.yaml:3:21:",
	             "for confirm_prompt");
	expect_error("tokens:\n  - module: a\n    name: \"software:\"\n", "t.yaml:3:11:",
	             "reserved for software keys");
	expect_error("software_keys: maybe\n", "t.yaml:1:16:", "expected allow or deny");
	expect_error("tokens:\n  - module: a\n    certificates: [ rel/cert.pub ]\n",
	             "t.yaml:3:21:", "absolute path for a certificate file");
}

static void test_malformed(void)
{
	expect_error("tokens:\n  - module: a\n   name: b\n", "t.yaml:3:4:", "did not find expected");
	expect_error("tokens:\n  - module: a\n    colour: red\n", "t.yaml:3:5:",
	             "unknown key \"colour\"");
	expect_error("tokens:\n  - module: [a, b]\n", "t.yaml:2:13:", "expected a string for module");
	expect_error("tokens:\n  - name: a\n", "t.yaml:2:5:", "needs a \"module\"");
	expect_error("tokens:\n  - module: a\n    pin: 1234\n", "t.yaml:3:10:",
	             "expected askpass, pinentry, pinentry:/absolute/path, none or file:");
	expect_error("tokens:\n  - module: a\n    uri: token=x\n", "t.yaml:3:10:", "pkcs11: URI");
	expect_error("tokens:\n  - {module: a, name: x}\n  - {module: b, name: x}\n",
	             "t.yaml:3:5:", "duplicate token name");
	expect_error("tokens:\n  - module: a\n    module: b\n", "t.yaml:3:5:", "duplicate key");
	expect_error("", "t.yaml:1:1:", "empty file");
	expect_error("tokens: yes\n", "t.yaml:1:9:", "expected a list for tokens");
	expect_error("polcy: {}\n", "t.yaml:1:1:", "unknown key \"polcy\"");
	expect_error("tokens:\n  - module: \"unterminated\n", "t.yaml:", "quoted scalar");
}

/* Hot-plug, PIN cache and notice settings, and their malformed forms. */
static void test_lifecycle(void)
{
	struct config cfg;
	struct reason why;

	CHECK(load("tokens:\n  - module: m\n"
	           "    pin_cache: { idle: 15m, max: 8h, keep_on_removal: true }\n"
	           "rescan_interval: 5s\nnotify: { after: 2s, command: /bin/true }\n",
	           &cfg, &why) == ERR_OK, "lifecycle settings: %s", why.text);
	CHECK(cfg.tokens[0].cache.idle == 900 && cfg.tokens[0].cache.max == 8 * 3600 &&
	      cfg.tokens[0].cache.keep_on_removal == 1, "pin_cache read");
	CHECK(cfg.rescan_interval == 5, "rescan_interval read");
	CHECK(cfg.notify.after_ms == 2000 && strcmp(cfg.notify.command, "/bin/true") == 0,
	      "notify read");
	config_free(&cfg);
	CHECK(load("tokens: []\n", &cfg, &why) == ERR_OK &&
	      cfg.notify.after_ms == NOTICE_DELAY_DEFAULT_MS && cfg.notify.command == NULL &&
	      cfg.rescan_interval == 0, "defaults");
	config_free(&cfg);
	CHECK(load("tokens: []\nnotify: { command: none }\n", &cfg, &why) == ERR_OK &&
	      cfg.notify.command != NULL && cfg.notify.command[0] == '\0', "log-only notices");
	config_free(&cfg);

	expect_error("tokens:\n  - module: m\n    pin_cache: 5m\n", "t.yaml:3:16:",
	             "expected a mapping");
	expect_error("tokens:\n  - module: m\n    pin_cache: { idle: soon }\n", "t.yaml:3:24:",
	             "expected a time from 0s to 168h for pin_cache idle");
	expect_error("tokens:\n  - module: m\n    pin_cache: { max: 9999h }\n", "t.yaml:3:23:",
	             "pin_cache max");
	expect_error("tokens:\n  - module: m\n    pin_cache: { keep_on_removal: maybe }\n",
	             "t.yaml:3:35:", "expected true or false for keep_on_removal");
	expect_error("tokens:\n  - module: m\n    pin_cache: { ttl: 5m }\n", "t.yaml:3:18:",
	             "unknown key \"ttl\"");
	expect_error("tokens:\n  - module: m\n    pin: pinentry:curses\n", "t.yaml:3:10:",
	             "pinentry:/absolute/path");
	CHECK(load("tokens:\n  - module: m\n    pin: pinentry\n", &cfg, &why) == ERR_OK &&
	      cfg.tokens[0].pin == PIN_SOURCE_PINENTRY &&
	      strcmp(cfg.tokens[0].pin_path, "/usr/bin/pinentry") == 0, "pinentry default");
	config_free(&cfg);
	expect_error("rescan_interval: 0\n", "t.yaml:1:18:", "expected a time from 1s");
	expect_error("notify: { command: notify-send }\n", "t.yaml:1:20:", "absolute path");
	expect_error("notify: { after: -1 }\n", "t.yaml:1:18:", "notify after");
}

static void test_too_many(void)
{
	char text[8192] = "tokens:\n";

	for (int i = 0; i <= CONFIG_MAX_TOKENS; i++)
		strcat(text, "  - module: m\n");
	expect_error(text, "t.yaml:2:3:", "too many tokens");
}

int main(void)
{
	test_valid();
	test_malformed();
	test_confirm_prompt();
	test_lifecycle();
	test_too_many();
	CHECK_DONE();
}
