/* One system call entry or exit of a target thread, as either syscall
 * source (perf tracepoints or ptrace) reports it. */
#ifndef LOUPE_SYSEVENT_H
#define LOUPE_SYSEVENT_H

#include <stdint.h>
#include <sys/types.h>

enum sys_event_kind {
	SYS_ENTER,
	SYS_EXIT,
	SYS_LOST,	/* events of tid (0: of any thread) were lost: the
			 * state is unknown */
};

struct sys_event {
	uint64_t time_ns;	/* CLOCK_MONOTONIC */
	pid_t tid;
	enum sys_event_kind kind;
	long nr;		/* syscall number */
	long ret;		/* SYS_EXIT: return value */
	unsigned long args[2];	/* SYS_ENTER: the first two arguments */
};

typedef void (*sys_event_fn)(void *ctx, const struct sys_event *e);

#endif
