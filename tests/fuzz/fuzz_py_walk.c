/* The CPython frame walker (profiler/python/walk.c) over a memory image
 * (py_image.h) that the fuzzer mutates: the seeds are captures of live
 * interpreters of every supported version (py_capture), so mutations start
 * from real thread states, frames, code objects and strings.  Three samples
 * per image (a full walk, then the prefetch and light paths); every result
 * must keep the bounds the walker promises. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "bounds.h"
#include "py_image.h"

static void check(const struct py_thread *th, size_t n)
{
	if (n > (size_t)MAX_THREADS * MAX_INTERPRETERS)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (th[i].nframes > MAX_STACK_DEPTH)
			abort();
		for (size_t k = 0; k < th[i].nframes; k++) {
			const struct py_frame *f = &th[i].frames[k];
			if (!f->func || !f->file ||
			    strlen(f->func) > 4 * MAX_STRING_LEN ||
			    strlen(f->file) > 4 * MAX_STRING_LEN)
				abort();
		}
	}
}

/* LOUPE_FUZZ_SHOW=1: print what the first sample found (to see that a
 * seed replays: fuzz_py_walk -runs=0 LOUPE_FUZZ_SHOW=1 corpus/py_walk). */
static void print(const struct py_thread *th, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "thread %zu:%s", i, th[i].truncated ? " (truncated)" : "");
		for (size_t k = 0; k < th[i].nframes; k++)
			fprintf(stderr, " %s:%d", th[i].frames[k].func,
				th[i].frames[k].line);
		fprintf(stderr, "\n");
	}
}

FUZZ_ONE(py_walk)
{
	static int show = -1;
	if (show < 0)
		show = getenv("LOUPE_FUZZ_SHOW") != NULL;
	struct py_image im;
	if (py_image_parse(data, size, &im) != LP_OK)
		return 0;
	py_proc py;
	lp_error err;
	if (py_image_proc(&py, &im, &err) == LP_OK) {
		for (int s = 0; s < 3; s++) {
			struct py_thread *th;
			size_t n;
			if (py_proc_sample(&py, &th, &n) != LP_OK)
				continue;
			check(th, n);
			if (show && s == 0)
				print(th, n);
		}
		py_proc_fini(&py);
	}
	py_image_free(&im);
	return 0;
}
