/* Minimal assertions for the unit tests: each failure names what was expected, and where. */
#ifndef P11G_CHECK_H
#define P11G_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond, ...) do { \
	check_count++; \
	if (!(cond)) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: FAIL: expected %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

#define CHECK_EQ_INT(got, want, what) \
	CHECK((long)(got) == (long)(want), "%s: got %ld, want %ld", what, (long)(got), (long)(want))

#define CHECK_DONE() do { \
	printf("%d checks, %d failed\n", check_count, check_failures); \
	return check_failures == 0 ? 0 : 1; \
} while (0)

#endif
