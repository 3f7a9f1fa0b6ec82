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
	/* Compacting moves what is left: only once the part sent outweighs it, so that a large
	 * backlog is not moved after every partial send (that made relaying quadratic). */
	if (b->off >= wbuf_avail(b))
		wbuf_compact(b);
	return 0;
}
