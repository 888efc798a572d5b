/*
 * check — the unit tests' harness, header only: count each result, print
 * each failure with its file and line, and end with "N passed, M failed".
 * One test program includes it once (the counters are static); a test's own
 * helpers may count into passed and failed directly.
 *
 *   CHECK(cond)            cond is true
 *   CHECK_MSG(cond, what)  the same, the failure described by what
 *   CHECK_RC(expr, want)   an int result equals want (both printed on failure)
 *   CHECK_STR(got, want)   two strings are equal (both printed on failure)
 *   check_at(ok, __FILE__, line, what)  for a helper that reports its caller's line
 *   return check_done();   the summary line; the exit status (1 if any failed)
 */
#ifndef POSTNOOK_CHECK_H
#define POSTNOOK_CHECK_H

#include <stdio.h>
#include <string.h>

static int passed, failed;

/* Count one result; on failure print where it was and what failed. */
static inline void check_at(int ok, const char *file, int line, const char *what)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		printf("FAIL %s:%d: %s\n", file, line, what);
	}
}

/* Count one comparison of int results; on failure print both numbers. */
static inline void check_rc_at(int rc, int want, const char *file, int line, const char *what)
{
	if (rc == want) {
		passed++;
	} else {
		failed++;
		printf("FAIL %s:%d: %s = %d, want %d\n", file, line, what, rc, want);
	}
}

/* Count one comparison of strings; on failure print both. */
static inline void check_str_at(const char *got, const char *want, const char *file, int line)
{
	if (strcmp(got, want) == 0) {
		passed++;
	} else {
		failed++;
		printf("FAIL %s:%d:\n  got  %s\n  want %s\n", file, line, got, want);
	}
}

/* Print "N passed, M failed"; the program's exit status: 0, or 1 if anything failed. */
static inline int check_done(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define CHECK(cond) check_at(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_MSG(cond, what) check_at(!!(cond), __FILE__, __LINE__, (what))
#define CHECK_RC(expr, want) check_rc_at((expr), (want), __FILE__, __LINE__, #expr)
#define CHECK_STR(got, want) check_str_at((got), (want), __FILE__, __LINE__)

#endif
