/* asyncio from outside: the pending tasks of a CPython process (3.6 to
 * 3.14), each with its name, state, loop, the await chain of its coroutine
 * (outermost coroutine first, down to the innermost one it is suspended
 * in, through async generators; a running task's from its thread's
 * stack), what it waits for there and the task that awaits it, read through the process's mem_reader.
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

/* What a suspended task waits for at the end of its await chain. */
enum aio_wait_kind {
	AIO_WAIT_NONE = 0,	/* running, not read, or not known */
	AIO_WAIT_SLEEP,		/* asyncio.sleep: left (s), delay */
	AIO_WAIT_FUTURE,	/* a future no task owns: obj */
	AIO_WAIT_TASK,		/* another task: obj (the tree shows it) */
	AIO_WAIT_GATHER,	/* gather's future: obj */
	AIO_WAIT_QUEUE_GET,	/* asyncio.Queue.get: obj, items, maxsize */
	AIO_WAIT_QUEUE_PUT,	/* asyncio.Queue.put: obj, items, maxsize */
	AIO_WAIT_EVENT,		/* asyncio.Event.wait: obj */
	AIO_WAIT_LOCK,		/* asyncio.Lock.acquire: obj */
	AIO_WAIT_SEMAPHORE,	/* asyncio.Semaphore.acquire: obj, items
				 * (its value) */
	AIO_WAIT_CONDITION,	/* asyncio.Condition.wait: obj */
	AIO_WAIT_SOCKET,	/* a socket read / write / accept: fd */
};

struct aio_wait {
	int kind;		/* enum aio_wait_kind */
	const char *type;	/* the object's class name (interned), or
				 * NULL */
	const char *what;	/* for a socket: the call ("sock_recv") */
	uint64_t obj;		/* the queue, primitive or future */
	int64_t items;		/* queue: len(_queue); semaphore: value;
				 * -1 not known */
	int64_t maxsize;	/* queue: its maxsize (0 unbounded), -1 */
	double left;		/* sleep: seconds left (may be < 0 when
				 * late), NAN not known (uvloop) */
	double delay;		/* sleep: the delay asked, NAN not known */
	int fd;			/* socket: its fd, -1 not known */
};

struct aio_task {
	uint64_t addr;		/* the Task object */
	uint64_t loop;		/* its event loop object */
	const char *name;	/* get_name(), else the coroutine's qualname */
	int state;		/* enum aio_state */
	bool running;		/* the current task of its loop */
	bool truncated;		/* the chain stopped before its innermost
				 * coroutine (depth, torn read) */
	pid_t tid;		/* the loop's thread, 0 when not known */
	int parent;		/* index of the task awaiting this one, -1 */
	uint64_t coro_code;	/* code object of the outermost coroutine */
	/* The await chain, outermost coroutine first; the innermost frame's
	 * line is where it is suspended.  Valid until the next update. */
	size_t nframes;
	const struct py_frame *frames;
	uint32_t gen;		/* changes when name or chain changed */
	/* What it waits for: read in full updates only (a snapshot), else
	 * AIO_WAIT_NONE. */
	struct aio_wait wait;
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

/* The running task on thread tid, or NULL. */
const struct aio_task *aio_reader_running(const aio_reader *a, pid_t tid);

#endif
