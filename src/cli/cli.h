/* p11guard, the control command: one function per subcommand. */
#ifndef P11G_CLI_H
#define P11G_CLI_H

#include "config.h"
#include "keystore.h"

int cli_tokens(int argc, char **argv);
int cli_policy(int argc, char **argv);
int cli_agent(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_why(int argc, char **argv);
int cli_audit(int argc, char **argv);

/*
 * Asks the agent at $SSH_AUTH_SOCK for extension `name` with `data` (NULL: none). 0 when it
 * answered: `body` then holds the answer after its name. Else 1, after printing why.
 */
int cli_agent_query(const char *name, const struct wbuf *data, struct wbuf *body);

/* `policy check` findings on this machine (cli-check.c), printed as they are found. */
struct check_counts {
	int errors, warnings;
};
void cli_check_machine(const struct config *cfg, struct check_counts *n);

/* The file named, else the default file, else the built-in configuration; 0 on success. */
int cli_load_config(const char *path, struct config *cfg);
/* The keys of one configured token entry, or NULL after printing why. */
struct ks_source *cli_open_source(const char *name, const char *module, const char *uri);

#endif
