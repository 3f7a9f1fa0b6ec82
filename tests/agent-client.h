/* A minimal agent client for the tests and benchmarks: connect, send a frame, read a reply. */
#ifndef P11G_AGENT_CLIENT_H
#define P11G_AGENT_CLIENT_H

#include "wire.h"

/* Connects to the agent socket at `path`; exits the test program when it cannot. */
int agent_client_connect(const char *path);
/* Sends the framed request, reads one framed reply into `body` (type byte consumed); returns
 * the reply type, or -1 on EOF, timeout or a malformed frame. */
int agent_client_request(int fd, const struct wbuf *req, struct wbuf *body);

#endif
