/* A live process: its threads, its memory, its maps, and pausing. */
#ifndef LOUPE_TARGET_H
#define LOUPE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "maps.h"
#include "memreader.h"

struct target_thread {
	pid_t tid;
	pid_t nstid;		/* its id in the process's own PID namespace
				 * (a container's), which is what the
				 * process itself knows; = tid outside one */
	char name[16];		/* comm, as in /proc/PID/task/TID/comm */
	int stat_fd;		/* open /proc/PID/task/TID/stat, or -1 */
	int schedstat_fd;	/* open /proc/PID/task/TID/schedstat, or -1 */
	int wchan_fd;		/* open .../wchan, 0 until opened, -1 none */
	uint64_t cpu_ns;	/* CPU time at the previous reading */
	uint64_t cpu_at;	/* when that was (monotonic ns) */
	bool seized;		/* PTRACE_SEIZE done */
	bool stopped;		/* interrupted and not yet resumed */
	bool group_stop;	/* the stop was a job-control group stop */
	bool seen;		/* still listed at the last refresh */
	size_t unwind_window;	/* stack bytes its last unwind read (unwind.c) */
	char state;		/* the sampler's last reading of the state */
	uint64_t state_ns;	/* and when it was taken (monotonic ns) */
	uint64_t read_ns;	/* when state and CPU time were last read from
				 * /proc rather than inferred */
	uint64_t credit_ns;	/* CPU time it used that no sample was
				 * charged yet (the sampler's) */
	/* the sampler's: what its last tick that read stacks gave it, for
	 * the ticks that find the process has not run since (0: unknown) */
	uint8_t last_kind;	/* SPROC_LAST_* (sampler_int.h) */
	uint32_t last_stack, last_flags;
};

typedef struct target target;

/* Attaches to a running process (no ptrace yet: that happens only when a
 * thread is paused).  Fails with LP_ENOPROC or LP_EPERM and a message. */
int target_attach(target **out, pid_t pid, lp_error *err);
/* Whether pid is this process or one of its threads: the front ends
 * refuse to profile themselves (the library may, e.g. in its tests). */
bool target_pid_is_self(pid_t pid);
/* Starts argv[0] with its arguments and attaches to it. */
int target_spawn(target **out, char *const argv[], lp_error *err);
/* Resumes and detaches every thread, frees.  A spawned child is terminated
 * if still running when terminate_child is true. */
void target_free(target *t, bool terminate_child);
/* After the process exec'd: reads its name, executable and maps again. */
int target_reexec(target *t, lp_error *err);

pid_t target_pid(const target *t);
int target_procfd(const target *t);	/* fd of /proc/PID */
bool target_spawned(const target *t);
bool target_alive(target *t);
/* Exit status of a spawned child that has exited (128 + N when killed by
 * signal N, as shells report it), or -1. */
int target_exit_status(target *t);
/* Name of the executable (comm) and the full path of /proc/PID/exe. */
const char *target_comm(const target *t);
const char *target_exe(const target *t);

mem_reader *target_reader(target *t);

int target_refresh_maps(target *t);
const struct maps *target_maps(const target *t);

/* Re-lists /proc/PID/task: new threads get fds, vanished ones are detached
 * and dropped.  Returns LP_OK or LP_ENOPROC when the process is gone. */
int target_refresh_threads(target *t);
/* The number of threads /proc/PID/task holds now, from its link count
 * (one fstat of the kept directory, no listing): LP_OK, or an error when
 * it cannot be told (then refresh). */
int target_task_count(target *t, size_t *n);
/* Thread pointers stay valid until the next target_refresh_threads. */
size_t target_nthreads(const target *t);
struct target_thread *target_thread_at(target *t, size_t i);
struct target_thread *target_thread_find(target *t, pid_t tid);
/* The thread the process itself calls nstid (its PID namespace's id, the
 * one CPython records); a linear search, for attach-time checks. */
struct target_thread *target_thread_find_ns(target *t, pid_t nstid);

/* CPU time of the whole process (every thread), from its CPU clock: one
 * system call, cheaper than any per-thread read.  LP_EUNSUPPORTED when the
 * kernel refuses it. */
int target_cpu_ns(target *t, uint64_t *ns);
/* Whether the thread is running or runnable (state R) by its wchan, a
 * third of the cost of reading its stat (no state letter, no CPU time).
 * LP_EUNSUPPORTED where the kernel's wchan does not tell (then read the
 * state). */
int target_thread_running(target *t, struct target_thread *th, bool *running);
/* The thread's scheduler state letter ('R', 'S', 'D', ...) and, when
 * cpu_ns is not NULL, its total CPU time in ns.  LP_ENOPROC when the
 * thread is gone. */
int target_thread_state(target *t, struct target_thread *th, char *state,
			uint64_t *cpu_ns);
/* Only the thread's CPU time in ns: schedstat's first field, one pread of
 * a kept fd (0.4 us here, against 12 us for reading a task-clock counter
 * of a running thread, which costs the kernel an interrupt of its CPU).
 * It lags by at most a scheduler tick for a running thread: a later
 * reading catches up.  LP_ENOPROC when the thread is gone. */
int target_thread_cpu_ns(target *t, struct target_thread *th, uint64_t *cpu_ns);
/* CLOCK_MONOTONIC as the target reads it (time.monotonic(), asyncio's
 * loop.time()): ours plus the monotonic offset of its time namespace
 * (/proc/PID/timens_offsets, time_namespaces(7); absent: no offset). */
int target_monotonic_ns(target *t, int64_t *ns);

/* Stops one thread (PTRACE_SEIZE once, then PTRACE_INTERRUPT and wait) so
 * that its registers and stack can be read; resume lets it go on. */
int target_thread_pause(target *t, struct target_thread *th);
int target_thread_resume(target *t, struct target_thread *th);
/* Pauses / resumes every thread (--blocking). */
int target_pause_all(target *t);
void target_resume_all(target *t);
/* A seized thread that receives a signal while running stops until its
 * tracer looks (ptrace(2), signal-delivery-stop).  Collects such stops of
 * every seized, running thread and re-injects their signals; the sampler
 * calls it every tick (refresh and pause_all call it too).  Cheap: one
 * waitpid(WNOHANG) per seized thread. */
void target_poll(target *t);
/* When on, resuming a thread also detaches it (PTRACE_DETACH instead of
 * PTRACE_CONT), so nothing stays traced between samples, at the cost of a
 * PTRACE_SEIZE per pause.  Off by default. */
void target_set_detach_on_resume(target *t, bool on);
/* Detaches from every thread; the target runs on as if never touched.
 * Safe to call from any exit path, more than once. */
void target_detach_all(target *t);

#endif
