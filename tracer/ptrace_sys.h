/* Syscall events through ptrace (PTRACE_SYSCALL stops): the fallback when
 * the tracepoints are not allowed.  Every syscall of every thread stops the
 * thread twice until a thread of ours resumes it, so it costs the target
 * far more than the tracepoints do.  A thread of its own waits for the
 * stops (ptrace requests must come from the thread that attached), queues
 * the events, and detaches from every thread when freed, so that the
 * target is never left stopped. */
#ifndef LOUPE_PTRACE_SYS_H
#define LOUPE_PTRACE_SYS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "sysevent.h"

typedef struct ptrace_sys ptrace_sys;

/* Seizes every thread of pid (and those it starts later).  LP_EPERM /
 * LP_ENOPROC with a message. */
int ptrace_sys_new(ptrace_sys **out, pid_t pid, lp_error *err);
/* Detaches from every thread and stops the waiting thread. */
void ptrace_sys_free(ptrace_sys *pt);

/* Passes the events queued so far to fn, oldest first. */
void ptrace_sys_drain(ptrace_sys *pt, sys_event_fn fn, void *ctx);
/* Every thread has exited. */
bool ptrace_sys_exited(ptrace_sys *pt);
/* Events dropped because the queue was full. */
unsigned long long ptrace_sys_lost(ptrace_sys *pt);

#endif
