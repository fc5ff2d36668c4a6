/* The one source of jitter (see jitter.h). */
#include "jitter.h"

uint64_t jitter_next(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

uint64_t jitter_period(uint64_t *state, uint64_t period)
{
	return period - period / 4 + jitter_next(state) % (period / 2 + 1);
}
