/* lp_errno_class: one table maps errno to the engine's codes, by what
 * failed (a file of ours, the target's memory, /proc/PID, perf, an
 * output file written). */
#include <check.h>
#include <errno.h>

#include "error.h"
#include "unit.h"

struct row {
	int errnum;
	int file, memory, proc, perf, write;
};

/* What each use said before the table (error.c's lp_from_errno,
 * target.c's classify and task_error, perf_sys.c's errno_code,
 * atomic_file.c's atomic_errno_code), and so what it says now. */
static const struct row rows[] = {
	{ ESRCH, LP_ENOPROC, LP_ENOPROC, LP_ENOPROC, LP_ENOPROC, LP_EIO },
	{ EPERM, LP_EPERM, LP_EPERM, LP_EPERM, LP_EPERM, LP_EPERM },
	{ EACCES, LP_EPERM, LP_EPERM, LP_EPERM, LP_EPERM, LP_EPERM },
	{ EFAULT, LP_EFAULT, LP_EFAULT, LP_EFAULT, LP_EIO, LP_EIO },
	{ EIO, LP_EFAULT, LP_EFAULT, LP_EFAULT, LP_EIO, LP_EIO },
	{ EINVAL, LP_EINVAL, LP_EFAULT, LP_EINVAL, LP_EIO, LP_EIO },
	{ ENOMEM, LP_ENOMEM, LP_ENOMEM, LP_ENOMEM, LP_ENOMEM, LP_ENOMEM },
	{ ENOENT, LP_ENOTFOUND, LP_EIO, LP_ENOPROC, LP_EUNSUPPORTED, LP_EIO },
	{ ENODEV, LP_EIO, LP_EIO, LP_EIO, LP_EUNSUPPORTED, LP_EIO },
	{ EOPNOTSUPP, LP_EIO, LP_EIO, LP_EIO, LP_EUNSUPPORTED, LP_EIO },
	{ EMFILE, LP_EIO, LP_EIO, LP_EIO, LP_ENOMEM, LP_EIO },
	{ ENFILE, LP_EIO, LP_EIO, LP_EIO, LP_ENOMEM, LP_EIO },
	{ ECHILD, LP_EIO, LP_ENOPROC, LP_EIO, LP_EIO, LP_EIO },
	{ EROFS, LP_EIO, LP_EIO, LP_EIO, LP_EIO, LP_EPERM },
	/* anything else is an I/O error, whatever failed */
	{ EAGAIN, LP_EIO, LP_EIO, LP_EIO, LP_EIO, LP_EIO },
	{ ENOSPC, LP_EIO, LP_EIO, LP_EIO, LP_EIO, LP_EIO },
	{ 100000, LP_EIO, LP_EIO, LP_EIO, LP_EIO, LP_EIO },
	{ -1, LP_EIO, LP_EIO, LP_EIO, LP_EIO, LP_EIO },
};

START_TEST(by_use)
{
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		const struct row *r = &rows[i];
		ck_assert_msg(lp_errno_class(r->errnum, LP_USE_FILE) == r->file,
			      "errno %d as a file", r->errnum);
		ck_assert_msg(lp_errno_class(r->errnum, LP_USE_MEMORY) == r->memory,
			      "errno %d as memory", r->errnum);
		ck_assert_msg(lp_errno_class(r->errnum, LP_USE_PROC) == r->proc,
			      "errno %d as /proc", r->errnum);
		ck_assert_msg(lp_errno_class(r->errnum, LP_USE_PERF) == r->perf,
			      "errno %d as perf", r->errnum);
		ck_assert_msg(lp_errno_class(r->errnum, LP_USE_WRITE) == r->write,
			      "errno %d writing", r->errnum);
		ck_assert_int_eq(lp_from_errno(r->errnum), r->file);
	}
}
END_TEST

/* No errno after a failure is no success, but for the file use (which
 * has always said LP_OK to 0); a use out of range is the file one. */
START_TEST(edges)
{
	ck_assert_int_eq(lp_from_errno(0), LP_OK);
	ck_assert_int_eq(lp_errno_class(0, LP_USE_MEMORY), LP_EIO);
	ck_assert_int_eq(lp_errno_class(0, LP_USE_PROC), LP_EIO);
	ck_assert_int_eq(lp_errno_class(0, LP_USE_PERF), LP_EIO);
	ck_assert_int_eq(lp_errno_class(0, LP_USE_WRITE), LP_EIO);
	ck_assert_int_eq(lp_errno_class(ENOENT, (enum lp_errno_use)42), LP_ENOTFOUND);
	ck_assert_int_eq(lp_errno_class(ENOENT, (enum lp_errno_use)-1), LP_ENOTFOUND);
	/* every code it gives has a message */
	for (int u = LP_USE_FILE; u <= LP_USE_WRITE; u++)
		for (int e = 0; e < 200; e++) {
			int c = lp_errno_class(e, (enum lp_errno_use)u);
			ck_assert_int_ge(c, LP_OK);
			ck_assert_int_lt(c, LP_E_COUNT);
			ck_assert_str_ne(lp_strerror(c), "unknown error");
		}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("errno");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, by_use);
	tcase_add_test(tc, edges);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
