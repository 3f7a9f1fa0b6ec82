/*
 * Asking the user to approve one signature, through askpass or pinentry, with the guards
 * against prompt flooding: one confirmation on screen at a time, and a forwarding hop whose
 * confirmations were declined again and again is refused without asking for a while.
 */
#ifndef P11G_CONFIRM_H
#define P11G_CONFIRM_H

#include "err.h"

/* Where a confirmation is asked (`confirm_prompt`); UNSET: not configured, fall back. */
enum confirm_via { CONFIRM_VIA_UNSET, CONFIRM_VIA_ASKPASS, CONFIRM_VIA_PINENTRY };

struct confirm_prompt {
	enum confirm_via via;
	const char *program;    /* the pinentry program; ignored for askpass */
};

/* Declines from one hop within the window that stop its prompts for the window. */
#define CONFIRM_DECLINES_MAX 3
#define CONFIRM_DECLINE_WINDOW_S 60

/*
 * Shows `text` and waits for the answer, at most the prompt timeout (prompt.h) to get the
 * screen and as long again for the answer. `origin` names the forwarding hop the request
 * came through (its host key fingerprint), or is NULL for a request from this machine.
 * ERR_OK only for an explicit yes; anything else is ERR_DENIED with a reason that starts
 * with "declined".
 */
int confirm_ask(const struct confirm_prompt *how, const char *origin, const char *text,
                struct reason *why) __attribute__((warn_unused_result));

#endif
