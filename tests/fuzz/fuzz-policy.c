/*
 * libFuzzer target: the policy loader and its decisions. The input is a configuration file,
 * optionally followed by "\n#kh\n" and known_hosts text; a few requests are then decided.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Guarded requests too: exact and templated commands, a subsystem, a shell, hops. */
static void decide_guarded(const struct policy *p)
{
	static const char *const commands[] = {
		"git-upload-pack '/srv/app.git'", "git-upload-pack '/srv/x'; id; echo '.git'",
		"uptime", "",
	};
	const struct sshpub *hops[1];
	struct guard_decision d;
	struct guard_request req = { .host = "git.example", .port = 22, .user = "git",
	                             .hops = hops };

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		req.kind = (enum guard_kind)(1 + i % 3);
		req.command = commands[i];
		req.pty = (int)(i & 1);
		req.port = i == 2 ? 2222 : 22;
		req.nhops = p->kh.n > 0 ? i & 1 : 0;
		if (req.nhops)
			hops[0] = &p->kh.e[i % p->kh.n].key;
		policy_decide_guarded(p, &req, &d);
	}
}

static void decide_some(const struct policy *p)
{
	static const struct policy_key key = { "SHA256:x", "work", "pkcs11:token=work;object=k" };
	const struct sshpub *hops[2];
	struct policy_decision d;
	struct policy_request req = {
		.key = &key, .hops = hops, .user = "git", .client_exe = "/usr/bin/ssh",
	};

	for (size_t i = 0; i < p->kh.n && i < 4; i++) {
		hops[0] = hops[1] = &p->kh.e[i].key;
		req.dest = &p->kh.e[(i + 1) % p->kh.n].key;
		for (int listing = 0; listing < 2; listing++) {
			req.listing = listing;
			req.nhops = i % 3;
			policy_decide(p, &req, &d);
		}
	}
	req.dest = NULL;
	req.nhops = 0;
	policy_decide(p, &req, &d);
	req.listing = 1;
	policy_decide(p, &req, &d);
	decide_guarded(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *sep = memmem(data, size, "\n#kh\n", 5);
	size_t cfg_len = sep ? (size_t)(sep - text) : size;
	struct config cfg;
	struct reason why;
	FILE *kh;

	if (config_load_text("fuzz.yaml", text, cfg_len, &cfg, &why) != ERR_OK)
		return 0;
	if (cfg.policy != NULL) {
		int kh_ok = 1;

		if (sep != NULL && (kh = fmemopen((void *)(sep + 5), size - cfg_len - 5, "r"))) {
			kh_ok = known_hosts_read(&cfg.policy->kh, kh, "fuzz_known_hosts", &why) == ERR_OK;
			fclose(kh);
		}
		if (kh_ok && policy_build_index(cfg.policy) == ERR_OK)
			decide_some(cfg.policy);
	}
	config_free(&cfg);
	return 0;
}
