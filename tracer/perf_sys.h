/* Syscall events from the raw_syscalls tracepoints through perf_event_open:
 * one pair of events per target thread (pid = tid, any CPU) writing into one
 * ring buffer that is read while the target runs on, never stopping it. */
#ifndef LOUPE_PERF_SYS_H
#define LOUPE_PERF_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "sysevent.h"

typedef struct perf_sys perf_sys;

/* Finds the tracepoints (mounting tracefs if needed) and checks that this
 * process may open them, on thread probe_tid.  LP_EPERM / LP_ENOTFOUND /
 * LP_EUNSUPPORTED with a message when it cannot: the caller falls back. */
int perf_sys_new(perf_sys **out, pid_t probe_tid, lp_error *err);
void perf_sys_free(perf_sys *ps);

/* Starts tracing thread tid (no-op when already traced).  LP_ENOPROC when
 * it is gone, LP_ENOMEM when the thread cap is reached. */
int perf_sys_add(perf_sys *ps, pid_t tid, lp_error *err);
/* Stops tracing every thread not in tids[0..n). */
void perf_sys_keep_only(perf_sys *ps, const pid_t *tids, size_t n);
size_t perf_sys_nthreads(const perf_sys *ps);

/* Reads every event written so far, in order per thread, calling fn for
 * each. */
void perf_sys_drain(perf_sys *ps, sys_event_fn fn, void *ctx);
/* Events the kernel dropped because a ring was full. */
uint64_t perf_sys_lost(const perf_sys *ps);

#endif
