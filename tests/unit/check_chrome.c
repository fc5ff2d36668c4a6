/* Unit tests of the Chrome trace writer on a hand-built timeline. */
#include "viewer_fixture.h"
#include "unit.h"

/* Thread 1 at 100 Hz (10 ms period):
 *   0 ms  main > work:10  on CPU
 *  10 ms  main > work:11  on CPU
 *  20 ms  main > work:11  idle
 * 100 ms  main            idle (after a gap of more than two periods) */
static profile *timeline_profile(void)
{
	profile *p = profile_new();
	profile_keep_timeline(p, true);
	uint32_t m = fx_frame(p, FRAME_PYTHON, "main", "m.py", NULL, 1);
	uint32_t w10 = fx_frame(p, FRAME_PYTHON, "work", "m.py", NULL, 10);
	uint32_t w11 = fx_frame(p, FRAME_PYTHON, "work", "m.py", NULL, 11);
	uint32_t a[] = { m, w10 }, b[] = { m, w11 };
	uint32_t sa = profile_intern_stack(p, a, 2), sb = profile_intern_stack(p, b, 2);
	uint32_t sm = profile_intern_stack(p, &m, 1);
	fx_add(p, sa, 1, SAMPLE_ON_CPU, 1, 0, 0);
	fx_add(p, sb, 1, SAMPLE_ON_CPU, 1, 10000000, 0);
	fx_add(p, sb, 1, SAMPLE_IDLE, 1, 20000000, 0);
	fx_add(p, sm, 1, SAMPLE_IDLE, 1, 100000000, 0);
	profile_set_thread(p, 100, 1, "Main");
	profile_set_meta(p, "rate", "100");
	profile_set_meta(p, "target.comm", "py");
	profile_set_meta(p, "target.pid", "100");
	return p;
}

#define HEAD(mode) \
	"{\"displayTimeUnit\":\"ms\",\"otherData\":{\"target\":\"py (PID 100)\"," \
	"\"mode\":\"" mode "\",\"exporter\":\"loupe\"},\"traceEvents\":[\n" \
	"{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":100,\"tid\":0,\"args\":{\"name\":\"py\"}},\n" \
	"{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":100,\"tid\":1,\"args\":{\"name\":\"Main\"}},\n"
#define B(ts, name) "{\"ph\":\"B\",\"pid\":100,\"tid\":1,\"ts\":" ts ",\"name\":\"" name "\",\"cat\":\"python\"}"
#define E(ts) "{\"ph\":\"E\",\"pid\":100,\"tid\":1,\"ts\":" ts "}"

START_TEST(test_chrome_wall)
{
	profile *p = timeline_profile();
	struct output_opts o = { .mode = MODE_WALL, .lines = true };
	char *s = fx_write(chrome_write, p, &o, NULL);
	ck_assert_str_eq(s, HEAD("wall")
		B("0.000", "main (m.py:1)") ",\n"
		B("0.000", "work (m.py:10)") ",\n"
		E("10000.000") ",\n"
		B("10000.000", "work (m.py:11)") ",\n"
		/* the gap after 20 ms ends both one period later */
		E("30000.000") ",\n"
		E("30000.000") ",\n"
		B("100000.000", "main (m.py:1)") ",\n"
		E("110000.000") "\n]}\n");
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_chrome_cpu_nolines)
{
	profile *p = timeline_profile();
	struct output_opts o = { .mode = MODE_CPU, .lines = false };
	char *s = fx_write(chrome_write, p, &o, NULL);
	/* without lines work:10 and work:11 are one slice; the idle sample
	 * at 20 ms ends it */
	ck_assert_str_eq(s, HEAD("cpu")
		B("0.000", "main (m.py)") ",\n"
		B("0.000", "work (m.py)") ",\n"
		E("20000.000") ",\n"
		E("20000.000") "\n]}\n");
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_chrome_needs_timeline)
{
	profile *p = fx_profile(3);	/* aggregates only */
	struct output_opts o = { .mode = MODE_WALL, .lines = true };
	FILE *fp = tmpfile();
	ck_assert_int_eq(chrome_write(p, fp, &o), LP_EUNSUPPORTED);
	fclose(fp);
	ck_assert(format_needs_timeline(FORMAT_CHROME));
	ck_assert(!format_needs_timeline(FORMAT_PPROF));
	profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chrome");
	TCase *tc = tcase_create("chrome");
	tcase_add_test(tc, test_chrome_wall);
	tcase_add_test(tc, test_chrome_cpu_nolines);
	tcase_add_test(tc, test_chrome_needs_timeline);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
