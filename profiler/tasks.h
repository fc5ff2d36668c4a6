/* Task mode of the sampler (--tasks): turns the asyncio tasks read by
 * profiler/python/asyncio.c into samples.  Each tick, a loop thread that
 * runs a task has its stack re-rooted under a task frame (from the task's
 * outermost coroutine down), and every suspended task adds one idle sample
 * whose stack is the task frame over its await chain, so per coroutine the
 * profile holds wall time (all samples), CPU time (the running ones) and
 * the tasks that sat in it (distinct task ids). */
#ifndef LOUPE_TASKS_H
#define LOUPE_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "profile.h"
#include "python/asyncio.h"
#include "python/py.h"

typedef struct task_sampler task_sampler;

typedef int (*task_sink)(void *ctx, const profile *p, const struct sample *s);

int tasks_new(task_sampler **out, py_proc *py, profile *p, lp_error *err);
void tasks_free(task_sampler *ts);

/* Reads the tasks again (see aio_reader_update). */
/* Which tasks are ready, from now on (aio_reader_watch_ready). */
void tasks_watch_ready(task_sampler *ts, bool on);
int tasks_update(task_sampler *ts, const struct py_thread *threads,
		 size_t nthreads, bool full, lp_error *err);

/* When thread tid runs a task: rewrites its root-first stack frames[0..*n)
 * (room for cap ids) to start with the task's frame at the task's
 * outermost coroutine, updates *n and sets *task to the task name's string
 * id; else leaves both and sets *task to 0.  LP_OK or LP_ENOMEM (frames
 * untouched). */
int tasks_thread_stack(task_sampler *ts, pid_t tid, uint32_t *frames,
		       size_t *n, size_t cap, uint32_t *task);

/* Adds one idle sample per suspended task (tid: its loop's thread, else
 * pid), of the tick's weight (struct sample), and hands each to sink;
 * *added counts them. */
int tasks_emit(task_sampler *ts, int32_t pid, uint64_t rel_ns, uint32_t weight,
	       task_sink sink, void *sink_ctx, uint64_t *added);

const aio_reader *tasks_reader(const task_sampler *ts);

#endif
