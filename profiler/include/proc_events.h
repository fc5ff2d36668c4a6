/* The whole host's process events (the kernel's process-events
 * connector, as profiler/proc_watch.c uses it for one tree): every
 * process that starts (fork of a process, not a thread), replaces its
 * image (exec) or exits, and every thread that starts or ends, as it
 * happens, for a daemon that must pick up
 * and finalize processes sooner than its /proc rescan does (which stays:
 * the connector may be missing, and drops events when it overflows). */
#ifndef LOUPE_PROC_EVENTS_H
#define LOUPE_PROC_EVENTS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* PROC_EVENTS_THREAD: a thread other than the main one started or ended
 * in process pid (its thread list changed). */
enum proc_events_kind { PROC_EVENTS_FORK, PROC_EVENTS_EXEC, PROC_EVENTS_EXIT,
			PROC_EVENTS_THREAD };

typedef struct proc_events proc_events;
typedef void (*proc_events_fn)(void *ctx, enum proc_events_kind kind, pid_t pid);

/* Subscribes (within 200 ms).  LP_EUNSUPPORTED (err says why) where the
 * connector cannot be had: no CAP_NET_ADMIN on a kernel that wants it, a
 * network, pid or user namespace without it. */
int proc_events_open(proc_events **out, lp_error *err);
void proc_events_free(proc_events *e);
/* The socket, for poll (POLLIN: events are queued). */
int proc_events_fd(const proc_events *e);
/* Reads every queued event into fn, without blocking.  false when the
 * kernel dropped some (the socket overflowed): rescan. */
bool proc_events_read(proc_events *e, proc_events_fn fn, void *ctx);

#endif
