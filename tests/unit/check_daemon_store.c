/* The daemon's window store: names, modes, listing by time, retention by
 * age and size across targets, on files made with chosen times. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon_store.h"
#include "unit.h"

/* A window file of size bytes that started at start and was closed at end. */
static void make_window(const char *tdir, time_t start, time_t end, size_t size)
{
	char name[STORE_WINDOW_NAME_LEN], path[512];
	store_window_name(start, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s", tdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < size; i++)
		fputc('x', f);
	fclose(f);
	struct timespec ts[2] = { { end, 0 }, { end, 0 } };
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int exists(const char *dir, const char *sub, time_t start)
{
	char name[STORE_WINDOW_NAME_LEN], path[512];
	store_window_name(start, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
	return access(path, F_OK) == 0;
}

START_TEST(test_names)
{
	char buf[STORE_WINDOW_NAME_LEN];
	time_t t = 1795644900;	/* 2026-11-25 22:15:00 UTC */
	store_window_name(t, buf, sizeof buf);
	ck_assert_str_eq(buf, "20261125T221500Z.loupe");
	time_t back;
	ck_assert_int_eq(store_window_start(buf, &back), 0);
	ck_assert_int_eq(back, t);
	static const char *const not[] = {
		"20261125T221500Z.loupe.tmp.123", "20261125T221500Z.txt",
		"2026112XT221500Z.loupe", "20261325T221500Z.loupe",
		"20261125 221500Z.loupe", "notes", "", "x20261125T221500Z.loupe",
	};
	for (size_t i = 0; i < sizeof not / sizeof *not; i++)
		ck_assert_msg(store_window_start(not[i], &back) != 0, "%s", not[i]);
}
END_TEST

START_TEST(test_dirs_and_modes)
{
	char base[128], dir[200];
	unit_tmpdir_make(base, sizeof base, "loupe-store");
	snprintf(dir, sizeof dir, "%s/a/b/store", base);
	lp_error err = { 0 };
	mode_t old = umask(0);	/* the store's modes do not come from it */
	ck_assert_msg(store_init(dir, &err) == LP_OK, "%s", err.msg);
	umask(old);
	struct stat st;
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, STORE_DIR_MODE);
	/* an existing store opened to others is closed again */
	chmod(dir, 0777);
	ck_assert_int_eq(store_init(dir, &err), LP_OK);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0750);
	char *t;
	ck_assert_int_eq(store_target_dir(dir, "py/th on", 42, &t, &err), LP_OK);
	ck_assert(strstr(t, "/py_th_on-42"));
	ck_assert_int_eq(stat(t, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, STORE_DIR_MODE);
	free(t);
	ck_assert_int_eq(store_target_dir(dir, "..", 7, &t, &err), LP_OK);
	ck_assert(strstr(t, "/_.-7"));
	free(t);
	/* a file where the store should be */
	char file[160];
	snprintf(file, sizeof file, "%s/file", base);
	close(open(file, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_ne(store_init(file, &err), LP_OK);
	ck_assert(strstr(err.msg, "not a directory"));
	unit_tmpdir_remove(base);
}
END_TEST

START_TEST(test_list_range)
{
	char dir[128], *t;
	lp_error err = { 0 };
	unit_tmpdir_make(dir, sizeof dir, "loupe-store");
	ck_assert_int_eq(store_target_dir(dir, "app", 10, &t, &err), LP_OK);
	time_t now = time(NULL);
	/* four 60 s windows, the last closed 10 s ago, and a temporary */
	for (int i = 0; i < 4; i++)
		make_window(t, now - 250 + 60 * i, now - 190 + 60 * i, 100 + i);
	char tmp[400];
	snprintf(tmp, sizeof tmp, "%s/20990101T000000Z.loupe.tmp.1", t);
	close(open(tmp, O_CREAT | O_WRONLY, 0600));
	struct store_window *w;
	size_t n;
	ck_assert_int_eq(store_list(t, 0, 0, &w, &n, &err), LP_OK);
	ck_assert_uint_eq(n, 4);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(w[i].start, now - 250 + 60 * (time_t)i);
		ck_assert_int_eq(w[i].end, now - 190 + 60 * (time_t)i);
		ck_assert_uint_eq(w[i].size, 100 + i);
	}
	store_windows_free(w, n);
	/* the last 100 s: the windows that ended since, oldest first */
	ck_assert_int_eq(store_list(t, now - 100, 0, &w, &n, &err), LP_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(w[0].start, now - 130);
	store_windows_free(w, n);
	ck_assert_int_eq(store_list(t, now - 5, 0, &w, &n, &err), LP_OK);
	ck_assert_uint_eq(n, 0);
	store_windows_free(w, n);
	ck_assert_int_eq(store_list(t, 0, now - 200, &w, &n, &err), LP_OK);
	ck_assert_uint_eq(n, 1);
	store_windows_free(w, n);
	free(t);
	ck_assert_int_ne(store_list("/nonexistent/x", 0, 0, &w, &n, &err), LP_OK);
	ck_assert(strstr(err.msg, "cannot list /nonexistent/x"));
	unit_tmpdir_remove(dir);
}
END_TEST

START_TEST(test_retention)
{
	char dir[128], *a, *b, *gone;
	lp_error err = { 0 };
	unit_tmpdir_make(dir, sizeof dir, "loupe-store");
	ck_assert_int_eq(store_target_dir(dir, "a", 1, &a, &err), LP_OK);
	ck_assert_int_eq(store_target_dir(dir, "b", 2, &b, &err), LP_OK);
	ck_assert_int_eq(store_target_dir(dir, "gone", 3, &gone, &err), LP_OK);
	time_t now = time(NULL);
	/* a: ended 1000, 500, 100 s ago; b: 400, 50 s ago; 1000 bytes each */
	make_window(a, now - 1060, now - 1000, 1000);
	make_window(a, now - 560, now - 500, 1000);
	make_window(a, now - 160, now - 100, 1000);
	make_window(b, now - 460, now - 400, 1000);
	make_window(b, now - 110, now - 50, 1000);
	make_window(gone, now - 5060, now - 5000, 1000);
	ck_assert_uint_eq(store_usage(dir), 6000);
	struct store_retention r;
	const char *keep[] = { a, b };
	/* by age: older than 900 s goes (a's first, gone's only) */
	ck_assert_int_eq(store_retain(dir, now, 900, 0, keep, 2, &r, &err), LP_OK);
	ck_assert_uint_eq(r.removed, 2);
	ck_assert_uint_eq(r.kept, 4);
	ck_assert_uint_eq(r.kept_bytes, 4000);
	ck_assert(!exists(dir, "a-1", now - 1060));
	ck_assert(exists(dir, "a-1", now - 560));
	/* the directory of a target that is gone, now empty, is removed */
	ck_assert_int_ne(access(gone, F_OK), 0);
	ck_assert_int_eq(access(a, F_OK), 0);
	/* by size: 2500 bytes keeps the two newest, across targets */
	ck_assert_int_eq(store_retain(dir, now, 0, 2500, keep, 2, &r, &err), LP_OK);
	ck_assert_uint_eq(r.removed, 2);
	ck_assert_uint_eq(r.removed_bytes, 2000);
	ck_assert(!exists(dir, "a-1", now - 560));
	ck_assert(!exists(dir, "b-2", now - 460));
	ck_assert(exists(dir, "a-1", now - 160));
	ck_assert(exists(dir, "b-2", now - 110));
	ck_assert_uint_eq(store_usage(dir), 2000);
	/* no limits: nothing goes */
	ck_assert_int_eq(store_retain(dir, now, 0, 0, keep, 2, &r, &err), LP_OK);
	ck_assert_uint_eq(r.removed, 0);
	free(a);
	free(b);
	free(gone);
	unit_tmpdir_remove(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_store");
	TCase *tc = tcase_create("store");
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_dirs_and_modes);
	tcase_add_test(tc, test_list_range);
	tcase_add_test(tc, test_retention);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
