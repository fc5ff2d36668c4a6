/* Syscall events from tracepoints through perf_event_open, read from ring
 * buffers while the target runs on, never stopping it.
 *
 * Two kinds, because of what each costs the target:
 * - the polling calls (syscalls:sys_enter_epoll_wait, ...), always, as
 *   events per CPU filtered in the kernel to the target's threads.  A
 *   syscall's own tracepoint costs the other calls almost nothing, and
 *   events per CPU cost nothing at a context switch, where every event
 *   attached to a thread costs it about 0.3 us at each one (an event-loop
 *   server switches on most requests);
 * - every call of one thread (raw_syscalls, about 2 us a call), only while
 *   perf_sys_detail is on for it: the tracer turns it on while a loop
 *   thread is busy for long, and off (closed) after.
 * Events come out in time order across all rings (perf_sys_drain). */
#ifndef LOUPE_PERF_SYS_H
#define LOUPE_PERF_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "sysevent.h"

typedef struct perf_sys perf_sys;

/* Finds the tracepoints (mounting tracefs if needed) and opens the poll
 * events on every CPU.  LP_EPERM / LP_ENOTFOUND / LP_EUNSUPPORTED with a
 * message when it cannot: the caller falls back. */
int perf_sys_new(perf_sys **out, lp_error *err);
void perf_sys_free(perf_sys *ps);

/* The target's threads: only their events are kept.  LP_OK or LP_ENOMEM. */
int perf_sys_set_threads(perf_sys *ps, const pid_t *tids, size_t n);

/* Every syscall of tid, or again only its polls.  LP_EPERM etc. when the
 * events cannot be opened. */
int perf_sys_detail(perf_sys *ps, pid_t tid, bool on);

/* Reads the events written so far, calling fn for each in time order;
 * those of the last HOLD_NS are kept for the next call (another CPU's ring
 * may still get older ones), unless final. */
void perf_sys_drain(perf_sys *ps, bool final, sys_event_fn fn, void *ctx);
/* Events the kernel dropped because a ring was full. */
uint64_t perf_sys_lost(const perf_sys *ps);

#endif
