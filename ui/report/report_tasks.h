/* loupe report --tasks: per coroutine of a task-mode recording. */
#ifndef LOUPE_UI_REPORT_TASKS_H
#define LOUPE_UI_REPORT_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

struct coro_stats {
	uint32_t func, file;	/* string ids */
	uint64_t samples;	/* wall: running or suspended in it */
	uint64_t cpu_samples;	/* on CPU in it */
	uint64_t cpu_ns;
	uint64_t ntasks;	/* distinct task names that sat in it */
};

/* Fills a malloc'ed array (caller frees), by wall samples, largest first:
 * every Python function on the stack of a task sample (a sample with a
 * task), counted once per stack.  *task_samples: all task samples. */
int coro_stats(const profile *p, struct coro_stats **out, size_t *n,
	       uint64_t *task_samples);

/* Prints the table on stdout; returns 0 or 1 (error printed). */
int report_tasks(const profile *p);

#endif
