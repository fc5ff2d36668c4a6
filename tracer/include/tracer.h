/* loupe trace's engine: follows the syscalls of every thread of a target
 * (perf tracepoints, or ptrace when those are not allowed), finds its
 * event-loop threads and their ticks, samples a loop thread's stack at a
 * raised rate while it is busy, and folds each stall's samples into the
 * code path that held the loop. */
#ifndef LOUPE_TRACER_H
#define LOUPE_TRACER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "fold.h"
#include "loop.h"
#include "profile.h"
#include "sampler.h"
#include "target.h"

struct tracer_opts {
	double duration_s;	/* 0: until stopped or the target exits */
	uint64_t threshold_ns;	/* a busy period longer than this stalls */
	double rate_hz;		/* stack samples a second of a busy loop */
	bool force_ptrace;	/* skip the tracepoints (tests, comparison) */
	bool no_ptrace;		/* never fall back to ptrace, which stops
				 * the target at every syscall (the daemon):
				 * tracer_new fails instead */
	bool spans;		/* add every tick to the profile as a span
				 * (for -o: chrome, raw) */
	double give_up_s;	/* stop when no thread is an event loop after
				 * this long (0: never) */
	bool subprocesses;	/* the threads of every process of the
				 * sampler's tree (tracepoints only) */
};

/* One stall, times relative to the start of the trace. */
struct trace_stall {
	pid_t tid;
	uint64_t start_ns, dur_ns;
	bool open;		/* still busy when the trace ended */
	struct syscall_stat sys[LOOP_PERIOD_SYSCALLS];	/* by time, most first */
	size_t nsys;
	uint64_t samples;	/* stack samples taken inside it */
	struct fold_path paths[FOLD_MAX_PATHS];	/* the code that held the
						 * loop, dominant first */
	size_t npaths;
	char why[128];		/* npaths 0: why no stack could be read */
};

struct tracer_stats {
	uint64_t events;	/* syscall entries and exits read */
	uint64_t lost;		/* dropped by a full ring */
	uint64_t samples;	/* stack samples of busy loop threads */
	uint64_t sample_errors;
	uint64_t elapsed_ns;
};

typedef struct tracer tracer;

/* Chooses the syscall source (perf tracepoints, else ptrace: see
 * tracer_fallback) and starts following the target's syscalls.  With
 * o->no_ptrace and no tracepoints: LP_EUNSUPPORTED, err holding only the
 * reason the tracepoints could not be used. */
int tracer_new(tracer **out, target *t, profile *p,
	       const struct tracer_opts *o, lp_error *err);
/* The sampler that takes the stacks of busy loops; without one (the
 * ptrace fallback on a native target) stalls are found without stacks.
 * With ptrace as the source, s must never pause a thread (Python frames
 * only, nonblocking): a thread has one tracer. */
void tracer_set_sampler(tracer *tr, sampler *s);
void tracer_free(tracer *tr);

/* "perf tracepoints" or "ptrace". */
const char *tracer_source(const tracer *tr);
/* Why the tracepoints could not be used (NULL when they are). */
const char *tracer_fallback(const tracer *tr);
/* Syscalls are followed one by one only in busy periods longer than
 * this (0: all of them). */
uint64_t tracer_detail_after_ns(const tracer *tr);
/* Whether the source needs the sampler to leave ptrace alone (ptrace: a
 * thread has one tracer). */
bool tracer_uses_ptrace(const tracer *tr);

/* Runs until *stop, the duration's end or the target's exit; every stack
 * sample also goes to sink (may be NULL).  LP_OK in all three cases. */
int tracer_run(tracer *tr, volatile sig_atomic_t *stop, sampler_sink sink,
	       void *sink_ctx, lp_error *err);
bool tracer_target_exited(const tracer *tr);
/* Whether some thread was found to be an event loop. */
bool tracer_found_loop(const tracer *tr);

const loop_tracker *tracer_loops(const tracer *tr);
/* Stalls in the order they ended. */
const struct trace_stall *tracer_stalls(const tracer *tr, size_t *n);
const struct tracer_stats *tracer_stats(const tracer *tr);
/* A front end that reads the stats, stalls or target from another thread
 * while tracer_run goes on (the status line) passes a mutex: tracer_run
 * holds it whenever it changes them. */
void tracer_set_lock(tracer *tr, pthread_mutex_t *lock);

#endif
