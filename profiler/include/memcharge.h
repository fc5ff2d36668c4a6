/* record --mode memory: the growth of a process's resident memory between
 * two ticks is charged to the stacks sampled at the second tick (those
 * that ran in between), split by the CPU time each thread used, growth
 * and release apart (profiler/memcharge.c).  It runs as the sampler's
 * sink: per tick one pread of /proc/PID/statm, per sample an addition;
 * nothing is allocated except when a new stack id appears. */
#ifndef LOUPE_MEMCHARGE_H
#define LOUPE_MEMCHARGE_H

#include <stdint.h>

#include "error.h"
#include "profile.h"
#include "sampler.h"

typedef struct memcharge memcharge;

struct memcharge_stats {
	uint64_t rss_first, rss_last;	/* bytes, at the first and last tick */
	uint64_t grown, released;	/* bytes charged to stacks */
	/* bytes of change in ticks where no sampled thread used CPU (another
	 * process's doing, a native thread, or a thread not sampled) */
	uint64_t uncharged;
	uint64_t ticks;
};

/* procfd: the target's /proc directory fd (target_procfd), kept the
 * caller's. */
int memcharge_new(memcharge **out, int procfd, lp_error *err);
void memcharge_free(memcharge *m);
/* The sampler sink (sampler_sink); ctx is the memcharge. */
int memcharge_sink(void *ctx, const profile *p, const struct sample *s);
/* Charges the last tick, then fills grow and release (new, empty
 * profiles) with src's stacks weighted by bytes (samples and
 * cpu_samples), under pid. */
int memcharge_finish(memcharge *m, const profile *src, profile *grow,
		     profile *release, int32_t pid, lp_error *err);
const struct memcharge_stats *memcharge_stats(const memcharge *m);

/* For a live view (top's memory column), read under the sampler's lock:
 * the bytes charged so far to stack id `stack` of the sampled profile,
 * the last tick's change not yet among them (it is charged when the
 * next tick starts). */
void memcharge_stack(const memcharge *m, uint32_t stack, double *grown,
		     double *released);
/* Forgets every charge (top's reset): the next tick reads the RSS anew
 * and charges from there. */
void memcharge_reset(memcharge *m);

#endif
