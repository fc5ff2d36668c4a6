/* loupe-bench sleep-floor HZ SECONDS: what waking up HZ times a second
 * costs a process that does nothing else, on the same absolute deadlines
 * as the sampler.  Any sampler pays it; on a virtual machine it is most of
 * loupe's cost at 100 Hz, so tools/bench prints it beside loupe's. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

int bench_sleep_floor(int argc, char **argv)
{
	double hz = argc > 1 ? atof(argv[1]) : 100;
	double secs = argc > 2 ? atof(argv[2]) : 5;
	if (hz <= 0 || hz > 1e6 || secs <= 0 || secs > 3600) {
		fprintf(stderr, "usage: loupe-bench sleep-floor HZ SECONDS\n");
		return 2;
	}
	uint64_t period = (uint64_t)(1e9 / hz), t = bench_now_ns();
	uint64_t n = (uint64_t)(hz * secs);
	for (uint64_t i = 0; i < n; i++) {
		t += period;
		struct timespec ts = { (time_t)(t / 1000000000u),
				       (long)(t % 1000000000u) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("sleep-floor %.0f Hz: CPU %.3f%% of one core, %.1f us per wake-up\n",
	       hz, 100.0 * cpu / secs, 1e6 * cpu / (double)n);
	return 0;
}

/* loupe-bench spin-gaps PERIOD_US SECONDS: a thread that does nothing but
 * read the clock, counting the gaps between two readings longer than
 * PERIOD_US (interrupts, the hypervisor, other tasks).  A sampler that
 * spins between deadlines PERIOD_US apart misses at least the deadlines
 * inside those gaps, whatever its own work: tools/bench prints this
 * floor beside loupe's missed share at the top rate. */
int bench_spin_gaps(int argc, char **argv)
{
	double period_us = argc > 1 ? atof(argv[1]) : 5;
	double secs = argc > 2 ? atof(argv[2]) : 3;
	if (period_us <= 0 || period_us > 1e6 || secs <= 0 || secs > 3600) {
		fprintf(stderr, "usage: loupe-bench spin-gaps PERIOD_US SECONDS\n");
		return 2;
	}
	uint64_t period = (uint64_t)(period_us * 1000), start = bench_now_ns();
	uint64_t end = start + (uint64_t)(secs * 1e9), prev = start, gaps = 0;
	uint64_t lost = 0, missed = 0, longest = 0;
	for (uint64_t now = start; now < end; prev = now) {
		now = bench_now_ns();
		uint64_t gap = now - prev;
		if (gap < period)
			continue;
		gaps++;
		lost += gap;
		missed += gap / period;
		if (gap > longest)
			longest = gap;
	}
	double dur = (double)(prev - start);
	printf("spin-gaps %.0f us: %.0f gaps/s, %.2f%% of the time in them, "
	       "%.2f%% of %.0f kHz deadlines inside them, longest %.0f us\n",
	       period_us, (double)gaps / (dur / 1e9), 100.0 * (double)lost / dur,
	       100.0 * (double)missed * (double)period / dur, 1e6 / (double)period,
	       (double)longest / 1e3);
	return 0;
}
