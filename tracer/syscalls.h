/* System calls by number: names, and which ones an event loop waits in. */
#ifndef LOUPE_SYSCALLS_H
#define LOUPE_SYSCALLS_H

#include <stdbool.h>

/* "read", "epoll_wait"...; NULL for a number this build does not know. */
const char *syscall_name(long nr);
/* The calls an event loop blocks in between iterations: epoll_wait,
 * epoll_pwait, epoll_pwait2, poll, ppoll, select, pselect6. */
bool syscall_is_poll(long nr);
/* Whether an entry of such a call with these first two arguments waits
 * for descriptors: select or poll on no descriptor at all is a sleep
 * (CPython up to 3.10 sleeps with select(0, ...)), not a loop's wait. */
bool syscall_waits_for_fds(long nr, const unsigned long args[2]);
/* restart_syscall(2): the kernel's continuation of an interrupted sleep. */
bool syscall_is_restart(long nr);
/* A return value that means "interrupted, will be restarted" (the kernel's
 * ERESTART* codes, which only a tracer ever sees). */
bool syscall_ret_restarts(long ret);

#endif
