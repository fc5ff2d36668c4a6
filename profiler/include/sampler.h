/* The timing loop: wakes on absolute deadlines, takes one sample of every
 * thread per tick (Python frames, native frames or both, merged), and hands
 * each sample to the profile and to an optional sink (the raw writer). */
#ifndef LOUPE_SAMPLER_H
#define LOUPE_SAMPLER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "profile.h"
#include "python/py.h"
#include "symbols.h"
#include "target.h"
#include "task_view.h"

struct sampler_opts {
	double rate_hz;		/* ticks per second */
	double duration_s;	/* 0: until stopped or the target exits */
	bool native;		/* merge native frames (forced for non-Python
				 * targets) */
	bool blocking;		/* pause the whole process while sampling */
	bool skip_idle;		/* do not walk threads that are not running
				 * (cpu mode without --idle) */
	bool cpu_each_tick;	/* read every running thread's CPU time every
				 * tick (cpu mode; task mode does too), so
				 * that its CPU is charged to the stacks of
				 * the ticks it ran in; else at most every
				 * 10 ms, charged at those ticks */
	bool cpu_from_switches;	/* with cpu_each_tick: each thread's state
				 * and CPU time from its context-switch
				 * records (memory reads) where they tell
				 * them, /proc only where they do not (the
				 * daemon: no system call a tick for a
				 * sleeping or running thread) */
	bool tasks;		/* asyncio task mode (profiler/tasks.h) */
	/* Told once when the rate cannot be kept (a front end prints it). */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
	bool no_perf;		/* native cpu mode: pause and unwind (ptrace)
				 * rather than read perf_event samples */
	bool never_pause;	/* no thread is ever stopped (the daemon):
				 * a Python target's native frames are left
				 * out, a native one is sampled by perf
				 * events or not at all */
	bool subprocesses;	/* every descendant process too, found as
				 * they start (profiler/proc_watch.h) */
	elf_cache *elf_cache;	/* parsed ELF files shared with other
				 * samplers (NULL: private; --subprocesses
				 * shares one over the tree) */
	bool no_demangle;	/* C++ and Rust names as the symbol tables
				 * have them (--no-demangle) */
	bool watch_gc;		/* read whether the interpreter collects
				 * garbage at each tick (sampler_watch_gc) */
	bool thread_events;	/* the caller reports every start and end of
				 * the target's threads and its exit
				 * (sampler_threads_changed, from the
				 * host's process events): its thread list
				 * is not polled, only read again then and
				 * every THREAD_EVENTS_FULL_NS (not with
				 * subprocesses, whose descendants it does
				 * not know) */
};

struct sampler_stats {
	uint64_t ticks;		/* ticks taken */
	uint64_t missed;	/* deadlines passed without a tick */
	uint64_t samples;	/* thread samples added */
	uint64_t truncated;	/* of which with a truncated stack */
	uint64_t errors;	/* thread samples lost to a failed read */
	/* Thread samples not kept because the Python stack could not be
	 * read whole (after re-reads), by reason (enum py_walk_fail; [0] is
	 * their sum).  They are not in samples. */
	uint64_t failed[PY_WALK_NFAILS];
	uint64_t elapsed_ns;
	size_t max_threads;	/* most threads seen at once */
	/* The threads of the last tick by state (a live view's header):
	 * sampled, running on a CPU (the kernel's 'R'), holding the GIL (a
	 * Python target), and idle: asleep in a system call, on a lock or
	 * waiting for the GIL (the interpreter does not say which). */
	uint32_t tick_threads, tick_on_cpu, tick_gil, tick_idle;
	/* With sampler_watch_gc: threads collecting garbage at the last tick
	 * (the GIL holder while its interpreter collects), and whether any
	 * process's interpreter tells (3.13+). */
	uint32_t tick_gc;
	bool gc_known;
	/* With sampler_watch_gc too: threads waiting for the GIL at the last
	 * tick (the waiters of its condition variable, py_proc_gil_waiters),
	 * and whether any process's count could be read. */
	uint32_t tick_gil_wait;
	bool gil_wait_known;
};

/* One thread's stack as taken by sampler_snapshot (for dump). */
struct sampler_thread_view {
	pid_t pid;		/* its process (--subprocesses: any of them) */
	pid_t tid;
	const char *name;
	char state;		/* scheduler state letter */
	uint32_t flags;		/* enum sample_flags */
	uint32_t stack;		/* stack id in the profile, root first */
	/* NULL, or why the thread's stack could not be read (then stack
	 * holds no frames): "frames changed during the read" */
	const char *unreadable;
	/* The CPython process and this thread's walk (frames leaf first),
	 * valid during the call only, NULL for a thread without Python:
	 * dump --locals reads each frame's variables from them. */
	py_proc *py;
	const struct py_thread *pyth;
	/* Python's name of the thread (threading.Thread.name), NULL when
	 * not known; name stays the OS name */
	const char *py_name;
};

typedef struct sampler sampler;

/* Called for every sample after it was added to the profile. */
typedef int (*sampler_sink)(void *ctx, const profile *p,
			    const struct sample *s);

/* Inspects the target (CPython or native) and prepares the readers. */
int sampler_new(sampler **out, target *t, profile *p,
		const struct sampler_opts *o, lp_error *err);
void sampler_free(sampler *s);

/* "CPython 3.11.7" or "native" */
const char *sampler_describe(const sampler *s);
bool sampler_is_python(const sampler *s);
/* Native samples come from perf events (native target, cpu mode): the
 * kernel samples each thread per second of its CPU time, nothing is
 * paused, and a thread that does not run is not sampled. */
bool sampler_uses_perf(const sampler *s);
/* NULL when whether a thread is on a CPU comes from the kernel's
 * context-switch records (perf events); else why it comes from /proc's
 * states (R: running or waiting for a CPU), for a front end to say. */
const char *sampler_oncpu_fallback(const sampler *s);

/* Runs until *stop becomes non-zero, the duration ends or the target exits.
 * Returns LP_OK in all three cases (see sampler_target_exited), an error
 * only when sampling could not go on. */
int sampler_run(sampler *s, volatile sig_atomic_t *stop, sampler_sink sink,
		void *sink_ctx, lp_error *err);
bool sampler_target_exited(const sampler *s);

/* For a front end with a timing loop of its own (the daemon: many targets,
 * each at its rate): one tick now.  late is the periods that passed
 * without a tick (counted as missed; this tick's samples weigh late + 1).
 * LP_ENOPROC (with a message) once the target, and with --subprocesses
 * every process of its tree, is gone. */
int sampler_tick(sampler *s, uint64_t late, sampler_sink sink, void *sink_ctx,
		 lp_error *err);
/* With sampler_opts.thread_events: the target's threads changed, or it
 * exited; its next tick reads its thread list (and whether it runs). */
void sampler_threads_changed(sampler *s);
/* For a front end whose one wake-up takes many samplers' ticks (the
 * daemon): the time it woke, before the first of them.  cpu mode charges
 * a thread found preempted only when that happened at the wake-up (the
 * sampler took its CPU); a later tick of the round still knows when that
 * was.  Per calling thread. */
void sampler_note_wake(uint64_t now_ns);
/* Sample times count from now on (a new recording window). */
void sampler_restart_clock(sampler *s);

/* A front end that reads the profile from another thread while sampling
 * goes on (top) passes a mutex: the sampler holds it while a tick changes
 * the profile, and the reader holds it while it reads. */
void sampler_set_lock(sampler *s, pthread_mutex_t *lock);
const struct sampler_stats *sampler_stats(const sampler *s);
/* A live view's header: from now on each tick also reads whether the
 * interpreter collects garbage (sampler_stats.tick_gc) and how many
 * threads wait for the GIL (tick_gil_wait), at a few small reads per tick
 * and process, and the task reader tells which tasks are ready
 * (aio_task.ready).  Call before sampler_run. */
void sampler_watch_gc(sampler *s, bool on);

/* Takes one sample of the threads tids[0..n) now, added to the profile and
 * passed to sink like a tick's, with time rel_ns (the caller's clock): the
 * tracer samples an event-loop thread at a raised rate only while it is
 * busy.  A thread that has ended is skipped; LP_ENOPROC when the process
 * is gone (sampler_target_exited is then true). */
int sampler_sample_threads(sampler *s, const pid_t *tids, size_t n,
			   uint64_t rel_ns, sampler_sink sink, void *sink_ctx,
			   lp_error *err);

/* Takes one sample of every thread now, without adding it to the profile's
 * aggregates; calls fn for each thread (stacks are interned in the
 * profile). */
int sampler_snapshot(sampler *s,
		     void (*fn)(void *ctx, const struct sampler_thread_view *v),
		     void *ctx, lp_error *err);

/* The processes sampled (--subprocesses: the root first, then each
 * descendant in the order found; those that exited stay listed, the last
 * SAMPLER_MAX_GONE of them, so that a view of them stays stable). */
#define SAMPLER_MAX_GONE 256
struct sampler_proc_view {
	pid_t pid, ppid;
	const char *comm;	/* at the last exec */
	const char *describe;	/* "CPython 3.11.7", "native", ... */
	char state;		/* the main thread's state letter, 'X' gone */
	size_t nthreads;
	uint64_t samples;	/* thread samples added */
	uint64_t missed;	/* deadlines missed while it was sampled */
};
size_t sampler_nprocs(const sampler *s);
void sampler_proc_at(const sampler *s, size_t i, struct sampler_proc_view *v);
/* How descendants are found: "netlink process events", "/proc scan", or
 * NULL without --subprocesses. */
const char *sampler_watch_method(const sampler *s);

/* Every live thread of every process (the tracer follows their system
 * calls): new processes taken in, thread lists read again.  LP_ENOPROC
 * once every process is gone. */
int sampler_list_threads(sampler *s, pid_t *tids, size_t cap, size_t *n);

/* Task mode: the reader of the asyncio tasks (read through task_view.h),
 * NULL when task mode is off or could not go on (see sampler_warning).  Its
 * tasks are those of the last tick (sampler_snapshot reads every task). */
const aio_reader *sampler_tasks(const sampler *s);

/* Why task mode fell back to plain thread stacks, once: the message the
 * first time it is asked after it happened, NULL otherwise. */
const char *sampler_warning(sampler *s);

#endif
