/* The daemon's window store: names, modes, listing by time, retention by
 * age and size across targets, on files made with chosen times; the
 * store's directory rule (owner, writable by others, sticky) and links
 * planted in it, never followed. */
#include <check.h>
#include <dirent.h>
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
	store *s;
	mode_t old = umask(0);	/* the store's modes do not come from it */
	ck_assert_msg(store_open(&s, dir, &err) == LP_OK, "%s", err.msg);
	umask(old);
	struct stat st;
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, STORE_DIR_MODE);
	char *t;
	ck_assert_int_eq(store_target_dir(s, "py/th on", 42, 1234, &t, &err), LP_OK);
	ck_assert(strstr(t, "/py_th_on-42-1234"));
	ck_assert_int_eq(stat(t, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, STORE_DIR_MODE);
	free(t);
	ck_assert_int_eq(store_target_dir(s, "..", 7, 8, &t, &err), LP_OK);
	ck_assert(strstr(t, "/_.-7-8"));
	free(t);
	/* an existing one of ours is taken, its mode set again */
	char old_dir[300];
	snprintf(old_dir, sizeof old_dir, "%s/app-9-10", dir);
	ck_assert_int_eq(mkdir(old_dir, 0755), 0);
	ck_assert_int_eq(store_target_dir(s, "app", 9, 10, &t, &err), LP_OK);
	ck_assert_int_eq(stat(t, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, STORE_DIR_MODE);
	free(t);
	ck_assert_uint_eq(store_errors(s), 0);
	store_free(s);
	/* one of ours others may read is closed to them */
	chmod(dir, 0755);
	ck_assert_int_eq(store_open(&s, dir, &err), LP_OK);
	store_free(s);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0750);
	/* one others may write is refused, with the fix, and left as it is */
	chmod(dir, 0777);
	ck_assert_int_ne(store_open(&s, dir, &err), LP_OK);
	ck_assert_msg(strstr(err.msg, "writable by other users") && strstr(err.msg, "chmod go-w"), "%s", err.msg);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0777);
	chmod(dir, 0770);
	ck_assert_int_ne(store_open(&s, dir, &err), LP_OK);
	/* unless sticky (as /tmp): nobody else can rename our entries */
	chmod(dir, 01777);
	ck_assert_msg(store_open(&s, dir, &err) == LP_OK, "%s", err.msg);
	store_free(s);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 01777);	/* a shared dir's mode stays */
	chmod(dir, 0750);
	/* a link to a directory is not followed: the directory itself */
	char link[200];
	snprintf(link, sizeof link, "%s/link", base);
	ck_assert_int_eq(symlink(dir, link), 0);
	ck_assert_int_ne(store_open(&s, link, &err), LP_OK);
	ck_assert_msg(strstr(err.msg, "symbolic link"), "%s", err.msg);
	/* a file where the store should be */
	char file[160];
	snprintf(file, sizeof file, "%s/file", base);
	close(open(file, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_ne(store_open(&s, file, &err), LP_OK);
	ck_assert(strstr(err.msg, "not a directory"));
	unit_tmpdir_remove(base);
}
END_TEST

/* Another user's dir (root only: chown). */
START_TEST(test_owner)
{
	if (geteuid() != 0)
		unit_skip("needs root (chown)");
	char base[128], dir[200];
	unit_tmpdir_make(base, sizeof base, "loupe-store");
	snprintf(dir, sizeof dir, "%s/store", base);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(chown(dir, 65534, 65534), 0);
	lp_error err = { 0 };
	store *s;
	ck_assert_int_ne(store_open(&s, dir, &err), LP_OK);
	ck_assert_msg(strstr(err.msg, "belongs to uid 65534") && strstr(err.msg, "chown root"), "%s", err.msg);
	struct stat st;
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0755);	/* untouched */
	/* in a sticky shared dir, a target directory another user made
	 * first is not used (nor looked in by retention) */
	ck_assert_int_eq(chown(dir, 0, 0), 0);
	chmod(dir, 01777);
	ck_assert_int_eq(store_open(&s, dir, &err), LP_OK);
	char theirs[300];
	snprintf(theirs, sizeof theirs, "%s/app-5-6", dir);
	ck_assert_int_eq(mkdir(theirs, 0755), 0);
	ck_assert_int_eq(chown(theirs, 65534, 65534), 0);
	char *t;
	ck_assert_int_ne(store_target_dir(s, "app", 5, 6, &t, &err), LP_OK);
	ck_assert_msg(strstr(err.msg, "belongs to uid 65534"), "%s", err.msg);
	make_window(theirs, 1000, 1060, 10);
	ck_assert_int_eq(store_retain(s, time(NULL), 1, 0, NULL, 0, NULL, &err), LP_OK);
	ck_assert(exists(dir, "app-5-6", 1000));
	ck_assert_uint_eq(store_usage(s), 0);
	store_free(s);
	unit_tmpdir_remove(base);
}
END_TEST

/* Links planted in the store: before a target's directory is made, and in
 * place of it after; window-named links inside.  The victims keep their
 * modes and contents, and nothing is written or deleted through a link. */
START_TEST(test_links)
{
	char base[128], dir[200], victim[200], vfile[STORE_WINDOW_NAME_LEN];
	unit_tmpdir_make(base, sizeof base, "loupe-store");
	snprintf(dir, sizeof dir, "%s/store", base);
	snprintf(victim, sizeof victim, "%s/victim", base);
	ck_assert_int_eq(mkdir(victim, 0700), 0);
	make_window(victim, 1000, 1060, 7);
	store_window_name(1000, vfile, sizeof vfile);
	char vpath[400];
	snprintf(vpath, sizeof vpath, "%s/%s", victim, vfile);
	lp_error err = { 0 };
	store *s;
	ck_assert_int_eq(store_open(&s, dir, &err), LP_OK);
	char lname[300], *t;
	/* planted before: refused, the victim's mode stays */
	snprintf(lname, sizeof lname, "%s/svc-11-12", dir);
	ck_assert_int_eq(symlink(victim, lname), 0);
	ck_assert_int_ne(store_target_dir(s, "svc", 11, 12, &t, &err), LP_OK);
	ck_assert_msg(strstr(err.msg, "symbolic link"), "%s", err.msg);
	struct stat st;
	ck_assert_int_eq(stat(victim, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ck_assert_uint_eq(store_errors(s), 1);
	/* in place of a directory made before: a window is refused and
	 * counted, nothing is written in the victim */
	ck_assert_int_eq(store_target_dir(s, "app", 13, 14, &t, &err), LP_OK);
	store_file f;
	ck_assert_int_eq(store_window_open(s, "app-13-14", 2000, &f, &err), LP_OK);
	fputs("window", f.fp);
	ck_assert_int_eq(store_window_commit(s, &f, &err), LP_OK);
	ck_assert_int_eq(store_window_open(s, "app-13-14", 2001, &f, &err), LP_OK);
	store_window_abort(&f);
	struct store_window *w;
	size_t n;
	ck_assert_int_eq(store_list_target(s, "app-13-14", 0, 0, &w, &n, &err), LP_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(w[0].size, 6);
	store_windows_free(w, n);
	char moved[300];
	snprintf(moved, sizeof moved, "%s/moved", base);
	ck_assert_int_eq(rename(t, moved), 0);
	ck_assert_int_eq(symlink(victim, t), 0);
	ck_assert_int_ne(store_window_open(s, "app-13-14", 3000, &f, &err), LP_OK);
	ck_assert_msg(strstr(err.msg, "symbolic link"), "%s", err.msg);
	ck_assert_int_ne(store_list_target(s, "app-13-14", 0, 0, &w, &n, &err), LP_OK);
	ck_assert_uint_eq(store_errors(s), 3);
	/* retention: neither the linked directory nor a window-named link
	 * in a real one is followed */
	char *real;
	ck_assert_int_eq(store_target_dir(s, "real", 15, 16, &real, &err), LP_OK);
	char wlink[400];
	snprintf(wlink, sizeof wlink, "%s/%s", real, vfile);
	ck_assert_int_eq(symlink(vpath, wlink), 0);
	ck_assert_uint_eq(store_usage(s), 0);
	ck_assert_int_eq(store_retain(s, time(NULL), 1, 1, NULL, 0, NULL, &err), LP_OK);
	ck_assert_int_eq(stat(vpath, &st), 0);
	ck_assert_uint_eq(st.st_size, 7);
	ck_assert_int_eq(lstat(wlink, &st), 0);	/* not a window: kept */
	ck_assert_int_eq(lstat(t, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));	/* a link is not removed as a directory */
	DIR *d = opendir(victim);
	struct dirent *de;
	unsigned entries = 0;
	while ((de = readdir(d)))
		entries += de->d_name[0] != '.';
	closedir(d);
	ck_assert_uint_eq(entries, 1);	/* nothing written in it */
	free(t);
	free(real);
	store_free(s);
	unit_tmpdir_remove(base);
}
END_TEST

START_TEST(test_list_range)
{
	char dir[128], *t;
	lp_error err = { 0 };
	unit_tmpdir_make(dir, sizeof dir, "loupe-store");
	store *s;
	ck_assert_int_eq(store_open(&s, dir, &err), LP_OK);
	ck_assert_int_eq(store_target_dir(s, "app", 10, 99, &t, &err), LP_OK);
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
	/* the same through the store */
	ck_assert_int_eq(store_list_target(s, "app-10-99", now - 100, 0, &w, &n, &err), LP_OK);
	ck_assert_uint_eq(n, 2);
	store_window_name(now - 70, tmp, sizeof tmp);
	ck_assert(strncmp(w[1].path, t, strlen(t)) == 0 && strcmp(w[1].path + strlen(t) + 1, tmp) == 0);
	store_windows_free(w, n);
	free(t);
	ck_assert_int_ne(store_list("/nonexistent/x", 0, 0, &w, &n, &err), LP_OK);
	ck_assert(strstr(err.msg, "cannot list /nonexistent/x"));
	store_free(s);
	unit_tmpdir_remove(dir);
}
END_TEST

START_TEST(test_retention)
{
	char dir[128], *a, *b, *gone;
	lp_error err = { 0 };
	unit_tmpdir_make(dir, sizeof dir, "loupe-store");
	store *s;
	ck_assert_int_eq(store_open(&s, dir, &err), LP_OK);
	ck_assert_int_eq(store_target_dir(s, "a", 1, 0, &a, &err), LP_OK);
	ck_assert_int_eq(store_target_dir(s, "b", 2, 0, &b, &err), LP_OK);
	ck_assert_int_eq(store_target_dir(s, "gone", 3, 0, &gone, &err), LP_OK);
	time_t now = time(NULL);
	/* a: ended 1000, 500, 100 s ago; b: 400, 50 s ago; 1000 bytes each */
	make_window(a, now - 1060, now - 1000, 1000);
	make_window(a, now - 560, now - 500, 1000);
	make_window(a, now - 160, now - 100, 1000);
	make_window(b, now - 460, now - 400, 1000);
	make_window(b, now - 110, now - 50, 1000);
	make_window(gone, now - 5060, now - 5000, 1000);
	ck_assert_uint_eq(store_usage(s), 6000);
	struct store_retention r;
	const char *keep[] = { a, b };
	/* by age: older than 900 s goes (a's first, gone's only) */
	ck_assert_int_eq(store_retain(s, now, 900, 0, keep, 2, &r, &err), LP_OK);
	ck_assert_uint_eq(r.removed, 2);
	ck_assert_uint_eq(r.kept, 4);
	ck_assert_uint_eq(r.kept_bytes, 4000);
	ck_assert(!exists(dir, "a-1-0", now - 1060));
	ck_assert(exists(dir, "a-1-0", now - 560));
	/* the directory of a target that is gone, now empty, is removed */
	ck_assert_int_ne(access(gone, F_OK), 0);
	ck_assert_int_eq(access(a, F_OK), 0);
	/* by size: 2500 bytes keeps the two newest, across targets */
	ck_assert_int_eq(store_retain(s, now, 0, 2500, keep, 2, &r, &err), LP_OK);
	ck_assert_uint_eq(r.removed, 2);
	ck_assert_uint_eq(r.removed_bytes, 2000);
	ck_assert(!exists(dir, "a-1-0", now - 560));
	ck_assert(!exists(dir, "b-2-0", now - 460));
	ck_assert(exists(dir, "a-1-0", now - 160));
	ck_assert(exists(dir, "b-2-0", now - 110));
	ck_assert_uint_eq(store_usage(s), 2000);
	/* no limits: nothing goes */
	ck_assert_int_eq(store_retain(s, now, 0, 0, keep, 2, &r, &err), LP_OK);
	ck_assert_uint_eq(r.removed, 0);
	ck_assert_uint_eq(r.temporaries, 0);
	/* a killed daemon's temporaries go once a minute old; a fresh one
	 * (being written) and other names stay */
	static const char *const tmps[] = {
		"20261125T221500Z.loupe.tmp.123", "20261125T221600Z.loupe.tmp.1",
		"notes.tmp.5", "20261125T221500Z.loupe.tmp.x",
	};
	char path[400];
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s", a, tmps[i]);
		close(open(path, O_CREAT | O_WRONLY, 0600));
		time_t when = i == 1 ? now - 10 : now - 3600;
		struct timespec ts[2] = { { when, 0 }, { when, 0 } };
		ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	}
	ck_assert_int_eq(store_retain(s, now, 0, 0, keep, 2, &r, &err), LP_OK);
	ck_assert_uint_eq(r.temporaries, 1);
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s", a, tmps[i]);
		ck_assert_msg((access(path, F_OK) == 0) == (i != 0), "%s", tmps[i]);
	}
	free(a);
	free(b);
	free(gone);
	store_free(s);
	unit_tmpdir_remove(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_store");
	TCase *tc = tcase_create("store");
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_dirs_and_modes);
	tcase_add_test(tc, test_owner);
	tcase_add_test(tc, test_links);
	tcase_add_test(tc, test_list_range);
	tcase_add_test(tc, test_retention);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
