/* ssh-agent 10.x's socket places: ~/.ssh/agent/s.HOSTHASH.agent.RANDOM, and its clean-up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "agent-socket.h"
#include "listener.h"

#define HOSTHASH_LEN 10         /* as OpenSSH, so that its -u and ours clean the same names */
#define RANDOM_LEN 10
#define STALE_AFTER_SECONDS 3600

static const char name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
#define NAME_CHARS (sizeof(name_chars) - 1)

/* $HOME as ssh takes it, else the password database; absolute, or refused. */
static int home_dir(char *out, size_t size, struct reason *why)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if ((home == NULL || home[0] == '\0') && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL || home[0] != '/')
		return reason_set(why, ERR_CONFIG, "no home directory for the agent socket ($HOME "
		                  "is not an absolute path); use -T or -a");
	if ((size_t)snprintf(out, size, "%s", home) >= size)
		return reason_set(why, ERR_TOO_LARGE, "home directory path too long");
	return ERR_OK;
}

/* Makes `dir` 0700 if missing; an existing one must be ours and writable by nobody else, or
 * another user could put their own socket in our agent's place. */
static int private_dir(const char *dir, struct reason *why)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return reason_set(why, ERR_SYSTEM, "mkdir %s: %s", dir, strerror(errno));
	if (stat(dir, &st) != 0)
		return reason_set(why, ERR_SYSTEM, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return reason_set(why, ERR_CONFIG, "%s is not a directory; use -T or -a", dir);
	if (st.st_uid != getuid())
		return reason_set(why, ERR_CONFIG, "%s belongs to uid %ld, not to us; use -T or -a",
		                  dir, (long)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return reason_set(why, ERR_CONFIG, "%s is writable by others (mode %04o), who could "
		                  "replace the agent's socket: chmod go-w it, or use -T or -a",
		                  dir, (unsigned)(st.st_mode & 07777));
	return ERR_OK;
}

/* OpenSSH's host name hash: SHA-512 of the host name, each byte mapped to a letter or digit. */
static int host_hash(char out[HOSTHASH_LEN + 1], struct reason *why)
{
	char host[HOST_NAME_MAX + 1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (gethostname(host, sizeof(host)) != 0)
		return reason_set(why, ERR_SYSTEM, "gethostname: %s", strerror(errno));
	host[sizeof(host) - 1] = '\0';
	if (EVP_Digest(host, strlen(host), md, &md_len, EVP_sha512(), NULL) != 1 ||
	    md_len < HOSTHASH_LEN)
		return reason_set(why, ERR_INTERNAL, "SHA-512 of the host name failed");
	for (size_t i = 0; i < HOSTHASH_LEN; i++)
		out[i] = name_chars[md[i] % NAME_CHARS];
	out[HOSTHASH_LEN] = '\0';
	return ERR_OK;
}

/* Uniform letters and digits: bytes at or above the last whole multiple of 62 are redrawn. */
static int random_name(char out[RANDOM_LEN + 1], struct reason *why)
{
	size_t n = 0;

	while (n < RANDOM_LEN) {
		unsigned char b[RANDOM_LEN];

		if (RAND_bytes(b, sizeof(b)) != 1)
			return reason_set(why, ERR_SYSTEM, "no random bytes for the socket name");
		for (size_t i = 0; i < sizeof(b) && n < RANDOM_LEN; i++)
			if (b[i] < 256 - 256 % NAME_CHARS)
				out[n++] = name_chars[b[i] % NAME_CHARS];
	}
	out[RANDOM_LEN] = '\0';
	return ERR_OK;
}

static int socket_dir(char *dir, size_t size, struct reason *why)
{
	char home[PATH_MAX];
	int n;

	if (home_dir(home, sizeof(home), why) != ERR_OK)
		return why->code;
	n = snprintf(dir, size, "%s/.ssh", home);
	if (n < 0 || (size_t)n >= size)
		return reason_set(why, ERR_TOO_LARGE, "home directory path too long");
	if (private_dir(dir, why) != ERR_OK)
		return why->code;
	n = snprintf(dir, size, "%s/.ssh/agent", home);
	if (n < 0 || (size_t)n >= size)
		return reason_set(why, ERR_TOO_LARGE, "home directory path too long");
	return private_dir(dir, why);
}

int agent_socket_in_home(char *path, size_t size, struct reason *why)
{
	char dir[PATH_MAX], hash[HOSTHASH_LEN + 1], rnd[RANDOM_LEN + 1];
	struct stat st;
	int n;

	if (socket_dir(dir, sizeof(dir), why) != ERR_OK || host_hash(hash, why) != ERR_OK)
		return -1;
	for (int tries = 0; tries < 100; tries++) {
		if (random_name(rnd, why) != ERR_OK)
			return -1;
		n = snprintf(path, size, "%s/s.%s.agent.%s", dir, hash, rnd);
		if (n < 0 || (size_t)n >= size ||
		    (size_t)n >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
			reason_set(why, ERR_TOO_LARGE, "%s/s.%s.agent.%s is longer than a Unix socket "
			           "name may be; use -T or -a", dir, hash, rnd);
			return -1;
		}
		if (lstat(path, &st) != 0 && errno == ENOENT)
			return listener_open(path, why);
	}
	reason_set(why, ERR_SYSTEM, "no free socket name in %s after 100 tries", dir);
	return -1;
}

/* Only a refused connection proves that nothing listens: a busy agent's full backlog
 * (EAGAIN) must not cost it its socket. */
static int nothing_listens(const char *path);

int agent_socket_stable(char *path, size_t size, struct reason *why)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	char dir[PATH_MAX];
	struct stat st;
	int n;

	if (run == NULL || run[0] != '/') {
		reason_set(why, ERR_CONFIG, "--stable needs XDG_RUNTIME_DIR (the login session's "
		           "runtime directory, /run/user/UID), which is not set; use -a PATH");
		return -1;
	}
	n = snprintf(dir, sizeof(dir), "%s/p11guard", run);
	if (n < 0 || (size_t)n >= sizeof(dir) || (size_t)n + sizeof("/agent.sock") > size) {
		reason_set(why, ERR_TOO_LARGE, "XDG_RUNTIME_DIR too long");
		return -1;
	}
	if (private_dir(dir, why) != ERR_OK)
		return -1;
	snprintf(path, size, "%s/agent.sock", dir);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || !nothing_listens(path)) {
			reason_set(why, ERR_CONFIG, "%s is in use: an agent already serves there "
			           "(SSH_AUTH_SOCK=%s ssh-add -l), or the path is not a socket", path,
			           path);
			return -1;
		}
		unlink(path);   /* left by an agent that died */
	}
	return listener_open(path, why);
}

static int nothing_listens(const char *path)
{
	struct sockaddr_un sun;
	int fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 && errno == ECONNREFUSED;
	close(fd);
	return r;
}

int agent_socket_remove_stale(int any_host, struct reason *why)
{
	char dir[PATH_MAX], path[PATH_MAX + 256], hash[HOSTHASH_LEN + 1], prefix[32];
	time_t old_enough = time(NULL) - STALE_AFTER_SECONDS;
	struct dirent *e;
	struct stat st;
	int removed = 0;
	DIR *d;

	if (home_dir(dir, sizeof(dir), why) != ERR_OK || host_hash(hash, why) != ERR_OK)
		return -1;
	snprintf(prefix, sizeof(prefix), "s.%s.", hash);
	if (strlen(dir) + sizeof("/.ssh/agent") > sizeof(dir)) {
		reason_set(why, ERR_TOO_LARGE, "home directory path too long");
		return -1;
	}
	strcat(dir, "/.ssh/agent");
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		reason_set(why, ERR_SYSTEM, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISSOCK(st.st_mode) || st.st_mtime > old_enough ||
		    (!any_host && strncmp(e->d_name, prefix, strlen(prefix)) != 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (nothing_listens(path) && unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
