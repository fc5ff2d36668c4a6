/* The clocks loupe reads, in one place: nanoseconds as a uint64_t. */
#ifndef LOUPE_CLOCK_H
#define LOUPE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns: deadlines, intervals, event times (perf events
 * are stamped with the same clock, perf_sys.c use_clockid). */
uint64_t clock_mono_ns(void);
/* Any clock in ns (CLOCK_REALTIME for wall-clock stamps, a CPU clock);
 * 0 when it cannot be read. */
uint64_t clock_ns(clockid_t id);

#endif
