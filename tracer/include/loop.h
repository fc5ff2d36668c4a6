/* Event-loop ticks from syscall events: a thread that keeps returning from
 * a polling call (epoll_wait, poll, select...) runs an event loop; each
 * iteration is busy from a poll's return to the next poll's entry, and a
 * busy period longer than the threshold is a stall.  Pure state machine:
 * fed events in time order per thread, it calls back on every tick. */
#ifndef LOUPE_LOOP_H
#define LOUPE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hist.h"
#include "sysevent.h"

/* A thread is an event loop once it returned from this many polls. */
#define LOOP_MIN_POLLS 2
/* Distinct syscalls remembered per busy period (the rest are counted
 * under the last slot's "other"). */
#define LOOP_PERIOD_SYSCALLS 8
/* Threads followed at once. */
#define LOOP_MAX_THREADS 512

struct syscall_stat {
	long nr;
	uint64_t count, total_ns, max_ns;
};

/* One finished iteration of a loop thread. */
struct loop_tick {
	pid_t tid;
	uint64_t start_ns, dur_ns;	/* poll return .. next poll entry */
	bool stall;			/* dur_ns > threshold */
	/* syscalls made while busy, by total time, most first */
	const struct syscall_stat *sys;
	size_t nsys;
};

typedef void (*loop_tick_fn)(void *ctx, const struct loop_tick *t);

struct loop_thread {
	pid_t tid;
	uint64_t polls;		/* poll returns seen */
	bool known;		/* a poll returned: busy/idle is known */
	bool in_poll;
	uint64_t busy_start;	/* last poll return */
	uint64_t poll_enter;	/* last poll entry */
	uint64_t busy_ns, idle_ns;
	uint64_t ticks, stalls;
	struct hist tick_hist;
	/* the non-poll call in progress */
	bool in_call;
	long call_nr;
	uint64_t call_start;
	uint64_t last_seen;	/* last event of the busy period (or its
				 * start) */
	uint64_t last_event;	/* time of the newest event seen */
	uint64_t late;		/* events older than one seen before them */
	/* calls of the current busy period */
	struct syscall_stat period[LOOP_PERIOD_SYSCALLS];
	size_t nperiod;
	/* calls of every busy period, by syscall (grown on demand) */
	struct syscall_stat *kinds;
	size_t nkinds, kinds_cap;
};

typedef struct loop_tracker loop_tracker;

loop_tracker *loop_tracker_new(uint64_t threshold_ns, loop_tick_fn fn,
			       void *ctx);
void loop_tracker_free(loop_tracker *lt);

void loop_event(loop_tracker *lt, const struct sys_event *e);
/* Closes the open periods at now_ns (end of the trace) for the busy and
 * idle totals; the open busy period is not a tick. */
void loop_finish(loop_tracker *lt, uint64_t now_ns);

/* Threads seen (loop or not); loop_is_loop tells which are loops. */
size_t loop_nthreads(const loop_tracker *lt);
const struct loop_thread *loop_thread_at(const loop_tracker *lt, size_t i);
const struct loop_thread *loop_find(const loop_tracker *lt, pid_t tid);
bool loop_is_loop(const struct loop_thread *th);
/* How long th has been busy at now_ns, 0 when idle or unknown. */
uint64_t loop_busy_for(const struct loop_thread *th, uint64_t now_ns);

#endif
