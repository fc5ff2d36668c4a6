/* Layout lookup: generated tables up to 3.12, the interpreter's own
 * _Py_DebugOffsets from 3.13 (Include/internal/pycore_runtime.h in 3.13,
 * Include/internal/pycore_debug_offsets.h in 3.14), validated field by field
 * as Modules/_remote_debugging/debug_offsets_validation.h does: an offset
 * that does not fit in the size its own block declares means the block is
 * not what we think it is, and we refuse rather than guess. */
#include "python/layout.h"
#include "python/py.h"

#include <stdio.h>
#include <string.h>

/* From this 3.x minor on the layout comes from _Py_DebugOffsets. */
#define DEBUG_OFFSETS_MINOR 13

const struct py_layout *py_layout_table(int major, int minor)
{
	if (major == 3 && minor >= DEBUG_OFFSETS_MINOR)
		return NULL;	/* from the process, on purpose */
	for (size_t i = 0; i < py_layouts_count; i++)
		if (py_layouts_all[i]->major == major &&
		    py_layouts_all[i]->minor == minor)
			return py_layouts_all[i];
	return NULL;
}

size_t py_support_describe(char *buf, size_t len)
{
	size_t n = 0;
	int w;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < py_layouts_count && n < len; i++) {
		const struct py_layout *l = py_layouts_all[i];
		if (py_layout_table(l->major, l->minor) != l)
			continue;	/* a table kept for tests only */
		w = snprintf(buf + n, len - n, "%s%d.%d", n ? ", " : "",
			     l->major, l->minor);
		n += w > 0 ? (size_t)w : 0;
	}
	if (n < len) {
		w = snprintf(buf + n, len - n, " from built-in offset tables; "
			     "3.%d and later from the interpreter's own "
			     "_Py_DebugOffsets (3.13 and 3.14 block layouts), "
			     "validated at attach", DEBUG_OFFSETS_MINOR);
		n += w > 0 ? (size_t)w : 0;
	}
	return n < len ? n : (len ? len - 1 : 0);
}

/* Word indexes (uint64 after the 8-byte cookie) of the fields we use, for
 * the two shapes of the block.  3.14 inserted interpreter_state.threads_main,
 * .code_object_generation, .tlbc_generation, interpreter_frame.stackpointer,
 * .tlbc_index, code_object.co_tlbc and a set_object block. */
struct dbg_index {
	int version, free_threaded;
	int rt_size, rt_interp_head;
	int is_size, is_id, is_next, is_threads_head, is_ceval_gil, is_gil_rs,
	    is_gil_locked, is_gil_holder;
	int ts_size, ts_next, ts_interp, ts_current_frame, ts_thread_id,
	    ts_native_tid, ts_chunk;
	int fr_size, fr_previous, fr_executable, fr_instr_ptr, fr_localsplus,
	    fr_owner;
	int co_size, co_filename, co_name, co_qualname, co_linetable,
	    co_firstlineno, co_code_adaptive;
	int ob_size, ob_type;
	int by_size, by_ob_size, by_ob_sval;
	int un_size, un_state, un_length, un_ascii_size;
	int nwords;
};

static const struct dbg_index dbg_313 = {
	0, 1, 2, 4, 5, 6, 7, 8, 13, 14, 16, 17,
	18, 20, 21, 22, 23, 24, 25,
	27, 28, 29, 30, 31, 32,
	33, 34, 35, 36, 37, 38, 42,
	43, 44, 63, 64, 65, 66, 67, 68, 69, 72,
};

static const struct dbg_index dbg_314 = {
	0, 1, 2, 4, 5, 6, 7, 8, 14, 15, 17, 18,
	21, 23, 24, 25, 26, 27, 28,
	30, 31, 32, 33, 34, 35,
	38, 39, 40, 41, 42, 43, 47,
	49, 50, 73, 74, 75, 76, 77, 78, 79, 82,
};

/* Largest struct size we accept in the block: anything bigger is garbage
 * (3.13's PyInterpreterState, the largest, is well below 1 MiB). */
#define DBG_MAX_STRUCT (4u << 20)

static uint64_t word(const uint8_t *buf, int i)
{
	uint64_t v;
	memcpy(&v, buf + 8 + 8 * (size_t)i, sizeof v);
	return v;
}

/* off + width must lie inside a struct of size sz. */
static int fits(uint64_t off, uint64_t width, uint64_t sz)
{
	return sz <= DBG_MAX_STRUCT && off <= sz && width <= sz - off;
}

#define CHECK(cond, what)                                                  \
	do {                                                               \
		if (!(cond))                                               \
			return lp_error_set(err, LP_EFORMAT,               \
				"CPython %d.%d _Py_DebugOffsets: %s does not " \
				"validate; this interpreter build is not "     \
				"supported", major, minor, what);              \
	} while (0)

int py_layout_from_debug_offsets(const uint8_t *buf, size_t len,
				 struct py_layout *out, uint64_t *hexversion,
				 lp_error *err)
{
	if (len < 16 || memcmp(buf, "xdebugpy", 8) != 0)
		return lp_error_set(err, LP_EFORMAT,
			"no _Py_DebugOffsets cookie at the start of _PyRuntime "
			"(expected \"xdebugpy\")");
	uint64_t hex;
	memcpy(&hex, buf + 8, sizeof hex);
	int major = (int)((hex >> 24) & 0xff), minor = (int)((hex >> 16) & 0xff);
	if (major != 3 || minor < 13)
		return lp_error_set(err, LP_EFORMAT,
			"_Py_DebugOffsets version 0x%llx is not 3.13 or later",
			(unsigned long long)hex);
	const struct dbg_index *x = minor == 13 ? &dbg_313 : &dbg_314;
	CHECK(len >= 8 + 8 * (size_t)x->nwords, "block length");
	CHECK(word(buf, x->free_threaded) == 0,
	      "free_threaded (free-threaded builds)");

	uint64_t rt = word(buf, x->rt_size), is = word(buf, x->is_size);
	uint64_t ts = word(buf, x->ts_size), fr = word(buf, x->fr_size);
	uint64_t co = word(buf, x->co_size), by = word(buf, x->by_size);
	uint64_t un = word(buf, x->un_size), ob = word(buf, x->ob_size);
	CHECK(fits(word(buf, x->rt_interp_head), 8, rt),
	      "runtime_state.interpreters_head");
	CHECK(fits(word(buf, x->is_id), 8, is), "interpreter_state.id");
	CHECK(fits(word(buf, x->is_next), 8, is), "interpreter_state.next");
	CHECK(fits(word(buf, x->is_threads_head), 8, is),
	      "interpreter_state.threads_head");
	uint64_t gil_rs = word(buf, x->is_gil_rs);
	CHECK(fits(word(buf, x->is_ceval_gil), 8, is),
	      "interpreter_state.ceval_gil");
	CHECK(fits(gil_rs, 0, is), "interpreter_state.gil_runtime_state");
	CHECK(fits(word(buf, x->is_gil_locked), 4, is) &&
	      word(buf, x->is_gil_locked) >= gil_rs,
	      "interpreter_state.gil_runtime_state_locked");
	CHECK(fits(word(buf, x->is_gil_holder), 8, is) &&
	      word(buf, x->is_gil_holder) >= gil_rs,
	      "interpreter_state.gil_runtime_state_holder");
	CHECK(fits(word(buf, x->ts_next), 8, ts), "thread_state.next");
	CHECK(fits(word(buf, x->ts_interp), 8, ts), "thread_state.interp");
	CHECK(fits(word(buf, x->ts_current_frame), 8, ts),
	      "thread_state.current_frame");
	CHECK(fits(word(buf, x->ts_thread_id), 8, ts), "thread_state.thread_id");
	CHECK(fits(word(buf, x->ts_native_tid), 8, ts),
	      "thread_state.native_thread_id");
	CHECK(fits(word(buf, x->ts_chunk), 8, ts),
	      "thread_state.datastack_chunk");
	CHECK(fits(word(buf, x->fr_previous), 8, fr),
	      "interpreter_frame.previous");
	CHECK(fits(word(buf, x->fr_executable), 8, fr),
	      "interpreter_frame.executable");
	CHECK(fits(word(buf, x->fr_instr_ptr), 8, fr),
	      "interpreter_frame.instr_ptr");
	CHECK(fits(word(buf, x->fr_owner), 1, fr), "interpreter_frame.owner");
	CHECK(fits(word(buf, x->fr_localsplus), 0, fr),
	      "interpreter_frame.localsplus");
	CHECK(fits(word(buf, x->co_filename), 8, co), "code_object.filename");
	CHECK(fits(word(buf, x->co_name), 8, co), "code_object.name");
	CHECK(fits(word(buf, x->co_qualname), 8, co), "code_object.qualname");
	CHECK(fits(word(buf, x->co_linetable), 8, co), "code_object.linetable");
	CHECK(fits(word(buf, x->co_firstlineno), 4, co),
	      "code_object.firstlineno");
	CHECK(fits(word(buf, x->co_code_adaptive), 0, co),
	      "code_object.co_code_adaptive");
	CHECK(fits(word(buf, x->ob_type), 8, ob), "pyobject.ob_type");
	CHECK(fits(word(buf, x->by_ob_size), 8, by), "bytes_object.ob_size");
	CHECK(fits(word(buf, x->by_ob_sval), 1, by), "bytes_object.ob_sval");
	CHECK(fits(word(buf, x->un_state), 4, un), "unicode_object.state");
	CHECK(fits(word(buf, x->un_length), 8, un), "unicode_object.length");
	CHECK(fits(word(buf, x->un_ascii_size), 0, un),
	      "unicode_object.asciiobject_size");
	/* The frame we copy must hold every field we read, and a frame and a
	 * code-object header must be small: they are copied per sample. */
	CHECK(fr >= 16 && word(buf, x->fr_localsplus) <= 256,
	      "interpreter_frame.size");
	CHECK(word(buf, x->co_code_adaptive) <= 1024, "code_object.size");
	/* The walker copies less than the sizes checked above: a frame up
	 * to localsplus, a str header up to its ASCII data, a bytes header
	 * up to ob_sval, the GIL from its holder word; what it reads must
	 * lie inside those copies (a block whose offsets only fit the
	 * declared sizes made it read past them: the py_offsets fuzzer). */
	uint64_t lp = word(buf, x->fr_localsplus);
	CHECK(fits(word(buf, x->fr_previous), 8, lp) &&
	      fits(word(buf, x->fr_executable), 8, lp) &&
	      fits(word(buf, x->fr_instr_ptr), 8, lp) &&
	      fits(word(buf, x->fr_owner), 1, lp),
	      "interpreter_frame fields before localsplus");
	uint64_t ascii = word(buf, x->un_ascii_size);
	CHECK(fits(word(buf, x->un_state), 4, ascii) &&
	      fits(word(buf, x->un_length), 8, ascii),
	      "unicode_object.state and .length inside asciiobject_size");
	CHECK(fits(word(buf, x->by_ob_size), 8, word(buf, x->by_ob_sval)),
	      "bytes_object.ob_size before ob_sval");
	uint64_t holder = word(buf, x->is_gil_holder),
		 locked = word(buf, x->is_gil_locked);
	CHECK(locked >= holder + 8 || locked + 4 <= holder,
	      "interpreter_state.gil_runtime_state_locked apart from _holder");

	memset(out, 0, sizeof *out);
	out->major = major;
	out->minor = minor;
	out->frames = PY_FRAMES_DIRECT;
	out->lasti = PY_LASTI_PTR;
	out->linetable = PY_LT_LOCATION;
	/* interp->ceval.gil points at the GIL in use: the interpreter's own
	 * _gil, or the main interpreter's when shared (Python/ceval_gil.c);
	 * holder and locked are given as offsets of interp->_gil fields. */
	out->gil = PY_GIL_INTERP_PTR;
	out->entry = PY_ENTRY_SHIM;
	out->rt_interp_head = (uint32_t)word(buf, x->rt_interp_head);

#define MAXEND(acc, off, w) \
	do { uint64_t e__ = (off) + (w); if (e__ > (acc)) (acc) = e__; } while (0)
	uint64_t e = 0;
	out->is_next = (uint32_t)word(buf, x->is_next);
	out->is_tstate_head = (uint32_t)word(buf, x->is_threads_head);
	out->is_id = (uint32_t)word(buf, x->is_id);
	out->is_gil_ptr = (uint32_t)word(buf, x->is_ceval_gil);
	out->gil_holder = (uint32_t)(word(buf, x->is_gil_holder) - gil_rs);
	out->gil_locked = (uint32_t)(word(buf, x->is_gil_locked) - gil_rs);
	out->gil_size = out->gil_holder + 8 > out->gil_locked + 4 ?
				out->gil_holder + 8 : out->gil_locked + 4;
	MAXEND(e, out->is_next, 8);
	MAXEND(e, out->is_tstate_head, 8);
	MAXEND(e, out->is_id, 8);
	MAXEND(e, out->is_gil_ptr, 8);
	out->is_size = (uint32_t)e;

	e = 0;
	out->ts_next = (uint32_t)word(buf, x->ts_next);
	out->ts_interp = (uint32_t)word(buf, x->ts_interp);
	out->ts_frame = (uint32_t)word(buf, x->ts_current_frame);
	out->ts_thread_id = (uint32_t)word(buf, x->ts_thread_id);
	out->ts_native_tid = (uint32_t)word(buf, x->ts_native_tid);
	out->ts_chunk = (uint32_t)word(buf, x->ts_chunk);
	MAXEND(e, out->ts_next, 8);
	MAXEND(e, out->ts_interp, 8);
	MAXEND(e, out->ts_frame, 8);
	MAXEND(e, out->ts_thread_id, 8);
	MAXEND(e, out->ts_native_tid, 8);
	MAXEND(e, out->ts_chunk, 8);
	out->ts_size = (uint32_t)e;

	out->fr_back = (uint32_t)word(buf, x->fr_previous);
	out->fr_code = (uint32_t)word(buf, x->fr_executable);
	out->fr_lasti = (uint32_t)word(buf, x->fr_instr_ptr);
	out->fr_owner = (uint32_t)word(buf, x->fr_owner);
	out->fr_size = (uint32_t)word(buf, x->fr_localsplus);
	/* enum _frameowner: 3.13 has FRAME_OWNED_BY_CSTACK = 3; 3.14 has
	 * FRAME_OWNED_BY_INTERPRETER = 3 and CSTACK = 4.  Neither is a
	 * Python function frame (Include/internal/pycore_frame.h). */
	out->owner_cstack = minor == 13 ? 3 : 4;
	out->owner_first_skip = 3;
	/* 3.14: f_executable is a _PyStackRef, low bits are tags
	 * (Include/internal/pycore_stackref.h). */
	out->tagged_code = minor >= 14;

	e = 0;
	out->co_name = (uint32_t)word(buf, x->co_name);
	out->co_qualname = (uint32_t)word(buf, x->co_qualname);
	out->co_filename = (uint32_t)word(buf, x->co_filename);
	out->co_firstlineno = (uint32_t)word(buf, x->co_firstlineno);
	out->co_linetable = (uint32_t)word(buf, x->co_linetable);
	out->co_code_adaptive = (uint32_t)word(buf, x->co_code_adaptive);
	out->ob_type = (uint32_t)word(buf, x->ob_type);
	MAXEND(e, out->co_name, 8);
	MAXEND(e, out->co_qualname, 8);
	MAXEND(e, out->co_filename, 8);
	MAXEND(e, out->co_firstlineno, 4);
	MAXEND(e, out->co_linetable, 8);
	MAXEND(e, out->ob_type, 8);
	out->co_size = (uint32_t)e;
#undef MAXEND

	out->bytes_len = (uint32_t)word(buf, x->by_ob_size);
	out->bytes_data = (uint32_t)word(buf, x->by_ob_sval);
	out->uni_len = (uint32_t)word(buf, x->un_length);
	out->uni_state = (uint32_t)word(buf, x->un_state);
	out->uni_ascii_size = (uint32_t)word(buf, x->un_ascii_size);
	/* PyCompactUnicodeObject = PyASCIIObject + utf8_length + utf8 (no
	 * wstr since 3.12, Include/cpython/unicodeobject.h); state bits are
	 * interned:2 kind:3 compact:1 ascii:1 in 3.13 and 3.14. */
	out->uni_compact_size = out->uni_ascii_size + 16;
	out->uni_kind_shift = 2;
	out->uni_compact_bit = 5;
	out->uni_ascii_bit = 6;
	CHECK(out->uni_compact_size <= un, "unicode_object.size");
	/* _PyStackChunk {previous, size, top, data[]}, unchanged since 3.11
	 * (Include/cpython/pystate.h). */
	out->chunk_previous = 0;
	out->chunk_size = 8;
	out->chunk_data = 24;
	*hexversion = hex;
	return LP_OK;
}
