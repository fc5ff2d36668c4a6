/* Unit tests of the SVG flame graph writer: boxes, hover texts, colours by
 * kind, icicle, merging of narrow frames, differential colours. */
#include "viewer_fixture.h"
#include "unit.h"

/* The y attribute of the box whose title starts with name. */
static int box_y(const char *svg, const char *name)
{
	char key[256];
	snprintf(key, sizeof key, "<title>%s \xe2\x80\x94", name);
	const char *t = strstr(svg, key);
	ck_assert_msg(t != NULL, "no box %s", name);
	const char *y = strstr(t, " y=\"");
	ck_assert_ptr_nonnull(y);
	return atoi(y + 4);
}

/* The fill of the box whose title starts with name. */
static void box_fill(const char *svg, const char *name, int rgb[3])
{
	char key[256];
	snprintf(key, sizeof key, "<title>%s \xe2\x80\x94", name);
	const char *t = strstr(svg, key);
	ck_assert_msg(t != NULL, "no box %s", name);
	const char *f = strstr(t, "fill=\"rgb(");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(sscanf(f, "fill=\"rgb(%d,%d,%d)", &rgb[0], &rgb[1],
				&rgb[2]), 3);
}

START_TEST(test_flamegraph_boxes)
{
	profile *p = fx_profile(3);
	profile_set_meta(p, "target.comm", "a<b");
	struct output_opts o = { .mode = MODE_WALL, .lines = true };
	char *s = fx_write(flamegraph_write, p, &o, NULL);
	ck_assert_ptr_nonnull(strstr(s, "<?xml version=\"1.0\""));
	ck_assert_ptr_nonnull(strstr(s, "</svg>\n"));
	/* all, main, work:10, work:11, nanosleep */
	ck_assert_uint_eq(fx_count(s, "<g class=\"f\">"), 5);
	ck_assert_ptr_nonnull(strstr(s, "<title>all \xe2\x80\x94 10 samples, 100.00%</title>"));
	/* a Python function's boxes name its hottest lines, as shares of
	 * its samples (issue #24 point 4): work is 4 wall samples at line
	 * 10, 2 at line 11 */
	ck_assert_ptr_nonnull(strstr(s, "<title>work (m.py:10) \xe2\x80\x94 4 samples, 40.00%; hottest lines: line 10: 66.7%, line 11: 33.3%</title>"));
	ck_assert_ptr_nonnull(strstr(s, "<title>work (m.py:11) \xe2\x80\x94 2 samples, 20.00%; hottest lines: line 10: 66.7%, line 11: 33.3%</title>"));
	ck_assert_ptr_nonnull(strstr(s, "<title>main (m.py:1) \xe2\x80\x94 10 samples, 100.00%; hottest lines: line 1: 100.0%</title>"));
	ck_assert_ptr_nonnull(strstr(s, "<title>nanosleep \xe2\x80\x94 4 samples, 40.00%</title>"));
	/* the title escapes the target's name and says the mode */
	ck_assert_ptr_nonnull(strstr(s, ">Flame graph: a&lt;b</text>"));
	ck_assert_ptr_null(strstr(s, "a<b"));
	ck_assert_ptr_nonnull(strstr(s, "wall mode, "));
	ck_assert_ptr_nonnull(strstr(s, ", 10 samples"));
	/* flame: the root at the bottom */
	ck_assert_int_gt(box_y(s, "all"), box_y(s, "main (m.py:1)"));
	ck_assert_int_gt(box_y(s, "main (m.py:1)"), box_y(s, "work (m.py:10)"));
	/* colours by kind: Python warm (red > blue), nanosleep (idle) blue */
	int py[3], idle[3];
	box_fill(s, "work (m.py:11)", py);
	box_fill(s, "nanosleep", idle);
	ck_assert_int_gt(py[0], py[2]);
	ck_assert_int_gt(idle[2], idle[0]);
	/* widths follow samples: work:10 is twice work:11 */
	const char *w10 = strstr(strstr(s, "<title>work (m.py:10)"), "width=\"");
	const char *w11 = strstr(strstr(s, "<title>work (m.py:11)"), "width=\"");
	double a = atof(w10 + 7), b = atof(w11 + 7);
	ck_assert_double_eq_tol(a, 2 * b, 0.02);
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_flamegraph_inverted_cpu)
{
	profile *p = fx_profile(3);
	struct output_opts o = { .mode = MODE_CPU, .lines = false,
				 .inverted = true, .title = "T" };
	char *s = fx_write(flamegraph_write, p, &o, NULL);
	ck_assert_ptr_nonnull(strstr(s, "<text id=\"title\" x=\"600\" y=\"24\">T</text>"));
	/* cpu: nanosleep is gone, work is one box of 5 */
	ck_assert_uint_eq(fx_count(s, "<g class=\"f\">"), 3);
	/* CPU mode: lines by CPU samples, 3 at line 10, 2 at line 11 */
	ck_assert_ptr_nonnull(strstr(s, "<title>work (m.py) \xe2\x80\x94 5 samples, 100.00%; hottest lines: line 10: 60.0%, line 11: 40.0%</title>"));
	ck_assert_int_lt(box_y(s, "all"), box_y(s, "main (m.py)"));
	ck_assert_int_lt(box_y(s, "main (m.py)"), box_y(s, "work (m.py)"));
	ck_assert_ptr_nonnull(strstr(s, "data-inverted=\"1\""));
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_flamegraph_merges_narrow)
{
	/* one heavy stack and 5000 light ones of one sample each: the light
	 * ones are far under a pixel and become one box */
	profile *p = profile_new();
	uint32_t m = fx_frame(p, FRAME_PYTHON, "main", "m.py", NULL, 1);
	uint32_t h = fx_frame(p, FRAME_PYTHON, "heavy", "m.py", NULL, 2);
	uint32_t st[] = { m, h };
	struct profile_agg agg = { .stack = profile_intern_stack(p, st, 2),
				   .pid = 1, .tid = 1, .samples = 1000000 };
	ck_assert_int_eq(profile_add_agg(p, &agg), LP_OK);
	for (int i = 0; i < 5000; i++) {
		char name[32];
		snprintf(name, sizeof name, "light%d", i);
		uint32_t l = fx_frame(p, FRAME_PYTHON, name, "m.py", NULL, 3);
		uint32_t ls[] = { m, l };
		agg.stack = profile_intern_stack(p, ls, 2);
		agg.samples = 1;
		ck_assert_int_eq(profile_add_agg(p, &agg), LP_OK);
	}
	struct output_opts o = { .mode = MODE_WALL, .lines = true };
	size_t len;
	char *s = fx_write(flamegraph_write, p, &o, &len);
	ck_assert_uint_eq(fx_count(s, "<g class=\"f\">"), 4);
	ck_assert_ptr_nonnull(strstr(s, "<title>[5000 small frames] \xe2\x80\x94 5000 samples,"));
	ck_assert_ptr_null(strstr(s, "light1"));
	ck_assert_uint_lt(len, 20000);
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_flamegraph_diff)
{
	profile *base = fx_profile(3);	/* work:10 4 of 10 */
	profile *cur = fx_profile(9);	/* work:10 10 of 16 */
	struct output_opts o = { .mode = MODE_WALL, .lines = true };
	char *s = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&s, &n);
	ck_assert_int_eq(flamegraph_write_diff(base, cur, fp, &o), LP_OK);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(s, "<title>work (m.py:10) \xe2\x80\x94 10 samples, 62.50% (base 40.00%, +22.50 points)</title>"));
	ck_assert_ptr_nonnull(strstr(s, "<title>nanosleep \xe2\x80\x94 4 samples, 25.00% (base 40.00%, -15.00 points)</title>"));
	int grew[3], shrank[3], same[3];
	box_fill(s, "work (m.py:10)", grew);
	box_fill(s, "nanosleep", shrank);
	box_fill(s, "main (m.py:1)", same);
	ck_assert(grew[0] == 255 && grew[2] < 100);	/* red, the largest change */
	ck_assert(shrank[2] == 255 && shrank[0] < 200);	/* blue */
	ck_assert(same[0] == 250 && same[2] == 250);	/* unchanged */
	ck_assert_ptr_nonnull(strstr(s, "Differential flame graph"));
	free(s);
	profile_free(base);
	profile_free(cur);
}
END_TEST

START_TEST(test_flamegraph_empty)
{
	profile *p = profile_new();
	struct output_opts o = { .mode = MODE_WALL, .lines = true };
	char *s = fx_write(flamegraph_write, p, &o, NULL);
	ck_assert_ptr_nonnull(strstr(s, "</svg>"));
	ck_assert_uint_eq(fx_count(s, "<g class=\"f\">"), 0);
	free(s);
	profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flamegraph");
	TCase *tc = tcase_create("flamegraph");
	tcase_add_test(tc, test_flamegraph_boxes);
	tcase_add_test(tc, test_flamegraph_inverted_cpu);
	tcase_add_test(tc, test_flamegraph_merges_narrow);
	tcase_add_test(tc, test_flamegraph_diff);
	tcase_add_test(tc, test_flamegraph_empty);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
