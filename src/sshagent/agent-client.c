/* The client side of the agent protocol; replies are read through the bounded buffer API. */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-proto.h"
#include "err.h"

int agent_client_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (path == NULL || strlen(path) >= sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int agent_client_request(int fd, const struct wbuf *req, struct wbuf *body)
{
	uint8_t hdr[4], t, *p;
	struct wbuf h;
	uint32_t len;
	size_t got = 0;
	ssize_t n;

	if (send(fd, wbuf_ptr(req), wbuf_avail(req), MSG_NOSIGNAL) != (ssize_t)wbuf_avail(req))
		return -1;
	while (got < 4 && (n = recv(fd, hdr + got, 4 - got, 0)) > 0)
		got += (size_t)n;
	wbuf_view(&h, hdr, 4);
	if (got < 4 || wbuf_get_u32(&h, &len) != ERR_OK || len == 0 || len > SSHAGENT_MAX_MESSAGE)
		return -1;
	wbuf_reset(body);
	if (wbuf_reserve(body, len, &p) != ERR_OK)
		return -1;
	for (got = 0; got < len && (n = recv(fd, p + got, len - got, 0)) > 0;)
		got += (size_t)n;
	if (got < len)
		return -1;
	wbuf_commit(body, len);
	return wbuf_get_u8(body, &t) == ERR_OK ? t : -1;
}
