/*
 * For agents built in this tree: a connection's bindings with their parsed host keys (the
 * policy matches them), beyond the blobs sshagent_conn_binding() gives. Not installed.
 */
#ifndef P11G_CONN_BINDINGS_H
#define P11G_CONN_BINDINGS_H

#include "session-bind.h"
#include "sshagent.h"

const struct bindings *conn_bindings(const struct sshagent_conn *c);

#endif
