/* What the Check units share: running a suite, and a scratch directory. */
#ifndef LOUPE_TESTS_UNIT_H
#define LOUPE_TESTS_UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
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
