/* Unit tests of the speedscope writer on the fixture profile. */
#include "viewer_fixture.h"
#include "unit.h"

START_TEST(test_speedscope_wall)
{
	profile *p = fx_profile(3);
	struct output_opts o = { .mode = MODE_WALL, .lines = true };
	char *s = fx_write(speedscope_write, p, &o, NULL);
	ck_assert_str_eq(s,
		"{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
		"\"exporter\":\"loupe\",\"name\":\"profile (wall mode)\","
		"\"shared\":{\"frames\":["
		"{\"name\":\"main\",\"file\":\"m.py\",\"line\":1},"
		"{\"name\":\"work\",\"file\":\"m.py\",\"line\":10},"
		"{\"name\":\"work\",\"file\":\"m.py\",\"line\":11},"
		"{\"name\":\"nanosleep\",\"file\":\"libc.so.6\"}]},"
		"\"profiles\":["
		"{\"type\":\"sampled\",\"name\":\"thread 1 (MainThread)\","
		"\"unit\":\"none\",\"startValue\":0,\"endValue\":6,"
		"\"samples\":[[0,1],[0,2]],\"weights\":[4,2]},"
		"{\"type\":\"sampled\",\"name\":\"thread 2\",\"unit\":\"none\","
		"\"startValue\":0,\"endValue\":4,\"samples\":[[0,3]],"
		"\"weights\":[4]}],\"activeProfileIndex\":0}\n");
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_speedscope_cpu_nolines)
{
	profile *p = fx_profile(3);
	profile_set_meta(p, "target.comm", "m\"x");
	struct output_opts o = { .mode = MODE_CPU, .lines = false };
	char *s = fx_write(speedscope_write, p, &o, NULL);
	/* work:10 and work:11 are one frame; thread 2 (idle only) is gone;
	 * the quote in the name is escaped */
	ck_assert_ptr_nonnull(strstr(s, "\"name\":\"m\\\"x (cpu mode)\""));
	ck_assert_ptr_nonnull(strstr(s,
		"\"frames\":[{\"name\":\"main\",\"file\":\"m.py\"},"
		"{\"name\":\"work\",\"file\":\"m.py\"}]"));
	ck_assert_ptr_nonnull(strstr(s, "\"endValue\":5,\"samples\":[[0,1],[0,1]],"
				     "\"weights\":[3,2]}]"));
	ck_assert_uint_eq(fx_count(s, "\"type\":\"sampled\""), 1);
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_speedscope_empty)
{
	profile *p = profile_new();
	struct output_opts o = { .mode = MODE_WALL, .lines = true };
	char *s = fx_write(speedscope_write, p, &o, NULL);
	ck_assert_ptr_nonnull(strstr(s, "\"frames\":[]},\"profiles\":[],"));
	free(s);
	profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("speedscope");
	TCase *tc = tcase_create("speedscope");
	tcase_add_test(tc, test_speedscope_wall);
	tcase_add_test(tc, test_speedscope_cpu_nolines);
	tcase_add_test(tc, test_speedscope_empty);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
