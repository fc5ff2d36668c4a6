/* The one source of jitter: periodic work (sampling ticks, perf sample
 * periods, the daemon's wake-ups) is spread by up to a quarter period
 * either way so that it does not alias with periodic work in the target
 * (a fixed period is a stroboscope). */
#ifndef LOUPE_JITTER_H
#define LOUPE_JITTER_H

#include <stdint.h>

/* The next number of a xorshift64 generator (Marsaglia, "Xorshift RNGs",
 * 2003; shifts 13, 7, 17) whose state is *state; a state of 0, which the
 * generator never leaves, is reseeded first.  Not for secrets. */
uint64_t jitter_next(uint64_t *state);
/* period jittered: within [period - period/4, period - period/4 +
 * period/2], uniform, from jitter_next(state). */
uint64_t jitter_period(uint64_t *state, uint64_t period);

#endif
