/*
 * Notices while a token works: when a signature has not finished after a short delay (a
 * touch policy, a PIN pad, a slow HSM), the notifier shows what is waiting, and the notice
 * is closed when the signature completes. Every notice is also logged.
 */
#ifndef P11G_NOTICE_H
#define P11G_NOTICE_H

#include "err.h"

#define NOTICE_DELAY_DEFAULT_MS 1000

struct notice;

/*
 * `command` is run as COMMAND TITLE BODY and sent SIGINT when the notice ends (notify-send
 * --wait closes its notice then); NULL picks notify-send when it is on PATH, else only the
 * log. Starts the notifier thread on first use.
 */
int notice_configure(unsigned delay_ms, const char *command, struct reason *why)
	__attribute__((warn_unused_result));
/* A notice shown if not ended within the delay (0: at once); NULL if it cannot be kept. */
struct notice *notice_arm(const char *title, const char *body, int at_once);
/* Ends a notice: never shown, or closed. */
void notice_end(struct notice *n);
/* A notice shown at once and closed by itself after `seconds` (a refusal, say). */
void notice_flash(const char *title, const char *body, unsigned seconds);

#endif
