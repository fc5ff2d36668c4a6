/* asyncio of CPython 3.14+ from the interpreter's own description: no
 * table.  (Also where 3.6's _asyncio keeps its task set: static variables
 * found by symbol.)  Generator and frame fields come from _Py_DebugOffsets at the
 * start of _PyRuntime (Include/internal/pycore_debug_offsets.h), task and
 * list fields from _Py_AsyncioModuleDebugOffsets, which the _asyncio module
 * keeps in an ELF section of its own, .AsyncioDebug (Modules/
 * _asynciomodule.c; `python -m asyncio pstree` reads the same).  Every
 * offset is checked against the sizes its block declares. */
#include "python/asyncio_layout.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "elf.h"
#include "python/pyproc.h"
#include "target.h"

/* Word indexes (uint64 after the cookie) in 3.14's _Py_DebugOffsets:
 * interpreter_frame.size / .stackpointer, gen_object.size / .gi_iframe. */
#define DBG_FR_SIZE 30
#define DBG_FR_STACKPOINTER 36
#define DBG_GEN_SIZE 82
#define DBG_GEN_IFRAME 84
#define DBG_WORDS 86

/* _Py_AsyncioModuleDebugOffsets: 13 words. */
enum {
	AD_TASK_SIZE, AD_TASK_NAME, AD_TASK_AWAITED_BY, AD_TASK_IS_TASK,
	AD_TASK_AWAITED_BY_IS_SET, AD_TASK_CORO, AD_TASK_NODE,
	AD_IS_SIZE, AD_IS_TASKS_HEAD,
	AD_TS_SIZE, AD_TS_RUNNING_LOOP, AD_TS_RUNNING_TASK, AD_TS_TASKS_HEAD,
	AD_WORDS
};

/* Largest struct a block may declare (the thread state is the largest). */
#define MAX_STRUCT (1u << 20)

static int fits(uint64_t off, uint64_t width, uint64_t size)
{
	return size <= MAX_STRUCT && off <= size && width <= size - off;
}

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
		if (elf_file_open(&f, e->path, &ferr) != LP_OK)
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

int aio_layout_from_process(py_proc *py, struct aio_layout *out, lp_error *err)
{
	uint8_t dbg[8 + 8 * DBG_WORDS];
	uint64_t w[DBG_WORDS], ad[AD_WORDS], sec = 0;
	if (!py->runtime || mem_read(py->reader, py->runtime, dbg, sizeof dbg) != LP_OK ||
	    memcmp(dbg, "xdebugpy", 8) != 0)
		return lp_error_set(err, LP_EFORMAT, "CPython %s: no "
				    "_Py_DebugOffsets to read asyncio with",
				    py->version);
	memcpy(w, dbg + 8, sizeof w);
	CHECK(((w[0] >> 24) & 0xff) == 3 && ((w[0] >> 16) & 0xff) == 14,
	      "_Py_DebugOffsets version (only 3.14's shape is known)");
	CHECK(fits(w[DBG_FR_STACKPOINTER], 8, w[DBG_FR_SIZE]),
	      "interpreter_frame.stackpointer");
	CHECK(fits(w[DBG_GEN_IFRAME], w[DBG_FR_SIZE], w[DBG_GEN_SIZE] + 4096),
	      "gen_object.gi_iframe");
	uint64_t secsize = 0;
	int rc = find_in_modules(py, ".AsyncioDebug", false, &sec, &secsize);
	if (rc != LP_OK)
		return rc;
	if (secsize < AD_WORDS * 8)
		return lp_error_set(err, LP_EFORMAT, ".AsyncioDebug is %llu "
				    "bytes, expected %d",
				    (unsigned long long)secsize, AD_WORDS * 8);
	if (mem_read(py->reader, sec, ad, sizeof ad) != LP_OK)
		return lp_error_set(err, LP_EFORMAT, "cannot read .AsyncioDebug");
	CHECK(fits(ad[AD_TASK_NAME], 8, ad[AD_TASK_SIZE]) &&
	      fits(ad[AD_TASK_AWAITED_BY], 8, ad[AD_TASK_SIZE]) &&
	      fits(ad[AD_TASK_AWAITED_BY_IS_SET], 1, ad[AD_TASK_SIZE]) &&
	      fits(ad[AD_TASK_CORO], 8, ad[AD_TASK_SIZE]) &&
	      fits(ad[AD_TASK_NODE], 16, ad[AD_TASK_SIZE]) &&
	      ad[AD_TASK_SIZE] <= 1024, "asyncio_task_object");
	CHECK(fits(ad[AD_IS_TASKS_HEAD], 16, ad[AD_IS_SIZE]),
	      "asyncio_interpreter_state");
	CHECK(fits(ad[AD_TS_RUNNING_TASK], 8, ad[AD_TS_SIZE]) &&
	      fits(ad[AD_TS_TASKS_HEAD], 16, ad[AD_TS_SIZE]),
	      "asyncio_thread_state");
	memset(out, 0, sizeof *out);
	out->minor = 14;
	out->stack_kind = PY_STACK_TOP_PTR;
	out->fr_stack = (uint32_t)w[DBG_FR_STACKPOINTER];
	out->gen_iframe = (uint32_t)w[DBG_GEN_IFRAME];
	out->lists = 1;
	out->tagged_stack = 1;
	out->task_size = (uint32_t)ad[AD_TASK_SIZE];
	out->task_name = (uint32_t)ad[AD_TASK_NAME];
	out->task_coro = (uint32_t)ad[AD_TASK_CORO];
	out->task_node = (uint32_t)ad[AD_TASK_NODE];
	out->task_awaited_by = (uint32_t)ad[AD_TASK_AWAITED_BY];
	out->task_awaited_by_is_set = (uint32_t)ad[AD_TASK_AWAITED_BY_IS_SET];
	out->is_tasks_head = (uint32_t)ad[AD_IS_TASKS_HEAD];
	out->ts_tasks_head = (uint32_t)ad[AD_TS_TASKS_HEAD];
	out->ts_running_task = (uint32_t)ad[AD_TS_RUNNING_TASK];
	return LP_OK;
}
