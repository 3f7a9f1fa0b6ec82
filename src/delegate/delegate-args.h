/*
 * p11guard-ssh's command line, ssh's: the options ssh takes that a guarded session can
 * honour or that change nothing here (they go on to `ssh -G`, which reads the configuration),
 * and those it cannot, refused by name with exit 255.
 */
#ifndef P11G_DELEGATE_ARGS_H
#define P11G_DELEGATE_ARGS_H

#include <stddef.h>

#include "ssh-client.h"

#define DELEGATE_MAX_ARGS 256

enum delegate_parsed { ARGS_RUN, ARGS_DONE, ARGS_BAD };

struct delegate_args {
	char *ssh_g[DELEGATE_MAX_ARGS]; /* "ssh", "-G", the options, the destination, NULL */
	size_t nssh_g;
	enum ssh_session_kind kind;
	char *command;                  /* exec: the words joined; subsystem: its name */
	int verbose, quiet, stdin_null, print_config;
	int tty;                        /* -1: -T; else how many -t */
};

/* ARGS_DONE after --help or --version (printed); ARGS_BAD after a message on stderr. */
enum delegate_parsed delegate_args_parse(int argc, char **argv, struct delegate_args *a);
void delegate_args_free(struct delegate_args *a);

#endif
