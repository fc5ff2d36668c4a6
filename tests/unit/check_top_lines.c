/* Unit tests of a function's figures per line and of the bounded reading of
 * its source (ui/top/top_lines.c: loupe top's source view, report
 * --lines): lines of one function only, own and total once per stack, the
 * hottest by the metric, one process's; a file that is not regular or too big refused, a
 * missing one explained, hostile bytes escaped, tabs expanded, CRLF. */
#include <fcntl.h>
#include <sys/stat.h>

#include "error.h"
#include "top_lines.h"
#include "unit.h"

static uint32_t py(profile *p, const char *func, const char *file, int line)
{
	struct frame f = { .kind = FRAME_PYTHON,
			   .func = profile_intern_cstr(p, func),
			   .file = profile_intern_cstr(p, file),
			   .line = line };
	return profile_intern_frame(p, &f);
}

static void add_pid(profile *p, int32_t pid, const uint32_t *frames,
		    size_t n, bool cpu, int count)
{
	struct sample s = { .pid = pid, .tid = pid,
			    .stack = profile_intern_stack(p, frames, n),
			    .flags = cpu ? SAMPLE_ON_CPU : SAMPLE_IDLE };
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
}

static void add(profile *p, const uint32_t *frames, size_t n, bool cpu,
		int count)
{
	add_pid(p, 1, frames, n, cpu, count);
}

/* spin:22 leaf on CPU x8, spin:21 leaf idle x3, spin:22 calling helper x2
 * (CPU), spin:22 > spin:30 (recursion) x1 CPU, spin of another file x5,
 * other:5 x4: wall 23, CPU 16. */
START_TEST(test_lines_of_one_function)
{
	profile *p = profile_new();
	uint32_t s21 = py(p, "spin", "/a/h.py", 21), s22 = py(p, "spin", "/a/h.py", 22);
	uint32_t s30 = py(p, "spin", "/a/h.py", 30);
	uint32_t help = py(p, "helper", "/a/h.py", 40);
	uint32_t other_file = py(p, "spin", "/b/h.py", 22);
	uint32_t o5 = py(p, "other", "/a/h.py", 5);
	add(p, (uint32_t[]){ s22 }, 1, true, 8);
	add(p, (uint32_t[]){ s21 }, 1, false, 3);
	add(p, (uint32_t[]){ s22, help }, 2, true, 2);
	add(p, (uint32_t[]){ s22, s30 }, 2, true, 1);
	add(p, (uint32_t[]){ other_file }, 1, true, 5);
	add(p, (uint32_t[]){ o5 }, 1, false, 4);
	struct top_lines tl;
	top_lines_init(&tl);
	uint32_t func = profile_intern_cstr(p, "spin");
	uint32_t file = profile_intern_cstr(p, "/a/h.py");
	ck_assert_int_eq(top_lines_compute(&tl, p, func, file, 0, 0), LP_OK);
	ck_assert_uint_eq(tl.all[0], 23);
	ck_assert_uint_eq(tl.all[1], 16);
	ck_assert_uint_eq(tl.n, 3);
	ck_assert_int_eq(tl.v[0].line, 21);
	ck_assert_int_eq(tl.v[1].line, 22);
	ck_assert_int_eq(tl.v[2].line, 30);
	ck_assert_uint_eq(tl.v[0].own[0], 3);
	ck_assert_uint_eq(tl.v[0].own[1], 0);
	ck_assert_uint_eq(tl.v[1].own[0], 8);
	ck_assert_uint_eq(tl.v[1].total[0], 11);	/* 8 + 2 + 1 */
	ck_assert_uint_eq(tl.v[1].total[1], 11);
	ck_assert_uint_eq(tl.v[2].own[0], 1);
	ck_assert_uint_eq(tl.v[2].total[0], 1);
	ck_assert_uint_eq(tl.hot, 1);
	ck_assert_int_eq(top_lines_find(&tl, 30), 2);
	ck_assert_int_eq(top_lines_find(&tl, 23), -1);
	ck_assert_double_eq_tol(top_lines_pct(&tl, 8, 0), 100.0 * 8 / 23, 1e-9);
	/* by CPU the same hottest; the idle line has no CPU */
	ck_assert_int_eq(top_lines_compute(&tl, p, func, file, 0, 1), LP_OK);
	ck_assert_uint_eq(tl.hot, 1);
	/* a function with no samples: no lines, no hottest */
	uint32_t none = profile_intern_cstr(p, "nobody");
	ck_assert_int_eq(top_lines_compute(&tl, p, none, file, 0, 0), LP_OK);
	ck_assert_uint_eq(tl.n, 0);
	ck_assert_uint_eq(tl.hot, tl.n);
	top_lines_fini(&tl);
	profile_free(p);
}
END_TEST

/* A per-process row's view: only that process's samples, shares still of
 * every sample. */
START_TEST(test_lines_of_one_process)
{
	profile *p = profile_new();
	uint32_t s22 = py(p, "spin", "/a/h.py", 22), s23 = py(p, "spin", "/a/h.py", 23);
	add_pid(p, 1, (uint32_t[]){ s22 }, 1, true, 8);
	add_pid(p, 2, (uint32_t[]){ s23 }, 1, true, 5);
	add_pid(p, 2, (uint32_t[]){ s22 }, 1, true, 1);
	struct top_lines tl;
	top_lines_init(&tl);
	uint32_t func = profile_intern_cstr(p, "spin");
	uint32_t file = profile_intern_cstr(p, "/a/h.py");
	ck_assert_int_eq(top_lines_compute(&tl, p, func, file, 2, 0), LP_OK);
	ck_assert_uint_eq(tl.n, 2);
	ck_assert_uint_eq(tl.v[0].own[0], 1);
	ck_assert_uint_eq(tl.v[1].own[0], 5);
	ck_assert_uint_eq(tl.hot, 1);
	ck_assert_uint_eq(tl.all[0], 14);
	ck_assert_int_eq(top_lines_compute(&tl, p, func, file, 1, 0), LP_OK);
	ck_assert_uint_eq(tl.n, 1);
	ck_assert_uint_eq(tl.v[0].own[0], 8);
	ck_assert_int_eq(top_lines_compute(&tl, p, func, file, 0, 0), LP_OK);
	ck_assert_uint_eq(tl.v[0].own[0], 9);
	ck_assert_uint_eq(tl.hot, 0);
	top_lines_fini(&tl);
	profile_free(p);
}
END_TEST

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_source_read_and_escaped)
{
	char dir[128], path[512], out[4 * TOP_SOURCE_LINE_MAX + 64];
	unit_tmpdir_make(dir, sizeof dir, "check_top_lines");
	snprintf(path, sizeof path, "%s/s.py", dir);
	static const char text[] = "def f():\r\n\tx = 1\r\n"
				   "    y = '\x1b[2J\x07'\r\nlast";
	write_file(path, text, sizeof text - 1);
	struct top_source_file sf;
	ck_assert_int_eq(top_source_load(&sf, 0, path), 0);
	ck_assert_str_eq(sf.why, "");
	ck_assert_uint_eq(sf.nlines, 4);
	ck_assert(top_source_line(&sf, 1, out, sizeof out));
	ck_assert_str_eq(out, "def f():");
	ck_assert(top_source_line(&sf, 2, out, sizeof out));
	ck_assert_str_eq(out, "        x = 1");	/* tab to 8 */
	ck_assert(top_source_line(&sf, 3, out, sizeof out));
	ck_assert_str_eq(out, "    y = '\\e[2J\\x07'");
	ck_assert(top_source_line(&sf, 4, out, sizeof out));
	ck_assert_str_eq(out, "last");
	ck_assert(!top_source_line(&sf, 5, out, sizeof out));
	ck_assert(!top_source_line(&sf, 0, out, sizeof out));
	top_source_free(&sf);
	/* the same through this process's /proc/PID/root */
	ck_assert_int_eq(top_source_load(&sf, (int)getpid(), path), 0);
	ck_assert_uint_eq(sf.nlines, 4);
	top_source_free(&sf);
	/* a long line is cut, not overrun */
	char big[3 * TOP_SOURCE_LINE_MAX];
	memset(big, 'a', sizeof big);
	write_file(path, big, sizeof big);
	ck_assert_int_eq(top_source_load(&sf, 0, path), 0);
	ck_assert(top_source_line(&sf, 1, out, sizeof out));
	ck_assert_uint_eq(strlen(out), TOP_SOURCE_LINE_MAX);
	top_source_free(&sf);
	unit_tmpdir_remove(dir);
}
END_TEST

START_TEST(test_source_refused)
{
	char dir[128], path[512];
	struct top_source_file sf;
	unit_tmpdir_make(dir, sizeof dir, "check_top_lines");
	/* missing */
	snprintf(path, sizeof path, "%s/gone.py", dir);
	ck_assert_int_eq(top_source_load(&sf, 0, path), -1);
	ck_assert_ptr_nonnull(strstr(sf.why, "No such file or directory"));
	ck_assert_uint_eq(sf.nlines, 0);
	top_source_free(&sf);
	/* not a regular file: a FIFO (never waited on), a directory, a device */
	snprintf(path, sizeof path, "%s/fifo.py", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(top_source_load(&sf, 0, path), -1);
	ck_assert_ptr_nonnull(strstr(sf.why, "is not a regular file"));
	ck_assert_int_eq(top_source_load(&sf, 0, dir), -1);
	ck_assert_ptr_nonnull(strstr(sf.why, "is not a regular file"));
	ck_assert_int_eq(top_source_load(&sf, 0, "/dev/zero"), -1);
	ck_assert_ptr_nonnull(strstr(sf.why, "is not a regular file"));
	/* too big (sparse: no disk used) */
	snprintf(path, sizeof path, "%s/big.py", dir);
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, TOP_SOURCE_MAX_BYTES + 1), 0);
	close(fd);
	ck_assert_int_eq(top_source_load(&sf, 0, path), -1);
	ck_assert_ptr_nonnull(strstr(sf.why, "too big"));
	/* no file behind the name; a hostile name escaped in the reason */
	ck_assert_int_eq(top_source_load(&sf, 0, "<frozen runpy>"), -1);
	ck_assert_ptr_nonnull(strstr(sf.why, "no source file"));
	ck_assert_int_eq(top_source_load(&sf, 0, "/nonexistent/\x1b[2J.py"), -1);
	ck_assert_ptr_null(strchr(sf.why, '\x1b'));
	ck_assert_ptr_nonnull(strstr(sf.why, "\\e[2J"));
	unit_tmpdir_remove(dir);
}
END_TEST

START_TEST(test_heat_bar)
{
	char b[16];
	top_heat_bar(0, 7, b, sizeof b);
	ck_assert_str_eq(b, "");
	top_heat_bar(1, 7, b, sizeof b);
	ck_assert_str_eq(b, "#######");
	top_heat_bar(0.001, 7, b, sizeof b);
	ck_assert_str_eq(b, "#......");
	top_heat_bar(0.5, 4, b, sizeof b);
	ck_assert_str_eq(b, "##..");
	top_heat_bar(1, 7, b, 4);
	ck_assert_str_eq(b, "###");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("top_lines");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_lines_of_one_function);
	tcase_add_test(tc, test_lines_of_one_process);
	tcase_add_test(tc, test_source_read_and_escaped);
	tcase_add_test(tc, test_source_refused);
	tcase_add_test(tc, test_heat_bar);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
