/* Unit tests of the writers on a recording of a process tree (metadata
 * "subprocesses" = "on"): a root "process PID (comm)" per process in
 * collapsed, flamegraph, pprof and pstats, none under merge_processes or
 * without the metadata; speedscope profiles and chrome tracks per process;
 * output_opts.pid keeping one process everywhere. */
#include "viewer_fixture.h"
#include "unit.h"

static char *collapsed(const profile *p, struct output_opts o)
{
	return fx_write(collapsed_write, p, &o, NULL);
}

START_TEST(test_process_text)
{
	profile *p = fx_tree_profile(true);
	char buf[64];
	ck_assert_int_eq(format_process(p, 200, buf, sizeof buf), LP_OK);
	ck_assert_str_eq(buf, "process 200 (worker)");
	/* no process.300: the main thread's name */
	format_process(p, 300, buf, sizeof buf);
	ck_assert_str_eq(buf, "process 300 (w3)");
	/* neither */
	format_process(p, 999, buf, sizeof buf);
	ck_assert_str_eq(buf, "process 999");
	ck_assert_int_eq(format_process(p, 200, buf, 8), LP_ETRUNCATED);
	struct output_opts o = { 0 };
	ck_assert(output_process_roots(p, &o));
	o.merge_processes = true;
	ck_assert(!output_process_roots(p, &o));
	profile_free(p);
	p = fx_tree_profile(false);
	o.merge_processes = false;
	ck_assert(!output_process_roots(p, &o));
	profile_free(p);
}
END_TEST

START_TEST(test_collapsed_roots)
{
	profile *p = fx_tree_profile(true);
	char *s = collapsed(p, (struct output_opts){ .mode = MODE_WALL });
	ck_assert_str_eq(s,
		"process 100 (parent);main (m.py);wait (m.py) 4\n"
		"process 200 (worker);main (m.py);work (m.py) 3\n"
		"process 300 (w3);main (m.py);work (m.py) 3\n");
	free(s);
	/* the process above the thread */
	s = collapsed(p, (struct output_opts){ .mode = MODE_CPU, .threads = true,
					       .lines = true });
	ck_assert_str_eq(s,
		"process 200 (worker);thread 200 (MainThread);main (m.py:1);work (m.py:10) 3\n"
		"process 300 (w3);thread 300 (w3);main (m.py:1);work (m.py:10) 2\n"
		"process 300 (w3);thread 301 (helper);main (m.py:1);work (m.py:10) 1\n");
	free(s);
	/* merged: identical workers add up */
	s = collapsed(p, (struct output_opts){ .mode = MODE_WALL,
					       .merge_processes = true });
	ck_assert_str_eq(s, "main (m.py);wait (m.py) 4\nmain (m.py);work (m.py) 6\n");
	free(s);
	/* one process */
	s = collapsed(p, (struct output_opts){ .mode = MODE_WALL, .pid = 300 });
	ck_assert_str_eq(s, "process 300 (w3);main (m.py);work (m.py) 3\n");
	free(s);
	profile_free(p);
	/* without the metadata: as before */
	p = fx_tree_profile(false);
	s = collapsed(p, (struct output_opts){ .mode = MODE_WALL });
	ck_assert_str_eq(s, "main (m.py);wait (m.py) 4\nmain (m.py);work (m.py) 6\n");
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_flamegraph_roots)
{
	profile *p = fx_tree_profile(true);
	struct output_opts o = { .mode = MODE_WALL };
	char *s = fx_write(flamegraph_write, p, &o, NULL);
	ck_assert_ptr_nonnull(strstr(s, "process 100 (parent)"));
	ck_assert_ptr_nonnull(strstr(s, "process 200 (worker)"));
	ck_assert_ptr_nonnull(strstr(s, "process 300 (w3)"));
	free(s);
	o.merge_processes = true;
	s = fx_write(flamegraph_write, p, &o, NULL);
	ck_assert_ptr_null(strstr(s, "process 200"));
	free(s);
	o.merge_processes = false;
	o.pid = 200;
	s = fx_write(flamegraph_write, p, &o, NULL);
	ck_assert_ptr_nonnull(strstr(s, "process 200 (worker)"));
	ck_assert_ptr_null(strstr(s, "process 300"));
	ck_assert_ptr_null(strstr(s, "wait (m.py"));
	free(s);
	profile_free(p);
	p = fx_tree_profile(false);
	o.pid = 0;
	s = fx_write(flamegraph_write, p, &o, NULL);
	ck_assert_ptr_null(strstr(s, "process 200"));
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_pstats_roots)
{
	profile *p = fx_tree_profile(true);
	struct output_opts o = { .mode = MODE_WALL };
	size_t len;
	char *s = fx_write(pstats_write, p, &o, &len);
	/* marshal strings are length-prefixed, not terminated: search the
	 * bytes */
	ck_assert_ptr_nonnull(memmem(s, len, "process 100 (parent)", 20));
	ck_assert_ptr_nonnull(memmem(s, len, "process 300 (w3)", 16));
	free(s);
	o.merge_processes = true;
	s = fx_write(pstats_write, p, &o, &len);
	ck_assert_ptr_null(memmem(s, len, "process ", 8));
	free(s);
	profile_free(p);
	p = fx_tree_profile(false);
	o.merge_processes = false;
	s = fx_write(pstats_write, p, &o, &len);
	ck_assert_ptr_null(memmem(s, len, "process ", 8));
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_speedscope_profiles)
{
	profile *p = fx_tree_profile(true);
	struct output_opts o = { .mode = MODE_WALL };
	char *s = fx_write(speedscope_write, p, &o, NULL);
	ck_assert_uint_eq(fx_count(s, "\"type\":\"sampled\""), 4);
	ck_assert_ptr_nonnull(strstr(s, "\"name\":\"parent (PID 100) / thread 100 (MainThread)\""));
	ck_assert_ptr_nonnull(strstr(s, "\"name\":\"worker (PID 200) / thread 200 (MainThread)\""));
	ck_assert_ptr_nonnull(strstr(s, "\"name\":\"w3 (PID 300) / thread 301 (helper)\""));
	/* per process and thread: no process root frame */
	ck_assert_ptr_null(strstr(s, "process 200"));
	free(s);
	o.pid = 300;
	s = fx_write(speedscope_write, p, &o, NULL);
	ck_assert_uint_eq(fx_count(s, "\"type\":\"sampled\""), 2);
	ck_assert_ptr_null(strstr(s, "PID 200"));
	free(s);
	profile_free(p);
	p = fx_tree_profile(false);
	o.pid = 0;
	s = fx_write(speedscope_write, p, &o, NULL);
	ck_assert_ptr_nonnull(strstr(s, "\"name\":\"thread 301 (helper)\""));
	ck_assert_ptr_null(strstr(s, ") / thread"));
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_chrome_tracks)
{
	profile *p = fx_tree_profile(true);
	struct output_opts o = { .mode = MODE_WALL };
	char *s = fx_write(chrome_write, p, &o, NULL);
	/* a process_name per process, the target's from target.comm */
	ck_assert_uint_eq(fx_count(s, "\"name\":\"process_name\""), 3);
	ck_assert_ptr_nonnull(strstr(s, "\"process_name\",\"pid\":200,\"tid\":0,\"args\":{\"name\":\"worker\"}"));
	ck_assert_ptr_nonnull(strstr(s, "\"process_name\",\"pid\":300,\"tid\":0,\"args\":{\"name\":\"w3\"}"));
	/* slices on each process's threads */
	ck_assert_ptr_nonnull(strstr(s, "{\"ph\":\"B\",\"pid\":300,\"tid\":301,"));
	ck_assert_ptr_nonnull(strstr(s, "{\"ph\":\"B\",\"pid\":200,\"tid\":200,"));
	ck_assert_ptr_nonnull(strstr(s, "{\"ph\":\"B\",\"pid\":100,\"tid\":100,"));
	free(s);
	/* one process: nothing of the others, names included */
	o.pid = 200;
	s = fx_write(chrome_write, p, &o, NULL);
	ck_assert_ptr_nonnull(strstr(s, "{\"ph\":\"B\",\"pid\":200,"));
	ck_assert_ptr_null(strstr(s, "\"pid\":100"));
	ck_assert_ptr_null(strstr(s, "\"pid\":300"));
	free(s);
	profile_free(p);
	/* without the metadata: only the target is named */
	p = fx_tree_profile(false);
	o.pid = 0;
	s = fx_write(chrome_write, p, &o, NULL);
	ck_assert_uint_eq(fx_count(s, "\"name\":\"process_name\""), 1);
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_chrome_spans_filtered)
{
	profile *p = fx_tree_profile(true);
	struct profile_span sp = { .start_ns = 0, .dur_ns = 5000000, .pid = 300,
				   .tid = 300,
				   .cat = profile_intern_cstr(p, "tick"),
				   .name = profile_intern_cstr(p, "tick") };
	ck_assert_int_eq(profile_add_span(p, &sp), LP_OK);
	struct output_opts o = { .mode = MODE_WALL, .pid = 200 };
	char *s = fx_write(chrome_write, p, &o, NULL);
	ck_assert_ptr_null(strstr(s, "\"ph\":\"X\""));
	ck_assert_ptr_null(strstr(s, "loop 300"));
	free(s);
	o.pid = 300;
	s = fx_write(chrome_write, p, &o, NULL);
	ck_assert_ptr_nonnull(strstr(s, "\"ph\":\"X\",\"pid\":300"));
	free(s);
	profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("processes");
	TCase *tc = tcase_create("writers");
	tcase_add_test(tc, test_process_text);
	tcase_add_test(tc, test_collapsed_roots);
	tcase_add_test(tc, test_flamegraph_roots);
	tcase_add_test(tc, test_pstats_roots);
	tcase_add_test(tc, test_speedscope_profiles);
	tcase_add_test(tc, test_chrome_tracks);
	tcase_add_test(tc, test_chrome_spans_filtered);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
