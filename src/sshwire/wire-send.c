/* Draining a buffer into a socket without ever waiting on the peer. */
#include <errno.h>
#include <sys/socket.h>

#include "err.h"
#include "wire.h"

int wbuf_send(int fd, struct wbuf *b)
{
	while (wbuf_avail(b) > 0) {
		ssize_t n = send(fd, wbuf_ptr(b), wbuf_avail(b), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0 || wbuf_skip(b, (size_t)n) != ERR_OK)
			return -1;
	}
	wbuf_compact(b);
	return 0;
}
