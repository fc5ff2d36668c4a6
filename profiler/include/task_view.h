/* The asyncio tasks as the front ends see them: each task's name, state,
 * loop, await chain and the tasks awaiting it, as the sampler's task mode
 * read them last (sampler_tasks).  The reader itself (how tasks are found
 * and read, profiler/python/asyncio.h) is the engine's own. */
#ifndef LOUPE_TASK_VIEW_H
#define LOUPE_TASK_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
	/* its next step is scheduled: its step or wakeup callback is in its
	 * loop's ready queue (read only while aio_reader_ready_known) */
	bool ready;
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
	/* What it waits for: read in full updates only (a snapshot), else
	 * AIO_WAIT_NONE. */
	struct aio_wait wait;
};

/* The reader of a process's tasks: opaque here. */
typedef struct aio_reader aio_reader;

/* The tasks of the last update; valid until the next one.  *dropped:
 * tasks left out past MAX_ASYNCIO_TASKS. */
const struct aio_task *aio_reader_tasks(const aio_reader *a, size_t *n,
					size_t *dropped);

/* Awaiter links left out at the last update: past MAX_TASK_AWAITERS
 * for one task or MAX_ASYNCIO_AWAIT_LINKS in all. */
size_t aio_reader_awaiters_dropped(const aio_reader *a);

/* Whether the last update read the ready queue of every loop that has a
 * task (sampler_watch_gc asks for it; uvloop keeps its queue in C: not
 * read), so that aio_task.ready tells ready from waiting. */
bool aio_reader_ready_known(const aio_reader *a);

/* The running task on thread tid, or NULL. */
const struct aio_task *aio_reader_running(const aio_reader *a, pid_t tid);

#endif
