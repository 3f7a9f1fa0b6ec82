/* For tests and fuzzers in this tree: a client over a socket that is already connected. */
#ifndef P11G_CLIENT_FD_H
#define P11G_CLIENT_FD_H

#include "sshagent.h"

/* Takes `fd` over (closed by sshagent_client_close); NULL when out of memory. */
struct sshagent_client *client_adopt_fd(int fd);

#endif
