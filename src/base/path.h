/* File names as users write them in configuration files. */
#ifndef P11G_PATH_H
#define P11G_PATH_H

#include <stddef.h>

/* "~/x" is $HOME/x, as in ssh_config; any other path is copied. ERR_OK, or ERR_TOO_LARGE
 * (also when HOME is unset for a "~/" path). */
int path_expand_home(const char *path, char *out, size_t size);

#endif
