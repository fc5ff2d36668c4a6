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
