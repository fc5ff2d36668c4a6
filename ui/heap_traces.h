/* loupe heap --traces: tracemalloc's allocation sites read from a live
 * process (ui/cmd_heap_traces.c).  loupe heap (ui/cmd_heap.c) calls
 * heap_traces_run when --traces is given. */
#ifndef LOUPE_UI_HEAP_TRACES_H
#define LOUPE_UI_HEAP_TRACES_H

#include <stdbool.h>
#include <sys/types.h>

struct heap_traces_opts {
	pid_t pid;
	bool traceback;		/* --traceback: group by whole traceback */
	double interval;	/* --interval S: growth over S seconds; 0 */
	int top;		/* --top N lines (0: 10) */
	const char *output;	/* -o FILE: flame graph / pprof of the
				 * tracebacks weighted by bytes; NULL */
};

/* Returns the exit status: 0 done, 1 failure (a one-line error printed,
 * also when tracemalloc is not tracing). */
int heap_traces_run(const struct heap_traces_opts *o);

#endif
