/* Unit tests of the format helpers (names, extensions, modes, weights,
 * frame text), the collapsed writer, atomic files and format_write_file. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats/formats.h"
#include "unit.h"

static uint32_t frame(profile *p, enum frame_kind kind, const char *func,
		      const char *file, const char *module, int line,
		      uint64_t offset)
{
	struct frame f = { .kind = kind,
			   .func = profile_intern_cstr(p, func),
			   .file = profile_intern_cstr(p, file),
			   .module = profile_intern_cstr(p, module),
			   .line = line,
			   .offset = offset };
	return profile_intern_frame(p, &f);
}

static void add(profile *p, uint32_t stack, int tid, uint32_t flags, int n)
{
	struct sample s = { .pid = 100, .tid = tid, .stack = stack,
			    .flags = flags, .cpu_ns = 1000 };
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
}

/* The small profile every collapsed test writes. */
static profile *small_profile(void)
{
	profile *p = profile_new();
	uint32_t m = frame(p, FRAME_PYTHON, "main", "m.py", NULL, 1, 0);
	uint32_t w10 = frame(p, FRAME_PYTHON, "work", "m.py", NULL, 10, 0);
	uint32_t w11 = frame(p, FRAME_PYTHON, "work", "m.py", NULL, 11, 0);
	uint32_t ns = frame(p, FRAME_NATIVE, "nanosleep", NULL, "libc.so.6",
			    0, 0);
	uint32_t un = frame(p, FRAME_NATIVE, NULL, NULL, "libfoo.so", 0,
			    0x1a2b);
	uint32_t odd = frame(p, FRAME_PYTHON, "a;b\nc", "m.py", NULL, 3, 0);
	uint32_t a[] = { m, w10 }, b[] = { m, w11 }, c[] = { m, ns },
		 d[] = { m, un }, f[] = { m, odd };
	add(p, profile_intern_stack(p, a, 2), 1, SAMPLE_ON_CPU | SAMPLE_GIL, 3);
	add(p, profile_intern_stack(p, a, 2), 1, SAMPLE_IDLE, 1);
	add(p, profile_intern_stack(p, b, 2), 1, SAMPLE_ON_CPU, 2);
	add(p, profile_intern_stack(p, c, 2), 2, SAMPLE_IDLE, 4);
	add(p, profile_intern_stack(p, d, 2), 2, SAMPLE_ON_CPU, 1);
	add(p, 0, 2, 0, 1);
	add(p, profile_intern_stack(p, f, 2), 1, SAMPLE_ON_CPU | SAMPLE_GIL, 1);
	profile_set_thread(p, 100, 1, "MainThread");
	return p;
}

static char *collapsed(const profile *p, enum sample_mode mode, bool lines,
		       bool threads, bool idle)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	struct output_opts o = { .mode = mode, .lines = lines,
				 .threads = threads, .idle = idle };
	ck_assert_int_eq(collapsed_write(p, fp, &o), LP_OK);
	fclose(fp);
	return text;
}

static void expect(const profile *p, enum sample_mode mode, bool lines,
		   bool threads, bool idle, const char *want)
{
	char *got = collapsed(p, mode, lines, threads, idle);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_collapsed_wall_lines)
{
	profile *p = small_profile();
	expect(p, MODE_WALL, true, false, false,
	       "<no stack> 1\n"
	       "main (m.py:1);a:b c (m.py:3) 1\n"
	       "main (m.py:1);libfoo.so+0x1a2b 1\n"
	       "main (m.py:1);nanosleep 4\n"
	       "main (m.py:1);work (m.py:10) 4\n"
	       "main (m.py:1);work (m.py:11) 2\n");
	profile_free(p);
}
END_TEST

START_TEST(test_collapsed_wall_nolines)
{
	profile *p = small_profile();
	/* work:10 and work:11 fold to one line */
	expect(p, MODE_WALL, false, false, false,
	       "<no stack> 1\n"
	       "main (m.py);a:b c (m.py) 1\n"
	       "main (m.py);libfoo.so+0x1a2b 1\n"
	       "main (m.py);nanosleep 4\n"
	       "main (m.py);work (m.py) 6\n");
	profile_free(p);
}
END_TEST

START_TEST(test_collapsed_cpu_gil)
{
	profile *p = small_profile();
	expect(p, MODE_CPU, true, false, false,
	       "main (m.py:1);a:b c (m.py:3) 1\n"
	       "main (m.py:1);libfoo.so+0x1a2b 1\n"
	       "main (m.py:1);work (m.py:10) 3\n"
	       "main (m.py:1);work (m.py:11) 2\n");
	expect(p, MODE_CPU, true, false, true,
	       "main (m.py:1);a:b c (m.py:3) 1\n"
	       "main (m.py:1);libfoo.so+0x1a2b 1\n"
	       "main (m.py:1);nanosleep 4\n"
	       "main (m.py:1);work (m.py:10) 4\n"
	       "main (m.py:1);work (m.py:11) 2\n");
	expect(p, MODE_GIL, false, false, false,
	       "main (m.py);a:b c (m.py) 1\n"
	       "main (m.py);work (m.py) 3\n");
	profile_free(p);
}
END_TEST

START_TEST(test_collapsed_threads)
{
	profile *p = small_profile();
	expect(p, MODE_WALL, false, true, false,
	       "thread 1 (MainThread);main (m.py);a:b c (m.py) 1\n"
	       "thread 1 (MainThread);main (m.py);work (m.py) 6\n"
	       "thread 2;<no stack> 1\n"
	       "thread 2;main (m.py);libfoo.so+0x1a2b 1\n"
	       "thread 2;main (m.py);nanosleep 4\n");
	profile_free(p);
}
END_TEST

/* A demangled C++ name of kilobytes is written whole. */
START_TEST(test_collapsed_long_name)
{
	profile *p = profile_new();
	size_t n = 6000;
	char *name = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		name[i] = (char)('a' + i % 26);
	name[n] = '\0';
	uint32_t f = frame(p, FRAME_NATIVE, name, NULL, "libx.so", 0, 0);
	add(p, profile_intern_stack(p, &f, 1), 1, SAMPLE_ON_CPU, 2);
	char *want = malloc(n + 8);
	snprintf(want, n + 8, "%s 2\n", name);
	expect(p, MODE_WALL, true, false, false, want);
	free(want);
	free(name);
	profile_free(p);
}
END_TEST

START_TEST(test_collapsed_empty)
{
	profile *p = profile_new();
	expect(p, MODE_WALL, true, false, false, "");
	profile_free(p);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_int_eq(format_from_name("collapsed"), FORMAT_COLLAPSED);
	ck_assert_int_eq(format_from_name("flamegraph"), FORMAT_FLAMEGRAPH);
	ck_assert_int_eq(format_from_name("speedscope"), FORMAT_SPEEDSCOPE);
	ck_assert_int_eq(format_from_name("chrome"), FORMAT_CHROME);
	ck_assert_int_eq(format_from_name("pprof"), FORMAT_PPROF);
	ck_assert_int_eq(format_from_name("pstats"), FORMAT_PSTATS);
	ck_assert_int_eq(format_from_name("loupe"), FORMAT_RAW);
	ck_assert_int_eq(format_from_name("xml"), FORMAT_NONE);
	ck_assert_int_eq(format_from_name(NULL), FORMAT_NONE);
	ck_assert_str_eq(format_name(FORMAT_RAW), "loupe");
	ck_assert_str_eq(format_name(FORMAT_PPROF), "pprof");

	ck_assert_int_eq(format_from_path("out.svg"), FORMAT_FLAMEGRAPH);
	ck_assert_int_eq(format_from_path("a/out.speedscope.json"),
			 FORMAT_SPEEDSCOPE);
	ck_assert_int_eq(format_from_path("out.json"), FORMAT_SPEEDSCOPE);
	ck_assert_int_eq(format_from_path("/tmp/x.trace.json"), FORMAT_CHROME);
	ck_assert_int_eq(format_from_path("x.txt"), FORMAT_COLLAPSED);
	ck_assert_int_eq(format_from_path("x.folded"), FORMAT_COLLAPSED);
	ck_assert_int_eq(format_from_path("x.pb.gz"), FORMAT_PPROF);
	ck_assert_int_eq(format_from_path("x.gz"), FORMAT_NONE);
	ck_assert_int_eq(format_from_path("x.prof"), FORMAT_PSTATS);
	ck_assert_int_eq(format_from_path("x.pstats"), FORMAT_PSTATS);
	ck_assert_int_eq(format_from_path("x.loupe"), FORMAT_RAW);
	ck_assert_int_eq(format_from_path("x"), FORMAT_NONE);
	ck_assert_int_eq(format_from_path("dir.svg/x"), FORMAT_NONE);
	ck_assert_int_eq(format_from_path(".txt"), FORMAT_NONE);
	ck_assert_int_eq(format_from_path("OUT.SVG"), FORMAT_FLAMEGRAPH);

	enum sample_mode m = MODE_WALL;
	ck_assert_int_eq(format_mode_from_name("cpu", &m), LP_OK);
	ck_assert_int_eq(m, MODE_CPU);
	ck_assert_int_eq(format_mode_from_name("gil", &m), LP_OK);
	ck_assert_int_eq(m, MODE_GIL);
	ck_assert_int_eq(format_mode_from_name("wall", &m), LP_OK);
	ck_assert_int_eq(m, MODE_WALL);
	ck_assert_int_eq(format_mode_from_name("cpus", &m), LP_EINVAL);
}
END_TEST

START_TEST(test_weight)
{
	struct profile_agg a = { .samples = 10, .cpu_samples = 4,
				 .gil_samples = 3, .idle_samples = 5 };
	struct output_opts o = { .mode = MODE_WALL };
	ck_assert_uint_eq(output_weight(&a, &o), 10);
	o.idle = true;
	ck_assert_uint_eq(output_weight(&a, &o), 10);
	o.mode = MODE_CPU;
	ck_assert_uint_eq(output_weight(&a, &o), 9);
	o.idle = false;
	ck_assert_uint_eq(output_weight(&a, &o), 4);
	o.mode = MODE_GIL;
	ck_assert_uint_eq(output_weight(&a, &o), 3);
}
END_TEST

START_TEST(test_frame_text)
{
	profile *p = profile_new();
	char buf[128];
	uint32_t f = frame(p, FRAME_PYTHON, "run", "app.py", NULL, 42, 0);
	ck_assert_int_eq(format_frame(p, f, true, buf, sizeof buf), LP_OK);
	ck_assert_str_eq(buf, "run (app.py:42)");
	format_frame(p, f, false, buf, sizeof buf);
	ck_assert_str_eq(buf, "run (app.py)");
	f = frame(p, FRAME_PYTHON, "run", "app.py", NULL, 0, 0);
	format_frame(p, f, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "run (app.py)");
	f = frame(p, FRAME_NATIVE, "malloc", NULL, "libc.so.6", 0, 0);
	format_frame(p, f, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "malloc");
	f = frame(p, FRAME_NATIVE, NULL, NULL, "libc.so.6", 0, 0x1a2b);
	format_frame(p, f, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "libc.so.6+0x1a2b");
	f = frame(p, FRAME_TASK, "Task-3", NULL, NULL, 0, 0);
	format_frame(p, f, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "task Task-3");
	f = frame(p, FRAME_THREAD, "MainThread", NULL, NULL, 4242, 0);
	format_frame(p, f, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "thread 4242 (MainThread)");
	f = frame(p, FRAME_THREAD, NULL, NULL, NULL, 4243, 0);
	format_frame(p, f, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "thread 4243");
	f = frame(p, FRAME_PROCESS, "python3", NULL, NULL, 17, 0);
	format_frame(p, f, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "process 17 (python3)");
	format_frame(p, 0, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "[unknown]");
	ck_assert_int_eq(format_frame(p, 999, true, buf, sizeof buf),
			 LP_EINVAL);
	f = frame(p, FRAME_PYTHON, "run", "app.py", NULL, 42, 0);
	ck_assert_int_eq(format_frame(p, f, true, buf, 5), LP_ETRUNCATED);
	ck_assert_str_eq(buf, "run ");
	profile_free(p);
}
END_TEST

static char tmpdir[64];

static void setup_dir(void)
{
	unit_tmpdir_make(tmpdir, sizeof tmpdir, "check_collapsed");
}

static void teardown_dir(void)
{
	unit_tmpdir_remove(tmpdir);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	char *s = calloc(1, 1 << 16);
	fread(s, 1, (1 << 16) - 1, fp);
	fclose(fp);
	return s;
}

static int count_entries(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
	FILE *fp = popen(cmd, "r");
	int n = -1;
	fscanf(fp, "%d", &n);
	pclose(fp);
	return n;
}

START_TEST(test_atomic_commit_abort)
{
	char path[128];
	lp_error err = { 0 };
	atomic_file af;
	snprintf(path, sizeof path, "%s/out.txt", tmpdir);

	ck_assert_int_eq(atomic_file_open(&af, path, &err), LP_OK);
	fputs("hello\n", af.fp);
	/* nothing at path before commit, only the temporary */
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(access(af.tmp, F_OK), 0);
	ck_assert_ptr_nonnull(strstr(af.tmp, ".tmp."));
	ck_assert_int_eq(atomic_file_commit(&af, &err), LP_OK);
	char *s = slurp(path);
	ck_assert_str_eq(s, "hello\n");
	free(s);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	mode_t um = umask(0);
	umask(um);
	ck_assert_int_eq(st.st_mode & 0777, 0644 & ~um);

	/* abort leaves the old file as it was and no temporary */
	ck_assert_int_eq(atomic_file_open(&af, path, &err), LP_OK);
	fputs("half", af.fp);
	atomic_file_abort(&af);
	s = slurp(path);
	ck_assert_str_eq(s, "hello\n");
	free(s);
	ck_assert_int_eq(count_entries(tmpdir), 1);
}
END_TEST

START_TEST(test_atomic_unwritable)
{
	lp_error err = { 0 };
	atomic_file af;
	char path[128];
	/* tests run as root, where modes do not stop writes: a directory
	 * that does not exist, and /proc, do */
	snprintf(path, sizeof path, "%s/nodir/out.txt", tmpdir);
	int rc = atomic_file_open(&af, path, &err);
	ck_assert(rc == LP_EIO || rc == LP_EPERM);
	char want[256];
	snprintf(want, sizeof want, "cannot write %s: %s", path,
		 strerror(ENOENT));
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(count_entries(tmpdir), 0);

	rc = atomic_file_open(&af, "/proc/loupe-test.txt", &err);
	ck_assert(rc == LP_EIO || rc == LP_EPERM);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot write /proc/loupe-test.txt: "));

	profile *p = small_profile();
	struct output_opts o = { .mode = MODE_WALL, .lines = true };
	rc = format_write_file(p, FORMAT_COLLAPSED, path, &o, &err);
	ck_assert(rc == LP_EIO || rc == LP_EPERM);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(count_entries(tmpdir), 0);
	profile_free(p);
}
END_TEST

START_TEST(test_write_file)
{
	lp_error err = { 0 };
	char path[128];
	profile *p = small_profile();
	struct output_opts o = { .mode = MODE_CPU, .lines = false };
	snprintf(path, sizeof path, "%s/out.folded", tmpdir);
	ck_assert_int_eq(format_write_file(p, format_from_path(path), path, &o,
					   &err), LP_OK);
	char *s = slurp(path);
	ck_assert_str_eq(s, "main (m.py);a:b c (m.py) 1\n"
			    "main (m.py);libfoo.so+0x1a2b 1\n"
			    "main (m.py);work (m.py) 5\n");
	free(s);
	ck_assert_int_eq(count_entries(tmpdir), 1);

	/* every viewer format writes through the same atomic file; chrome
	 * needs the timeline, which this profile did not keep */
	static const enum output_format viewers[] = {
		FORMAT_FLAMEGRAPH, FORMAT_SPEEDSCOPE, FORMAT_PPROF, FORMAT_PSTATS
	};
	for (size_t i = 0; i < sizeof viewers / sizeof viewers[0]; i++)
		ck_assert_int_eq(format_write_file(p, viewers[i], path, &o, &err),
				 LP_OK);
	ck_assert_int_eq(format_write_file(p, FORMAT_CHROME, path, &o, &err),
			 LP_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err.msg, "timeline"));
	ck_assert_int_eq(count_entries(tmpdir), 1);
	profile_free(p);
}
END_TEST


/* A pid no process has: a child that exited and was reaped. */
static pid_t dead_pid(void)
{
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	return c;
}

static void put(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(data, 1, len, f);
	fclose(f);
}

/* Opening an output removes the temporaries of dead runs of loupe's names,
 * never a live run's, another program's, a link, or a raw recording that
 * holds samples. */
START_TEST(test_atomic_stale_temporaries)
{
	char path[256], name[300];
	pid_t dead = dead_pid();
	const char *gone[] = { "out.txt", "a.svg", "b.pb.gz", "c.loupe" };
	const char *kept[] = { "notes", "d.loupe" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(name, sizeof name, "%s/%s.tmp.%d", tmpdir, gone[i], (int)dead);
		put(name, "x", 1);
	}
	snprintf(name, sizeof name, "%s/notes.tmp.%d", tmpdir, (int)dead);
	put(name, "x", 1);
	/* a killed record's raw temporary with samples: its recording */
	snprintf(name, sizeof name, "%s/d.loupe.tmp.%d", tmpdir, (int)dead);
	put(name, "LOUPE\0\x02\x01\0\0\0\0\0\0\0\0\0\0\x08\0\0\0\0", 23);
	snprintf(name, sizeof name, "%s/live.txt.tmp.%d", tmpdir, (int)getppid());
	put(name, "x", 1);
	snprintf(name, sizeof name, "%s/link.txt.tmp.%d", tmpdir, (int)dead);
	ck_assert_int_eq(symlink("/nonexistent", name), 0);

	lp_error err = { 0 };
	snprintf(path, sizeof path, "%s/out.txt", tmpdir);
	ck_assert_int_eq(output_check(path, 0, &err), LP_OK);
	for (size_t i = 0; i < 4; i++) {
		snprintf(name, sizeof name, "%s/%s.tmp.%d", tmpdir, gone[i], (int)dead);
		ck_assert_msg(access(name, F_OK) != 0, "%s not removed", name);
	}
	for (size_t i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "%s/%s.tmp.%d", tmpdir, kept[i], (int)dead);
		ck_assert_msg(access(name, F_OK) == 0, "%s removed", name);
	}
	snprintf(name, sizeof name, "%s/live.txt.tmp.%d", tmpdir, (int)getppid());
	ck_assert_int_eq(access(name, F_OK), 0);
	snprintf(name, sizeof name, "%s/link.txt.tmp.%d", tmpdir, (int)dead);
	struct stat st;
	ck_assert_int_eq(lstat(name, &st), 0);
	/* the check created nothing */
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* A link is refused, and followed with OUTPUT_FOLLOW; a Unix socket is
 * written to, not replaced; a directory is refused. */
START_TEST(test_atomic_kinds)
{
	char victim[256], link[256], sock[256];
	lp_error err = { 0 };
	atomic_file af;
	snprintf(victim, sizeof victim, "%s/victim", tmpdir);
	snprintf(link, sizeof link, "%s/link", tmpdir);
	put(victim, "keep\n", 5);
	ck_assert_int_eq(symlink("victim", link), 0);
	ck_assert_int_eq(atomic_file_open(&af, link, &err), LP_EPERM);
	ck_assert_ptr_nonnull(strstr(err.msg, "symbolic link"));
	ck_assert_int_eq(output_check(link, 0, &err), LP_EPERM);
	ck_assert_int_eq(atomic_file_open_flags(&af, link, OUTPUT_FOLLOW, &err), LP_OK);
	fputs("new\n", af.fp);
	ck_assert_int_eq(atomic_file_commit(&af, &err), LP_OK);
	char *s = slurp(victim);
	ck_assert_str_eq(s, "new\n");
	free(s);
	struct stat st;
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));

	/* a listening Unix socket gets the bytes */
	snprintf(sock, sizeof sock, "%s/sock", tmpdir);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	ck_assert_uint_lt(strlen(sock), sizeof sa.sun_path);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(atomic_file_open(&af, sock, &err), LP_OK);
	fputs("over the socket\n", af.fp);
	ck_assert_int_eq(atomic_file_commit(&af, &err), LP_OK);
	int c = accept(l, NULL, NULL);
	char buf[64] = { 0 };
	ck_assert_int_eq(read(c, buf, sizeof buf - 1), 16);
	ck_assert_str_eq(buf, "over the socket\n");
	close(c);
	close(l);
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));

	ck_assert_int_ne(atomic_file_open(&af, tmpdir, &err), LP_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, strerror(EISDIR)));
}
END_TEST

static Suite *collapsed_suite(void)
{
	Suite *s = suite_create("collapsed");
	TCase *tc = tcase_create("collapsed");
	tcase_add_test(tc, test_collapsed_wall_lines);
	tcase_add_test(tc, test_collapsed_wall_nolines);
	tcase_add_test(tc, test_collapsed_cpu_gil);
	tcase_add_test(tc, test_collapsed_threads);
	tcase_add_test(tc, test_collapsed_empty);
	tcase_add_test(tc, test_collapsed_long_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("helpers");
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_weight);
	tcase_add_test(tc, test_frame_text);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, test_atomic_commit_abort);
	tcase_add_test(tc, test_atomic_unwritable);
	tcase_add_test(tc, test_write_file);
	tcase_add_test(tc, test_atomic_stale_temporaries);
	tcase_add_test(tc, test_atomic_kinds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(collapsed_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
