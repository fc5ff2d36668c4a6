/* asyncio from outside: the pending tasks of a CPython process (3.6 to
 * 3.14), each with its name, state, loop, the await chain of its coroutine
 * (outermost coroutine first, down to the innermost one it is suspended
 * in, through async generators; a running task's from its thread's
 * stack), what it waits for there and the tasks that await it, read
 * through the process's mem_reader.
 *
 * Tasks are found where asyncio itself keeps them: sys.modules ->
 * asyncio.tasks -> _all_tasks (3.7-3.11) or _scheduled_tasks and
 * _eager_tasks (3.12, 3.13), which are the C module's WeakSet / set when
 * _asyncio is built (asyncio/tasks.py imports them from _asyncio) and the
 * pure-Python ones otherwise; the running task of each loop is
 * _current_tasks[loop].  3.6 keeps them in _asyncio's statics (found by
 * symbol), 3.14 in linked lists it describes itself (asyncio314.c).
 * Offsets are data (asyncio_layout.h).  What a task is and how the
 * tasks of the last update are read is public (task_view.h); the rest is
 * the engine's own. */
#ifndef LOUPE_PY_ASYNCIO_H
#define LOUPE_PY_ASYNCIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "python/py.h"
#include "task_view.h"

/* Prepares to read the tasks of the CPython process py.  LP_EUNSUPPORTED
 * with a message for a version without an asyncio table (3.6, 3.14+). */
int aio_reader_new(aio_reader **out, py_proc *py, lp_error *err);
void aio_reader_free(aio_reader *a);

/* From now on (on: true) the updates also tell which tasks are ready
 * (aio_task.ready, aio_reader_ready_known): a live view's header. */
void aio_reader_watch_ready(aio_reader *a, bool on);

/* Reads the tasks again.  threads: this sample's threads (from
 * py_proc_sample), used to find the thread of each running task.  With
 * full, every task is read; else at most MAX_ASYNCIO_TASK_READS of them
 * (round robin) and the others keep their last chain.  LP_OK also when
 * asyncio is not imported (no tasks); LP_ENOPROC when the target is gone;
 * LP_EFORMAT when asyncio's objects do not look as expected (with a
 * message in *err). */
int aio_reader_update(aio_reader *a, const struct py_thread *threads,
		      size_t nthreads, bool full, lp_error *err);

#endif
