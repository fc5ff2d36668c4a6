/* Unit tests of loupe top's table model (ui/top/top_model.c) against a profile
 * built by hand: rows, percentages, sorting, filtering, by line or by
 * function, thread filter and per-thread rows, hidden native frames. */
#include <check.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "top_model.h"

enum { TID_MAIN = 11, TID_WORKER = 22 };

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

static void add(profile *p, const uint32_t *frames, size_t n, int tid,
		uint32_t flags, int count)
{
	struct sample s = { .pid = 100, .tid = tid,
			    .stack = profile_intern_stack(p, frames, n),
			    .flags = flags, .cpu_ns = 1000 };
	ck_assert_uint_ne(s.stack, PROFILE_NOID);
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
}

/* Wall 24, CPU 11, GIL 6, idle 11 samples:
 *   main > work:10 > hot           tid 11  on CPU + GIL  x6
 *   main > work:11                 tid 11  on CPU        x2
 *   main > rec > rec               tid 11  on CPU        x1 (recursion)
 *   main > nanosleep (native)      tid 22  idle          x10
 *   main > work:10 > PyEval (native) > hot   tid 22 on CPU x2
 *   main > libfoo.so+0x1a2b        tid 22  (neither)     x2
 *   (empty stack)                  tid 22  idle          x1 */
static profile *make_profile(void)
{
	profile *p = profile_new();
	ck_assert_ptr_nonnull(p);
	uint32_t main_ = frame(p, FRAME_PYTHON, "main", "/srv/app/m.py", NULL, 1, 0);
	uint32_t w10 = frame(p, FRAME_PYTHON, "work", "/srv/app/m.py", NULL, 10, 0);
	uint32_t w11 = frame(p, FRAME_PYTHON, "work", "/srv/app/m.py", NULL, 11, 0);
	uint32_t hot = frame(p, FRAME_PYTHON, "hot", "/srv/app/m.py", NULL, 20, 0);
	uint32_t rec = frame(p, FRAME_PYTHON, "rec", "/srv/app/m.py", NULL, 30, 0);
	uint32_t ns = frame(p, FRAME_NATIVE, "nanosleep", NULL,
			    "/usr/lib/x86_64-linux-gnu/libc.so.6", 0, 0);
	uint32_t ev = frame(p, FRAME_NATIVE, "_PyEval_EvalFrameDefault", NULL,
			    "/usr/bin/python3.11", 0, 0);
	uint32_t un = frame(p, FRAME_NATIVE, NULL, NULL, "/opt/lib/libfoo.so",
			    0, 0x1a2b);
	add(p, (uint32_t[]){ main_, w10, hot }, 3, TID_MAIN,
	    SAMPLE_ON_CPU | SAMPLE_GIL, 6);
	add(p, (uint32_t[]){ main_, w11 }, 2, TID_MAIN, SAMPLE_ON_CPU, 2);
	add(p, (uint32_t[]){ main_, rec, rec }, 3, TID_MAIN, SAMPLE_ON_CPU, 1);
	add(p, (uint32_t[]){ main_, ns }, 2, TID_WORKER, SAMPLE_IDLE, 10);
	add(p, (uint32_t[]){ main_, w10, ev, hot }, 4, TID_WORKER, SAMPLE_ON_CPU, 2);
	add(p, (uint32_t[]){ main_, un }, 2, TID_WORKER, 0, 2);
	add(p, NULL, 0, TID_WORKER, SAMPLE_IDLE, 1);
	ck_assert_int_eq(profile_set_thread(p, 100, TID_MAIN, "MainThread"), LP_OK);
	ck_assert_int_eq(profile_set_thread(p, 100, TID_WORKER, "worker"), LP_OK);
	return p;
}

static const struct top_agg_opts BY_LINE = { .by_line = true };
static const struct top_view_opts OWN_CPU = { .mode = MODE_WALL,
					      .sort_metric = MODE_CPU };

static void compute(struct top_model *m, const profile *p,
		    const struct top_agg_opts *ao, const struct top_view_opts *vo)
{
	ck_assert_int_eq(top_model_compute(m, p, ao), LP_OK);
	ck_assert_int_eq(top_model_view(m, vo), LP_OK);
}

/* The row shown at position i. */
static const struct top_row *at(const struct top_model *m, size_t i)
{
	ck_assert_uint_lt(i, m->nview);
	return &m->rows[m->view[i]];
}

/* The row named name (with thread tid when not 0), or NULL. */
static const struct top_row *find(const struct top_model *m, const char *name,
				  int32_t tid)
{
	for (size_t i = 0; i < m->nview; i++) {
		const struct top_row *r = at(m, i);
		if (strcmp(r->name, name) == 0 && (!tid || r->tid == tid))
			return r;
	}
	return NULL;
}

START_TEST(test_rows_by_line)
{
	profile *p = make_profile();
	struct top_model m;
	top_model_init(&m);
	compute(&m, p, &BY_LINE, &OWN_CPU);
	ck_assert_uint_eq(m.totals[MODE_WALL], 24);
	ck_assert_uint_eq(m.totals[MODE_CPU], 11);
	ck_assert_uint_eq(m.totals[MODE_GIL], 6);
	ck_assert_uint_eq(m.idle, 11);
	ck_assert_uint_eq(m.no_function, 1);
	/* main, work:10, work:11, hot, rec, nanosleep, PyEval, libfoo */
	ck_assert_uint_eq(m.nview, 8);

	const struct top_row *hot = find(&m, "hot (m.py:20)", 0);
	ck_assert_ptr_nonnull(hot);
	ck_assert_uint_eq(hot->own[MODE_WALL], 8);
	ck_assert_uint_eq(hot->own[MODE_CPU], 8);
	ck_assert_uint_eq(hot->own[MODE_GIL], 6);
	ck_assert_uint_eq(hot->total[MODE_WALL], 8);

	const struct top_row *w10 = find(&m, "work (m.py:10)", 0);
	ck_assert_ptr_nonnull(w10);
	ck_assert_uint_eq(w10->own[MODE_WALL], 0);
	ck_assert_uint_eq(w10->total[MODE_WALL], 8);

	const struct top_row *main_ = find(&m, "main (m.py:1)", 0);
	ck_assert_ptr_nonnull(main_);
	ck_assert_uint_eq(main_->total[MODE_WALL], 23);
	ck_assert_uint_eq(main_->total[MODE_CPU], 11);
	ck_assert_uint_eq(main_->own[MODE_WALL], 0);

	/* recursion: total once per stack, own once */
	const struct top_row *rec = find(&m, "rec (m.py:30)", 0);
	ck_assert_ptr_nonnull(rec);
	ck_assert_uint_eq(rec->total[MODE_WALL], 1);
	ck_assert_uint_eq(rec->own[MODE_WALL], 1);

	/* native rows: symbol with its module, or module+offset */
	const struct top_row *sl = find(&m, "nanosleep (libc.so.6)", 0);
	ck_assert_ptr_nonnull(sl);
	ck_assert_uint_eq(sl->own[MODE_WALL], 10);
	ck_assert_uint_eq(sl->own[MODE_CPU], 0);
	ck_assert_ptr_nonnull(find(&m, "libfoo.so+0x1a2b", 0));
	ck_assert_ptr_nonnull(find(&m, "_PyEval_EvalFrameDefault (python3.11)", 0));

	/* the default sort, own CPU: hot first */
	ck_assert_str_eq(at(&m, 0)->name, "hot (m.py:20)");
	ck_assert_str_eq(at(&m, 1)->name, "work (m.py:11)");
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_percentages_and_seconds)
{
	profile *p = make_profile();
	struct top_model m;
	top_model_init(&m);
	compute(&m, p, &BY_LINE, &OWN_CPU);
	const struct top_row *hot = find(&m, "hot (m.py:20)", 0);
	ck_assert_double_eq_tol(top_pct(&m, hot->own[MODE_WALL], MODE_WALL),
				100.0 * 8 / 24, 1e-9);
	ck_assert_double_eq_tol(top_pct(&m, hot->own[MODE_CPU], MODE_CPU),
				100.0 * 8 / 11, 1e-9);

	struct top_column c[TOP_NCOLS];
	top_columns(MODE_WALL, c);
	ck_assert_str_eq(c[0].title, "%OwnWall");
	ck_assert_str_eq(c[2].title, "%OwnCPU");
	ck_assert(c[4].seconds && !c[4].total && c[4].metric == MODE_WALL);
	ck_assert_double_eq_tol(top_cell(&m, hot, &c[0], 100), 100.0 * 8 / 24, 1e-9);
	ck_assert_double_eq_tol(top_cell(&m, hot, &c[3], 100), 100.0 * 8 / 11, 1e-9);
	/* seconds = samples / rate */
	ck_assert_double_eq_tol(top_cell(&m, hot, &c[4], 4), 2.0, 1e-9);
	const struct top_row *main_ = find(&m, "main (m.py:1)", 0);
	ck_assert_double_eq_tol(top_cell(&m, main_, &c[5], 10), 2.3, 1e-9);

	/* CPU mode puts CPU first and counts seconds of CPU */
	top_columns(MODE_CPU, c);
	ck_assert_str_eq(c[0].title, "%OwnCPU");
	ck_assert_str_eq(c[1].title, "%TotCPU");
	ck_assert_str_eq(c[2].title, "%OwnWall");
	ck_assert_double_eq_tol(top_cell(&m, main_, &c[5], 10), 1.1, 1e-9);

	/* nothing sampled: 0%, not a division by zero */
	profile_reset_samples(p);
	compute(&m, p, &BY_LINE, &OWN_CPU);
	ck_assert_uint_eq(m.nview, 0);
	ck_assert_uint_eq(m.totals[MODE_WALL], 0);
	ck_assert_double_eq(top_pct(&m, 0, MODE_CPU), 0.0);
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_sorting)
{
	profile *p = make_profile();
	struct top_model m;
	top_model_init(&m);
	struct top_view_opts vo = OWN_CPU;

	/* own wall: the idle nanosleep leads */
	top_sort_by_column(&vo, 0);
	ck_assert_int_eq(vo.sort_metric, MODE_WALL);
	ck_assert(!vo.sort_total);
	compute(&m, p, &BY_LINE, &vo);
	ck_assert_str_eq(at(&m, 0)->name, "nanosleep (libc.so.6)");
	ck_assert_str_eq(at(&m, 1)->name, "hot (m.py:20)");

	/* total wall: main, on every stack */
	top_sort_by_column(&vo, 1);
	ck_assert_int_eq(top_sort_column(&vo), 1);
	ck_assert_int_eq(top_model_view(&m, &vo), LP_OK);
	ck_assert_str_eq(at(&m, 0)->name, "main (m.py:1)");

	/* total CPU: main (11), then work:10 and hot (8 each; hot's larger
	 * own count breaks the tie) */
	top_sort_by_column(&vo, 3);
	ck_assert_int_eq(vo.sort_metric, MODE_CPU);
	ck_assert(vo.sort_total);
	ck_assert_int_eq(top_model_view(&m, &vo), LP_OK);
	ck_assert_str_eq(at(&m, 0)->name, "main (m.py:1)");
	ck_assert_str_eq(at(&m, 1)->name, "hot (m.py:20)");
	ck_assert_str_eq(at(&m, 2)->name, "work (m.py:10)");
	for (size_t i = 1; i < m.nview; i++)
		ck_assert_uint_ge(at(&m, i - 1)->total[MODE_CPU],
				  at(&m, i)->total[MODE_CPU]);

	/* the seconds columns sort like the mode's percentages */
	top_sort_by_column(&vo, 4);
	ck_assert_int_eq(vo.sort_metric, MODE_WALL);
	ck_assert(!vo.sort_total);

	/* the same semantic sort sits in another column in CPU mode */
	vo.mode = MODE_CPU;
	vo.sort_metric = MODE_CPU;
	vo.sort_total = false;
	ck_assert_int_eq(top_sort_column(&vo), 0);
	vo.mode = MODE_WALL;
	ck_assert_int_eq(top_sort_column(&vo), 2);
	/* GIL mode: GIL and CPU columns; a wall sort is not on screen */
	vo.mode = MODE_GIL;
	vo.sort_metric = MODE_WALL;
	ck_assert_int_eq(top_sort_column(&vo), -1);
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_filter)
{
	profile *p = make_profile();
	struct top_model m;
	top_model_init(&m);
	struct top_view_opts vo = OWN_CPU;
	vo.filter = "WORK";
	compute(&m, p, &BY_LINE, &vo);
	ck_assert_uint_eq(m.nview, 2);
	ck_assert_str_eq(at(&m, 0)->name, "work (m.py:11)");
	ck_assert_str_eq(at(&m, 1)->name, "work (m.py:10)");
	ck_assert_uint_eq(m.nrows, 8);
	/* the percentages stay of everything, not of the filtered rows */
	ck_assert_uint_eq(m.totals[MODE_WALL], 24);

	vo.filter = "libc";
	ck_assert_int_eq(top_model_view(&m, &vo), LP_OK);
	ck_assert_uint_eq(m.nview, 1);
	ck_assert_str_eq(at(&m, 0)->name, "nanosleep (libc.so.6)");

	vo.filter = "no such function";
	ck_assert_int_eq(top_model_view(&m, &vo), LP_OK);
	ck_assert_uint_eq(m.nview, 0);

	vo.filter = "";
	ck_assert_int_eq(top_model_view(&m, &vo), LP_OK);
	ck_assert_uint_eq(m.nview, 8);
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_by_function)
{
	profile *p = make_profile();
	struct top_model m;
	top_model_init(&m);
	struct top_agg_opts ao = { .by_line = false };
	compute(&m, p, &ao, &OWN_CPU);
	ck_assert_uint_eq(m.nview, 7);
	ck_assert_ptr_null(find(&m, "work (m.py:10)", 0));
	const struct top_row *work = find(&m, "work (m.py)", 0);
	ck_assert_ptr_nonnull(work);
	ck_assert_uint_eq(work->own[MODE_WALL], 2);
	ck_assert_uint_eq(work->total[MODE_WALL], 10);
	ck_assert_uint_eq(work->total[MODE_CPU], 10);
	ck_assert_ptr_nonnull(find(&m, "hot (m.py)", 0));
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_threads)
{
	profile *p = make_profile();
	struct top_model m;
	top_model_init(&m);
	struct top_agg_opts ao = BY_LINE;

	compute(&m, p, &ao, &OWN_CPU);
	ck_assert_uint_eq(m.nthreads, 2);
	ck_assert_int_eq(m.threads[0].tid, TID_MAIN);
	ck_assert_str_eq(m.threads[0].name, "MainThread");
	ck_assert_uint_eq(m.threads[0].samples, 9);
	ck_assert_uint_eq(m.threads[0].cpu_samples, 9);
	ck_assert_int_eq(m.threads[1].tid, TID_WORKER);
	ck_assert_str_eq(m.threads[1].name, "worker");
	ck_assert_uint_eq(m.threads[1].samples, 15);
	ck_assert_int_eq(top_thread_index(&m, TID_WORKER), 1);
	ck_assert_int_eq(top_thread_index(&m, 999), -1);

	/* a thread filter: its samples only, and its 100% */
	ao.tid = TID_WORKER;
	compute(&m, p, &ao, &OWN_CPU);
	ck_assert_uint_eq(m.totals[MODE_WALL], 15);
	ck_assert_uint_eq(m.totals[MODE_CPU], 2);
	ck_assert_ptr_null(find(&m, "work (m.py:11)", 0));
	const struct top_row *hot = find(&m, "hot (m.py:20)", 0);
	ck_assert_uint_eq(hot->own[MODE_WALL], 2);
	ck_assert_double_eq_tol(top_pct(&m, hot->own[MODE_CPU], MODE_CPU), 100.0, 1e-9);
	/* every thread stays listed, to move the filter on */
	ck_assert_uint_eq(m.nthreads, 2);

	/* a row per function and thread */
	ao.tid = 0;
	ao.per_thread = true;
	compute(&m, p, &ao, &OWN_CPU);
	const struct top_row *h1 = find(&m, "hot (m.py:20)", TID_MAIN);
	const struct top_row *h2 = find(&m, "hot (m.py:20)", TID_WORKER);
	ck_assert_ptr_nonnull(h1);
	ck_assert_ptr_nonnull(h2);
	ck_assert_ptr_ne(h1, h2);
	ck_assert_uint_eq(h1->own[MODE_WALL], 6);
	ck_assert_uint_eq(h2->own[MODE_WALL], 2);
	/* main runs in both threads: two rows */
	ck_assert_ptr_nonnull(find(&m, "main (m.py:1)", TID_MAIN));
	ck_assert_ptr_nonnull(find(&m, "main (m.py:1)", TID_WORKER));
	ck_assert_uint_eq(m.nview, 11);
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_hide_native)
{
	profile *p = make_profile();
	struct top_model m;
	top_model_init(&m);
	struct top_agg_opts ao = BY_LINE;
	ao.hide_native = true;
	compute(&m, p, &ao, &OWN_CPU);
	ck_assert_ptr_null(find(&m, "nanosleep (libc.so.6)", 0));
	ck_assert_ptr_null(find(&m, "libfoo.so+0x1a2b", 0));
	ck_assert_ptr_null(find(&m, "_PyEval_EvalFrameDefault (python3.11)", 0));
	for (size_t i = 0; i < m.nview; i++)
		ck_assert_int_eq(profile_frame(p, at(&m, i)->frame)->kind, FRAME_PYTHON);
	/* the time in native leaves goes to the Python caller */
	const struct top_row *main_ = find(&m, "main (m.py:1)", 0);
	ck_assert_uint_eq(main_->own[MODE_WALL], 12);
	/* hot under a native frame is still hot's, and still a leaf */
	const struct top_row *hot = find(&m, "hot (m.py:20)", 0);
	ck_assert_uint_eq(hot->own[MODE_WALL], 8);
	/* the totals do not change: hiding moves time, it does not drop it */
	ck_assert_uint_eq(m.totals[MODE_WALL], 24);
	ck_assert_uint_eq(m.nview, 5);
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_recompute_reuses_model)
{
	/* top recomputes every second into the same model: the figures must
	 * be the new profile's, not sums over refreshes */
	profile *p = make_profile();
	struct top_model m;
	top_model_init(&m);
	for (int i = 0; i < 3; i++)
		compute(&m, p, &BY_LINE, &OWN_CPU);
	ck_assert_uint_eq(m.totals[MODE_WALL], 24);
	ck_assert_uint_eq(find(&m, "hot (m.py:20)", 0)->own[MODE_WALL], 8);
	uint32_t f = frame(p, FRAME_PYTHON, "hot", "/srv/app/m.py", NULL, 20, 0);
	add(p, &f, 1, TID_MAIN, SAMPLE_ON_CPU, 5);
	compute(&m, p, &BY_LINE, &OWN_CPU);
	ck_assert_uint_eq(find(&m, "hot (m.py:20)", 0)->own[MODE_WALL], 13);
	ck_assert_uint_eq(m.nthreads, 2);
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_many_functions)
{
	/* enough rows to grow every table the model keeps */
	profile *p = profile_new();
	struct top_model m;
	top_model_init(&m);
	char name[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "f%d", i);
		uint32_t f = frame(p, FRAME_PYTHON, name, "x.py", NULL, 1, 0);
		add(p, &f, 1, 1000 + i % 50, SAMPLE_ON_CPU, 1 + i % 7);
	}
	struct top_agg_opts ao = { .by_line = false, .per_thread = true };
	compute(&m, p, &ao, &OWN_CPU);
	ck_assert_uint_eq(m.nview, 3000);
	ck_assert_uint_eq(m.nthreads, 50);
	ck_assert_uint_eq(at(&m, 0)->own[MODE_CPU], 7);
	ck_assert_uint_eq(at(&m, 2999)->own[MODE_CPU], 1);
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

static void fit(const char *s, int width, bool utf8, const char *want)
{
	char out[64];
	top_fit_text(s, width, utf8, out, sizeof out);
	ck_assert_str_eq(out, want);
}

START_TEST(test_fit_text)
{
	/* top counts widths in the user's locale; glibc always has C.UTF-8 */
	ck_assert_msg(setlocale(LC_ALL, "C.UTF-8") != NULL, "no C.UTF-8 locale");
	/* fits: unchanged */
	fit("hello", 10, true, "hello");
	fit("hello", 5, true, "hello");
	/* too long: cut with an ellipsis, within the width */
	fit("hello world", 8, true, "hello w\xe2\x80\xa6");
	fit("hello world", 8, false, "hello...");
	fit("abcdef", 2, false, "..");
	fit("abcdef", 0, true, "");
	/* wide characters count two columns */
	fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5, true,
	    "\xe6\x97\xa5\xe6\x9c\xac\xe2\x80\xa6");
	/* names from another process never reach the terminal as control
	 * sequences or broken UTF-8 */
	fit("a\x1b[31mb", 20, true, "a?[31mb");
	fit("a\nb\tc", 20, true, "a?b?c");
	fit("\xff\xfe", 20, true, "??");
	/* a small buffer cuts, still terminated */
	char out[4];
	top_fit_text("abcdefgh", 100, true, out, sizeof out);
	ck_assert_str_eq(out, "abc");
}
END_TEST

/* A row as top_model_compute makes it, for the layouts' fitting. */
static struct top_row located(const char *func, const char *path, int line)
{
	struct top_row r = { 0 };
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (line)
		snprintf(r.name, sizeof r.name, "%s (%s:%d)", func, base, line);
	else
		snprintf(r.name, sizeof r.name, "%s (%s)", func, base);
	r.func_len = strlen(func);
	snprintf(r.where, sizeof r.where, "%s", path);
	r.line = line;
	return r;
}

START_TEST(test_fit_layouts)
{
	char out[256];
	ck_assert_msg(setlocale(LC_ALL, "C.UTF-8") != NULL, "no C.UTF-8 locale");
	struct top_row lc = located("crunch_report.<locals>.<listcomp>",
				    "/srv/app/reports/crunch.py", 123);
	/* room: as it is */
	top_fit_located("", &lc, 60, true, out, sizeof out);
	ck_assert_str_eq(out, "crunch_report.<locals>.<listcomp> (crunch.py:123)");
	/* the middle of the qualified name goes, the last part and the
	 * line stay (issue 24's example) */
	top_fit_located("", &lc, 37, true, out, sizeof out);
	ck_assert_str_eq(out, "crunch_rep\xe2\x80\xa6<listcomp> (crunch.py:123)");
	ck_assert_int_eq(top_text_width(out), 37);
	top_fit_located("", &lc, 37, false, out, sizeof out);
	ck_assert_str_eq(out, "crunch_r...<listcomp> (crunch.py:123)");
	/* a prefix (PID, thread) stays in front */
	top_fit_located("[42] ", &lc, 42, true, out, sizeof out);
	ck_assert_str_eq(out, "[42] crunch_rep\xe2\x80\xa6<listcomp> (crunch.py:123)");
	/* a long last part: the head keeps its start */
	struct top_row lp = located("crunch_report.<locals>.summarize_every_row_of_the_report",
				    "/a/layouts.py", 13);
	top_fit_located("", &lp, 40, true, out, sizeof out);
	ck_assert_str_eq(out, "crunch\xe2\x80\xa6row_of_the_report (layouts.py:13)");
	/* the file's name is cut before the function goes under 12, never
	 * its line */
	struct top_row lf = located("handle", "/x/a_very_long_module_name_for_tests.py", 7);
	top_fit_located("", &lf, 30, true, out, sizeof out);
	ck_assert_int_le(top_text_width(out), 30);
	ck_assert_ptr_nonnull(strstr(out, "handle ("));
	ck_assert_ptr_nonnull(strstr(out, ".py:7)"));
	/* a row without a file is cut at its end, as before */
	struct top_row nat = { 0 };
	snprintf(nat.name, sizeof nat.name, "libfoo.so+0x1a2b3c4d");
	nat.func_len = strlen(nat.name);
	top_fit_located("", &nat, 10, true, out, sizeof out);
	ck_assert_str_eq(out, "libfoo.so\xe2\x80\xa6");

	/* file:line: leading directories go first, then the base name's
	 * middle, never the line */
	top_fit_path("/srv/app/reports/crunch.py", 123, 40, true, out, sizeof out);
	ck_assert_str_eq(out, "/srv/app/reports/crunch.py:123");
	top_fit_path("/srv/app/reports/crunch.py", 123, 24, true, out, sizeof out);
	ck_assert_str_eq(out, "\xe2\x80\xa6/reports/crunch.py:123");
	top_fit_path("/srv/app/reports/crunch.py", 123, 14, true, out, sizeof out);
	ck_assert_str_eq(out, "crunch.py:123");
	top_fit_path("/srv/app/reports/crunch.py", 123, 11, true, out, sizeof out);
	ck_assert_int_le(top_text_width(out), 11);
	ck_assert_ptr_nonnull(strstr(out, ":123"));
	top_fit_path("/srv/app/reports/crunch.py", 0, 40, true, out, sizeof out);
	ck_assert_str_eq(out, "/srv/app/reports/crunch.py");
	/* the function alone (a layout with a file:line column) */
	top_fit_function("", &lc, 21, true, out, sizeof out);
	ck_assert_str_eq(out, "crunch_rep\xe2\x80\xa6<listcomp>");
	/* hostile bytes stay '?' when cut in the middle too */
	struct top_row bad = located("a\x1b[31m.<locals>.b\x07" "cdefghijklmnop", "/x/y.py", 1);
	top_fit_located("", &bad, 20, true, out, sizeof out);
	ck_assert_ptr_null(strchr(out, '\x1b'));
	ck_assert_ptr_null(strchr(out, '\x07'));
	ck_assert_int_le(top_text_width(out), 20);
}
END_TEST

/* A process tree: the parent (PID 100, "parent") waits, two workers (200
 * and 300, "worker") run work; one CPU ms per sample. */
static void add_proc(profile *p, int pid, int tid, const uint32_t *frames,
		     size_t n, uint32_t flags, int count)
{
	struct sample s = { .pid = pid, .tid = tid,
			    .stack = profile_intern_stack(p, frames, n),
			    .flags = flags,
			    .cpu_ns = flags & SAMPLE_ON_CPU ? 1000000 : 0 };
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
}

static profile *tree_profile(void)
{
	profile *p = profile_new();
	uint32_t main_ = frame(p, FRAME_PYTHON, "main", "/srv/m.py", NULL, 1, 0);
	uint32_t wait = frame(p, FRAME_PYTHON, "wait", "/srv/m.py", NULL, 5, 0);
	uint32_t work = frame(p, FRAME_PYTHON, "work", "/srv/m.py", NULL, 9, 0);
	add_proc(p, 100, 100, (uint32_t[]){ main_, wait }, 2, SAMPLE_IDLE, 10);
	add_proc(p, 200, 200, (uint32_t[]){ main_, work }, 2, SAMPLE_ON_CPU, 6);
	add_proc(p, 300, 300, (uint32_t[]){ main_, work }, 2, SAMPLE_ON_CPU, 4);
	add_proc(p, 300, 301, (uint32_t[]){ main_, wait }, 2, SAMPLE_IDLE, 2);
	profile_set_meta(p, "subprocesses", "on");
	profile_set_meta(p, "process.100", "parent");
	profile_set_meta(p, "process.200", "worker");
	profile_set_meta(p, "process.300", "worker");
	return p;
}

static const struct top_row *find_pid(const struct top_model *m,
				      const char *name, int32_t pid)
{
	for (size_t i = 0; i < m->nview; i++) {
		const struct top_row *r = at(m, i);
		if (strcmp(r->name, name) == 0 && r->pid == pid)
			return r;
	}
	return NULL;
}

START_TEST(test_rows_per_process)
{
	profile *p = tree_profile();
	struct top_model m;
	top_model_init(&m);
	struct top_agg_opts ao = { .by_line = false, .per_process = true };
	compute(&m, p, &ao, &OWN_CPU);
	/* main in 3 processes, wait in 2, work in 2 */
	ck_assert_uint_eq(m.nview, 7);
	ck_assert_uint_eq(find_pid(&m, "work (m.py)", 200)->own[MODE_CPU], 6);
	ck_assert_uint_eq(find_pid(&m, "work (m.py)", 300)->own[MODE_CPU], 4);
	ck_assert_uint_eq(find_pid(&m, "wait (m.py)", 300)->own[MODE_WALL], 2);
	ck_assert_uint_eq(find_pid(&m, "main (m.py)", 100)->total[MODE_WALL], 10);
	/* sorted by own CPU: work of 200 first */
	ck_assert_int_eq(at(&m, 0)->pid, 200);
	/* merged: one row per function */
	ao.per_process = false;
	compute(&m, p, &ao, &OWN_CPU);
	ck_assert_uint_eq(m.nview, 3);
	ck_assert_uint_eq(find(&m, "work (m.py)", 0)->own[MODE_CPU], 10);
	ck_assert_int_eq(find(&m, "work (m.py)", 0)->pid, 0);
	/* per thread: the thread's process comes with it */
	ao.per_thread = true;
	compute(&m, p, &ao, &OWN_CPU);
	ck_assert_int_eq(find(&m, "wait (m.py)", 301)->pid, 300);
	ck_assert_int_eq(find(&m, "wait (m.py)", 100)->pid, 100);
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_processes)
{
	profile *p = tree_profile();
	struct top_model m;
	char text[128];
	top_model_init(&m);
	compute(&m, p, &BY_LINE, &OWN_CPU);
	/* from the profile alone: figures, names, threads with samples */
	ck_assert_uint_eq(m.nprocs, 3);
	ck_assert_uint_eq(m.procs_in_profile, 3);
	ck_assert_int_eq(m.procs[top_proc_index(&m, 100)].state, 0);
	const struct top_proc *w = &m.procs[top_proc_index(&m, 300)];
	ck_assert_str_eq(w->comm, "worker");
	ck_assert_uint_eq(w->samples, 6);
	ck_assert_uint_eq(w->cpu_samples, 4);
	ck_assert_uint_eq(w->nthreads, 2);
	top_procs_text(&m, text, sizeof text);
	ck_assert_str_eq(text, "3 processes");	/* states unknown */

	/* the sampler's view: states, live threads, a new process (400,
	 * no samples yet) */
	struct sampler_proc_view v[] = {
		{ .pid = 100, .ppid = 1, .comm = "python3.11", .state = 'S', .nthreads = 1 },
		{ .pid = 200, .ppid = 100, .comm = "python3.11", .state = 'R', .nthreads = 1 },
		{ .pid = 300, .ppid = 100, .comm = "python3.11", .state = 'R', .nthreads = 3 },
		{ .pid = 400, .ppid = 100, .comm = "python3.11", .state = 'D', .nthreads = 1 },
	};
	ck_assert_int_eq(top_model_procs(&m, v, 4), LP_OK);
	ck_assert_uint_eq(m.nprocs, 4);
	ck_assert_str_eq(m.procs[top_proc_index(&m, 100)].comm, "python3.11");
	ck_assert_uint_eq(m.procs[top_proc_index(&m, 300)].nthreads, 3);
	ck_assert_int_eq(m.procs[top_proc_index(&m, 200)].ppid, 100);
	top_procs_text(&m, text, sizeof text);
	ck_assert_str_eq(text, "4 processes: 2 running, 1 sleeping, 1 waiting");

	/* 200 exits: listed as gone ('X'), then no longer listed at all;
	 * either way its row stays where it was */
	v[1].state = 'X';
	ck_assert_int_eq(top_model_procs(&m, v, 4), LP_OK);
	ck_assert_int_eq(m.procs[1].pid, 200);
	ck_assert_int_eq(m.procs[1].state, 'X');
	ck_assert_uint_eq(m.procs[1].nthreads, 0);
	struct sampler_proc_view rest[] = { v[0], v[2], v[3] };
	v[1].state = 'R';	/* not read again: 200 is not in rest */
	ck_assert_int_eq(top_model_procs(&m, rest, 3), LP_OK);
	ck_assert_int_eq(m.procs[1].pid, 200);
	ck_assert_int_eq(m.procs[1].state, 'X');
	top_procs_text(&m, text, sizeof text);
	ck_assert_str_eq(text, "4 processes: 1 running, 1 sleeping, 1 waiting, 1 exited");

	/* a forking server: past TOP_MAX_EXITED exited processes without
	 * samples, the oldest go; those with samples stay */
	for (int k = 0; k < TOP_MAX_EXITED + 10; k++) {
		struct sampler_proc_view gone = { .pid = 1000 + k, .state = 'X' };
		struct sampler_proc_view now[] = { v[0], v[2], v[3], gone };
		ck_assert_int_eq(top_model_procs(&m, now, 4), LP_OK);
	}
	ck_assert_uint_le(m.nprocs, 4 + TOP_MAX_EXITED);
	ck_assert_int_eq(m.procs[1].pid, 200);	/* has samples: kept */
	ck_assert_int_eq(m.procs[m.nprocs - 1].pid, 1000 + TOP_MAX_EXITED + 9);
	ck_assert_int_eq(top_proc_index(&m, 1000), -1);

	/* a reset keeps the processes, with no samples */
	size_t before = m.nprocs;
	profile_reset_samples(p);
	compute(&m, p, &BY_LINE, &OWN_CPU);
	ck_assert_uint_eq(m.nprocs, before);
	ck_assert_uint_eq(m.procs_in_profile, 0);
	ck_assert_uint_eq(m.procs[2].samples, 0);
	ck_assert_int_eq(m.procs[2].pid, 300);
	ck_assert_int_eq(m.procs[2].state, 'R');
	ck_assert_int_eq(m.procs[1].pid, 200);
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

START_TEST(test_process_cpu_rate)
{
	profile *p = tree_profile();
	struct top_model m;
	top_model_init(&m);
	compute(&m, p, &BY_LINE, &OWN_CPU);
	top_model_cpu_rate(&m, 1000000000ull, 500000000ull);
	/* the first call has no window yet */
	ck_assert(m.procs[top_proc_index(&m, 200)].cpu_pct == 0.0);
	/* 200 ms more CPU for 200 over one second: 20%; none for 100 */
	uint32_t work = frame(p, FRAME_PYTHON, "work", "/srv/m.py", NULL, 9, 0);
	add_proc(p, 200, 200, (uint32_t[]){ work }, 1, SAMPLE_ON_CPU, 200);
	compute(&m, p, &BY_LINE, &OWN_CPU);
	/* too soon: nothing moves */
	top_model_cpu_rate(&m, 1100000000ull, 500000000ull);
	ck_assert(m.procs[top_proc_index(&m, 200)].cpu_pct == 0.0);
	top_model_cpu_rate(&m, 2000000000ull, 500000000ull);
	ck_assert_double_eq_tol(m.procs[top_proc_index(&m, 200)].cpu_pct, 20.0, 1e-9);
	ck_assert(m.procs[top_proc_index(&m, 100)].cpu_pct == 0.0);
	/* after a reset the CPU time starts again from 0, never negative */
	profile_reset_samples(p);
	add_proc(p, 200, 200, (uint32_t[]){ work }, 1, SAMPLE_ON_CPU, 50);
	compute(&m, p, &BY_LINE, &OWN_CPU);
	top_model_cpu_rate(&m, 3000000000ull, 500000000ull);
	ck_assert_double_eq_tol(m.procs[top_proc_index(&m, 200)].cpu_pct, 5.0, 1e-9);
	top_model_fini(&m);
	profile_free(p);
}
END_TEST

static Suite *top_model_suite(void)
{
	Suite *s = suite_create("top_model");
	TCase *tc = tcase_create("model");
	tcase_add_test(tc, test_rows_by_line);
	tcase_add_test(tc, test_percentages_and_seconds);
	tcase_add_test(tc, test_sorting);
	tcase_add_test(tc, test_filter);
	tcase_add_test(tc, test_by_function);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_hide_native);
	tcase_add_test(tc, test_recompute_reuses_model);
	tcase_add_test(tc, test_many_functions);
	tcase_add_test(tc, test_fit_text);
	tcase_add_test(tc, test_fit_layouts);
	tcase_add_test(tc, test_rows_per_process);
	tcase_add_test(tc, test_processes);
	tcase_add_test(tc, test_process_cpu_rate);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(top_model_suite());
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
