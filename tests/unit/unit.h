/* What the Check units share: running a suite, and a scratch directory. */
#ifndef LOUPE_TESTS_UNIT_H
#define LOUPE_TESTS_UNIT_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs every test of s; the exit status for main. */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A check that cannot run here (no interpreter, not root, a kernel that
 * refuses) ends with unit_skip("why", ...): one line
 * "SKIPPED name: why" on stdout, which tests/run counts as a skipped check,
 * not a passed one.  Only to end a whole check (the macro returns from the
 * function it is in: the check's body, or a helper that is the rest of
 * it); a check that leaves out one part of several (one interpreter
 * missing) prints a plain "SKIP ..." note and goes on.  unit_skip_say
 * prints the line without returning, for a check that must clean up
 * first. */
/* The random cases of a fuzzing check: a quarter under the sanitizers,
 * whose run is for memory errors on the paths the cases take, not for
 * more paths (tests/fuzz does that), and runs them four to six times
 * slower. */
#if defined(__SANITIZE_ADDRESS__)
#define UNIT_CASES(n) ((n) / 4)
#else
#define UNIT_CASES(n) (n)
#endif

#define UNIT_SKIP_MARK "SKIPPED "
static inline void unit_skip_say(const char *fn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void unit_skip_say(const char *fn, const char *fmt, ...)
{
	/* START_TEST(name) makes name_fn */
	size_t n = strlen(fn);
	if (n > 3 && strcmp(fn + n - 3, "_fn") == 0)
		n -= 3;
	printf(UNIT_SKIP_MARK "%.*s: ", (int)n, fn);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}
#define unit_skip(...) \
	do { \
		unit_skip_say(__func__, __VA_ARGS__); \
		return; \
	} while (0)

/* A fresh directory for a test's files, on tmpfs when there is one: fsync
 * there costs nothing, so tests do not wait on a busy disk. */
static inline void unit_tmpdir_make(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "%s/%s.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", name);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void unit_tmpdir_remove(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

#endif
