/* loupe top's snapshot (key s): what the view shows, written to a file in
 * any format record writes.  Pure of ncurses (check_top_snapshot). */
#ifndef LOUPE_UI_TOP_SNAPSHOT_H
#define LOUPE_UI_TOP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "formats/formats.h"
#include "profile.h"

/* What is on screen. */
struct top_snapshot_opts {
	enum sample_mode mode;	/* the file's mode (metadata "mode") */
	const char *filter;	/* keep only stacks through a frame whose
				 * function or file contains it (case
				 * aside, as the view's filter); NULL/"" all */
	int32_t tid;		/* only this thread; 0 all */
	bool threads;		/* a root frame per thread (rows per thread) */
	bool by_line;		/* by line, else by function */
	bool merge_processes;
	enum output_format format;	/* FORMAT_NONE: a flame graph */
};

/* Copies of p the samples the view shows (the window since the last reset
 * r, the thread and the filter), with p's metadata, thread names and the
 * mode.  Reads p only: call it under the sampler's lock, then write the
 * copy without it.  NULL when out of memory. */
profile *top_snapshot_copy(const profile *p, const struct top_snapshot_opts *o);

/* The name record gives a recording without -o, in the current
 * directory: loupe-PID-YYYYmmdd-HHMMSS.EXT (then -2, -3... when taken).
 * 0, or -1 when the clock cannot be read. */
int top_snapshot_name(int32_t pid, enum output_format f, char *buf,
		      size_t len);

/* Writes q (top_snapshot_copy's) to path in o's format.  LP_OK, or an
 * error with its message in err. */
int top_snapshot_write(const profile *q, const struct top_snapshot_opts *o,
		       const char *path, lp_error *err);

#endif
