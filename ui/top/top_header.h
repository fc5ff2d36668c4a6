/* loupe top's header lines on the state of the sampling and of the
 * process: the rate achieved against the rate asked as a bar with the
 * missed share, the samples lost and why, the threads (or tasks) by
 * state, and the top three functions.  Pure text, no ncurses
 * (check_top_header). */
#ifndef LOUPE_UI_TOP_HEADER_H
#define LOUPE_UI_TOP_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sampler.h"
#include "top_model.h"

/* What the header tells, copied from the sampler under its lock. */
struct top_header_in {
	double rate_hz;		/* asked, per thread */
	/* ticks taken and missed over the last refresh (elapsed_ns) */
	uint64_t ticks, missed, elapsed_ns;
	/* since the last reset: */
	uint64_t failed[PY_WALK_NFAILS];	/* sampler_stats.failed */
	uint64_t truncated, errors;
	bool python;		/* a GIL to speak of */
	/* the last tick (sampler_stats.tick_*) */
	uint32_t threads, on_cpu, gil, idle;
	bool gc_known;		/* the interpreter tells (3.13+) */
	uint32_t gc;		/* of which collecting garbage */
	/* threads waiting for the GIL (the waiters of its condition
	 * variable), when glibc lets them be counted */
	bool gil_wait_known;
	uint32_t gil_wait;
	/* --tasks with the reader on: the last tick's tasks; ready (their
	 * next step in the loop's queue) only when every loop's queue was
	 * read (not uvloop's), else they count as waiting */
	bool tasks;
	size_t tasks_running, tasks_waiting, tasks_done;
	bool ready_known;
	size_t tasks_ready;
};

/* The sampling line, in at most width columns:
 *   "rate 98.7/100 Hz [#########.] 1.3% missed  failed 3 (torn 3)
 *    partial 2 (stack cut short)  lost 1 (read failed)"
 * Parts that do not fit are dropped whole, last first: the reasons of
 * lost, partial and failed (the counts stay), then the bar, which
 * narrows first (20 cells at most, 5 at least).  The bar uses
 * block elements when utf8, else '#' and '.'.  Returns the length. */
size_t top_header_rate(const struct top_header_in *in, int width, bool utf8,
		       char *buf, size_t len);

/* The states line:
 *   "threads 4: 1 on CPU, 1 holding GIL, 3 idle (syscall, lock or GIL
 *    wait), 2 waiting for GIL, 0 in GC" (3.13+; "GC n/a" before; "GIL
 *    wait n/a" where the waiters cannot be counted)
 * or with tasks "tasks 12: 1 running, 4 ready, 7 waiting  threads 2:
 * ..." ("ready n/a" where a loop's queue is not read).  Dropped last
 * first: GC, GIL wait, the idle's explanation, the threads part after
 * tasks.  Returns the length. */
size_t top_header_states(const struct top_header_in *in, int width,
			 char *buf, size_t len);

/* "top by %OwnWall: hot_three 71.0%, hot_one 24.1%, main 0.2%": the first
 * three rows of the view (functions only, a long name cut in its
 * middle), as many as fit.  Returns the length. */
size_t top_header_top3(const struct top_model *m,
		       const struct top_view_opts *vo, int width, bool utf8,
		       char *buf, size_t len);

#endif
