/*
 * libFuzzer target: a server's bytes as the SSH client transport reads them, from the
 * version line on (the seeds start with a real sshd's version and KEXINIT). The client
 * trusts one fixed key and its signer always refuses.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ssh-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_signature(void *ctx, size_t key, const uint8_t *data, size_t len,
                        struct wbuf *sig, struct reason *why)
{
	(void)ctx, (void)key, (void)data, (void)len, (void)sig;
	return reason_set(why, ERR_DENIED, "the fuzzer signs nothing");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssh_client_config cfg = { 0 };
	struct ssh_user_key key;
	struct ssh_client c;
	struct sshpub trusted;
	size_t half = size / 2;

	if (sshpub_parse_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOrfEp7l62aKBD4MxFeQPgVNDpUT"
	                      "DYfsLq+mF4XwvTs", &trusted) != ERR_OK)
		return 0;
	cfg.user = "fuzz";
	cfg.command = "true";
	cfg.trusted = &trusted;
	cfg.ntrusted = 1;
	key = (struct ssh_user_key){ trusted.blob, trusted.blob_len, "ssh-ed25519" };
	cfg.keys = &key;
	cfg.nkeys = 1;
	cfg.sign = no_signature;
	if (ssh_client_start(&c, &cfg) == ERR_OK) {
		/* In two pieces: packets split across reads must make no difference. */
		if (ssh_client_input(&c, data, half) == ERR_OK)
			(void)!ssh_client_input(&c, data + half, size - half);
	}
	ssh_client_free(&c);
	sshpub_free(&trusted);
	return 0;
}
