/* The journal's native protocol: building an entry, and where to send it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "journal.h"

#define MAX_FIELD_NAME 64

static int valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > MAX_FIELD_NAME || name[0] == '_' || (name[0] >= '0' && name[0] <= '9'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return 0;
	return 1;
}

/* Appends `len` bytes at *pos, or fails without writing past `size`. */
static int put(uint8_t *buf, size_t size, size_t *pos, const void *data, size_t len)
{
	if (len > size - *pos)
		return -1;
	memcpy(buf + *pos, data, len);
	*pos += len;
	return 0;
}

size_t journal_build(uint8_t *buf, size_t size, const struct journal_field *f, size_t n)
{
	size_t pos = 0;

	for (size_t i = 0; i < n; i++) {
		size_t name_len = strlen(f[i].name), len = strlen(f[i].value);
		uint8_t le[8];

		if (!valid_name(f[i].name))
			return 0;
		if (memchr(f[i].value, '\n', len) == NULL) {
			if (put(buf, size, &pos, f[i].name, name_len) || put(buf, size, &pos, "=", 1) ||
			    put(buf, size, &pos, f[i].value, len) || put(buf, size, &pos, "\n", 1))
				return 0;
			continue;
		}
		for (int b = 0; b < 8; b++)
			le[b] = (uint8_t)((uint64_t)len >> (8 * b));
		if (put(buf, size, &pos, f[i].name, name_len) || put(buf, size, &pos, "\n", 1) ||
		    put(buf, size, &pos, le, sizeof(le)) || put(buf, size, &pos, f[i].value, len) ||
		    put(buf, size, &pos, "\n", 1))
			return 0;
	}
	return pos;
}

int journal_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int journal_is_stderr(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return stream != NULL && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 &&
	       fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}
