/* Asking the user, through SSH_ASKPASS: a PIN, or a yes/no confirmation. */
#ifndef P11G_PROMPT_H
#define P11G_PROMPT_H

#include <stddef.h>

#include "err.h"

/* Seconds before an unanswered prompt counts as "no". */
#define PROMPT_TIMEOUT_DEFAULT 60

void prompt_set_timeout(unsigned seconds);
unsigned prompt_get_timeout(void);
/* Runs the askpass program with `text`; the answer's first line goes into `out`. */
int prompt_secret(const char *text, char *out, size_t size, struct reason *why)
	__attribute__((warn_unused_result));
/* ERR_OK only when the user said yes; a timeout or a closed prompt is ERR_DENIED. */
int prompt_confirm(const char *text, struct reason *why) __attribute__((warn_unused_result));

#endif
