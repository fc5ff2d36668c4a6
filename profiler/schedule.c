#include "schedule.h"

#include "jitter.h"

uint64_t schedule_period_ns(double hz)
{
	uint64_t p = (uint64_t)(1e9 / (hz > 0 ? hz : 1));
	return p ? p : 1;
}

/* Anywhere in the period centred on the deadline, uniformly: the mean
 * stays on the grid. */
static void jitter(struct schedule *sc)
{
	uint64_t half = sc->period_ns / 2;
	uint64_t w = sc->due_ns + jitter_next(&sc->rng) % sc->period_ns;
	sc->wake_ns = w > half ? w - half : 0;
}

void schedule_init(struct schedule *sc, uint64_t period_ns, uint64_t first_ns,
		   uint64_t seed)
{
	sc->period_ns = period_ns ? period_ns : 1;
	sc->due_ns = first_ns;
	sc->rng = (seed ^ 0x9e3779b97f4a7c15ull) | 1;
	sc->wake_ns = first_ns;	/* the first on time: a sample at once */
}

void schedule_set_period(struct schedule *sc, uint64_t period_ns)
{
	sc->period_ns = period_ns ? period_ns : 1;
}

bool schedule_due(const struct schedule *sc, uint64_t now, uint64_t early_ns)
{
	return sc->wake_ns <= now || sc->wake_ns - now <= early_ns;
}

uint64_t schedule_late(const struct schedule *sc, uint64_t now)
{
	return now > sc->due_ns ? (now - sc->due_ns) / sc->period_ns : 0;
}

uint64_t schedule_step(struct schedule *sc, uint64_t now)
{
	uint64_t late = schedule_late(sc, now);
	sc->due_ns += (late + 1) * sc->period_ns;
	jitter(sc);
	return late;
}
