/* Unit tests for src/prompt.c: which askpass answers count as an explicit yes. */
#include "check.h"
#include "prompt.h"

static int yes(const char *answer, size_t len)
{
	return prompt_answer_is_yes(answer, len);
}

#define YES(s) CHECK(yes(s, sizeof(s) - 1), "\"%s\" is a yes", s)
#define NO(s) CHECK(!yes(s, sizeof(s) - 1), "\"%s\" is not a yes", s)

int main(void)
{
	YES("");
	YES("yes");
	YES("YES");
	YES("yEs");
	YES("yes\n");
	YES("yes\r\n");
	YES("\n");
	YES("\r\n");
	NO("123456");
	NO("123456\n");
	NO("no");
	NO("y");
	NO("ye");
	NO("yess");
	NO(" yes");
	NO("yes ");
	NO("yes\r");            /* a lone CR is not a line end here */
	NO("yes\n\n");
	NO("yes\nsecond line\n");
	NO("yes\r\n\r\n");
	NO("\n\n");
	NO("yes\0");            /* a NUL byte is output too */
	NO("\0yes");
	CHECK_DONE();
}
