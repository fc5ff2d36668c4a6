/* Native on-CPU stacks without stopping the target, the way `perf record
 * --call-graph dwarf` takes them: a software task-clock event per thread
 * makes the kernel copy the thread's user registers and the top of its
 * stack into a ring buffer every 1/rate s of the thread's CPU time; the
 * copies are unwound here with libunwind (unwind_from_snapshot).  No
 * ptrace, no thread ever paused; only on-CPU time is seen (a thread that
 * does not run is not sampled), so it is an exact --mode cpu profile. */
#ifndef LOUPE_PERF_NATIVE_H
#define LOUPE_PERF_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "target.h"
#include "unwind.h"

/* Bytes of user stack the kernel copies per sample, from SP.  16 KiB holds
 * every frame of a 10-deep C stack many times over and ~25 frames of a
 * CPython 3.11+ eval loop; what lies beyond is read live, once.  The copy
 * is made on the target's CPU, in its time: 32 KiB would double that cost
 * for frames the outer, rarely changing, part of the stack rarely needs. */
#define PERF_NATIVE_STACK_DEFAULT (16u * 1024)
/* Largest copy the kernel allows in one sample (the record size is a u16,
 * minus the header, registers and the rest of the sample). */
#define PERF_NATIVE_STACK_MAX (63u * 1024)

typedef struct perf_native perf_native;

struct perf_native_sample {
	pid_t tid;
	uint64_t time_ns;	/* CLOCK_MONOTONIC, when the kernel took it */
	uint64_t cpu_ns;	/* CPU time this sample stands for (the
				 * period elapsed since the thread's last) */
	const uint64_t *ips;	/* leaf first; callers' return addresses
				 * as they are (decrement before lookup) */
	size_t n;
	bool truncated;		/* the walk did not reach the outermost
				 * frame */
};

/* Called once per sample, in ring order per thread.  ips is valid only
 * during the call. */
typedef void (*perf_native_cb)(void *ctx, const struct perf_native_sample *s);

struct perf_native_stats {
	uint64_t samples;	/* delivered to the callback */
	uint64_t lost;		/* dropped by the kernel: ring full
				 * (PERF_RECORD_LOST) */
	uint64_t throttled;	/* times the kernel throttled an event
				 * (perf_event_max_sample_rate) */
	uint64_t truncated;	/* delivered with a truncated stack */
	uint64_t no_user;	/* samples without user registers, skipped */
	uint64_t bad;		/* malformed records, skipped */
	uint64_t joined;	/* records cut by the ring's end, joined */
	uint64_t maps_changed;	/* executable mappings created (the maps
				 * were re-read) */
	size_t threads;		/* threads with an open event */
};

/* Opens one event and ring per thread of t (call target_refresh_threads
 * and target_refresh_maps first).  u is the caller's unwinder of t (its
 * tables are shared with the ptrace path) and must outlive pn.  rate_hz:
 * samples per second of each thread's CPU time (1..100000).  stack_bytes:
 * 0 for PERF_NATIVE_STACK_DEFAULT, else 8-byte multiple up to
 * PERF_NATIVE_STACK_MAX.  Fails with LP_EPERM (perf_event_paranoid),
 * LP_EUNSUPPORTED (no perf events here) or LP_ENOPROC, and a message. */
int perf_native_open(perf_native **out, target *t, unwinder *u,
		     unsigned rate_hz, size_t stack_bytes, lp_error *err);
/* Closes every event (samples still in the rings are dropped: drain
 * first). */
void perf_native_free(perf_native *pn);

/* After target_refresh_threads: opens events for new threads; threads no
 * longer listed are closed at the next drain, after their last samples. */
int perf_native_sync_threads(perf_native *pn, lp_error *err);

/* An fd that polls readable when a ring is a quarter full or a thread
 * exited: a loop may sleep on it instead of draining on a timer. */
int perf_native_fd(const perf_native *pn);

/* Unwinds and hands every sample waiting in the rings to cb; closes the
 * events of exited threads.  Returns LP_OK (samples may be 0).  Never
 * allocates, except that a new code mapping seen in a ring makes it re-read
 * the target's maps (target_refresh_maps + unwinder_maps_changed), so map
 * entries taken from target_maps before a drain are stale after it. */
int perf_native_drain(perf_native *pn, perf_native_cb cb, void *ctx);

/* True once since the last call when a drain saw a new executable mapping
 * (it re-read the maps and told the unwinder): a symbolizer of t must then
 * be told too (symbolizer_maps_changed). */
bool perf_native_take_maps_changed(perf_native *pn);

void perf_native_get_stats(const perf_native *pn,
			   struct perf_native_stats *st);

#endif
