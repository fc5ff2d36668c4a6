/* Helpers of atomic_file.c that the raw writer (which write(2)s to a plain
 * fd instead of a FILE) shares.  Internal to profiler/formats. */
#ifndef LOUPE_ATOMIC_UTIL_H
#define LOUPE_ATOMIC_UTIL_H

#include "error.h"

/* EACCES/EPERM/EROFS -> LP_EPERM, ENOMEM -> LP_ENOMEM, else LP_EIO. */
int atomic_errno_code(int errnum);
/* "cannot write PATH: strerror(errnum)", returns the code. */
int atomic_write_error(lp_error *err, const char *path, int errnum);
/* "<path>.tmp.<pid>", malloc'ed. */
char *atomic_tmp_name(const char *path);
/* Creates tmp exclusively (mode 0644), replacing a stale one of our pid. */
int atomic_create(const char *tmp);
/* fsyncs the directory holding path, best effort. */
void atomic_sync_dir(const char *path);

#endif
