/* Durations in a log-scale histogram: bounded memory whatever the run's
 * length, percentiles within about 3%, and exact count, sum and max. */
#ifndef LOUPE_HIST_H
#define LOUPE_HIST_H

#include <stdint.h>

/* Buckets per power of two (precision 2^(1/HIST_SUB) - 1, about 2.2%). */
#define HIST_SUB 32
/* Powers of two covered, from 1 ns: 2^48 ns is 3 days. */
#define HIST_OCTAVES 48
#define HIST_BUCKETS (HIST_SUB * HIST_OCTAVES)

struct hist {
	uint64_t n, sum, max;
	uint32_t b[HIST_BUCKETS];	/* 32 bits: a run saturates, not wraps */
};

void hist_add(struct hist *h, uint64_t ns);
/* The q-th quantile (0..1) in ns, 0 when empty: the geometric middle of the
 * bucket holding it, never above max. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
