/*
 * The agent's answers to `p11guard status` and `p11guard why` (status@p11guard and
 * why@p11guard), read off the wire with the bounded buffer: every length is checked, every
 * string must be free of NUL, and nothing may follow the last field.
 */
#ifndef P11G_CLI_REPORT_H
#define P11G_CLI_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define REPORT_MAX_ROWS 1000

struct status_token {
	char *name, *label, *pin, *tries;
	int present;
};

struct agent_status {
	uint32_t pid;
	char *socket;
	uint64_t started;
	char *config;
	uint64_t config_loaded;
	char *reload_error;     /* "" when the last reload worked */
	char *policy_file;
	uint32_t rules;
	int builtin, locked;
	struct status_token *tokens;
	size_t ntokens;
	struct status_session {
		char *id, *server, *user, *command;
	} *sessions;                    /* guarded sessions running */
	size_t nsessions;
};

struct refusal_row {
	uint64_t when;
	uint32_t pid, uid;
	char *what, *key, *key_label, *dest, *rule, *reason;
};

struct refusal_rows {
	struct refusal_row *row;
	size_t n;
};

int status_decode(const uint8_t *p, size_t len, struct agent_status *st, struct reason *why)
	__attribute__((warn_unused_result));
void status_free(struct agent_status *st);
int refusals_decode(const uint8_t *p, size_t len, struct refusal_rows *rows,
                    struct reason *why) __attribute__((warn_unused_result));
void refusals_rows_free(struct refusal_rows *rows);

#endif
