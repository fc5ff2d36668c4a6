/* loupe-bench: micro benchmarks of the engine, one subcommand each; the
 * tools/bench script runs them.  Each prints one line per figure. */
#ifndef LOUPE_BENCH_H
#define LOUPE_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Native unwinding: pause+unwind+resume of a 10-deep stack built without
 * frame pointers, and reference costs. */
int bench_native(int argc, char **argv);
/* The perf_event path (profiler/perf_native): a driver that samples and
 * symbolizes a process, and the target slowdown of both native paths. */
int bench_native_perf(int argc, char **argv);
int bench_native_slowdown(int argc, char **argv);

/* CPU cost of waking up HZ times a second and doing nothing else. */
int bench_sleep_floor(int argc, char **argv);
int bench_spin_gaps(int argc, char **argv);
/* A bare system call and process_vm_readv, one and eight iovecs. */
int bench_syscall_floor(int argc, char **argv);

/* Monotonic time in ns. */
uint64_t bench_now_ns(void);
/* Prints "NAME median X us mean Y us (n=N)" over n samples in ns (sorts
 * them). */
void bench_report(const char *name, uint64_t *ns, size_t n);
/* Path of a program installed next to this one, in out. */
int bench_sibling(const char *name, char *out, size_t size);

#endif
