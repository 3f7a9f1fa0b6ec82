/*
 * A reason (err.h) as libsshagent's public struct sshagent_reason: the same code and text
 * (serve-request.c checks that the two agree). For the library and agents in this tree.
 */
#ifndef P11G_REASON_EXPORT_H
#define P11G_REASON_EXPORT_H

#include "err.h"
#include "sshagent.h"

void reason_export(const struct reason *in, struct sshagent_reason *out);

#endif
