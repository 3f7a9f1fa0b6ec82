/* Socket creation and peer identification (SO_PEERCRED). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "reason-export.h"
#include "sshagent.h"

int listener_private_path(char *path, size_t size, struct reason *why)
{
	const char *tmp = getenv("TMPDIR");
	char dir[128];
	int n;

	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 64)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/p11guard-XXXXXX", tmp);
	/* mkdtemp makes the directory 0700: nobody else can reach the socket inside. */
	if (mkdtemp(dir) == NULL)
		return reason_set(why, ERR_SYSTEM, "mkdtemp %s: %s", dir, strerror(errno));
	n = snprintf(path, size, "%s/agent.%ld", dir, (long)getpid());
	if (n < 0 || (size_t)n >= size)
		return reason_set(why, ERR_TOO_LARGE, "socket path too long");
	return ERR_OK;
}

int listener_open(const char *path, struct reason *why)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		reason_set(why, ERR_TOO_LARGE, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		reason_set(why, ERR_SYSTEM, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);      /* the socket is born 0600, never briefly wider */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		reason_set(why, ERR_SYSTEM, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (listen(fd, 128) != 0) {
		reason_set(why, ERR_SYSTEM, "listen %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

int listener_peer(int fd, uid_t *uid, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred))
		return ERR_SYSTEM;
	*uid = cred.uid;
	*pid = cred.pid;
	return ERR_OK;
}

int sshagent_listen(const char *path, struct sshagent_reason *pub)
{
	struct reason why;
	int fd;

	reason_clear(&why);
	if ((fd = listener_open(path, &why)) < 0)
		reason_export(&why, pub);
	return fd;
}
