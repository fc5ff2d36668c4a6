/* Helpers of atomic_file.c that the raw writer (which write(2)s to a plain
 * fd instead of a FILE) shares.  Internal to profiler/formats. */
#ifndef LOUPE_ATOMIC_UTIL_H
#define LOUPE_ATOMIC_UTIL_H

#include "error.h"
#include "formats/formats.h"

/* EACCES/EPERM/EROFS -> LP_EPERM, ENOMEM -> LP_ENOMEM, else LP_EIO. */
int atomic_errno_code(int errnum);
/* "cannot write PATH: strerror(errnum)", returns the code. */
int atomic_write_error(lp_error *err, const char *path, int errnum);
/* The lower half of atomic_file for the raw writer, which write(2)s to
 * af->fd (af->fp stays NULL).  open: as atomic_file_open_flags without the
 * FILE.  finish: fsync, close and rename into place; 0 or an errno, the
 * temporary left in place on failure.  discard: close, remove the
 * temporary, free.  free: close and free, the temporary kept. */
int atomic_dest_open(atomic_file *af, const char *path, unsigned flags,
		     lp_error *err);
int atomic_dest_finish(atomic_file *af);
void atomic_dest_discard(atomic_file *af);
void atomic_dest_free(atomic_file *af);

#endif
