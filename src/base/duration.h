/* ssh-agent's time format for -t: "3600", "90m", "1h30m", "2d", "1w". */
#ifndef P11G_DURATION_H
#define P11G_DURATION_H

#include <stdint.h>

/* Seconds in `text`, or -1 when it is malformed or over a year. */
long duration_parse(const char *text);

#endif
