/* tracemalloc's traces reader (profiler/python/tracemalloc.c) over built
 * memory images with the 3.12 layout: known traces summed by traceback,
 * and hostile tables (a cycle, a huge bucket count, a bad config,
 * unreadable entries, tracing off) that end in an error or a count,
 * never a hang or a crash. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "python/pyproc.h"
#include "python/tracemalloc.h"

#define BASE 0x10000u
#define RT (BASE + 0x0)		/* _PyRuntime */
#define CFG (RT + 2768)		/* generated 3.12 offsets */
#define TRACES (RT + 2952)
#define HT (BASE + 0x3000)
#define BUCKETS (BASE + 0x3100)
#define E1 (BASE + 0x3200)
#define E2 (BASE + 0x3240)
#define E3 (BASE + 0x3280)
#define T1 (BASE + 0x3300)
#define T2 (BASE + 0x3320)
#define T3 (BASE + 0x3340)
#define TB1 (BASE + 0x3400)
#define TB2 (BASE + 0x3440)
#define STR (BASE + 0x3800)	/* a str "app.py" */

static uint8_t mem[0x4000];

static void put64(uint64_t a, uint64_t v)
{
	memcpy(mem + (a - BASE), &v, 8);
}

static void put32(uint64_t a, uint32_t v)
{
	memcpy(mem + (a - BASE), &v, 4);
}

static void put16(uint64_t a, uint16_t v)
{
	memcpy(mem + (a - BASE), &v, 2);
}

/* entry {next, hash, key, value}; trace {size, traceback} */
static void entry(uint64_t e, uint64_t next, uint64_t t, uint64_t size,
		  uint64_t tb)
{
	put64(e, next);
	put64(e + 16, 0xdead0000 + e);
	put64(e + 24, t);
	put64(t, size);
	put64(t + 8, tb);
}

/* a compact ASCII str of the 3.12 layout */
static void str_at(uint64_t a, const char *text)
{
	const struct py_layout *L = py_layout_table(3, 12);
	size_t n = strlen(text);
	put64(a + L->uni_len, n);
	put32(a + L->uni_state, (1u << L->uni_kind_shift) |
				(1u << L->uni_compact_bit) |
				(1u << L->uni_ascii_bit));
	memcpy(mem + (a - BASE) + L->uni_ascii_size, text, n + 1);
}

/* traceback {hash, nframe u16, total u16, frames {filename, lineno}} */
static void traceback(uint64_t tb, uint32_t line0, uint32_t line1)
{
	put16(tb + 8, 2);
	put16(tb + 10, 2);
	put64(tb + 12, STR);
	put32(tb + 20, line0);
	put64(tb + 24, STR);
	put32(tb + 32, line1);
}

static void build(void)
{
	memset(mem, 0, sizeof mem);
	put32(CFG, 1);		/* initialized */
	put32(CFG + 4, 1);	/* tracing */
	put32(CFG + 8, 2);	/* max_nframe */
	put64(TRACES, HT);
	put64(HT, 3);		/* nentries */
	put64(HT + 8, 4);	/* nbuckets */
	put64(HT + 16, BUCKETS);
	put64(BUCKETS + 8, E1);	/* bucket 1: E1 -> E2 */
	put64(BUCKETS + 24, E3);	/* bucket 3: E3 */
	entry(E1, E2, T1, 100, TB1);
	entry(E2, 0, T2, 200, TB1);
	entry(E3, 0, T3, 50, TB2);
	traceback(TB1, 7, 70);
	traceback(TB2, 9, 90);
	str_at(STR, "app.py");
}

static py_proc *proc(mem_image **img)
{
	const struct py_layout *L = py_layout_table(3, 12);
	ck_assert_ptr_nonnull(L);
	*img = mem_image_new();
	ck_assert_ptr_nonnull(*img);
	ck_assert_int_eq(mem_image_add(*img, BASE, mem, sizeof mem), LP_OK);
	py_proc *py = calloc(1, sizeof *py);
	ck_assert_ptr_nonnull(py);
	ck_assert_int_eq(py_proc_init(py, mem_image_reader(*img), L), LP_OK);
	py->runtime = RT;
	return py;
}

static void done(py_proc *py, mem_image *img)
{
	py_proc_fini(py);
	free(py);
	mem_image_free(img);
}

static int snap(struct py_tm_snapshot *s, lp_error *err)
{
	mem_image *img;
	py_proc *py = proc(&img);
	int rc = py_tracemalloc_snapshot(py, NULL, s, err);
	/* the frames' strings belong to py: check them before it goes */
	for (size_t i = 0; rc == LP_OK && i < s->nsites; i++)
		ck_assert_str_eq(s->sites[i].frames[0].file, "app.py");
	done(py, img);
	return rc;
}

START_TEST(test_known)
{
	build();
	struct py_tm_snapshot s;
	lp_error err = { 0 };
	ck_assert_int_eq(snap(&s, &err), LP_OK);
	ck_assert_uint_eq(s.total_size, 350);
	ck_assert_uint_eq(s.total_count, 3);
	ck_assert_uint_eq(s.unreadable, 0);
	ck_assert_uint_eq(s.nsites, 2);
	for (size_t i = 0; i < s.nsites; i++) {
		const struct py_tm_site *x = &s.sites[i];
		ck_assert_uint_eq(x->nframes, 2);
		if (x->frames[0].line == 7) {
			ck_assert_uint_eq(x->size, 300);
			ck_assert_uint_eq(x->count, 2);
			ck_assert_uint_eq(x->frames[1].line, 70);
		} else {
			ck_assert_uint_eq(x->frames[0].line, 9);
			ck_assert_uint_eq(x->size, 50);
			ck_assert_uint_eq(x->count, 1);
		}
	}
	py_tm_snapshot_fini(&s);
}
END_TEST

START_TEST(test_hostile)
{
	struct py_tm_snapshot s;
	lp_error err = { 0 };

	/* a chain that loops on itself ends at the entry budget */
	build();
	put64(E2, E1);
	ck_assert_int_eq(snap(&s, &err), LP_OK);
	ck_assert_uint_gt(s.unreadable, 0);
	ck_assert_uint_lt(s.total_count, 3 + 3 / 4 + 4096 + 1);
	py_tm_snapshot_fini(&s);

	/* an entry pointing nowhere: counted, the rest read */
	build();
	put64(BUCKETS + 24, 0x7000000);
	ck_assert_int_eq(snap(&s, &err), LP_OK);
	ck_assert_uint_eq(s.total_size, 300);
	ck_assert_uint_eq(s.unreadable, 1);
	py_tm_snapshot_fini(&s);

	/* a traceback with 65535 frames (max_nframe too): cut to
	 * MAX_TM_FRAMES, the rest of the image reads as NULL filenames, so
	 * it is dropped, never read past its bound */
	build();
	put32(CFG + 8, 65535);
	put16(TB2 + 8, 65535);
	ck_assert_int_eq(snap(&s, &err), LP_OK);
	ck_assert_uint_eq(s.total_size, 300);
	py_tm_snapshot_fini(&s);

	/* a traceback freed and reused (nframe past max_nframe, or a
	 * filename that is not a str): its traces are counted, not shown */
	build();
	put16(TB2 + 8, 3);
	ck_assert_int_eq(snap(&s, &err), LP_OK);
	ck_assert_uint_eq(s.nsites, 1);
	ck_assert_uint_eq(s.total_size, 300);
	ck_assert_uint_eq(s.unreadable, 1);
	py_tm_snapshot_fini(&s);
	build();
	put64(TB2 + 24, 0x7000000);
	ck_assert_int_eq(snap(&s, &err), LP_OK);
	ck_assert_uint_eq(s.nsites, 1);
	ck_assert_uint_eq(s.unreadable, 1);
	py_tm_snapshot_fini(&s);

	/* a size no allocation has */
	build();
	put64(T3, 1ull << 45);
	ck_assert_int_eq(snap(&s, &err), LP_OK);
	ck_assert_uint_eq(s.total_size, 300);
	ck_assert_uint_eq(s.unreadable, 1);
	py_tm_snapshot_fini(&s);

	/* buckets unreadable every time: read again, then one error */
	build();
	put64(HT + 16, 0x7000000);
	ck_assert_int_eq(snap(&s, &err), LP_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "kept changing"));

	/* a table claiming 2^40 buckets: refused, not read */
	build();
	put64(HT + 8, 1ull << 40);
	ck_assert_int_eq(snap(&s, &err), LP_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "not one"));

	/* a config that is not one */
	build();
	put32(CFG + 4, 77);
	ck_assert_int_eq(snap(&s, &err), LP_EFORMAT);

	/* tracing off: the hint */
	build();
	put32(CFG + 4, 0);
	ck_assert_int_eq(snap(&s, &err), LP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "PYTHONTRACEMALLOC=1"));
	ck_assert_ptr_nonnull(strstr(err.msg, "tracemalloc.start()"));

	/* traces pointer to nothing */
	build();
	put64(TRACES, 0x7000000);
	ck_assert_int_eq(snap(&s, &err), LP_EFORMAT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("py_tracemalloc");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_known);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
