/*
 * The SSH binary packet protocol (RFC 4253 section 6) over byte buffers: bytes received are
 * appended to `in`, whole packets come out decrypted and checked; payloads sent go into `out`
 * sealed. No socket here: the agent runs this over bytes a delegate relays.
 */
#ifndef P11G_SSH_PACKET_H
#define P11G_SSH_PACKET_H

#include <stdint.h>

#include "ssh-cipher.h"
#include "wire.h"

#define SSH_PACKET_MAX (256 * 1024)     /* as OpenSSH: longer is an attack or a bug */
/* Sealed packets not yet handed on: room for a burst of all the input the client holds
 * (SSH_STDIN_MAX, sent at once when the server's window opens) and the control packets. */
#define SSH_OUT_MAX (8 * 1024 * 1024)

struct ssh_packets {
	struct ssh_cipher send, recv;
	uint32_t send_seq, recv_seq;
	struct wbuf in, out;
	uint64_t sent_bytes, received_bytes;    /* since the last NEWKEYS, for re-keying */
};

void ssh_packets_init(struct ssh_packets *p);
void ssh_packets_free(struct ssh_packets *p);
/* Seals `payload` into `out`. */
int ssh_packet_send(struct ssh_packets *p, const struct wbuf *payload) WUR_SSH;
/* The next whole packet's payload into `payload` (a new buffer); ERR_INCOMPLETE when `in`
 * does not hold one yet; any other error means the connection must end. */
int ssh_packet_recv(struct ssh_packets *p, struct wbuf *payload) WUR_SSH;
/* New keys for one direction (at NEWKEYS); the old cipher is wiped. */
void ssh_packets_rekey(struct ssh_cipher *dir, struct ssh_cipher *next);

#endif
