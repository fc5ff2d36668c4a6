#include "error.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

static const char *const lp_messages[LP_E_COUNT] = {
	[LP_OK] = "success",
#define LP_ERR_TEXT(name, text) [LP_E##name] = text,
	LP_ERRNO_MAP(LP_ERR_TEXT)
#undef LP_ERR_TEXT
};

const char *lp_strerror(int code)
{
	if (code < 0 || code >= LP_E_COUNT)
		return "unknown error";
	return lp_messages[code];
}

/* errno -> LP_E* by use, one row an errno value (any other is LP_EIO).
 * Columns: FILE, MEMORY, PROC, PERF, WRITE (enum lp_errno_use).  A remote
 * read that fails with EFAULT, EIO or EINVAL read a bad address (one bad
 * sample, STYLE.md); a thread we wait for that is no longer our child
 * (ECHILD) is gone; /proc/PID's files vanish (ENOENT) with the process;
 * perf says "no such event here" with ENOENT, ENODEV or EOPNOTSUPP and "no
 * room" with EMFILE or ENFILE (perf_event_open(2)); an output file that
 * cannot be written is refused (EACCES, EPERM, EROFS) or failed. */
#define LP_ERRNO_CLASSES(X)                                                          \
	X(0,          LP_OK,        LP_EIO,     LP_EIO,     LP_EIO,          LP_EIO)     \
	X(ESRCH,      LP_ENOPROC,   LP_ENOPROC, LP_ENOPROC, LP_ENOPROC,      LP_EIO)     \
	X(ECHILD,     LP_EIO,       LP_ENOPROC, LP_EIO,     LP_EIO,          LP_EIO)     \
	X(EPERM,      LP_EPERM,     LP_EPERM,   LP_EPERM,   LP_EPERM,        LP_EPERM)   \
	X(EACCES,     LP_EPERM,     LP_EPERM,   LP_EPERM,   LP_EPERM,        LP_EPERM)   \
	X(EROFS,      LP_EIO,       LP_EIO,     LP_EIO,     LP_EIO,          LP_EPERM)   \
	X(EFAULT,     LP_EFAULT,    LP_EFAULT,  LP_EFAULT,  LP_EIO,          LP_EIO)     \
	X(EIO,        LP_EFAULT,    LP_EFAULT,  LP_EFAULT,  LP_EIO,          LP_EIO)     \
	X(EINVAL,     LP_EINVAL,    LP_EFAULT,  LP_EINVAL,  LP_EIO,          LP_EIO)     \
	X(ENOMEM,     LP_ENOMEM,    LP_ENOMEM,  LP_ENOMEM,  LP_ENOMEM,       LP_ENOMEM)  \
	X(EMFILE,     LP_EIO,       LP_EIO,     LP_EIO,     LP_ENOMEM,       LP_EIO)     \
	X(ENFILE,     LP_EIO,       LP_EIO,     LP_EIO,     LP_ENOMEM,       LP_EIO)     \
	X(ENOENT,     LP_ENOTFOUND, LP_EIO,     LP_ENOPROC, LP_EUNSUPPORTED, LP_EIO)     \
	X(ENODEV,     LP_EIO,       LP_EIO,     LP_EIO,     LP_EUNSUPPORTED, LP_EIO)     \
	X(EOPNOTSUPP, LP_EIO,       LP_EIO,     LP_EIO,     LP_EUNSUPPORTED, LP_EIO)

static const struct {
	int errnum;
	signed char code[5];	/* by enum lp_errno_use */
} errno_classes[] = {
#define LP_ERRNO_ROW(e, file, memory, proc, perf, write) \
	{ e, { file, memory, proc, perf, write } },
	LP_ERRNO_CLASSES(LP_ERRNO_ROW)
#undef LP_ERRNO_ROW
};

int lp_errno_class(int errnum, enum lp_errno_use use)
{
	if ((unsigned)use > LP_USE_WRITE)
		use = LP_USE_FILE;
	for (size_t i = 0; i < sizeof errno_classes / sizeof *errno_classes; i++)
		if (errno_classes[i].errnum == errnum)
			return errno_classes[i].code[use];
	return LP_EIO;
}

int lp_from_errno(int errnum)
{
	return lp_errno_class(errnum, LP_USE_FILE);
}

int lp_error_set(lp_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}
