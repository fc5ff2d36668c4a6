/* Unit tests of loupe top's trends (ui/top/top_trend.c) and header lines
 * (ui/top/top_header.c) on a model filled by hand: the change over 10 s
 * puts a function that just became hot first, the sparkline's cells
 * follow the history, the fixed table never grows, the header's parts
 * drop whole to fit. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "top_header.h"
#include "top_model.h"
#include "top_trend.h"

#define SEC 1000000000ull

static void model(struct top_model *m, size_t n)
{
	top_model_init(m);
	m->rows = calloc(n, sizeof *m->rows);
	ck_assert_ptr_nonnull(m->rows);
	m->nrows = m->rows_cap = n;
	for (size_t i = 0; i < n; i++) {
		m->rows[i].frame = (uint32_t)i + 1;
		m->rows[i].trend_slot = -1;
		snprintf(m->rows[i].name, sizeof m->rows[i].name, "f%zu", i);
		m->rows[i].func_len = strlen(m->rows[i].name);
	}
}

/* One second of samples: row i gains add[i] own wall samples. */
static void second(top_trend *t, struct top_model *m, const uint64_t *add,
		   uint64_t at)
{
	for (size_t i = 0; i < m->nrows; i++) {
		m->rows[i].own[MODE_WALL] += add[i];
		m->rows[i].total[MODE_WALL] += add[i];
		m->totals[MODE_WALL] += add[i];
	}
	top_trend_update(t, m, at);
}

START_TEST(just_hot_rises_first)
{
	struct top_model m;
	top_trend *t;
	ck_assert_int_eq(top_trend_new(&t), LP_OK);
	model(&m, 2);
	uint64_t a_hot[2] = { 100, 0 }, b_hot[2] = { 0, 100 };
	uint64_t now = 1000 * SEC;
	top_trend_update(t, &m, now);	/* first sight: the baseline */
	for (int s = 1; s <= 30; s++)
		second(t, &m, a_hot, now + (uint64_t)s * SEC);
	for (int s = 31; s <= 35; s++)
		second(t, &m, b_hot, now + (uint64_t)s * SEC);
	/* since the start f0 leads by far; over the last 10 s f1 rose */
	ck_assert_uint_gt(m.rows[0].own[MODE_WALL], m.rows[1].own[MODE_WALL]);
	ck_assert_int_gt(m.rows[1].change[MODE_WALL], 0);
	ck_assert_int_lt(m.rows[0].change[MODE_WALL], 0);
	struct top_view_opts vo = { .mode = MODE_WALL, .sort_metric = MODE_WALL };
	ck_assert_int_eq(top_model_view(&m, &vo), LP_OK);
	ck_assert_uint_eq(m.view[0], 0);
	vo.sort_change = true;
	ck_assert_int_eq(top_model_view(&m, &vo), LP_OK);
	ck_assert_uint_eq(m.view[0], 1);
	char c[32];
	top_trend_change_text(&m.rows[1], MODE_WALL, c, sizeof c);
	ck_assert_msg(c[0] == '+', "%s", c);
	/* the sparkline, 12 cells of 5 s: f0 full in its first cells, none
	 * in the last; f1 the other way round */
	char sp[256];
	ck_assert_uint_eq(top_trend_spark(t, &m.rows[0], MODE_WALL, 12, false, sp,
					  sizeof sp), 12);
	ck_assert_msg(strchr(sp, '#') != NULL && sp[11] == ' ', "[%s]", sp);
	top_trend_spark(t, &m.rows[1], MODE_WALL, 12, false, sp, sizeof sp);
	ck_assert_msg(sp[11] == '#' && sp[0] == ' ', "[%s]", sp);
	/* UTF-8, 30 cells of 2 s: f1's last five seconds are three cells
	 * of blocks (three bytes each), the others spaces */
	ck_assert_uint_eq(top_trend_spark(t, &m.rows[1], MODE_WALL, 30, true, sp,
					  sizeof sp), 27 + 3 * 3);
	ck_assert_ptr_nonnull(strstr(sp, "\u2588\u2588"));
	/* a minute later with nothing new: no history left, no change */
	uint64_t none[2] = { 0, 0 };
	second(t, &m, none, now + 200 * SEC);
	ck_assert_int_eq(m.rows[1].change[MODE_WALL], 0);
	top_trend_free(t);
	top_model_fini(&m);
}
END_TEST

/* A function that appears after the start counts from its first second
 * (a row exists once it has samples): it rises at once. */
START_TEST(new_row_counts_at_once)
{
	struct top_model m;
	top_trend *t;
	ck_assert_int_eq(top_trend_new(&t), LP_OK);
	model(&m, 2);
	m.nrows = 1;
	uint64_t a[2] = { 100, 0 }, b[2] = { 0, 100 };
	top_trend_update(t, &m, 50 * SEC);
	for (int s = 1; s <= 20; s++)
		second(t, &m, a, (50 + (uint64_t)s) * SEC);
	m.nrows = 2;
	second(t, &m, b, 71 * SEC);
	ck_assert_int_gt(m.rows[1].change[MODE_WALL], 0);
	ck_assert_int_gt(m.rows[1].change[MODE_WALL], m.rows[0].change[MODE_WALL]);
	top_trend_free(t);
	top_model_fini(&m);
}
END_TEST

START_TEST(fixed_table)
{
	struct top_model m;
	top_trend *t;
	ck_assert_int_eq(top_trend_new(&t), LP_OK);
	model(&m, TOP_TREND_SLOTS + 500);
	uint64_t *add = calloc(m.nrows, sizeof *add);
	for (size_t i = 0; i < m.nrows; i++)
		add[i] = 1;
	top_trend_update(t, &m, 5 * SEC);
	second(t, &m, add, 6 * SEC);
	size_t with = 0;
	for (size_t i = 0; i < m.nrows; i++)
		with += m.rows[i].trend_slot >= 0;
	/* every slot but one (the probe's end) taken, the rest without */
	ck_assert_uint_eq(with, TOP_TREND_SLOTS - 1);
	char sp[64];
	top_trend_spark(t, &m.rows[m.nrows - 1], MODE_WALL, 12, false, sp, sizeof sp);
	ck_assert_str_eq(sp, "            ");
	/* a reset forgets them all */
	top_trend_reset(t);
	top_trend_update(t, &m, 7 * SEC);
	ck_assert_int_eq(m.rows[0].change[MODE_WALL], 0);
	free(add);
	top_trend_free(t);
	top_model_fini(&m);
}
END_TEST

START_TEST(header_parts_drop_whole)
{
	struct top_header_in in = {
		.rate_hz = 100, .ticks = 90, .missed = 10, .elapsed_ns = SEC,
		.truncated = 3, .errors = 2, .python = true,
		.threads = 4, .on_cpu = 1, .gil = 1, .idle = 3,
	};
	in.failed[0] = in.failed[1] = 5;
	char buf[512];
	top_header_rate(&in, 200, false, buf, sizeof buf);
	ck_assert_msg(strstr(buf, "rate 90.0/100 Hz  [") == buf, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "10.0% missed"));
	ck_assert_ptr_nonnull(strstr(buf, "5 failed (frames changed during the read 5)"));
	ck_assert_ptr_nonnull(strstr(buf, "3 partial (walk stopped short of the root)"));
	ck_assert_ptr_nonnull(strstr(buf, "2 lost (memory read failed)"));
	/* the bar: 20 cells, 18 achieved */
	ck_assert_ptr_nonnull(strstr(buf, "[##################..]"));
	for (int w = 30; w <= 120; w++) {
		size_t n = top_header_rate(&in, w, false, buf, sizeof buf);
		ck_assert_msg((int)n <= w, "%d: %s", w, buf);
	}
	top_header_rate(&in, 60, false, buf, sizeof buf);
	ck_assert_msg(strstr(buf, "5 failed") != NULL && strstr(buf, "(frames") == NULL,
		      "%s", buf);
	top_header_states(&in, 200, buf, sizeof buf);
	ck_assert_msg(strstr(buf, "threads 4: 1 on CPU, 1 holding GIL, 3 idle") == buf,
		      "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "GC n/a"));
	for (int w = 20; w <= 120; w++) {
		size_t n = top_header_states(&in, w, buf, sizeof buf);
		ck_assert_msg((int)n <= w, "%d: %s", w, buf);
	}
	in.python = false;
	in.tasks = true;
	in.tasks_running = 1;
	in.tasks_waiting = 11;
	top_header_states(&in, 200, buf, sizeof buf);
	ck_assert_msg(strstr(buf, "tasks 12: 1 running, 11 waiting  ready n/a  threads 4: 1 on CPU, 3 idle") == buf,
		      "%s", buf);
	ck_assert_ptr_null(strstr(buf, "holding GIL"));
	/* the ready tasks and the GIL's waiters, where they are known */
	in.ready_known = true;
	in.tasks_ready = 4;
	in.python = true;
	in.gil_wait_known = true;
	in.gil_wait = 2;
	top_header_states(&in, 200, buf, sizeof buf);
	ck_assert_msg(strstr(buf, "tasks 12: 1 running, 4 ready, 7 waiting  threads 4: ") == buf,
		      "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "  2 waiting for GIL  "));
	ck_assert_ptr_null(strstr(buf, "n/a  GC"));
}
END_TEST

START_TEST(top_three_fit)
{
	struct top_model m;
	model(&m, 4);
	for (size_t i = 0; i < 4; i++) {
		m.rows[i].own[MODE_WALL] = 10 * (i + 1);
		m.totals[MODE_WALL] += 10 * (i + 1);
		snprintf(m.rows[i].name, sizeof m.rows[i].name,
			 "a_rather_long_function_name_number_%zu", i);
		m.rows[i].func_len = strlen(m.rows[i].name);
	}
	struct top_view_opts vo = { .mode = MODE_WALL, .sort_metric = MODE_WALL };
	ck_assert_int_eq(top_model_view(&m, &vo), LP_OK);
	char buf[512];
	top_header_top3(&m, &vo, 200, false, buf, sizeof buf);
	ck_assert_msg(strstr(buf, "top by %OwnWall:  a_rather_long_function_name_number_3 40.0%") == buf,
		      "%s", buf);
	for (int w = 40; w <= 160; w += 10) {
		size_t n = top_header_top3(&m, &vo, w, false, buf, sizeof buf);
		ck_assert_msg((int)n <= w, "%d: %s", w, buf);
	}
	/* at 80 columns the three are there, cut */
	top_header_top3(&m, &vo, 80, false, buf, sizeof buf);
	ck_assert_msg(strstr(buf, "40.0%") && strstr(buf, "30.0%") && strstr(buf, "20.0%"),
		      "%s", buf);
	top_model_fini(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("top_trend");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, just_hot_rises_first);
	tcase_add_test(tc, new_row_counts_at_once);
	tcase_add_test(tc, fixed_table);
	tcase_add_test(tc, header_parts_drop_whole);
	tcase_add_test(tc, top_three_fit);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
