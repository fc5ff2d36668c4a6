/* The summary of a trace as text: per event-loop thread its utilization,
 * ticks and their histogram, its stalls one by one and grouped by code
 * path, and the syscalls made while it was busy. */
#ifndef LOUPE_TRACE_TEXT_H
#define LOUPE_TRACE_TEXT_H

#include <stdio.h>

#include "tracer.h"

struct trace_text_opts {
	const char *title;	/* first line, e.g. "PID 12 (python3), CPython 3.12" */
	double threshold_ms;
	size_t max_stalls;	/* stalls listed one by one per thread, the
				 * longest first (the groups count them all) */
};

/* LP_OK, LP_ENOMEM or LP_EIO. */
int trace_text_write(FILE *fp, const tracer *tr, const profile *p,
		     const target *t, const struct trace_text_opts *o);

#endif
