/* Expanding "~/" in configured file names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "path.h"

int path_expand_home(const char *path, char *out, size_t size)
{
	const char *home = getenv("HOME");
	int n;

	if (strncmp(path, "~/", 2) == 0)
		n = home ? snprintf(out, size, "%s/%s", home, path + 2) : -1;
	else
		n = snprintf(out, size, "%s", path);
	return n >= 0 && (size_t)n < size ? ERR_OK : ERR_TOO_LARGE;
}
