/* A minimal agent client (p11guard, the tests, the benchmark): connect, send, read a reply. */
#ifndef P11G_AGENT_CLIENT_H
#define P11G_AGENT_CLIENT_H

#include "wire.h"

/* Connects to the agent socket at `path`; -1 when it cannot (errno says why). */
int agent_client_connect(const char *path);
/* Sends the framed request, reads one framed reply into `body` (type byte consumed); returns
 * the reply type, or -1 on EOF, timeout or a malformed frame. */
int agent_client_request(int fd, const struct wbuf *req, struct wbuf *body);

#endif
