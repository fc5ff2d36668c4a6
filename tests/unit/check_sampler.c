/* Unit tests of the sampler's parts that need no live process:
 * - the stack merge (sproc_merge_stacks, profiler/sampler_proc.c): Python
 *   frames put in place of the eval-loop calls that ran them, on stacks
 *   recorded from live CPython 3.10, 3.11 and 3.12 processes (a busy loop
 *   in a key function of sorted(), so a C call sits between two groups of
 *   Python frames);
 * - the schedule (profiler/schedule.c): deadlines, jitter bounds, missed
 *   ticks and the catch-up policy, on made-up clocks and on wake-ups
 *   recorded on a loaded box. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "sampler_int.h"
#include "schedule.h"
#include "unit.h"

/* ---- the stack merge ---- */

struct rec_native {
	const char *func;
	bool eval;		/* the eval loop, by name or address */
	uint64_t sp;
};

struct rec_python {
	const char *func;
	int line;
	uint64_t code;
	bool entry;
	uint64_t cstack;
};

#define FILE_PY "/tmp/prog.py"

/* Recorded from `loupe`'s own readers (unwind_thread, unwind_last_sps,
 * py_proc_sample) on CPython 3.12.1 running
 *	def leaf(): while True: pass
 *	def mid(x): return leaf()
 *	def outer(): return sorted([1, 2], key=mid)
 *	outer()
 * 3.12 ties each group of Python frames to its eval-loop call by the
 * C-stack shim address of its entry frame (cstack): it lies in that call's
 * stack frame, between its sp and the caller's. */
static const struct rec_native native_312[] = {
	{ "_PyEval_EvalFrameDefault", 1, 0x7ffec1cec8c0ull },
	{ "PyObject_CallOneArg", 0, 0x7ffec1ceca40ull },
	{ "list_sort_impl", 0, 0x7ffec1ceca70ull },
	{ "list_sort", 0, 0x7ffec1cedb70ull },
	{ "cfunction_vectorcall_FASTCALL_KEYWORDS", 0, 0x7ffec1cedba0ull },
	{ "PyObject_Vectorcall", 0, 0x7ffec1cedbd0ull },
	{ "builtin_sorted", 0, 0x7ffec1cedc00ull },
	{ "cfunction_vectorcall_FASTCALL_KEYWORDS", 0, 0x7ffec1cedc40ull },
	{ "PyObject_Vectorcall", 0, 0x7ffec1cedc70ull },
	{ "_PyEval_EvalFrameDefault", 1, 0x7ffec1cedca0ull },
	{ "PyEval_EvalCode", 0, 0x7ffec1cede20ull },
	{ "run_eval_code_obj", 0, 0x7ffec1cedea0ull },
	{ "run_mod", 0, 0x7ffec1cedee0ull },
	{ "_PyRun_SimpleFileObject", 0, 0x7ffec1cedf30ull },
	{ "_PyRun_AnyFileObject", 0, 0x7ffec1cedfa0ull },
	{ "pymain_run_python.constprop.0", 0, 0x7ffec1cedfd0ull },
	{ "Py_RunMain", 0, 0x7ffec1cee0f0ull },
	{ "Py_BytesMain", 0, 0x7ffec1cee110ull },
	{ "__libc_start_call_main", 0, 0x7ffec1cee190ull },
	{ "__libc_start_main", 0, 0x7ffec1cee230ull },
	{ "_start", 0, 0x7ffec1cee280ull },
};
static const struct rec_python python_312[] = {
	{ "leaf", 3, 0x7f9931928510ull, 0, 0 },
	{ "mid", 6, 0x7f9931734ff0ull, 1, 0x7ffec1cec9b0ull },
	{ "outer", 8, 0x7f9931884d50ull, 0, 0 },
	{ "<module>", 10, 0x7f9931880710ull, 1, 0x7ffec1cedd90ull },
};
static const char merged_312[] =
	"leaf;mid;PyObject_CallOneArg;list_sort_impl;list_sort;"
	"cfunction_vectorcall_FASTCALL_KEYWORDS;PyObject_Vectorcall;"
	"builtin_sorted;cfunction_vectorcall_FASTCALL_KEYWORDS;"
	"PyObject_Vectorcall;outer;<module>;PyEval_EvalCode;"
	"run_eval_code_obj;run_mod;_PyRun_SimpleFileObject;"
	"_PyRun_AnyFileObject;pymain_run_python.constprop.0;Py_RunMain;"
	"Py_BytesMain;__libc_start_call_main;__libc_start_main;_start";

/* 3.11.7, the same program: no cstack; the eval loop known by name, each
 * call running the frames up to an entry frame. */
static const struct rec_native native_311[] = {
	{ "_PyEval_EvalFrameDefault", 1, 0x7ffeff198690ull },
	{ "_PyEval_Vector", 0, 0x7ffeff1987e0ull },
	{ "PyObject_CallOneArg", 0, 0x7ffeff198800ull },
	{ "list_sort_impl", 0, 0x7ffeff198830ull },
	{ "list_sort", 0, 0x7ffeff199930ull },
	{ "cfunction_vectorcall_FASTCALL_KEYWORDS", 0, 0x7ffeff199970ull },
	{ "PyObject_Vectorcall", 0, 0x7ffeff1999b0ull },
	{ "builtin_sorted", 0, 0x7ffeff1999d0ull },
	{ "cfunction_vectorcall_FASTCALL_KEYWORDS", 0, 0x7ffeff199a10ull },
	{ "PyObject_Vectorcall", 0, 0x7ffeff199a50ull },
	{ "_PyEval_EvalFrameDefault", 1, 0x7ffeff199a70ull },
	{ "PyEval_EvalCode", 0, 0x7ffeff199bc0ull },
	{ "run_mod", 0, 0x7ffeff199c30ull },
	{ "_PyRun_SimpleFileObject", 0, 0x7ffeff199c80ull },
	{ "_PyRun_AnyFileObject", 0, 0x7ffeff199cf0ull },
	{ "Py_RunMain", 0, 0x7ffeff199d20ull },
	{ "Py_BytesMain", 0, 0x7ffeff199e20ull },
	{ "__libc_start_call_main", 0, 0x7ffeff199ea0ull },
	{ "__libc_start_main", 0, 0x7ffeff199f40ull },
	{ "_start", 0, 0x7ffeff199f90ull },
};
static const struct rec_python python_311[] = {
	{ "leaf", 3, 0x7f4a76d54930ull, 0, 0 },
	{ "mid", 6, 0x7f4a76be88f0ull, 1, 0 },
	{ "outer", 8, 0x7f4a76b933c0ull, 0, 0 },
	{ "<module>", 10, 0x7f4a76b7b470ull, 1, 0 },
};
static const char merged_311[] =
	"leaf;mid;_PyEval_Vector;PyObject_CallOneArg;list_sort_impl;"
	"list_sort;cfunction_vectorcall_FASTCALL_KEYWORDS;"
	"PyObject_Vectorcall;builtin_sorted;"
	"cfunction_vectorcall_FASTCALL_KEYWORDS;PyObject_Vectorcall;"
	"outer;<module>;PyEval_EvalCode;run_mod;_PyRun_SimpleFileObject;"
	"_PyRun_AnyFileObject;Py_RunMain;Py_BytesMain;"
	"__libc_start_call_main;__libc_start_main;_start";

/* 3.10.13: one eval-loop call per Python frame, every frame an entry. */
static const struct rec_native native_310[] = {
	{ "_PyEval_EvalFrameDefault", 1, 0x7ffcadac0440ull },
	{ "_PyEval_Vector", 0, 0x7ffcadac05c0ull },
	{ "_PyEval_EvalFrameDefault", 1, 0x7ffcadac05e0ull },
	{ "_PyEval_Vector", 0, 0x7ffcadac0760ull },
	{ "list_sort_impl", 0, 0x7ffcadac0780ull },
	{ "list_sort", 0, 0x7ffcadac1880ull },
	{ "cfunction_vectorcall_FASTCALL_KEYWORDS", 0, 0x7ffcadac18c0ull },
	{ "builtin_sorted", 0, 0x7ffcadac1900ull },
	{ "cfunction_vectorcall_FASTCALL_KEYWORDS", 0, 0x7ffcadac1950ull },
	{ "_PyEval_EvalFrameDefault", 1, 0x7ffcadac1990ull },
	{ "_PyEval_Vector", 0, 0x7ffcadac1b10ull },
	{ "_PyEval_EvalFrameDefault", 1, 0x7ffcadac1b30ull },
	{ "PyEval_EvalCode", 0, 0x7ffcadac1cb0ull },
	{ "run_mod", 0, 0x7ffcadac1d30ull },
	{ "_PyRun_SimpleFileObject", 0, 0x7ffcadac1d80ull },
	{ "_PyRun_AnyFileObject", 0, 0x7ffcadac1df0ull },
	{ "Py_RunMain", 0, 0x7ffcadac1e20ull },
	{ "Py_BytesMain", 0, 0x7ffcadac1ef0ull },
	{ "__libc_start_call_main", 0, 0x7ffcadac1f70ull },
	{ "__libc_start_main", 0, 0x7ffcadac2010ull },
	{ "_start", 0, 0x7ffcadac2060ull },
};
static const struct rec_python python_310[] = {
	{ "leaf", 3, 0x7fd62f5c1840ull, 1, 0 },
	{ "mid", 6, 0x7fd62f5c2600ull, 1, 0 },
	{ "outer", 8, 0x7fd62f5c2a20ull, 1, 0 },
	{ "<module>", 10, 0x7fd62f5c2ad0ull, 1, 0 },
};
static const char merged_310[] =
	"leaf;_PyEval_Vector;mid;_PyEval_Vector;list_sort_impl;list_sort;"
	"cfunction_vectorcall_FASTCALL_KEYWORDS;builtin_sorted;"
	"cfunction_vectorcall_FASTCALL_KEYWORDS;outer;_PyEval_Vector;"
	"<module>;PyEval_EvalCode;run_mod;_PyRun_SimpleFileObject;"
	"_PyRun_AnyFileObject;Py_RunMain;Py_BytesMain;"
	"__libc_start_call_main;__libc_start_main;_start";

static const char python_only[] = "leaf;mid;outer;<module>";

/* A process state with only what the merge reads: the profile, the
 * Python frame cache and the native stack (s->nframes, neval, sps). */
struct merge_fixture {
	struct sproc *s;
	struct py_frame pf[8];
	struct py_thread pt;
};

static void fixture_init(struct merge_fixture *fx,
			 const struct rec_native *nat, size_t nnat,
			 const struct rec_python *py, size_t npy)
{
	fx->s = calloc(1, sizeof *fx->s);
	ck_assert_ptr_nonnull(fx->s);
	fx->s->p = profile_new();
	ck_assert_ptr_nonnull(fx->s->p);
	for (size_t i = 0; i < nnat; i++) {
		struct frame f = {
			.kind = FRAME_NATIVE,
			.func = profile_intern_cstr(fx->s->p, nat[i].func),
			.module = profile_intern_cstr(fx->s->p, "python"),
		};
		fx->s->nframes[i] = profile_intern_frame(fx->s->p, &f);
		ck_assert_uint_ne(fx->s->nframes[i], PROFILE_NOID);
		fx->s->neval[i] = nat[i].eval;
		fx->s->sps[i] = nat[i].sp;
	}
	ck_assert_uint_le(npy, sizeof fx->pf / sizeof fx->pf[0]);
	for (size_t i = 0; i < npy; i++)
		fx->pf[i] = (struct py_frame){
			.func = py[i].func, .file = FILE_PY, .line = py[i].line,
			.code_addr = py[i].code, .entry = py[i].entry,
			.cstack = py[i].cstack,
		};
	fx->pt = (struct py_thread){ .tid = 1, .nframes = npy,
				     .frames = fx->pf };
}

static void fixture_fini(struct merge_fixture *fx)
{
	profile_free(fx->s->p);
	free(fx->s);
}

/* The merged stack, leaf first, as "f;g;h" (Python frames are checked to
 * carry their file and line). */
static void merged_names(const struct sproc *s, size_t n, char *out,
			 size_t len)
{
	size_t at = 0;
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		const struct frame *f = profile_frame(s->p, s->leaf_first[i]);
		ck_assert_ptr_nonnull(f);
		if (f->kind == FRAME_PYTHON) {
			ck_assert_str_eq(profile_str(s->p, f->file), FILE_PY);
			ck_assert_int_gt(f->line, 0);
		}
		at += (size_t)snprintf(out + at, len - at, "%s%s", i ? ";" : "",
				       profile_str(s->p, f->func));
		ck_assert_uint_lt(at, len);
	}
}

static void check_merge(const struct rec_native *nat, size_t nnat,
			const struct rec_python *py, size_t npy,
			size_t keep_native, const char *want, bool want_trunc)
{
	struct merge_fixture fx;
	fixture_init(&fx, nat, nnat, py, npy);
	bool trunc = false;
	size_t n = sproc_merge_stacks(fx.s, keep_native, &fx.pt, &trunc);
	char got[2048];
	merged_names(fx.s, n, got, sizeof got);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(trunc, want_trunc);
	/* twice: the second time from the frame cache, the same ids */
	uint32_t first[64];
	ck_assert_uint_le(n, 64);
	memcpy(first, fx.s->leaf_first, n * sizeof first[0]);
	trunc = false;
	ck_assert_uint_eq(sproc_merge_stacks(fx.s, keep_native, &fx.pt, &trunc), n);
	ck_assert_mem_eq(first, fx.s->leaf_first, n * sizeof first[0]);
	fixture_fini(&fx);
}

#define NAT(a) a, sizeof a / sizeof a[0]
#define PY(a) a, sizeof a / sizeof a[0]

START_TEST(test_merge_312_by_cstack)
{
	check_merge(NAT(native_312), PY(python_312),
		    sizeof native_312 / sizeof native_312[0], merged_312, false);
}
END_TEST

/* An interpreter whose eval loop has no symbol and was not found by
 * address (LTO inlined it): 3.12's cstack alone places the groups. */
START_TEST(test_merge_312_eval_unnamed)
{
	struct rec_native nat[sizeof native_312 / sizeof native_312[0]];
	memcpy(nat, native_312, sizeof nat);
	for (size_t i = 0; i < sizeof nat / sizeof nat[0]; i++)
		nat[i].eval = false;
	check_merge(NAT(nat), PY(python_312), sizeof nat / sizeof nat[0],
		    merged_312, false);
}
END_TEST

START_TEST(test_merge_311_by_name)
{
	check_merge(NAT(native_311), PY(python_311),
		    sizeof native_311 / sizeof native_311[0], merged_311, false);
}
END_TEST

START_TEST(test_merge_310_frame_per_call)
{
	check_merge(NAT(native_310), PY(python_310),
		    sizeof native_310 / sizeof native_310[0], merged_310, false);
}
END_TEST

/* The native unwind stopped short (here after the first C call above the
 * leaf's eval loop): Python frames are left over, so the Python stack
 * alone is the sample, marked truncated, never a half-merged one. */
START_TEST(test_merge_native_short)
{
	check_merge(NAT(native_312), PY(python_312), 3, python_only, true);
	check_merge(NAT(native_311), PY(python_311), 3, python_only, true);
	check_merge(NAT(native_310), PY(python_310), 3, python_only, true);
	/* no native frame at all */
	check_merge(NAT(native_311), PY(python_311), 0, python_only, true);
}
END_TEST

/* A native stack with no eval-loop frame for the Python ones (a cstack
 * that no native frame holds): the Python stack alone, truncated. */
START_TEST(test_merge_cstack_elsewhere)
{
	struct rec_python py[sizeof python_312 / sizeof python_312[0]];
	memcpy(py, python_312, sizeof py);
	py[1].cstack = 0x1000;	/* below every recorded sp */
	py[3].cstack = 0x1008;
	struct rec_native nat[sizeof native_312 / sizeof native_312[0]];
	memcpy(nat, native_312, sizeof nat);
	check_merge(NAT(nat), PY(py), sizeof nat / sizeof nat[0],
		    python_only, true);
}
END_TEST

/* No Python thread for it (a native thread of a Python process) or an
 * empty Python stack: the native frames as they are, eval loops kept. */
START_TEST(test_merge_no_python)
{
	struct merge_fixture fx;
	fixture_init(&fx, NAT(native_311), NULL, 0);
	bool trunc = false;
	size_t nnat = sizeof native_311 / sizeof native_311[0];
	ck_assert_uint_eq(sproc_merge_stacks(fx.s, nnat, NULL, &trunc), nnat);
	ck_assert(!trunc);
	ck_assert_mem_eq(fx.s->leaf_first, fx.s->nframes, nnat * sizeof(uint32_t));
	ck_assert_uint_eq(sproc_merge_stacks(fx.s, nnat, &fx.pt, &trunc), nnat);
	ck_assert(!trunc);
	ck_assert_mem_eq(fx.s->leaf_first, fx.s->nframes, nnat * sizeof(uint32_t));
	fixture_fini(&fx);
}
END_TEST

/* The output is bounded by twice the deepest stack whatever comes in. */
START_TEST(test_merge_bounded)
{
	struct merge_fixture fx;
	fixture_init(&fx, NULL, 0, NULL, 0);
	for (size_t i = 0; i < MAX_STACK_DEPTH; i++) {
		fx.s->nframes[i] = 0;
		fx.s->neval[i] = true;	/* every frame an eval loop */
	}
	static struct py_frame many[2 * MAX_STACK_DEPTH + 10];
	for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
		many[i] = (struct py_frame){ .func = "f", .file = FILE_PY,
					     .line = (int32_t)i + 1,
					     .code_addr = 0x1000 + i,
					     .entry = i % 3 == 2 };
	fx.pt.frames = many;
	fx.pt.nframes = sizeof many / sizeof many[0];
	bool trunc = false;
	size_t n = sproc_merge_stacks(fx.s, MAX_STACK_DEPTH, &fx.pt, &trunc);
	ck_assert_uint_le(n, 2 * MAX_STACK_DEPTH);
	ck_assert(trunc);
	fixture_fini(&fx);
}
END_TEST

/* ---- the schedule ---- */

#define MS 1000000ull

/* Every tick taken at its wake-up: the wake-ups stay within half a
 * period of the grid, the grid moves one period a tick, the jitter's mean
 * is near zero, every tenth of the period is as likely as another (the
 * stratified draw) and two seeds give different jitters. */
START_TEST(test_schedule_jitter_bounds)
{
	const uint64_t p = 10 * MS, first = 5000 * MS;
	struct schedule a, b;
	schedule_init(&a, p, first, 1);
	schedule_init(&b, p, first, 2);
	int64_t sum = 0;
	uint64_t prev_wake = 0, differ = 0;
	int tenths[10] = { 0 };
	const int n = 20000;
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(a.due_ns, first + (uint64_t)i * p);
		ck_assert_uint_ge(a.wake_ns, a.due_ns - p / 2);
		ck_assert_uint_lt(a.wake_ns, a.due_ns + p / 2);
		if (i)	/* two wake-ups: at most two periods apart */
			ck_assert_uint_le(a.wake_ns - prev_wake, 2 * p);
		sum += (int64_t)(a.wake_ns - a.due_ns);
		tenths[(a.wake_ns - (a.due_ns - p / 2)) * 10 / p]++;
		differ += a.wake_ns != b.wake_ns;
		prev_wake = a.wake_ns;
		ck_assert(schedule_due(&a, a.wake_ns, 0));
		ck_assert(!schedule_due(&a, a.wake_ns - 1, 0));
		ck_assert_uint_eq(schedule_step(&a, a.wake_ns), 0);
		schedule_step(&b, b.wake_ns);
	}
	/* uniform on [-p/2, p/2): the mean of 20000 is within 2% of p, and
	 * each tenth has 2000 +- 10% (sd 42) */
	ck_assert_int_lt(llabs(sum / n), (long long)(p / 50));
	for (int k = 0; k < 10; k++) {
		ck_assert_int_gt(tenths[k], 1800);
		ck_assert_int_lt(tenths[k], 2200);
	}
	ck_assert_uint_gt(differ, (uint64_t)n * 9 / 10);
}
END_TEST

/* A tick a whole period or more after its deadline counts the periods
 * that passed without one, and owes the next deadline of the grid after
 * now: nothing is made up in a burst. */
START_TEST(test_schedule_missed)
{
	const uint64_t p = 1 * MS, first = 1000 * MS;
	struct schedule sc;
	schedule_init(&sc, p, first, 7);
	ck_assert_uint_eq(schedule_late(&sc, first - 1), 0);
	ck_assert_uint_eq(schedule_late(&sc, first + p - 1), 0);
	ck_assert_uint_eq(schedule_late(&sc, first + p), 1);
	/* 3.5 periods late: 3 missed, the next deadline half a period on */
	uint64_t now = first + 3 * p + p / 2;
	ck_assert_uint_eq(schedule_step(&sc, now), 3);
	ck_assert_uint_eq(sc.due_ns, first + 4 * p);
	ck_assert_uint_gt(sc.due_ns, now);
	/* early (the jitter woke us before the deadline): none missed */
	ck_assert_uint_eq(schedule_step(&sc, sc.due_ns - p / 2), 0);
	ck_assert_uint_eq(sc.due_ns, first + 5 * p);
}
END_TEST

/* After a long stall, a loop that takes every tick that is due takes at
 * most two at once (the late one, then one whose jitter woke it before
 * its deadline), and every period of the stall is either ticked or
 * counted missed, once. */
START_TEST(test_schedule_catch_up)
{
	const uint64_t p = 1 * MS, first = 0;
	for (uint64_t seed = 1; seed <= 200; seed++) {
		struct schedule sc;
		schedule_init(&sc, p, first, seed);
		uint64_t ticks = 0, missed = 0;
		uint64_t now = sc.wake_ns;
		for (int round = 0; round < 50; round++) {
			/* a stall of 0 to 40 periods, in odd fractions */
			now += (seed * 7919 + (uint64_t)round * 104729) %
			       (40 * p);
			int burst = 0;
			while (schedule_due(&sc, now, 0)) {
				missed += schedule_step(&sc, now);
				ticks++;
				burst++;
				ck_assert_uint_gt(sc.due_ns, now);
			}
			ck_assert_int_le(burst, 2);
			ck_assert_uint_gt(sc.wake_ns, now);
			ck_assert_uint_eq(ticks + missed, (sc.due_ns - first) / p);
		}
	}
}
END_TEST

/* The daemon takes a target due within a quarter of its period in a
 * wake-up for another one. */
START_TEST(test_schedule_early_batch)
{
	const uint64_t p = 40 * MS;
	struct schedule sc;
	schedule_init(&sc, p, 1000 * MS, 3);
	ck_assert_uint_eq(sc.wake_ns, 1000 * MS);	/* the first on time */
	schedule_step(&sc, sc.wake_ns);
	uint64_t w = sc.wake_ns;
	ck_assert(!schedule_due(&sc, w - p / 4 - 1, p / 4));
	ck_assert(schedule_due(&sc, w - p / 4, p / 4));
	ck_assert(schedule_due(&sc, w + 5 * p, p / 4));
}
END_TEST

/* A new rate from the next tick on: the deadline owed stays. */
START_TEST(test_schedule_set_period)
{
	struct schedule sc;
	schedule_init(&sc, 10 * MS, 0, 9);
	schedule_step(&sc, sc.wake_ns);
	ck_assert_uint_eq(sc.due_ns, 10 * MS);
	schedule_set_period(&sc, 2 * MS);
	ck_assert_uint_eq(sc.due_ns, 10 * MS);
	/* (its wake-up was drawn in the old period, up to 5 ms on) */
	schedule_step(&sc, sc.due_ns);
	ck_assert_uint_eq(sc.due_ns, 12 * MS);
	ck_assert_uint_eq(schedule_period_ns(100), 10 * MS);
	ck_assert_uint_eq(schedule_period_ns(0), 1000 * MS);
	ck_assert_uint_eq(schedule_period_ns(-5), 1000 * MS);
	ck_assert_uint_eq(schedule_period_ns(1e12), 1);
	schedule_set_period(&sc, 0);
	ck_assert_uint_eq(sc.period_ns, 1);
}
END_TEST

/* How late clock_nanosleep woke a 1 kHz absolute-deadline loop on this
 * project's 2-CPU build box under load 7 (us, 64 wake-ups in a row; one
 * stall of 16 ms, two of 4-7 ms). */
static const unsigned oversleep_us[] = {
	2005, 1086, 108, 75, 73, 91, 3796, 2845, 1867, 889, 70, 72, 72, 73, 70, 69,
	71, 954, 75, 101, 93, 87, 15962, 14984, 13997, 13011, 12024, 11037, 10051, 9064, 8078, 7092,
	6106, 5119, 4132, 3146, 2159, 1173, 187, 89, 56, 89, 73, 92, 81, 82, 6592, 5615,
	4629, 3643, 2656, 1670, 683, 74, 77, 91, 95, 92, 76, 90, 95, 88, 73, 68,
};

/* sampler_run's loop on that record: each wake-up as late as recorded and
 * each tick costing 30 us.  Every period of the run is ticked or counted
 * missed, the 16 ms stall costs its 15 periods and no burst follows it. */
START_TEST(test_schedule_recorded_wakeups)
{
	const uint64_t p = 1 * MS, first = 77 * MS, cost = 30000;
	struct schedule sc;
	schedule_init(&sc, p, first, 0x5eed);
	uint64_t ticks = 0, missed = 0, worst = 0, now = first;
	for (size_t i = 0; i < sizeof oversleep_us / sizeof oversleep_us[0]; i++) {
		/* sleeps until the wake-up unless it has passed */
		if (now < sc.wake_ns)
			now = sc.wake_ns;
		now += (uint64_t)oversleep_us[i] * 1000;
		uint64_t late = schedule_step(&sc, now);
		if (late > worst)
			worst = late;
		missed += late;
		ticks++;
		ck_assert_uint_gt(sc.due_ns, now);
		ck_assert_uint_eq(ticks + missed, (sc.due_ns - first) / p);
		now += cost;
	}
	ck_assert_uint_eq(ticks, 64);
	ck_assert_uint_ge(worst, 15);
	ck_assert_uint_le(worst, 16);
	/* the run covered its time: periods ticked or missed, to one */
	uint64_t periods = (now - first) / p;
	ck_assert_uint_le(ticks + missed, periods + 2);
	ck_assert_uint_ge(ticks + missed + 2, periods);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sampler");
	TCase *tm = tcase_create("merge");
	tcase_add_test(tm, test_merge_312_by_cstack);
	tcase_add_test(tm, test_merge_312_eval_unnamed);
	tcase_add_test(tm, test_merge_311_by_name);
	tcase_add_test(tm, test_merge_310_frame_per_call);
	tcase_add_test(tm, test_merge_native_short);
	tcase_add_test(tm, test_merge_cstack_elsewhere);
	tcase_add_test(tm, test_merge_no_python);
	tcase_add_test(tm, test_merge_bounded);
	suite_add_tcase(s, tm);
	TCase *ts = tcase_create("schedule");
	tcase_add_test(ts, test_schedule_jitter_bounds);
	tcase_add_test(ts, test_schedule_missed);
	tcase_add_test(ts, test_schedule_catch_up);
	tcase_add_test(ts, test_schedule_early_batch);
	tcase_add_test(ts, test_schedule_set_period);
	tcase_add_test(ts, test_schedule_recorded_wakeups);
	suite_add_tcase(s, ts);
	return unit_run(s);
}
