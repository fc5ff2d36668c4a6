/* The per-coroutine views of a task-mode profile, over a profile built by
 * hand: loupe top's task view (ui/top/top_model.c with tasks on) and loupe
 * report --tasks (ui/report/report_tasks.c).  Task samples have a task string
 * id and a stack rooted at a FRAME_TASK frame; thread samples have neither
 * and must not count. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "report_tasks.h"
#include "top_model.h"
#include "unit.h"

static uint32_t pyframe(profile *p, const char *func, int line)
{
	struct frame f = { .kind = FRAME_PYTHON,
			   .func = profile_intern_cstr(p, func),
			   .file = profile_intern_cstr(p, "/srv/app.py"),
			   .line = line };
	return profile_intern_frame(p, &f);
}

static uint32_t taskframe(profile *p, const char *name)
{
	struct frame f = { .kind = FRAME_TASK,
			   .func = profile_intern_cstr(p, name) };
	return profile_intern_frame(p, &f);
}

static void add(profile *p, const uint32_t *frames, size_t n, const char *task,
		uint32_t flags, uint32_t weight, int count)
{
	struct sample s = { .pid = 100, .tid = 100,
			    .stack = profile_intern_stack(p, frames, n),
			    .flags = flags, .weight = weight,
			    .cpu_ns = flags & SAMPLE_ON_CPU ? 10000000 : 0,
			    .task = task ? profile_intern_cstr(p, task) : 0 };
	ck_assert_uint_ne(s.stack, PROFILE_NOID);
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
}

/* 100 ticks:
 *   task w1 > worker > handle > sleep     suspended  x100
 *   task w2 > worker > handle > sleep     suspended  x60, weight 1
 *   task w2 > worker > compute            on CPU     x20, weight 2
 *   task main > main                      suspended  x100
 *   run_forever > select                  thread     x100 (not a task) */
static profile *make_profile(void)
{
	profile *p = profile_new();
	ck_assert_ptr_nonnull(p);
	uint32_t worker = pyframe(p, "worker", 10), handle = pyframe(p, "handle", 20);
	uint32_t sleep = pyframe(p, "sleep", 600), compute = pyframe(p, "compute", 30);
	uint32_t main_ = pyframe(p, "main", 40), rf = pyframe(p, "run_forever", 1);
	uint32_t sel = pyframe(p, "select", 2);
	add(p, (uint32_t[]){ taskframe(p, "w1"), worker, handle, sleep }, 4, "w1",
	    SAMPLE_IDLE, 1, 100);
	add(p, (uint32_t[]){ taskframe(p, "w2"), worker, handle, sleep }, 4, "w2",
	    SAMPLE_IDLE, 1, 60);
	add(p, (uint32_t[]){ taskframe(p, "w2"), worker, compute }, 3, "w2",
	    SAMPLE_ON_CPU, 2, 20);
	add(p, (uint32_t[]){ taskframe(p, "main"), main_ }, 2, "main",
	    SAMPLE_IDLE, 1, 100);
	add(p, (uint32_t[]){ rf, sel }, 2, NULL, SAMPLE_IDLE, 1, 100);
	return p;
}

static const struct top_row *row(const struct top_model *m, const char *prefix)
{
	for (size_t i = 0; i < m->nrows; i++)
		if (strncmp(m->rows[i].name, prefix, strlen(prefix)) == 0)
			return &m->rows[i];
	return NULL;
}

START_TEST(test_top_task_view)
{
	profile *p = make_profile();
	struct top_model m;
	top_model_init(&m);
	struct top_agg_opts ao = { .by_line = false, .tasks = true };
	ck_assert_int_eq(top_model_compute(&m, p, &ao), LP_OK);
	/* only task samples: 100 + 60 + 40 + 100 */
	ck_assert_uint_eq(m.totals[MODE_WALL], 300);
	const struct top_row *w = row(&m, "worker"), *s = row(&m, "sleep");
	const struct top_row *c = row(&m, "compute"), *mn = row(&m, "main");
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(mn);
	ck_assert_uint_eq(w->total[MODE_WALL], 200);
	ck_assert_uint_eq(w->ntasks, 2);
	ck_assert_uint_eq(s->total[MODE_WALL], 160);
	ck_assert_uint_eq(s->own[MODE_WALL], 160);
	ck_assert_uint_eq(s->ntasks, 2);
	ck_assert_uint_eq(c->total[MODE_CPU], 40);
	ck_assert_uint_eq(c->ntasks, 1);
	ck_assert_uint_eq(mn->ntasks, 1);
	/* the loop's own frames and the task roots are not rows */
	ck_assert_ptr_null(row(&m, "select"));
	ck_assert_ptr_null(row(&m, "run_forever"));
	ck_assert_ptr_null(row(&m, "w1"));
	/* without the task view, the thread sample counts again */
	ao.tasks = false;
	ck_assert_int_eq(top_model_compute(&m, p, &ao), LP_OK);
	ck_assert_uint_eq(m.totals[MODE_WALL], 400);
	ck_assert_ptr_nonnull(row(&m, "select"));
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_report_coro_stats)
{
	profile *p = make_profile();
	struct coro_stats *cs;
	size_t n;
	uint64_t total;
	ck_assert_int_eq(coro_stats(p, &cs, &n, &total), LP_OK);
	ck_assert_uint_eq(total, 300);
	ck_assert_uint_eq(n, 5);	/* worker handle sleep compute main */
	/* largest wall first: worker (200) */
	ck_assert_str_eq(profile_str(p, cs[0].func), "worker");
	ck_assert_uint_eq(cs[0].samples, 200);
	ck_assert_uint_eq(cs[0].ntasks, 2);
	ck_assert_uint_eq(cs[0].cpu_samples, 40);
	for (size_t i = 0; i < n; i++) {
		const char *f = profile_str(p, cs[i].func);
		if (strcmp(f, "sleep") == 0) {
			ck_assert_uint_eq(cs[i].samples, 160);
			ck_assert_uint_eq(cs[i].cpu_samples, 0);
			ck_assert_uint_eq(cs[i].cpu_ns, 0);
		} else if (strcmp(f, "compute") == 0) {
			ck_assert_uint_eq(cs[i].samples, 40);
			ck_assert_uint_eq(cs[i].cpu_ns, 20 * 10000000ull);
			ck_assert_uint_eq(cs[i].ntasks, 1);
		}
		ck_assert_str_ne(f, "select");
	}
	free(cs);
	profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tasks_view");
	TCase *tc = tcase_create("views");
	tcase_add_test(tc, test_top_task_view);
	tcase_add_test(tc, test_report_coro_stats);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
