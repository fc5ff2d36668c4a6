/* How many threads wait on a condition variable of the target, read from
 * the variable itself: glibc's pthread_cond_t (nptl, 2.25+) counts its
 * waiters in __wrefs (count << 3, the low bits flags), whose place moved
 * in 2.41 when __g_refs was removed (sysdeps/nptl/bits/
 * thread-shared-types.h).  The place is chosen by the version of the
 * glibc the target maps; another libc (musl) has no such count.  Private
 * to the engine. */
#ifndef LOUPE_LIBC_COND_H
#define LOUPE_LIBC_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maps.h"

/* Bytes of a pthread_cond_t (x86-64 and aarch64 glibc). */
#define LIBC_COND_SIZE 48

/* The offset of __wrefs in a pthread_cond_t of glibc major.minor, or -1
 * when that glibc keeps no waiter count there (before 2.25). */
int libc_cond_wrefs_for(int major, int minor);

/* glibc's version from its banner ("GNU C Library ... release version
 * 2.36."), found in len bytes of the library's file.  false: none. */
bool libc_version_in(const char *buf, size_t len, int *major, int *minor);

/* The offset of __wrefs for the libc the process whose /proc/PID
 * directory is procfd maps (its libc.so.6 read through root/ or
 * map_files/), or -1: no glibc, too old, or the file unreadable. */
int libc_cond_wrefs_offset(int procfd, const struct maps *m);

/* The waiters of a condition variable from the __wrefs word read at that
 * offset; false when the word cannot be one (the process-shared bit set,
 * or more waiters than max). */
bool libc_cond_waiters(uint32_t wrefs, uint32_t max, uint32_t *waiters);

#endif
