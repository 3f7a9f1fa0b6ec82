/* Unit tests for src/duration.c (ssh-agent -t formats). */
#include "check.h"
#include "duration.h"

int main(void)
{
	CHECK_EQ_INT(duration_parse("3600"), 3600, "plain seconds");
	CHECK_EQ_INT(duration_parse("90m"), 5400, "minutes");
	CHECK_EQ_INT(duration_parse("1h30m"), 5400, "hours and minutes");
	CHECK_EQ_INT(duration_parse("2d"), 172800, "days");
	CHECK_EQ_INT(duration_parse("1w"), 604800, "weeks");
	CHECK_EQ_INT(duration_parse(""), -1, "empty");
	CHECK_EQ_INT(duration_parse("h"), -1, "unit without number");
	CHECK_EQ_INT(duration_parse("10x"), -1, "unknown unit");
	CHECK_EQ_INT(duration_parse("-5"), -1, "negative");
	CHECK_EQ_INT(duration_parse("99999999999999999999"), -1, "overflow");
	CHECK_EQ_INT(duration_parse("53w"), -1, "over a year");
	CHECK_DONE();
}
