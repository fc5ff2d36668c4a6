/* The text of a frame as every text format shows it. */
#include "formats/formats.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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
		/* a group of tasks (task_groups.c): line is how many */
		if (f->line > 0)
			n = snprintf(buf, len, "%" PRId32 " tasks: %s", f->line,
				     f->func ? func : "<unnamed>");
		else
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

/* --- the process roots of a recording of a process tree ------------------ */

bool output_process_roots(const profile *p, const struct output_opts *o)
{
	const char *sub = profile_meta(p, "subprocesses");
	return sub && strcmp(sub, "on") == 0 && !o->merge_processes;
}

const char *output_process_comm(const profile *p, int32_t pid)
{
	char key[32];
	snprintf(key, sizeof key, "process.%" PRId32, pid);
	const char *comm = profile_meta(p, key);
	if (comm && *comm)
		return comm;
	/* the main thread's name is the command name until a thread renames
	 * itself: the best guess when the sampler named no command */
	uint32_t name = profile_thread_name(p, pid, pid);
	return name ? profile_str(p, name) : NULL;
}

int format_process(const profile *p, int32_t pid, char *buf, size_t len)
{
	const char *comm = output_process_comm(p, pid);
	int n = comm ? snprintf(buf, len, "process %" PRId32 " (%s)", pid, comm)
		     : snprintf(buf, len, "process %" PRId32, pid);
	if (n < 0)
		return LP_EINVAL;
	return (size_t)n >= len ? LP_ETRUNCATED : LP_OK;
}
