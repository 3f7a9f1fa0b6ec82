/* Start-up reports: a waiting parent, and systemd's socket activation and notify protocol. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent-service.h"

#define SD_LISTEN_FDS_START 3   /* sd_listen_fds(3): handed-in sockets start at fd 3 */
#define MAX_REPORT 1024

int service_inherited_socket(struct reason *why)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int fd = SD_LISTEN_FDS_START, type = 0, domain = 0, listening = 0;
	socklen_t len = sizeof(int);
	char *end;

	if (pid == NULL || fds == NULL)
		return -1;
	/* LISTEN_PID names another process when the variables leaked from our parent. */
	if (strtol(pid, &end, 10) != (long)getpid() || *end != '\0')
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (strcmp(fds, "1") != 0) {
		reason_set(why, ERR_CONFIG, "systemd handed in LISTEN_FDS=%s sockets, expected one "
		           "(one ListenStream= in p11guard-agent.socket)", fds);
		return -2;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
	    type != SOCK_STREAM || domain != AF_UNIX || !listening) {
		reason_set(why, ERR_CONFIG, "the socket systemd handed in (fd 3) is not a listening "
		           "Unix stream socket");
		return -2;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		reason_set(why, ERR_SYSTEM, "fd 3: %s", strerror(errno));
		return -2;
	}
	return fd;
}

void service_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0';         /* an abstract socket */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	/* Best effort: without a listener systemd would time the start out, and say so. */
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len) < 0)
		fprintf(stderr, "p11guard-agent: sd_notify %s: %s\n", state, strerror(errno));
	close(fd);
}

int service_startup_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC);
}

void service_report_started(int *fd, const char *failure)
{
	size_t len = failure != NULL ? strnlen(failure, MAX_REPORT) : 0;

	if (*fd < 0)
		return;
	/* A failure is its text; serving is a single NUL, so that EOF alone means a crash. */
	if (write(*fd, len > 0 ? failure : "", len > 0 ? len : 1) < 0)
		fprintf(stderr, "p11guard-agent: start-up report: %s\n", strerror(errno));
	close(*fd);
	*fd = -1;
}

int service_wait_started(int fd)
{
	char report[MAX_REPORT + 1];
	size_t got = 0;
	ssize_t n;

	while (got < MAX_REPORT && (n = read(fd, report + got, MAX_REPORT - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got == 1 && report[0] == '\0')
		return 0;
	report[got] = '\0';
	fprintf(stderr, "p11guard-agent: %s\n",
	        got > 0 ? report : "the agent ended during start-up without saying why");
	return 1;
}
