/* asyncio from outside: the pending tasks of a CPython process (3.6 to
 * 3.14), each with its name, state, loop, the await chain of its coroutine
 * (outermost coroutine first, down to the innermost one it is suspended
 * in) and the task that awaits it, read through the process's mem_reader.
 *
 * Tasks are found where asyncio itself keeps them: sys.modules ->
 * asyncio.tasks -> _all_tasks (3.7-3.11) or _scheduled_tasks and
 * _eager_tasks (3.12, 3.13), which are the C module's WeakSet / set when
 * _asyncio is built (asyncio/tasks.py imports them from _asyncio) and the
 * pure-Python ones otherwise; the running task of each loop is
 * _current_tasks[loop].  3.6 keeps them in _asyncio's statics (found by
 * symbol), 3.14 in linked lists it describes itself (asyncio314.c).
 * Offsets are data (asyncio_layout.h). */
#ifndef LOUPE_PY_ASYNCIO_H
#define LOUPE_PY_ASYNCIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "python/py.h"

enum aio_state {
	AIO_PENDING = 0,	/* _asynciomodule.c fut_state values */
	AIO_CANCELLED = 1,
	AIO_FINISHED = 2,
};

struct aio_task {
	uint64_t addr;		/* the Task object */
	uint64_t loop;		/* its event loop object */
	const char *name;	/* get_name(), else the coroutine's qualname */
	int state;		/* enum aio_state */
	bool running;		/* the current task of its loop */
	bool truncated;		/* the chain stopped before its innermost
				 * coroutine (depth, torn read) */
	pid_t tid;		/* the thread running its loop, 0 when not
				 * known */
	/* Every task awaiting this one (indexes into the task array): the
	 * task that awaits it directly, a gather's or a TaskGroup's owner,
	 * asyncio.wait's caller, several tasks awaiting one task; at most
	 * MAX_TASK_AWAITERS.  parent is one of them (-1: none), chosen so
	 * that parents form a forest: the one path a shared task is shown
	 * or charged under. */
	const int *awaited_by;
	size_t nawaited_by;
	int parent;
	uint64_t coro_code;	/* code object of the outermost coroutine */
	/* The await chain, outermost coroutine first; the innermost frame's
	 * line is where it is suspended.  Valid until the next update. */
	size_t nframes;
	const struct py_frame *frames;
	uint32_t gen;		/* changes when name or chain changed */
};

typedef struct aio_reader aio_reader;

/* Prepares to read the tasks of the CPython process py.  LP_EUNSUPPORTED
 * with a message for a version without an asyncio table (3.6, 3.14+). */
int aio_reader_new(aio_reader **out, py_proc *py, lp_error *err);
void aio_reader_free(aio_reader *a);

/* Reads the tasks again.  threads: this sample's threads (from
 * py_proc_sample), used to find the thread of each running task.  With
 * full, every task is read; else at most MAX_ASYNCIO_TASK_READS of them
 * (round robin) and the others keep their last chain.  LP_OK also when
 * asyncio is not imported (no tasks); LP_ENOPROC when the target is gone;
 * LP_EFORMAT when asyncio's objects do not look as expected (with a
 * message in *err). */
int aio_reader_update(aio_reader *a, const struct py_thread *threads,
		      size_t nthreads, bool full, lp_error *err);

/* The tasks of the last update; valid until the next one.  *dropped:
 * tasks left out past MAX_ASYNCIO_TASKS. */
const struct aio_task *aio_reader_tasks(const aio_reader *a, size_t *n,
					size_t *dropped);

/* Awaiter links left out at the last update: past MAX_TASK_AWAITERS
 * for one task or MAX_ASYNCIO_AWAIT_LINKS in all. */
size_t aio_reader_awaiters_dropped(const aio_reader *a);

/* The running task on thread tid, or NULL. */
const struct aio_task *aio_reader_running(const aio_reader *a, pid_t tid);

#endif
