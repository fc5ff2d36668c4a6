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

/* Maps an errno value from a syscall on the target to an LP_E* code. */
int lp_from_errno(int errnum);

/* Fills err (which may be NULL) and returns code, so that callers can write
 * `return lp_error_set(err, LP_EPERM, "cannot attach to PID %d", pid);`. */
int lp_error_set(lp_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
