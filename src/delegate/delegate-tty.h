/*
 * The terminal of an interactive guarded session (-t): its type, size and modes for the
 * request (RFC 4254 sections 6.2 and 8), raw mode while the session runs, and the terminal
 * restored on every way out: the end of the session, an error, a signal.
 */
#ifndef P11G_DELEGATE_TTY_H
#define P11G_DELEGATE_TTY_H

#include <stdint.h>

#include "ssh-client.h"
#include "wire.h"

/* Fills `pty` from the terminal on fd 0; its modes encoded into `modes` (which owns them). */
int delegate_tty_describe(struct ssh_pty *pty, struct wbuf *modes);
/* The terminal's size: columns, rows, width and height in pixels. */
void delegate_tty_size(uint32_t size[4]);
/* Raw mode on fd 0 until delegate_tty_restore, at exit, or a terminating signal. */
int delegate_tty_raw(void);
void delegate_tty_restore(void);
/* The end of a line of our own on stderr: CR LF while the terminal is raw. */
const char *delegate_tty_eol(void);
/* SIGWINCH noted from here on; whether it came since the last call. */
int delegate_tty_watch_size(void);
int delegate_tty_resized(void);

#endif
