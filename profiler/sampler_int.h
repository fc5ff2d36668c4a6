/* Internal to the sampler: the work on one process (sampler_proc.c), the
 * process tree of --subprocesses (sampler_tree.c) that drives one such
 * process state per process, and the front end's handle and timing loop
 * (sampler.c).  Calls go one way: sampler.c -> sampler_tree.c ->
 * sampler_proc.c; sampler.c -> schedule.c. */
#ifndef LOUPE_SAMPLER_INT_H
#define LOUPE_SAMPLER_INT_H

#include "bounds.h"
#include "oncpu.h"
#include "perf_native.h"
#include "proc_watch.h"
#include "python/py.h"
#include "sampler.h"
#include "symbols.h"
#include "tasks.h"
#include "unwind.h"

/* Direct-mapped caches from (address, line) to interned frame ids, so a
 * steady-state sample does no string hashing. */
#define FRAME_CACHE_SIZE 4096
/* target_thread.last_kind */
enum { SPROC_LAST_UNKNOWN, SPROC_LAST_NONE, SPROC_LAST_STACK };

struct frame_cache_entry {
	uint64_t addr;		/* code object or instruction address */
	const void *tag;	/* name pointer (Python) / maps generation */
	const void *file;	/* file name pointer (Python): a code object
				 * at a reused address may share its name */
	int32_t line;
	uint32_t frame;
	bool is_eval;		/* native: a CPython eval-loop function */
	bool used;
};

/* Twice MAX_THREADS slots keep probe chains short. */
#define TID_INDEX_BITS 13
#define TID_INDEX_SIZE (1u << TID_INDEX_BITS)

struct tid_slot {
	uint32_t gen;
	pid_t tid;
	uint32_t i;
};

/* One process's sampling state (sampler_proc.c): its readers, caches,
 * thread states and figures.  A sampler has one for its target, and with
 * --subprocesses one more per descendant (sampler_tree.c), all interning
 * into the one profile. */
struct sproc {
	target *t;
	profile *p;
	struct sampler_opts o;
	symbolizer *syms;
	unwinder *unw;
	py_proc *py;
	char describe[64];
	struct sampler_stats st;
	uint64_t next_threads_ns, next_maps_ns;
	uint64_t threads_full_ns;	/* the daemon's next full thread listing */
	/* Python's thread names (threading), looked up again only when the
	 * thread set changes or every NAMES_REFRESH_NS, never per sample:
	 * names_due is set by the thread refresh, served by the next tick
	 * after its walk (which knows each thread state). */
	struct py_thread_name *pynames;
	size_t npynames;
	bool names_due;
	uint64_t names_next_ns;
	uint64_t names_set;		/* hash of the TIDs last looked up */
	uintptr_t maps_gen;	/* bumped when the maps are re-read */
	uint64_t eval_lo, eval_hi;	/* the eval loop's code, when known
					 * only by address (stripped) */
	task_sampler *tasks;	/* --tasks, NULL when off or degraded */
	char warning[600];	/* why task mode is off */
	bool warned;		/* sampler_warning returned it */
	perf_native *perf;	/* on-CPU native samples from perf events */
	uint64_t perf_lost;	/* its records lost, as counted in st.missed */
	oncpu *oncpu;		/* on a CPU when its stack was read, from
				 * switch records; NULL: /proc states */
	char oncpu_off[160];	/* why not (refused), "" when it is on */
	bool loop_ticks;	/* its ticks are counted by the loop that
				 * drives it (a tree's root), not one per
				 * perf sample */
	uint64_t start_ns;
	int sink_rc;
	sampler_sink sink;
	void *sink_ctx;
	struct frame_cache_entry pycache[FRAME_CACHE_SIZE];
	struct frame_cache_entry ncache[FRAME_CACHE_SIZE];
	uint64_t ips[MAX_STACK_DEPTH];
	uint64_t sps[MAX_STACK_DEPTH];
	uint32_t nframes[MAX_STACK_DEPTH];	/* native, leaf first */
	bool neval[MAX_STACK_DEPTH];
	uint32_t leaf_first[2 * MAX_STACK_DEPTH];
	uint32_t root_first[2 * MAX_STACK_DEPTH];
	uint32_t tick_weight;	/* periods the current tick stands for */
	uint64_t period_ns;	/* 1 / rate: the CPU time a CPU sample
				 * stands for */
	uint64_t pcpu_ns, pcpu_at;	/* process CPU time at the last
					 * state reading, and when */
	/* the process CPU time read just before the last stacks were, when
	 * every thread was asleep (idle_pcpu_ok): a tick that reads the
	 * same has the same stacks (sampler_proc.c same_stacks) */
	uint64_t idle_pcpu;
	bool idle_pcpu_ok;
	struct tid_slot tid_index[TID_INDEX_SIZE];
	uint32_t tid_gen;
	char state[MAX_THREADS];		/* per thread of this tick */
	uint64_t cpu_delta[MAX_THREADS];
	/* cpu mode from switch records: preempted before this tick's
	 * wake-up and still waiting for its CPU when the states were read
	 * (preempted_before_wake): neither charged nor read */
	bool waiting[MAX_THREADS];
	/* sampler_sample_threads: the threads of this tick, or none for
	 * every thread */
	const pid_t *only;
	size_t nonly;
	bool own_target;	/* a descendant's: freed with it */
	uint64_t detect_until;	/* a native descendant younger than this
				 * is checked again for an interpreter
				 * (it may not have mapped it yet) */
	uint64_t next_detect_ns;
	/* A program loupe started, named python* but not readable as
	 * CPython yet: its samples are rooted at a "[python start-up]" frame
	 * (startup_frame) until the interpreter is found. */
	bool startup;
	uint32_t startup_frame;
	bool startup_frame_set;
	bool setup_done;	/* sproc_setup succeeded once */
};

/* What a front end holds (sampler.c): the target's process, with
 * --subprocesses the tree of its descendants (sampler_tree.c), and the
 * timing loop's state. */
struct sampler {
	struct sproc root;	/* the target the front end gave */
	bool exited;
	pthread_mutex_t *lock;	/* held while a tick changes the profile */
	uint64_t win_start, win_ticks, win_missed;	/* overload window */
	bool overload_said;

	/* --subprocesses (sampler_tree.c): the tree is watched and each
	 * other process has an sproc of its own, sharing the profile. */
	proc_watch *watch;
	uint64_t next_watch_ns;
	struct tree_proc *procs;	/* procs[0] is the root */
	size_t nprocs, procs_cap, ngone;
	bool root_gone;		/* the root exited, others live on */
	bool attached;		/* processes were taken in this tick (their
				 * start-up cost is no overload) */
	struct sampler_stats tot;	/* every process's, summed */
	struct sampler_stats gone_st;	/* of those finalized */
	elf_cache *own_elf_cache;	/* the tree's, made by sampler_new */
};

/* One process of the tree: s is NULL once it is gone (procs[0].s is the
 * sampler's root). */
struct tree_proc {
	pid_t pid, ppid;
	struct sproc *s;
	char comm[16];
	char describe[64];
	char state;
	size_t nthreads;
	uint64_t samples, missed;
};

typedef void (*view_fn)(void *ctx, const struct sampler_thread_view *v);

/* sampler_proc.c: the work on one process */
uint64_t sampler_mono_ns(void);
/* Sets up s (zeroed) on t, interning into p; sproc_fini undoes it. */
int sproc_init(struct sproc *s, target *t, profile *p,
	       const struct sampler_opts *o, lp_error *err);
void sproc_fini(struct sproc *s);
/* A descendant's, allocated (and with own_target, its target freed with
 * it). */
int sproc_new(struct sproc **out, target *t, profile *p,
	      const struct sampler_opts *o, lp_error *err);
void sproc_free(struct sproc *s);
/* What sproc_init builds on a target, and undoes (an exec). */
int sproc_setup(struct sproc *s, lp_error *err);
void sproc_teardown(struct sproc *s);
/* A process just taken in that is not CPython (yet) is looked at again for
 * an interpreter for a while (sproc_redetect), as is a program loupe
 * started that is not readable as CPython yet. */
void sproc_detect_soon(struct sproc *s, uint64_t now);
void sproc_redetect(struct sproc *s, uint64_t now);
/* One tick of one process: every thread once (view: dump's snapshot). */
int sproc_tick(struct sproc *s, uint64_t now, uint64_t rel_ns,
	       sampler_sink sink, void *sink_ctx, view_fn view, void *view_ctx);
/* A tick of a process the kernel samples (perf events): new threads get
 * their events, then the rings are read. */
int sproc_perf_tick(struct sproc *s, uint64_t now, sampler_sink sink,
		    void *sink_ctx);
/* The perf rings read out; the caller holds the front end's lock. */
int sproc_perf_drain(struct sproc *s);
/* The thread list (and maps) read again when due, or now with force. */
int sproc_refresh(struct sproc *s, uint64_t now, bool force);
/* Replaces each eval-loop frame of the native stack in s->nframes[0..nnat)
 * by the Python frames of pt it ran, into s->leaf_first; the Python stack
 * alone (and *trunc) when the two do not line up.  Returns the frames. */
size_t sproc_merge_stacks(struct sproc *s, size_t nnat,
			  const struct py_thread *pt, bool *trunc);

/* sampler_tree.c: the process tree of --subprocesses */
/* Starts watching the root's descendants and takes in those alive. */
int tree_start(sampler *s, lp_error *err);
void tree_free(sampler *s);
/* sampler_watch_gc for the descendants found so far. */
void tree_watch_gc(sampler *s, bool on);
/* One tick of every process of the tree (of the root alone without
 * --subprocesses); LP_ENOPROC once all are gone. */
int tree_tick(sampler *s, uint64_t now, uint64_t rel_ns, sampler_sink sink,
	      void *sink_ctx, view_fn view, void *view_ctx);
/* Deadlines passed without a tick count against every live descendant. */
void tree_add_missed(sampler *s, uint64_t late);
size_t tree_nthreads(const sampler *s);

#endif
