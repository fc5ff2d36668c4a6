/* Error codes of the engine, declared once.  Library code never prints: it
 * returns one of these and, where the caller passed one, fills an lp_error
 * with a one-line message that the front end shows as is. */
#ifndef LOUPE_ERROR_H
#define LOUPE_ERROR_H

#include <stdarg.h>

#define LP_ERRNO_MAP(X)                                              \
	X(NOMEM, "out of memory")                                    \
	X(NOPROC, "no such process")                                 \
	X(PERM, "permission denied")                                 \
	X(FAULT, "remote address not readable")                      \
	X(IO, "input/output error")                                  \
	X(FORMAT, "malformed data")                                  \
	X(UNSUPPORTED, "not supported")                              \
	X(INVAL, "invalid argument")                                 \
	X(TRUNCATED, "truncated")                                    \
	X(EXITED, "target exited")                                   \
	X(NOTFOUND, "not found")

enum {
	LP_OK = 0,
#define LP_ERR_ENUM(name, text) LP_E##name,
	LP_ERRNO_MAP(LP_ERR_ENUM)
#undef LP_ERR_ENUM
	LP_E_COUNT
};

/* A message for the user, one line, saying what failed and what to do. */
typedef struct lp_error {
	int code;
	char msg[512];
} lp_error;

const char *lp_strerror(int code);

/* What failed, which decides what an errno value means: ENOENT is a
 * missing file of ours, but a process gone under /proc/PID; EINVAL is a
 * bad argument, but a bad address in a read of the target's memory. */
enum lp_errno_use {
	LP_USE_FILE,	/* a file, socket or call of our own */
	LP_USE_MEMORY,	/* a read of the target's memory, a ptrace request */
	LP_USE_PROC,	/* a file of /proc/PID: ENOENT, the process is gone */
	LP_USE_PERF,	/* perf_event_open and its ring: ENOENT, ENODEV,
			 * EOPNOTSUPP say the kernel has no such event */
	LP_USE_WRITE,	/* writing an output file: a read-only file
			 * system is a refusal, the rest an I/O error */
};

/* The LP_E* code of an errno value after a failure of the given use (one
 * table, LP_ERRNO_CLASSES in error.c).  0 is LP_OK for LP_USE_FILE. */
int lp_errno_class(int errnum, enum lp_errno_use use);
/* lp_errno_class(errnum, LP_USE_FILE). */
int lp_from_errno(int errnum);

/* Fills err (which may be NULL) and returns code, so that callers can write
 * `return lp_error_set(err, LP_EPERM, "cannot attach to PID %d", pid);`. */
int lp_error_set(lp_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
