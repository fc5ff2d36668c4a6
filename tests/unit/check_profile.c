/* Unit tests of profiler/profile.c: interning, aggregation, per-function
 * figures, flat memory over a long recording; profile_merge.c: copies
 * between profiles whose ids differ. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "error.h"
#include "pages.h"
#include "profile.h"

static uint32_t pyframe(profile *p, const char *func, const char *file,
			int line)
{
	struct frame f = { .kind = FRAME_PYTHON,
			   .func = profile_intern_cstr(p, func),
			   .file = profile_intern_cstr(p, file),
			   .line = line };
	return profile_intern_frame(p, &f);
}

START_TEST(test_strings)
{
	profile *p = profile_new();
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(profile_nstrs(p), 1);
	ck_assert_str_eq(profile_str(p, 0), "");
	ck_assert_uint_eq(profile_intern_cstr(p, ""), 0);
	uint32_t a = profile_intern_cstr(p, "alpha");
	uint32_t b = profile_intern_cstr(p, "beta");
	ck_assert_uint_eq(a, 1);
	ck_assert_uint_eq(b, 2);
	ck_assert_uint_eq(profile_intern_cstr(p, "alpha"), a);
	ck_assert_uint_eq(profile_intern_str(p, "alphabet", 5), a);
	ck_assert_uint_ne(profile_intern_str(p, "alp", 3), a);
	ck_assert_str_eq(profile_str(p, a), "alpha");
	ck_assert_uint_eq(profile_str_len(p, b), 4);
	ck_assert_ptr_null(profile_str(p, 1000));
	ck_assert_uint_eq(profile_intern_str(p, "x", MAX_INTERN_STR_LEN + 1),
			  PROFILE_NOID);

	/* many strings: dense ids, pointers that do not move */
	const char *first = profile_str(p, a);
	char buf[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(buf, sizeof buf, "s%d", i);
		ck_assert_uint_eq(profile_intern_cstr(p, buf), (uint32_t)i + 4);
	}
	for (int i = 0; i < 100000; i += 997) {
		snprintf(buf, sizeof buf, "s%d", i);
		ck_assert_uint_eq(profile_intern_cstr(p, buf), (uint32_t)i + 4);
		ck_assert_str_eq(profile_str(p, (uint32_t)i + 4), buf);
	}
	ck_assert_ptr_eq(profile_str(p, a), first);
	/* a big string gets a block of its own */
	char *big = malloc(200000);
	memset(big, 'z', 200000);
	uint32_t bid = profile_intern_str(p, big, 200000);
	ck_assert_uint_ne(bid, PROFILE_NOID);
	ck_assert_uint_eq(profile_intern_str(p, big, 200000), bid);
	ck_assert_uint_eq(profile_str_len(p, bid), 200000);
	free(big);
	ck_assert_str_eq(profile_str(p, profile_intern_cstr(p, "after")),
			 "after");
	profile_free(p);
}
END_TEST

/* The blocks a profile's strings and a walk's frames live in: a resize
 * keeps what was written and zeroes what it adds. */
START_TEST(test_pages_resize)
{
	size_t small = 3 * 4096 + 100, big = 1 << 20;
	unsigned char *b = pages_zalloc(small);
	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < small; i++)
		b[i] = (unsigned char)(i * 7 + 1);
	unsigned char *g = pages_resize(b, small, big);
	ck_assert_ptr_nonnull(g);
	for (size_t i = 0; i < small; i++)
		ck_assert_uint_eq(g[i], (unsigned char)(i * 7 + 1));
	for (size_t i = small; i < big; i += 1021)
		ck_assert_uint_eq(g[i], 0);
	g[big - 1] = 9;
	unsigned char *s = pages_resize(g, big, 4096);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s[4095], (unsigned char)(4095 * 7 + 1));
	pages_free(s, 4096);
	unsigned char *n = pages_resize(NULL, 0, 100);
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n[99], 0);
	pages_free(n, 100);
}
END_TEST

START_TEST(test_frames)
{
	profile *p = profile_new();
	const struct frame *none = profile_frame(p, 0);
	ck_assert_ptr_nonnull(none);
	ck_assert_uint_eq(none->func, 0);
	uint32_t f1 = pyframe(p, "f", "a.py", 10);
	uint32_t f2 = pyframe(p, "f", "a.py", 11);
	uint32_t f3 = pyframe(p, "f", "a.py", 10);
	ck_assert_uint_eq(f1, 1);
	ck_assert_uint_ne(f1, f2);
	ck_assert_uint_eq(f1, f3);
	struct frame nat = { .kind = FRAME_NATIVE,
			     .module = profile_intern_cstr(p, "libc.so.6"),
			     .offset = 0x1a2b };
	uint32_t n1 = profile_intern_frame(p, &nat);
	nat.offset = 0x1a2c;
	ck_assert_uint_ne(profile_intern_frame(p, &nat), n1);
	/* unknown string ids and kinds are refused */
	struct frame bad = { .kind = FRAME_PYTHON, .func = 12345 };
	ck_assert_uint_eq(profile_intern_frame(p, &bad), PROFILE_NOID);
	bad = (struct frame){ .kind = FRAME_KIND_COUNT };
	ck_assert_uint_eq(profile_intern_frame(p, &bad), PROFILE_NOID);
	ck_assert_uint_eq(profile_nframes(p), 5);
	profile_free(p);
}
END_TEST

START_TEST(test_stacks)
{
	profile *p = profile_new();
	uint32_t m = pyframe(p, "main", "m.py", 1);
	uint32_t f = pyframe(p, "f", "m.py", 2);
	uint32_t g = pyframe(p, "g", "m.py", 3);
	size_t n;
	ck_assert_uint_eq(profile_intern_stack(p, NULL, 0), 0);
	profile_stack(p, 0, &n);
	ck_assert_uint_eq(n, 0);
	uint32_t s1[] = { m, f, g }, s2[] = { g, f, m }, s3[] = { m, f };
	uint32_t a = profile_intern_stack(p, s1, 3);
	uint32_t b = profile_intern_stack(p, s2, 3);
	uint32_t c = profile_intern_stack(p, s3, 2);
	ck_assert_uint_eq(a, 1);
	ck_assert_uint_ne(a, b);
	ck_assert_uint_ne(a, c);
	ck_assert_uint_eq(profile_intern_stack(p, s1, 3), a);
	const uint32_t *ids = profile_stack(p, a, &n);
	ck_assert_uint_eq(n, 3);
	/* root first, as given */
	ck_assert_uint_eq(ids[0], m);
	ck_assert_uint_eq(ids[2], g);
	uint32_t bad[] = { m, 999 };
	ck_assert_uint_eq(profile_intern_stack(p, bad, 2), PROFILE_NOID);
	ck_assert_ptr_null(profile_stack(p, 999, &n));
	ck_assert_uint_eq(n, 0);
	/* many stacks through table growth */
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t st[3] = { m, i % 2 ? f : g, (i / 2) % 3 + 1 };
		uint32_t id = profile_intern_stack(p, st, 1 + i % 3);
		ck_assert_uint_ne(id, PROFILE_NOID);
		ck_assert_uint_eq(profile_intern_stack(p, st, 1 + i % 3), id);
	}
	profile_free(p);
}
END_TEST

START_TEST(test_aggregate)
{
	profile *p = profile_new();
	uint32_t m = pyframe(p, "main", "m.py", 1);
	uint32_t st = profile_intern_stack(p, &m, 1);
	uint32_t task = profile_intern_cstr(p, "Task-1");
	profile_keep_timeline(p, true);
	struct sample s = { .time_ns = 1, .pid = 10, .tid = 11, .stack = st,
			    .flags = SAMPLE_ON_CPU | SAMPLE_GIL,
			    .cpu_ns = 100 };
	ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	s.flags = SAMPLE_IDLE;
	s.cpu_ns = 0;
	ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	s.flags = SAMPLE_ON_CPU;
	s.cpu_ns = 50;
	ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	s.tid = 12;
	ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	s.task = task;
	ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	s.stack = 0;
	ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	s.stack = 77;
	ck_assert_int_eq(profile_add_sample(p, &s), LP_EINVAL);
	s.stack = st;
	s.task = 9999;
	ck_assert_int_eq(profile_add_sample(p, &s), LP_EINVAL);

	size_t n;
	const struct profile_agg *a = profile_aggs(p, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(a[0].tid, 11);
	ck_assert_uint_eq(a[0].samples, 3);
	ck_assert_uint_eq(a[0].cpu_samples, 2);
	ck_assert_uint_eq(a[0].gil_samples, 1);
	ck_assert_uint_eq(a[0].idle_samples, 1);
	ck_assert_uint_eq(a[0].cpu_ns, 150);
	ck_assert_uint_eq(a[1].tid, 12);
	ck_assert_uint_eq(a[1].task, 0);
	ck_assert_uint_eq(a[2].task, task);
	ck_assert_uint_eq(a[3].stack, 0);
	ck_assert_uint_eq(profile_total_samples(p), 6);
	profile_timeline(p, &n);
	ck_assert_uint_eq(n, 6);

	struct profile_agg add = { .stack = st, .pid = 10, .tid = 11,
				   .samples = 5, .cpu_samples = 4,
				   .cpu_ns = 7 };
	ck_assert_int_eq(profile_add_agg(p, &add), LP_OK);
	a = profile_aggs(p, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(a[0].samples, 8);
	ck_assert_uint_eq(a[0].cpu_ns, 157);
	ck_assert_uint_eq(profile_total_samples(p), 11);

	profile_reset_samples(p);
	profile_aggs(p, &n);
	ck_assert_uint_eq(n, 0);
	profile_timeline(p, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(profile_total_samples(p), 0);
	ck_assert_uint_eq(profile_nstacks(p), 2);	/* tables kept */
	s.task = 0;
	ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	profile_aggs(p, &n);
	ck_assert_uint_eq(n, 1);
	profile_free(p);
}
END_TEST

START_TEST(test_threads_meta)
{
	profile *p = profile_new();
	ck_assert_int_eq(profile_set_thread(p, 1, 2, "MainThread"), LP_OK);
	ck_assert_int_eq(profile_set_thread(p, 1, 3, "worker"), LP_OK);
	ck_assert_int_eq(profile_set_thread(p, 1, 2, "renamed"), LP_OK);
	size_t n;
	const struct profile_thread *t = profile_threads(p, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(profile_str(p, t[0].name), "renamed");
	ck_assert_str_eq(profile_str(p, profile_thread_name(p, 1, 3)), "worker");
	ck_assert_uint_eq(profile_thread_name(p, 1, 4), 0);

	ck_assert_ptr_null(profile_meta(p, "rate"));
	ck_assert_int_eq(profile_set_meta(p, "rate", "100"), LP_OK);
	ck_assert_int_eq(profile_set_meta(p, "mode", "cpu"), LP_OK);
	ck_assert_int_eq(profile_set_meta(p, "rate", "200"), LP_OK);
	ck_assert_str_eq(profile_meta(p, "rate"), "200");
	ck_assert_uint_eq(profile_nmeta(p), 2);
	const char *k, *v;
	profile_meta_at(p, 1, &k, &v);
	ck_assert_str_eq(k, "mode");
	ck_assert_str_eq(v, "cpu");
	char key[32];
	int rc = LP_OK;
	for (int i = 0; i < MAX_META + 5 && rc == LP_OK; i++) {
		snprintf(key, sizeof key, "k%d", i);
		rc = profile_set_meta(p, key, "v");
	}
	ck_assert_int_eq(rc, LP_EINVAL);
	ck_assert_uint_eq(profile_nmeta(p), MAX_META);
	profile_free(p);
}
END_TEST

static const struct profile_func_stats *
find_stats(const profile *p, const struct profile_func_stats *st, size_t n,
	   const char *func, int line)
{
	for (size_t i = 0; i < n; i++) {
		const struct frame *f = profile_frame(p, st[i].frame);
		if (strcmp(profile_str(p, f->func), func) == 0 &&
		    (line < 0 || f->line == line))
			return &st[i];
	}
	return NULL;
}

START_TEST(test_func_stats)
{
	profile *p = profile_new();
	uint32_t m = pyframe(p, "main", "m.py", 1);
	uint32_t f1 = pyframe(p, "f", "m.py", 5);
	uint32_t f2 = pyframe(p, "f", "m.py", 6);
	uint32_t g = pyframe(p, "g", "m.py", 9);
	/* main -> f:5 -> f:6 -> g: f recurses (two lines) */
	uint32_t s1[] = { m, f1, f2, g };
	/* main -> f:5 -> f:5 (recursion on the same line): f is the leaf */
	uint32_t s2[] = { m, f1, f1 };
	uint32_t a = profile_intern_stack(p, s1, 4);
	uint32_t b = profile_intern_stack(p, s2, 3);
	struct sample s = { .pid = 1, .tid = 1, .stack = a,
			    .flags = SAMPLE_ON_CPU, .cpu_ns = 10 };
	for (int i = 0; i < 3; i++)
		profile_add_sample(p, &s);
	s.stack = b;
	s.flags = 0;
	s.cpu_ns = 0;
	for (int i = 0; i < 2; i++)
		profile_add_sample(p, &s);

	struct profile_func_stats *st;
	size_t n;
	ck_assert_int_eq(profile_func_stats(p, false, &st, &n), LP_OK);
	ck_assert_uint_eq(n, 3);
	const struct profile_func_stats *x = find_stats(p, st, n, "main", -1);
	ck_assert_uint_eq(x->own_samples, 0);
	ck_assert_uint_eq(x->total_samples, 5);
	ck_assert_uint_eq(x->total_cpu_samples, 3);
	x = find_stats(p, st, n, "f", -1);
	ck_assert_uint_eq(x->own_samples, 2);
	ck_assert_uint_eq(x->total_samples, 5);	/* not 8 or 10 */
	ck_assert_uint_eq(x->own_cpu_samples, 0);
	ck_assert_uint_eq(x->total_cpu_samples, 3);
	ck_assert_uint_eq(x->total_cpu_ns, 30);
	x = find_stats(p, st, n, "g", -1);
	ck_assert_uint_eq(x->own_samples, 3);
	ck_assert_uint_eq(x->own_cpu_ns, 30);
	ck_assert_uint_eq(x->total_samples, 3);
	free(st);

	ck_assert_int_eq(profile_func_stats(p, true, &st, &n), LP_OK);
	ck_assert_uint_eq(n, 4);
	x = find_stats(p, st, n, "f", 5);
	ck_assert_uint_eq(x->own_samples, 2);
	ck_assert_uint_eq(x->total_samples, 5);
	x = find_stats(p, st, n, "f", 6);
	ck_assert_uint_eq(x->own_samples, 0);
	ck_assert_uint_eq(x->total_samples, 3);
	free(st);
	profile_free(p);
}
END_TEST

/* A long recording over a fixed set of stacks: aggregates and allocated
 * bytes stop growing once every stack was seen. */
START_TEST(test_memory_flat)
{
	enum { NSTACKS = 1000, NSAMPLES = 10 * 1000 * 1000 };
	profile *p = profile_new();
	uint32_t stacks[NSTACKS];
	char name[32];
	for (int i = 0; i < NSTACKS; i++) {
		snprintf(name, sizeof name, "fn%d", i);
		uint32_t fr[2] = { pyframe(p, "main", "m.py", 1),
				   pyframe(p, name, "m.py", i) };
		stacks[i] = profile_intern_stack(p, fr, 2);
	}
	struct sample s = { .pid = 1, .tid = 1, .flags = SAMPLE_ON_CPU,
			    .cpu_ns = 1000 };
	/* warm up: every key once */
	for (int i = 0; i < NSTACKS; i++) {
		s.stack = stacks[i];
		s.tid = 1 + i % 4;
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	}
	size_t naggs0, mem0 = profile_memory(p);
	profile_aggs(p, &naggs0);
	ck_assert_uint_eq(naggs0, NSTACKS);

	clock_t t0 = clock();
	uint32_t x = 12345;
	for (int i = 0; i < NSAMPLES; i++) {
		x = x * 1103515245u + 12345u;	/* cheap LCG spread */
		uint32_t k = (x >> 8) % NSTACKS;
		s.stack = stacks[k];
		s.tid = 1 + k % 4;
		s.time_ns += 10000;
		if (profile_add_sample(p, &s) != LP_OK)
			ck_abort_msg("add_sample failed at %d", i);
		if (i % 1000000 == 0) {
			size_t nn;
			profile_aggs(p, &nn);
			ck_assert_uint_eq(nn, naggs0);
			ck_assert_uint_eq(profile_memory(p), mem0);
		}
	}
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	size_t naggs1;
	profile_aggs(p, &naggs1);
	ck_assert_uint_eq(naggs1, naggs0);
	ck_assert_uint_eq(profile_memory(p), mem0);
	ck_assert_uint_eq(profile_total_samples(p), NSAMPLES + NSTACKS);
	printf("memory_flat: %d samples over %d stacks in %.2f s "
	       "(%.0f ns/sample), %zu bytes allocated\n",
	       NSAMPLES, NSTACKS, secs, secs * 1e9 / NSAMPLES, mem0);
	profile_free(p);
}
END_TEST

/* A stack main -> leaf (leaf at line), with the strings interned in an
 * order of p's own. */
static uint32_t stack2(profile *p, const char *leaf, int line)
{
	uint32_t f[2] = { pyframe(p, "main", "m.py", 1), pyframe(p, leaf, "m.py", line) };
	return profile_intern_stack(p, f, 2);
}

/* A cleared profile is a new one that kept its memory: what is merged
 * into it after has the ids and totals a new profile would get. */
START_TEST(test_clear)
{
	profile *src = profile_new(), *fresh = profile_new(), *p = profile_new();
	uint32_t a = stack2(src, "hot", 5);
	struct sample s = { .pid = 10, .tid = 11, .stack = a, .flags = SAMPLE_ON_CPU, .cpu_ns = 3 };
	ck_assert_int_eq(profile_add_sample(src, &s), LP_OK);
	ck_assert_int_eq(profile_set_thread(src, 10, 11, "worker"), LP_OK);
	ck_assert_int_eq(profile_set_meta(src, "runtime", "CPython 3.12.1"), LP_OK);
	/* p full of other things, a string big enough for a block of its own */
	char big[40000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	profile_intern_cstr(p, big);
	for (int i = 0; i < 50; i++)
		stack2(p, big + i * 100, i);
	profile_keep_timeline(p, true);
	s.stack = stack2(p, "other", 9);
	ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	ck_assert_int_eq(profile_set_meta(p, "old", "yes"), LP_OK);
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(profile_clear(p), LP_OK);
		ck_assert_uint_eq(profile_nstrs(p), 1);
		ck_assert_str_eq(profile_str(p, 0), "");
		ck_assert_uint_eq(profile_nframes(p), 1);
		ck_assert_uint_eq(profile_nstacks(p), 1);
		ck_assert_uint_eq(profile_nmeta(p), 0);
		ck_assert_uint_eq(profile_total_samples(p), 0);
		ck_assert_ptr_null(profile_meta(p, "old"));
		ck_assert_int_eq(profile_merge(p, src, -1), LP_OK);
	}
	ck_assert_int_eq(profile_merge(fresh, src, -1), LP_OK);
	ck_assert_uint_eq(profile_nstrs(p), profile_nstrs(fresh));
	ck_assert_uint_eq(profile_nframes(p), profile_nframes(fresh));
	ck_assert_uint_eq(profile_nstacks(p), profile_nstacks(fresh));
	ck_assert_uint_eq(profile_total_samples(p), 1);
	ck_assert_str_eq(profile_meta(p, "runtime"), "CPython 3.12.1");
	ck_assert_uint_eq(profile_thread_name(p, 10, 11) != 0, 1);
	size_t n, m;
	const struct profile_agg *g = profile_aggs(p, &n);
	const struct profile_agg *h = profile_aggs(fresh, &m);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(m, 1);
	ck_assert_uint_eq(g[0].stack, h[0].stack);
	ck_assert_uint_eq(g[0].cpu_ns, 3);
	profile_timeline(p, &n);
	ck_assert_uint_eq(n, 0);
	for (uint32_t i = 0; i < profile_nstrs(p); i++)
		ck_assert_str_eq(profile_str(p, i), profile_str(fresh, i));
	profile_free(src);
	profile_free(fresh);
	profile_free(p);
}
END_TEST

START_TEST(test_merge)
{
	profile *src = profile_new(), *dst = profile_new();
	/* dst's ids differ from src's: something interned first */
	stack2(dst, "other", 9);
	uint32_t a = stack2(src, "hot", 5), b = stack2(src, "cold", 6);
	uint32_t task = profile_intern_cstr(src, "Task-7");
	struct sample s = { .pid = 10, .tid = 11, .stack = a, .flags = SAMPLE_ON_CPU, .cpu_ns = 3 };
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(profile_add_sample(src, &s), LP_OK);
	s.stack = b;
	s.task = task;
	ck_assert_int_eq(profile_add_sample(src, &s), LP_OK);
	s.pid = 20;
	s.tid = 21;
	ck_assert_int_eq(profile_add_sample(src, &s), LP_OK);
	ck_assert_int_eq(profile_set_thread(src, 10, 11, "worker"), LP_OK);
	ck_assert_int_eq(profile_set_meta(src, "runtime", "CPython 3.12.1"), LP_OK);
	profile_set_start_ns(src, 500);
	profile_set_start_ns(dst, 900);

	ck_assert_int_eq(profile_merge(dst, src, -1), LP_OK);
	ck_assert_int_eq(profile_merge(dst, src, 20), LP_OK);	/* one process */
	ck_assert_uint_eq(profile_total_samples(dst), 6);
	ck_assert_uint_eq(profile_start_ns(dst), 500);
	ck_assert_str_eq(profile_meta(dst, "runtime"), "CPython 3.12.1");
	ck_assert_uint_eq(profile_thread_name(dst, 10, 11) != 0, 1);
	size_t n;
	const struct profile_agg *g = profile_aggs(dst, &n);
	ck_assert_uint_eq(n, 3);
	uint64_t hot = 0, cold = 0, tasked = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const uint32_t *fr = profile_stack(dst, g[i].stack, &len);
		ck_assert_uint_eq(len, 2);
		const char *leaf = profile_str(dst, profile_frame(dst, fr[1])->func);
		ck_assert_str_eq(profile_str(dst, profile_frame(dst, fr[0])->func), "main");
		if (strcmp(leaf, "hot") == 0) {
			hot += g[i].samples;
			ck_assert_uint_eq(profile_frame(dst, fr[1])->line, 5);
			ck_assert_uint_eq(g[i].cpu_ns, 9);
		} else {
			ck_assert_str_eq(leaf, "cold");
			cold += g[i].samples;
		}
		if (g[i].task)
			tasked += g[i].samples;
		if (g[i].task)
			ck_assert_str_eq(profile_str(dst, g[i].task), "Task-7");
	}
	ck_assert_uint_eq(hot, 3);
	ck_assert_uint_eq(cold, 3);
	ck_assert_uint_eq(tasked, 3);
	/* the timeline goes along when the destination can keep it whole */
	profile *tl = profile_new(), *to = profile_new();
	profile_keep_timeline(tl, true);
	s.stack = stack2(tl, "t", 2);
	s.task = 0;
	s.time_ns = 42;
	ck_assert_int_eq(profile_add_sample(tl, &s), LP_OK);
	ck_assert_int_eq(profile_merge(to, tl, -1), LP_OK);
	const struct sample *ts = profile_timeline(to, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ts[0].time_ns, 42);
	/* into aggregates only: the timeline is left out, samples are not */
	ck_assert_int_eq(profile_merge(dst, tl, -1), LP_OK);
	profile_timeline(dst, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(profile_total_samples(dst), 7);
	profile_free(tl);
	profile_free(to);
	profile_free(src);
	profile_free(dst);
}
END_TEST

static Suite *profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_pages_resize);
	tcase_add_test(tc, test_frames);
	tcase_add_test(tc, test_stacks);
	tcase_add_test(tc, test_aggregate);
	tcase_add_test(tc, test_threads_meta);
	tcase_add_test(tc, test_func_stats);
	tcase_add_test(tc, test_memory_flat);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_clear);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(profile_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
