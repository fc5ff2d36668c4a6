/* The sampling schedule: one jittered absolute-deadline stepper, used by
 * the sampler's own loop (sampler_run) and by a front end that drives
 * samplers from a loop of its own (the daemon's engine).
 *
 * Ticks are owed on a grid of absolute deadlines one period apart (due_ns),
 * so the mean rate is the one asked for however late the wake-ups are.
 * Each tick is taken anywhere in the period centred on its deadline,
 * uniformly (wake_ns): one tick a period, as a grid, and every instant as
 * likely as any other, so that work in the target with a period near
 * ours or a multiple of it is not aliased (a fixed grid lands on the same
 * phase of a loop again and again; a quarter period either way still
 * left half of each period's phases unsampled, and the thread's CPU time,
 * which the kernel counts at its own tick, aliased with the grid: split.py
 * read 0.94 for 0.75 in CI); the jitter does not add up, the grid stays.
 * A tick taken a whole period or more after its deadline says how many
 * periods passed without one (late: counted as missed, and its samples
 * weigh late + 1); those ticks are never made up in a burst: the next
 * deadline is the first one of the grid after now.
 *
 * Pure arithmetic on the caller's clock (CLOCK_MONOTONIC in ns): nothing
 * here reads a clock or sleeps. */
#ifndef LOUPE_SCHEDULE_H
#define LOUPE_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

struct schedule {
	uint64_t period_ns;	/* one tick a period */
	uint64_t due_ns;	/* the grid: the deadline of the tick owed */
	uint64_t wake_ns;	/* due_ns moved by its jitter: when to take it */
	uint64_t rng;		/* xorshift64 state, never 0 */
};

/* The period of a rate (ticks per second); at least 1 ns, and a rate of 0
 * or less is 1 Hz. */
uint64_t schedule_period_ns(double hz);

/* The first tick owed at first_ns, taken then (no jitter: sampler_run
 * samples at once); seed varies the jitter of the others (any value). */
void schedule_init(struct schedule *sc, uint64_t period_ns, uint64_t first_ns,
		   uint64_t seed);

/* A new period from the next tick on (the grid keeps its current
 * deadline). */
void schedule_set_period(struct schedule *sc, uint64_t period_ns);

/* Whether the tick owed may be taken at now: its wake-up is at most
 * early_ns away (0: it has come).  A loop that serves several schedules
 * takes those due within a fraction of their period in one wake-up. */
bool schedule_due(const struct schedule *sc, uint64_t now, uint64_t early_ns);

/* The whole periods that passed at now since the owed deadline without a
 * tick (0 when now is before the deadline or within a period of it). */
uint64_t schedule_late(const struct schedule *sc, uint64_t now);

/* A tick is taken at now: returns schedule_late (the periods missed), and
 * owes the next tick on the grid after the ones missed, with a fresh
 * jitter. */
uint64_t schedule_step(struct schedule *sc, uint64_t now);

#endif
