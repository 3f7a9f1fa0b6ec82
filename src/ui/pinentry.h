/* Asking for a PIN or a yes/no through a pinentry program (pinentry-curses, -gnome3, -qt). */
#ifndef P11G_PINENTRY_H
#define P11G_PINENTRY_H

#include <stddef.h>

#include "err.h"

/* Debian's alternatives link to the pinentry the user chose. */
#define PINENTRY_DEFAULT "/usr/bin/pinentry"

/*
 * Runs `program` and asks it for a PIN with `description` shown; waits at most
 * `timeout` seconds. A terminal pinentry is pointed at the terminal last named with
 * pinentry_set_terminal(), else at $GPG_TTY when set.
 */
int pinentry_get_pin(const char *program, const char *description, unsigned timeout,
                     char *pin, size_t size, struct reason *why)
	__attribute__((warn_unused_result));

/* The terminal a terminal pinentry draws on from now on, and its type (`p11guard tty`). */
void pinentry_set_terminal(const char *tty, const char *term);

/*
 * Asks `program` to confirm (Assuan CONFIRM, Allow/Deny) with `description` shown. ERR_OK
 * only when Allow was chosen; Deny, a timeout or a pinentry that went away is ERR_DENIED;
 * a program that cannot run is ERR_SYSTEM (nobody was asked).
 */
int pinentry_confirm(const char *program, const char *description, unsigned timeout,
                     struct reason *why) __attribute__((warn_unused_result));

#endif
