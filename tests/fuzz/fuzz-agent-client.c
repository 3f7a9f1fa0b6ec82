/*
 * libFuzzer target: libsshagent's client reading an agent's replies (src/sshagent/client.c).
 * The input is what the agent answers; each call reads it through a socket pair.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client-fd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One call against `data` as the agent's whole answer. */
static void call(const uint8_t *data, size_t size, int which)
{
	struct sshagent_client *cl;
	struct sshagent_identity *ids;
	struct sshagent_reason why;
	uint8_t *out;
	size_t n;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	if (write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	if ((cl = client_adopt_fd(sv[0])) == NULL)
		abort();
	switch (which) {
	case 0:
		if (sshagent_client_list(cl, &ids, &n, &why) == SSHAGENT_OK)
			sshagent_identities_free(ids, n);
		break;
	case 1:
		if (sshagent_client_sign(cl, (const uint8_t *)"k", 1, (const uint8_t *)"d", 1, 0, &out,
		                         &n, &why) == SSHAGENT_OK)
			free(out);
		break;
	case 2:
		if (sshagent_client_extension(cl, "query", NULL, 0, &out, &n, &why) == SSHAGENT_OK)
			free(out);
		break;
	default:
		(void)!sshagent_client_remove_all(cl, &why);
		break;
	}
	sshagent_client_close(cl);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int which = 0; which < 4; which++)
		call(data, size, which);
	return 0;
}
