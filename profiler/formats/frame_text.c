/* The text of a frame as every text format shows it. */
#include "formats.h"

#include <inttypes.h>
#include <stdio.h>

/* Returns LP_OK, LP_EINVAL for an unknown frame id (buf gets "[invalid]"),
 * LP_ETRUNCATED when buf was too small (buf holds a cut, terminated text). */
int format_frame(const profile *p, uint32_t id, bool lines, char *buf,
		 size_t len)
{
	const struct frame *f = profile_frame(p, id);
	int n;
	if (!buf || !len)
		return LP_EINVAL;
	if (!f) {
		snprintf(buf, len, "[invalid]");
		return LP_EINVAL;
	}
	const char *func = profile_str(p, f->func);
	const char *file = profile_str(p, f->file);
	const char *module = profile_str(p, f->module);
	switch (f->kind) {
	case FRAME_PYTHON:
		if (!f->func)
			func = "<unknown>";
		if (!f->file)
			n = snprintf(buf, len, "%s", func);
		else if (lines && f->line > 0)
			n = snprintf(buf, len, "%s (%s:%" PRId32 ")", func, file,
				     f->line);
		else
			n = snprintf(buf, len, "%s (%s)", func, file);
		break;
	case FRAME_TASK:
		n = snprintf(buf, len, "task %s", f->func ? func : "<unnamed>");
		break;
	case FRAME_THREAD:
		if (f->func)
			n = snprintf(buf, len, "thread %" PRId32 " (%s)", f->line,
				     func);
		else
			n = snprintf(buf, len, "thread %" PRId32, f->line);
		break;
	case FRAME_PROCESS:
		if (f->func)
			n = snprintf(buf, len, "process %" PRId32 " (%s)",
				     f->line, func);
		else
			n = snprintf(buf, len, "process %" PRId32, f->line);
		break;
	case FRAME_NATIVE:
	default:
		if (f->func)
			n = snprintf(buf, len, "%s", func);
		else if (f->module)
			n = snprintf(buf, len, "%s+0x%" PRIx64, module,
				     f->offset);
		else if (f->offset)
			n = snprintf(buf, len, "0x%" PRIx64, f->offset);
		else
			n = snprintf(buf, len, "[unknown]");
		break;
	}
	if (n < 0)
		return LP_EINVAL;
	return (size_t)n >= len ? LP_ETRUNCATED : LP_OK;
}
