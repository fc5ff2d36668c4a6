/* Which layout a process's asyncio is read with: its version's table
 * (3.6 to 3.13, asyncio_layouts_gen.c), or for CPython 3.14+ the
 * interpreter's own description: no table.  (Also where 3.6's _asyncio keeps its task set: static variables
 * found by symbol.)  Generator and frame fields come from _Py_DebugOffsets at the
 * start of _PyRuntime (Include/internal/pycore_debug_offsets.h), task and
 * list fields from _Py_AsyncioModuleDebugOffsets, which the _asyncio module
 * keeps in an ELF section of its own, .AsyncioDebug (Modules/
 * _asynciomodule.c; `python -m asyncio pstree` reads the same).  Every
 * offset is checked against the sizes its block declares. */
#include "python/asyncio_layout.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "elf.h"
#include "python/debug_offsets.h"
#include "python/pyproc.h"
#include "target.h"

/* Largest struct a block may declare (the thread state is the largest). */
#define MAX_STRUCT (1u << 20)

/* The runtime address of a section (sym false) or a symbol (sym true) of
 * the first mapped file that has it among the _asyncio extension and the
 * interpreter (where _asyncio is built in). */
static int find_in_modules(py_proc *py, const char *name, bool sym,
			   uint64_t *addr, uint64_t *size)
{
	target *t = py->target;
	if (!t)
		return LP_ENOTFOUND;
	if (target_refresh_maps(t) != LP_OK)
		return LP_ENOTFOUND;
	const struct maps *m = target_maps(t);
	const char *tried = "";
	for (size_t i = 0; i < m->n; i++) {
		const struct map_entry *e = &m->v[i];
		const char *base = strrchr(e->path, '/');
		base = base ? base + 1 : e->path;
		/* a file's first mapping (offset 0), for the load bias */
		if (e->offset != 0 || e->deleted || e->path[0] != '/' ||
		    (strncmp(base, "_asyncio.", 9) != 0 &&
		     strncmp(base, "python", 6) != 0 &&
		     strncmp(base, "libpython", 9) != 0) ||
		    strcmp(e->path, tried) == 0)
			continue;
		tried = e->path;
		elf_file *f;
		lp_error ferr;
		uint64_t vaddr, bias;
		/* the mapped file itself, even deleted or in a container's
		 * mount namespace (proc(5), map_files), else by its path */
		char rel[64];
		snprintf(rel, sizeof rel, "map_files/%llx-%llx",
			 (unsigned long long)e->start, (unsigned long long)e->end);
		int fd = openat(target_procfd(t), rel, O_RDONLY | O_CLOEXEC);
		int orc = fd >= 0 ? elf_file_open_fd(&f, fd, e->path, &ferr) :
				    elf_file_open(&f, e->path, &ferr);
		if (fd >= 0)
			close(fd);
		if (orc != LP_OK)
			continue;
		int rc = sym ? elf_file_find_symbol(f, name, &vaddr, size) :
			       elf_file_section(f, name, &vaddr, size);
		if (rc == LP_OK && elf_file_load_bias(f, e, &bias) == LP_OK) {
			elf_file_free(f);
			*addr = vaddr + bias;
			return LP_OK;
		}
		elf_file_free(f);
	}
	return LP_ENOTFOUND;
}

const struct aio_layout *aio_layout_table(int minor)
{
	for (size_t i = 0; i < aio_layouts_count; i++)
		if (aio_layouts_all[i]->minor == minor)
			return aio_layouts_all[i];
	return NULL;
}

const struct aio_layout *aio_layout_for(const py_proc *py)
{
	return py->L.major == 3 ? aio_layout_table(py->L.minor) : NULL;
}

const struct aio_objects *aio_objects_for(int minor)
{
	const struct aio_objects *best = NULL;
	for (size_t i = 0; i < aio_objects_count; i++)
		if (aio_objects_all[i]->minor <= minor &&
		    (!best || aio_objects_all[i]->minor > best->minor))
			best = aio_objects_all[i];
	return best;
}

int aio_module_symbol(struct py_proc *py, const char *name, uint64_t *addr)
{
	uint64_t size;
	return find_in_modules(py, name, true, addr, &size);
}

#define CHECK(cond, what)                                                 \
	do {                                                              \
		if (!(cond))                                              \
			return lp_error_set(err, LP_EFORMAT, "CPython %s: "  \
				"%s does not validate; asyncio tasks of this " \
				"build cannot be read", py->version, what);  \
	} while (0)

#define OFF(view, dst, section, field, w)                                 \
	CHECK(dbg_offset(view, section, field, w, MAX_STRUCT, &(dst)),    \
	      section "." field)

int aio_layout_from_process(py_proc *py, struct aio_layout *out, lp_error *err)
{
	uint8_t dbg[PY_DEBUG_OFFSETS_READ], ad[256];
	if (!py->runtime || !py->dbg_shape ||
	    mem_read(py->reader, py->runtime, dbg, sizeof dbg) != LP_OK ||
	    memcmp(dbg, "xdebugpy", 8) != 0)
		return lp_error_set(err, LP_EFORMAT, "CPython %s: no "
				    "_Py_DebugOffsets to read asyncio with",
				    py->version);
	const struct dbg_shape *as = dbg_asyncio_shape(py->L.minor);
	CHECK(as, "the .AsyncioDebug shape (none known for this version)");
	struct dbg_view v = { dbg, sizeof dbg, 8, py->dbg_shape };
	struct dbg_view a = { ad, 8 * as->n, 0, as };
	CHECK(dbg_view_need(&a) <= sizeof ad, ".AsyncioDebug size");
	uint32_t fr_size;
	uint64_t gen_size;
	memset(out, 0, sizeof *out);
	OFF(&v, out->fr_stack, "interpreter_frame", "stackpointer", 8);
	OFF(&v, fr_size, "interpreter_frame", "localsplus", 0);
	CHECK(dbg_value(&v, "gen_object.size", &gen_size) &&
	      gen_size <= MAX_STRUCT, "gen_object.size");
	uint64_t gi_iframe;
	CHECK(dbg_value(&v, "gen_object.gi_iframe", &gi_iframe) &&
	      dbg_fits(gi_iframe, fr_size, gen_size + 4096, MAX_STRUCT + 4096),
	      "gen_object.gi_iframe");
	uint64_t sec = 0, secsize = 0;
	int rc = find_in_modules(py, ".AsyncioDebug", false, &sec, &secsize);
	if (rc != LP_OK)
		return rc;
	if (secsize < dbg_view_need(&a))
		return lp_error_set(err, LP_EFORMAT, ".AsyncioDebug is %llu "
				    "bytes, expected %zu",
				    (unsigned long long)secsize, dbg_view_need(&a));
	if (mem_read(py->reader, sec, ad, dbg_view_need(&a)) != LP_OK)
		return lp_error_set(err, LP_EFORMAT, "cannot read .AsyncioDebug");
	uint64_t task_size;
	CHECK(dbg_value(&a, "asyncio_task_object.size", &task_size) &&
	      task_size <= 1024, "asyncio_task_object.size");
	out->task_size = (uint32_t)task_size;
	OFF(&a, out->task_name, "asyncio_task_object", "task_name", 8);
	OFF(&a, out->task_awaited_by, "asyncio_task_object", "task_awaited_by", 8);
	OFF(&a, out->task_awaited_by_is_set, "asyncio_task_object",
	    "task_awaited_by_is_set", 1);
	OFF(&a, out->task_coro, "asyncio_task_object", "task_coro", 8);
	OFF(&a, out->task_node, "asyncio_task_object", "task_node", 16);
	OFF(&a, out->is_tasks_head, "asyncio_interpreter_state",
	    "asyncio_tasks_head", 16);
	OFF(&a, out->ts_running_task, "asyncio_thread_state",
	    "asyncio_running_task", 8);
	OFF(&a, out->ts_tasks_head, "asyncio_thread_state",
	    "asyncio_tasks_head", 16);
	out->fr_locals = fr_size;	/* what a frame waits on (asyncio.c) */
	/* FutureIterObject (Modules/_asynciomodule.c): its future right
	 * after the object header, as in every table; no block gives it */
	out->futiter_future = 16;
	/* The shared keys of a heap type's instances (their attributes:
	 * a Queue's _queue): 3.15 describes them, 3.14 does not; its
	 * PyHeapTypeObject is 3.13's (Include/cpython/object.h: 880), and
	 * a wrong pointer finds no key of the name looked up (keys_view
	 * checks the keys' shape, view_find each key's str). */
	if (!dbg_offset(&v, "heap_type_object", "ht_cached_keys", 8,
			MAX_STRUCT, &out->ht_cached_keys))
		out->ht_cached_keys = py->L.minor == 14 ? 880 : 0;
	/* dicts and ints: the probed facts of this version or the newest
	 * one, with what the block says of them (validated on the process
	 * before use: asyncio.c, objects_validate) */
	const struct aio_objects *O = aio_objects_for(py->L.minor);
	CHECK(O, "the object layout (none probed for this version)");
	out->obj = *O;
	/* the task's loop: the probed place, inside the task read */
	if (O->ctask_loop >= 16 && O->ctask_loop + 8 <= out->task_size)
		out->task_loop = O->ctask_loop;
	OFF(&v, out->obj.dict_keys, "dict_object", "ma_keys", 8);
	OFF(&v, out->obj.dict_values, "dict_object", "ma_values", 8);
	OFF(&v, out->obj.long_size, "long_object", "lv_tag", 8);
	OFF(&v, out->obj.long_digit, "long_object", "ob_digit", 4);
	out->obj.long_tagged = 1;	/* lv_tag (Include/cpython/longintrepr.h) */
	OFF(&v, out->is_modules, "interpreter_state", "imports_modules", 8);
	out->minor = py->L.minor;
	out->stack_kind = PY_STACK_TOP_PTR;
	out->gen_iframe = (uint32_t)gi_iframe;
	out->lists = 1;
	out->tagged_stack = 1;
	out->yf_depth = dbg_shape_facts(py->dbg_shape)->yf_depth;
	return LP_OK;
}
