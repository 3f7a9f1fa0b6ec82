/* p11guard, the control command: one function per subcommand. */
#ifndef P11G_CLI_H
#define P11G_CLI_H

int cli_tokens(int argc, char **argv);

#endif
