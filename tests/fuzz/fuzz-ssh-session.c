/*
 * libFuzzer target: a server's packets to the SSH client once the key exchange and the login
 * are behind it, which fuzz-ssh-client cannot reach (it would need a server signature). The
 * client is resumed as a delegate's is after a handoff, with the "none" cipher so the
 * fuzzer's bytes are packets as they stand, and the first byte chooses where it starts:
 *   0  the session running: channel data, window, requests, EOF, CLOSE, re-keys;
 *   1  the forwarding probes just sent: their answers, DEBUG notices, then the channel,
 *      no-more-sessions and the command requests of a session headed for a handoff;
 *   2  the handoff re-key just begun: the server's KEXINIT, a fixed ephemeral key from the
 *      delegate, the server's reply and NEWKEYS.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ssh-client-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_output(void *ctx, int stream, const uint8_t *p, size_t n)
{
	(void)ctx, (void)stream, (void)p, (void)n;
}

static int resumed(struct ssh_client *c, const struct ssh_client_config *cfg,
                   const struct sshpub *host)
{
	static const uint8_t zero[SSH_CIPHER_MAX_KEY] = { 0 };
	const struct ssh_handoff h = { .remote_id = 5, .remote_window = 1 << 20,
	                               .remote_max_packet = 32768, .local_window = 1 << 20,
	                               .exit_status = -1 };
	struct ssh_kex kex;

	memset(c, 0, sizeof(*c));
	ssh_kex_init(&kex);
	kex.first = 0;
	kex.strict = 1;
	snprintf(kex.hostkey_alg, sizeof(kex.hostkey_alg), "ssh-ed25519");
	kex.session_id_len = 32;
	if (sshpub_copy(host, &kex.host_key) != ERR_OK ||
	    ssh_cipher_init(&kex.next_send, ssh_cipher_find("none"), zero, zero, 1) != ERR_OK ||
	    ssh_cipher_init(&kex.next_recv, ssh_cipher_find("none"), zero, zero, 0) != ERR_OK ||
	    ssh_client_resume(c, cfg, &kex, &h) != ERR_OK) {
		ssh_kex_free(&kex);
		ssh_client_free(c);
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t q_c[32] = { 9 };
	struct ssh_client_config cfg = { .user = "fuzz", .command = "true", .output = no_output,
	                                 .handoff_kex = "curve25519-sha256,ecdh-sha2-nistp256",
	                                 .handoff_ciphers = "aes256-gcm@openssh.com" };
	struct ssh_client c;
	struct sshpub host;
	size_t half;
	uint8_t start;

	if (size < 1 || sshpub_parse_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOrfEp7l62aKBD4"
	                                  "MxFeQPgVNDpUTDYfsLq+mF4XwvTs", &host) != ERR_OK)
		return 0;
	start = data[0] % 3;
	data++, size--;
	half = size / 2;
	if (resumed(&c, &cfg, &host) != 0) {
		sshpub_free(&host);
		return 0;
	}
	if (start == 1) {
		c.handoff = 1;
		c.cfg.probe_forwarding = 1;
		(void)!ssh_probes_begin(&c);
	} else if (start == 2) {
		c.handoff = 1;
		c.state = SSH_EXEC;
		(void)!ssh_handoff_begin(&c);
	}
	if (ssh_client_input(&c, data, half) == ERR_OK && c.state == SSH_HANDOFF_SHARE)
		(void)!ssh_client_handoff_share(&c, q_c, sizeof(q_c));
	(void)!ssh_client_input(&c, data + half, size - half);
	if (c.state == SSH_HANDED_OFF) {
		struct ssh_handoff h;

		if (ssh_client_handoff_state(&c, &h) != ERR_OK || h.deferred_count > 16)
			__builtin_trap();
	}
	ssh_client_free(&c);
	sshpub_free(&host);
	return 0;
}
