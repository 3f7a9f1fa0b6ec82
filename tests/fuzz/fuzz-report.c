/* libFuzzer target: the agent's status and refusal answers as p11guard reads them. */
#include <stddef.h>
#include <stdint.h>

#include "cli-report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_status st;
	struct refusal_rows rows;
	struct reason why;

	reason_clear(&why);
	if (status_decode(data, size, &st, &why) == ERR_OK && st.ntokens > 0 &&
	    st.tokens[0].name == NULL)
		__builtin_trap();
	status_free(&st);
	if (refusals_decode(data, size, &rows, &why) == ERR_OK && rows.n > 0 &&
	    rows.row[rows.n - 1].reason == NULL)
		__builtin_trap();
	refusals_rows_free(&rows);
	return 0;
}
