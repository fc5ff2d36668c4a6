/* The small hand-built profile the viewer formats' units write, and
 * helpers to capture a writer's output. */
#ifndef LOUPE_VIEWER_FIXTURE_H
#define LOUPE_VIEWER_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

static inline uint32_t fx_frame(profile *p, enum frame_kind kind,
				const char *func, const char *file,
				const char *module, int line)
{
	struct frame f = { .kind = kind,
			   .func = profile_intern_cstr(p, func),
			   .file = profile_intern_cstr(p, file),
			   .module = profile_intern_cstr(p, module),
			   .line = line };
	return profile_intern_frame(p, &f);
}

static inline void fx_add(profile *p, uint32_t stack, int tid, uint32_t flags,
			  int n, uint64_t t0_ns, uint64_t step_ns)
{
	for (int i = 0; i < n; i++) {
		struct sample s = { .time_ns = t0_ns + (uint64_t)i * step_ns,
				    .pid = 100, .tid = tid, .stack = stack,
				    .flags = flags, .cpu_ns = 1000 };
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
	}
}

/* Stacks, root first, at 100 Hz:
 *   main (m.py:1) > work (m.py:10)   thread 1: 3 on CPU with GIL, 1 idle
 *   main (m.py:1) > work (m.py:11)   thread 1: 2 on CPU
 *   main (m.py:1) > nanosleep        thread 2: 4 idle
 * Wall: 10 samples, main 10, work 6 (4 + 2), nanosleep 4.  CPU: 5. */
static inline profile *fx_profile(int work10_cpu)
{
	profile *p = profile_new();
	ck_assert_ptr_nonnull(p);
	uint32_t m = fx_frame(p, FRAME_PYTHON, "main", "m.py", NULL, 1);
	uint32_t w10 = fx_frame(p, FRAME_PYTHON, "work", "m.py", NULL, 10);
	uint32_t w11 = fx_frame(p, FRAME_PYTHON, "work", "m.py", NULL, 11);
	uint32_t ns = fx_frame(p, FRAME_NATIVE, "nanosleep", NULL, "libc.so.6", 0);
	uint32_t a[] = { m, w10 }, b[] = { m, w11 }, c[] = { m, ns };
	fx_add(p, profile_intern_stack(p, a, 2), 1, SAMPLE_ON_CPU | SAMPLE_GIL,
	       work10_cpu, 0, 10000000);
	fx_add(p, profile_intern_stack(p, a, 2), 1, SAMPLE_IDLE, 1, 0, 0);
	fx_add(p, profile_intern_stack(p, b, 2), 1, SAMPLE_ON_CPU, 2, 0, 0);
	fx_add(p, profile_intern_stack(p, c, 2), 2, SAMPLE_IDLE, 4, 0, 0);
	profile_set_thread(p, 100, 1, "MainThread");
	profile_set_meta(p, "rate", "100");
	return p;
}

/* Three processes at 100 Hz, root first:
 *   PID 100 "parent"  thread 100 (MainThread): main > wait   4 idle
 *   PID 200 "worker"  thread 200 (MainThread): main > work   3 on CPU
 *   PID 300 (no process.300: its main thread's name "w3")
 *                     thread 300 (w3):         main > work   2 on CPU
 *                     thread 301 (helper):     main > work   1 on CPU
 * tree false: the same samples without the "subprocesses" metadata. */
static inline profile *fx_tree_profile(bool tree)
{
	profile *p = profile_new();
	ck_assert_ptr_nonnull(p);
	profile_keep_timeline(p, true);
	uint32_t m = fx_frame(p, FRAME_PYTHON, "main", "m.py", NULL, 1);
	uint32_t wk = fx_frame(p, FRAME_PYTHON, "work", "m.py", NULL, 10);
	uint32_t wt = fx_frame(p, FRAME_PYTHON, "wait", "m.py", NULL, 20);
	uint32_t sa[] = { m, wt }, sb[] = { m, wk };
	uint32_t waits = profile_intern_stack(p, sa, 2);
	uint32_t works = profile_intern_stack(p, sb, 2);
	static const struct { int pid, tid, n; bool cpu; } runs[] = {
		{ 100, 100, 4, false }, { 200, 200, 3, true },
		{ 300, 300, 2, true }, { 300, 301, 1, true },
	};
	for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
		for (int i = 0; i < runs[r].n; i++) {
			struct sample s = {
				.time_ns = (uint64_t)i * 10000000,
				.pid = runs[r].pid, .tid = runs[r].tid,
				.stack = runs[r].cpu ? works : waits,
				.flags = runs[r].cpu ? SAMPLE_ON_CPU | SAMPLE_GIL
						     : SAMPLE_IDLE,
				.cpu_ns = runs[r].cpu ? 1000 : 0,
			};
			ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
		}
	}
	profile_set_thread(p, 100, 100, "MainThread");
	profile_set_thread(p, 200, 200, "MainThread");
	profile_set_thread(p, 300, 300, "w3");
	profile_set_thread(p, 300, 301, "helper");
	profile_set_meta(p, "rate", "100");
	profile_set_meta(p, "target.pid", "100");
	profile_set_meta(p, "target.comm", "parent");
	if (tree) {
		profile_set_meta(p, "subprocesses", "on");
		profile_set_meta(p, "process.100", "parent");
		profile_set_meta(p, "process.200", "worker");
	}
	return p;
}

/* A writer's output for p under o, NUL-terminated; *len its length. */
static inline char *fx_write(int (*writer)(const profile *, FILE *,
					   const struct output_opts *),
			     const profile *p, const struct output_opts *o,
			     size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&text, &n);
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(writer(p, fp, o), LP_OK);
	fclose(fp);
	if (len)
		*len = n;
	/* a copy: GCC's -Wdangling-pointer cannot tell that open_memstream
	 * stores a heap buffer, not the address of text */
	char *out = malloc(n + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, text, n + 1);
	free(text);
	return out;
}

static inline size_t fx_count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *s = hay; (s = strstr(s, needle)); s += strlen(needle))
		n++;
	return n;
}

#endif
