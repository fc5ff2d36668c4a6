/* Named access to CPython's self-description blocks (debug_offsets.h). */
#include "python/debug_offsets.h"

#include <limits.h>
#include <string.h>

/* enum _frameowner (Include/internal/pycore_frame.h in 3.13,
 * pycore_interpframe_structs.h from 3.14): 3.13 has FRAME_OWNED_BY_CSTACK
 * = 3; 3.14 adds FRAME_OWNED_BY_INTERPRETER = 3 and moves CSTACK to 4; 3.15
 * drops CSTACK and its entry shim is owned by the interpreter (3).  From
 * 3.14, f_executable is a _PyStackRef whose low bits are tags
 * (Include/internal/pycore_stackref.h).  _PyGen_yf (Objects/genobject.c)
 * peeks at the top of a suspended frame's stack up to 3.14; 3.15's SEND
 * leaves a NULL above the awaited object, which is one slot lower (seen
 * on Debian's 3.15.2: every suspended coroutine has NULL on top). */
/* co_version and co_framesize (placed from co_firstlineno, which the block
 * gives, so that a build with a larger object header is read right too:
 * co_firstlineno, co_nlocalsplus, co_framesize, then four ints to
 * co_version in 3.13's Include/cpython/code.h, and the same ints up to
 * co_framesize in 3.14's and 3.15's) and the GIL's
 * cond: tools/gen-py-layouts gives them for 3.13 from its headers
 * (check_py_walk compares them).  struct
 * _gil_runtime_state is the same in 3.14 and 3.15 (interval, last_holder,
 * locked, switch_number, cond, mutex: Include/internal/
 * pycore_interp_structs.h), and layout.c takes cond's place only when the
 * block gives last_holder and locked where 3.13 has them. */
static const struct dbg_facts facts_313 = { 3, 3, false, 1, 24, 8, 8, 16, 32 };
static const struct dbg_facts facts_314 = { 4, 3, true, 1, 0, 8, 8, 16, 32 };
static const struct dbg_facts facts_315 = { 3, 3, true, 2, 0, 8, 8, 16, 32 };

/* _Py_AsyncioModuleDebugOffsets (Modules/_asynciomodule.c): the same 13
 * words in 3.14 and 3.15 (Modules/_remote_debugging checks 104 bytes). */
static const char *const aio_fields_314[] = {
	"asyncio_task_object.size",
	"asyncio_task_object.task_name",
	"asyncio_task_object.task_awaited_by",
	"asyncio_task_object.task_is_task",
	"asyncio_task_object.task_awaited_by_is_set",
	"asyncio_task_object.task_coro",
	"asyncio_task_object.task_node",
	"asyncio_interpreter_state.size",
	"asyncio_interpreter_state.asyncio_tasks_head",
	"asyncio_thread_state.size",
	"asyncio_thread_state.asyncio_running_loop",
	"asyncio_thread_state.asyncio_running_task",
	"asyncio_thread_state.asyncio_tasks_head",
};
static const struct dbg_shape aio_shapes[] = {
	{ 3, 14, sizeof aio_fields_314 / sizeof aio_fields_314[0], aio_fields_314 },
	{ 3, 15, sizeof aio_fields_314 / sizeof aio_fields_314[0], aio_fields_314 },
};

const struct dbg_shape *dbg_shape_find(int minor)
{
	for (size_t i = 0; i < dbg_shapes_gen_count; i++)
		if (dbg_shapes_gen[i].minor == minor)
			return &dbg_shapes_gen[i];
	return NULL;
}

const struct dbg_shape *dbg_shape_older(int below)
{
	const struct dbg_shape *best = NULL;
	for (size_t i = 0; i < dbg_shapes_gen_count; i++)
		if (dbg_shapes_gen[i].minor < below &&
		    (!best || dbg_shapes_gen[i].minor > best->minor))
			best = &dbg_shapes_gen[i];
	return best;
}

const struct dbg_facts *dbg_shape_facts(const struct dbg_shape *s)
{
	if (s->minor <= 13)
		return &facts_313;
	if (s->minor == 14)
		return &facts_314;
	return &facts_315;
}

const struct dbg_shape *dbg_asyncio_shape(int minor)
{
	const struct dbg_shape *best = NULL;
	/* A newer interpreter is read with the newest asyncio shape; its
	 * offsets are validated like any others. */
	for (size_t i = 0; i < sizeof aio_shapes / sizeof aio_shapes[0]; i++)
		if (aio_shapes[i].minor <= minor)
			best = &aio_shapes[i];
	return best;
}

size_t dbg_view_need(const struct dbg_view *v)
{
	return v->hdr + 8 * v->shape->n;
}

bool dbg_value(const struct dbg_view *v, const char *name, uint64_t *out)
{
	for (size_t i = 0; i < v->shape->n; i++) {
		if (strcmp(v->shape->fields[i], name) != 0)
			continue;
		size_t at = v->hdr + 8 * i;
		if (at > v->len || v->len - at < 8)
			return false;
		memcpy(out, v->buf + at, sizeof *out);
		return true;
	}
	return false;
}

bool dbg_fits(uint64_t off, uint64_t width, uint64_t sz, uint64_t max_size)
{
	return sz <= max_size && off <= sz && width <= sz - off;
}

bool dbg_offset(const struct dbg_view *v, const char *section,
		const char *field, uint64_t width, uint64_t max_size,
		uint32_t *out)
{
	char name[128];
	uint64_t size, off;
	size_t sl = strlen(section);
	if (sl + 6 >= sizeof name)
		return false;
	memcpy(name, section, sl);
	memcpy(name + sl, ".size", 6);
	if (!dbg_value(v, name, &size))
		return false;
	if (sl + 2 + strlen(field) > sizeof name)
		return false;
	name[sl] = '.';
	strcpy(name + sl + 1, field);
	if (!dbg_value(v, name, &off) || !dbg_fits(off, width, size, max_size))
		return false;
	*out = (uint32_t)off;
	return true;
}
