#include "syscalls.h"

#include <stddef.h>
#include <sys/syscall.h>

/* [nr] = "name" for every __NR_ of this architecture, generated at build
 * time from <sys/syscall.h> (tracer/local.mk). */
static const char *const names[] = {
#include "syscall_table.h"
};

const char *syscall_name(long nr)
{
	if (nr < 0 || (size_t)nr >= sizeof names / sizeof names[0])
		return NULL;
	return names[nr];
}

/* Some of these do not exist on newer architectures (arm64 has only the
 * p- and epoll_pwait forms): each is listed where it exists. */
bool syscall_is_poll(long nr)
{
	switch (nr) {
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
#endif
#ifdef SYS_epoll_pwait
	case SYS_epoll_pwait:
#endif
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
#ifdef SYS_poll
	case SYS_poll:
#endif
#ifdef SYS_ppoll
	case SYS_ppoll:
#endif
#ifdef SYS_select
	case SYS_select:
#endif
#ifdef SYS_pselect6
	case SYS_pselect6:
#endif
		return true;
	default:
		return false;
	}
}

bool syscall_waits_for_fds(long nr, const unsigned long args[2])
{
	if (!syscall_is_poll(nr))
		return false;
	switch (nr) {
#ifdef SYS_select
	case SYS_select:
#endif
#ifdef SYS_pselect6
	case SYS_pselect6:
#endif
		return args[0] > 0;	/* nfds */
#ifdef SYS_poll
	case SYS_poll:
#endif
#ifdef SYS_ppoll
	case SYS_ppoll:
#endif
		return args[1] > 0;	/* nfds */
	default:
		return true;	/* epoll: its set lives in the kernel */
	}
}

bool syscall_is_restart(long nr)
{
	return nr == SYS_restart_syscall;
}

/* ERESTARTSYS 512, ERESTARTNOINTR 513, ERESTARTNOHAND 514,
 * ERESTART_RESTARTBLOCK 516 (include/linux/errno.h, kernel-internal). */
bool syscall_ret_restarts(long ret)
{
	return ret == -512 || ret == -513 || ret == -514 || ret == -516;
}
