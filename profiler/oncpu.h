/* Whether a thread was on a CPU at the instant its stack was read, from the
 * kernel's own context-switch records.  /proc's state R is "running or
 * waiting for a CPU": on a busy machine a thread that has just woken up
 * sits in R, still inside the call it slept in, until it gets a CPU, and a
 * burst's CPU time was charged to that sleep.  Here each thread has a
 * dummy perf event with context_switch set: the kernel writes a
 * PERF_RECORD_SWITCH (in, or out with PERF_RECORD_MISC_SWITCH_OUT) into
 * its small ring at every switch of the thread, stamped on CLOCK_MONOTONIC
 * (the sampler's clock); a tick reads the rings (memory only, no system
 * call) after its stacks.  Where perf events are refused the caller keeps
 * the /proc states. */
#ifndef LOUPE_ONCPU_H
#define LOUPE_ONCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "perf_ring.h"
#include "target.h"

enum oncpu_state {
	ONCPU_UNKNOWN = 0,	/* no switch record since the event was
				 * opened (or records were lost): ask /proc */
	ONCPU_ON,		/* on a CPU at the window's end, and running
				 * code throughout it (at most preempted) */
	ONCPU_PREEMPTED,	/* the same, but off its CPU at the end since
				 * a preemption: its stack is the code it
				 * was running */
	ONCPU_OFF,		/* off its CPU by a wait of its own (asleep,
				 * or woken and still waiting for a CPU: its
				 * stack is the call it slept in) at some
				 * point of the window */
};

/* What one thread's switch records said so far. */
struct oncpu_track {
	uint64_t last_ns;	/* time of the last switch read; 0: none
				 * (or lost since) */
	uint8_t state;		/* after that switch: ON (in), PREEMPTED
				 * or OFF (out by a wait of its own) */
	uint64_t switches;	/* switch records read */
	uint64_t lost;		/* records the kernel dropped (ring full) */
	bool gap;		/* records lost since the last switch read:
				 * what the thread did is not known */
	struct perf_ring_stats rs;
	/* Accounting (oncpu_track_cut): the time on a CPU since the last
	 * cut, counted up to acc_from; the cut it counts from (0: none
	 * yet); whether records were lost or none told the state since. */
	uint64_t acc_ns, acc_from, cut_ns;
	bool acc_lost;
	bool quiet;		/* the last cut's window had no record */
	uint64_t cut_switches;	/* switches at the last cut */
};

/* Reads the records of r with a time <= to_ns into tk (later ones stay in
 * the ring for the next read) and says what the thread did over
 * [from_ns, to_ns], the time its stack was read in: OFF when it was off
 * its CPU by a wait of its own at from_ns, or went to sleep, or woke up
 * in the window (its stack may be the call it slept in); else ON or
 * PREEMPTED (PERF_RECORD_MISC_SWITCH_OUT_PREEMPT), as at to_ns: it ran
 * code, preemptions do not change its stack.  Records
 * are those of a dummy event with sample_id_all and sample_type
 * TID | TIME; scratch is PERF_RING_MAX_RECORD bytes. */
enum oncpu_state oncpu_track_read(struct oncpu_track *tk,
				  const struct perf_ring *r,
				  unsigned char *scratch, uint64_t from_ns,
				  uint64_t to_ns);

/* Reads the records of r up to to_ns and closes the accounting window
 * there: true, with *used_ns the time the thread spent on a CPU since the
 * last cut and *state its state at to_ns (ON, PREEMPTED or OFF), when the
 * records tell them whole: the window began at a cut, none was lost in
 * it, and its state at the window's start was known (from a record or
 * oncpu_track_seed) or follows from its first switch in the window (an
 * out: it ran until then; an in: it did not).  The kernel stamps each
 * switch: the sum of its runs is the CPU time it used, to the switch, by
 * memory reads only.  false: ask /proc for this window. */
bool oncpu_track_cut(struct oncpu_track *tk, const struct perf_ring *r,
		     unsigned char *scratch, uint64_t to_ns, uint64_t *used_ns,
		     enum oncpu_state *state);
/* /proc told the thread's state at the last cut (OFF: asleep; ON: it ran
 * throughout the window and never switched): taken when its records do
 * not tell it (nothing since the cut, none lost). */
void oncpu_track_seed(struct oncpu_track *tk, enum oncpu_state state);

typedef struct oncpu oncpu;

/* One event per thread of t (its thread list as last refreshed).  Fails
 * with LP_EPERM or LP_EUNSUPPORTED (perf_event_paranoid, seccomp, no
 * perf events) and a message when the first thread's is refused; a
 * thread whose event cannot be had later is ONCPU_UNKNOWN. */
int oncpu_new(oncpu **out, target *t, lp_error *err);
void oncpu_free(oncpu *oc);

/* After target_refresh_threads: events for new threads, old ones closed;
 * the tracker's threads are then in the target's order. */
void oncpu_sync(oncpu *oc);

/* Reads every ring up to to_ns (see oncpu_track_read); the answers are
 * then oncpu_state_of(oc, i, tid) for the target's thread i (UNKNOWN
 * when that is not thread tid: the list changed since oncpu_sync). */
void oncpu_read(oncpu *oc, uint64_t from_ns, uint64_t to_ns);
enum oncpu_state oncpu_state_of(const oncpu *oc, size_t i, pid_t tid);

/* Closes every thread's accounting window at to_ns (oncpu_track_cut); the
 * answers are then oncpu_cut_of(oc, i, tid, ...): false when the records
 * do not tell (or thread i is not tid). */
void oncpu_cut(oncpu *oc, uint64_t to_ns);
bool oncpu_cut_of(const oncpu *oc, size_t i, pid_t tid, uint64_t *used_ns,
		  enum oncpu_state *state);
/* oncpu_track_seed for the target's thread i (when it is tid). */
void oncpu_seed(oncpu *oc, size_t i, pid_t tid, enum oncpu_state state);
/* Reads every ring up to to_ns for a tick's thread states, before its
 * stacks (whose window oncpu_read then reads from to_ns on). */
void oncpu_catch_up(oncpu *oc, uint64_t to_ns);
/* What the records read so far say of the target's thread i (tid): false
 * when they cannot say (no event, the list changed, records lost since the
 * last switch).  Else *st is the state after its last switch and *since_ns
 * that switch's time, or, with no switch read since its event was opened,
 * ONCPU_UNKNOWN and the time of the opening: the thread has not switched
 * since, whatever it was doing then. */
bool oncpu_last(const oncpu *oc, size_t i, pid_t tid, enum oncpu_state *st,
		uint64_t *since_ns);

struct oncpu_stats {
	size_t threads;		/* with an event */
	uint64_t switches, lost, bad;
};
void oncpu_get_stats(const oncpu *oc, struct oncpu_stats *st);

#endif
