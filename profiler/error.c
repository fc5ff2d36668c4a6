#include "error.h"

#include <errno.h>
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

int lp_from_errno(int errnum)
{
	switch (errnum) {
	case 0:
		return LP_OK;
	case ESRCH:
		return LP_ENOPROC;
	case EPERM:
	case EACCES:
		return LP_EPERM;
	case EFAULT:
	case EIO:
		return LP_EFAULT;
	case ENOMEM:
		return LP_ENOMEM;
	case EINVAL:
		return LP_EINVAL;
	case ENOENT:
		return LP_ENOTFOUND;
	default:
		return LP_EIO;
	}
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
