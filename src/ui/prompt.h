/* Asking the user, through SSH_ASKPASS: a PIN, or a yes/no confirmation. */
#ifndef P11G_PROMPT_H
#define P11G_PROMPT_H

#include <stddef.h>

#include "err.h"

/* Seconds before an unanswered prompt counts as "no". */
#define PROMPT_TIMEOUT_DEFAULT 60

void prompt_set_timeout(unsigned seconds);
unsigned prompt_get_timeout(void);
/*
 * Runs the askpass program with `text`; the answer's first line goes into `out`. No askpass
 * program or one that cannot run is ERR_PIN_NEEDED.
 */
int prompt_secret(const char *text, char *out, size_t size, struct reason *why)
	__attribute__((warn_unused_result));
/*
 * Runs the askpass program with SSH_ASKPASS_PROMPT=confirm. ERR_OK only for an explicit yes
 * (prompt_answer_is_yes, exit 0); a no, another answer, a crash or a timeout is ERR_DENIED;
 * no askpass program, or one that cannot run, is ERR_SYSTEM (nobody was asked).
 */
int prompt_confirm(const char *text, struct reason *why) __attribute__((warn_unused_result));
/* Whether a prompt's whole output, less one trailing "\n" or "\r\n", is empty or "yes" in any case. */
int prompt_answer_is_yes(const char *answer, size_t len);

#endif
