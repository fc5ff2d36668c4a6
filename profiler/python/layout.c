/* Layout lookup: generated tables up to 3.12, the interpreter's own
 * _Py_DebugOffsets from 3.13 (Include/internal/pycore_runtime.h in 3.13,
 * Include/internal/pycore_debug_offsets.h in 3.14), validated field by field
 * as Modules/_remote_debugging/debug_offsets_validation.h does: an offset
 * that does not fit in the size its own block declares means the block is
 * not what we think it is, and we refuse rather than guess. */
#include "python/layout.h"
#include "python/debug_offsets.h"
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
			     "_Py_DebugOffsets (block shapes of", DEBUG_OFFSETS_MINOR);
		n += w > 0 ? (size_t)w : 0;
	}
	for (size_t i = 0; i < dbg_shapes_gen_count && n < len; i++) {
		w = snprintf(buf + n, len - n, "%s 3.%d", i ? "," : "",
			     dbg_shapes_gen[i].minor);
		n += w > 0 ? (size_t)w : 0;
	}
	if (n < len) {
		w = snprintf(buf + n, len - n, "; a newer version is read with "
			     "the newest shape that validates against the live "
			     "process), validated at attach");
		n += w > 0 ? (size_t)w : 0;
	}
	return n < len ? n : (len ? len - 1 : 0);
}

/* Largest struct size we accept in the block: anything bigger is garbage
 * (3.13's PyInterpreterState, the largest, is well below 1 MiB). */
#define DBG_MAX_STRUCT (4u << 20)

#define CHECK(cond, what)                                                  \
	do {                                                               \
		if (!(cond))                                               \
			return lp_error_set(err, LP_EFORMAT,               \
				"CPython %d.%d _Py_DebugOffsets%s: %s does "   \
				"not validate; this interpreter build is not " \
				"supported", major, minor, as, what);          \
	} while (0)

/* section.field's offset into *dst, checked to hold w bytes. */
#define OFF(dst, section, field, w)                                        \
	CHECK(dbg_offset(&v, section, field, w, DBG_MAX_STRUCT, &(dst)),   \
	      section "." field)

/* What dump --locals reads, from the same block.  Not needed to sample:
 * a field that does not validate leaves co_localsplusnames 0 (locals.c
 * then says it cannot read locals) instead of failing the attach. */
static void locals_layout(const struct dbg_view *v, struct py_layout *out)
{
	struct py_layout l = *out;
	uint64_t hdr;
	bool ok = dbg_value(v, "pyobject.size", &hdr) && hdr >= 16 && hdr <= 64;
#define LOFF(dst, section, field, w) \
	ok = ok && dbg_offset(v, section, field, w, DBG_MAX_STRUCT, &(dst))
	LOFF(l.co_localsplusnames, "code_object", "localsplusnames", 8);
	LOFF(l.co_localspluskinds, "code_object", "localspluskinds", 8);
	LOFF(l.ob_size, "tuple_object", "ob_size", 8);
	LOFF(l.tuple_items, "tuple_object", "ob_item", 0);
	LOFF(l.tp_name, "type_object", "tp_name", 8);
	LOFF(l.tp_flags, "type_object", "tp_flags", 8);
	LOFF(l.float_val, "float_object", "ob_fval", 8);
	LOFF(l.long_size, "long_object", "lv_tag", 8);
	LOFF(l.long_digit, "long_object", "ob_digit", 0);
#undef LOFF
	if (!ok || l.co_localsplusnames + 8 > out->co_code_adaptive ||
	    l.co_localspluskinds + 8 > out->co_code_adaptive) {
		out->co_localsplusnames = 0;
		return;
	}
	/* The block does not give these; each is the first field after
	 * PyObject_HEAD (ma_used: Include/cpython/dictobject.h, ob_ref:
	 * Include/cpython/cellobject.h) or the second (PySetObject's used
	 * after fill: Include/cpython/setobject.h), unchanged 3.13 to 3.15.
	 * Digits are 30 bits on 64-bit builds (PYLONG_BITS_IN_DIGIT), the
	 * size is 3.12's lv_tag (Include/cpython/longintrepr.h). */
	l.dict_used = (uint32_t)hdr;
	l.cell_ref = (uint32_t)hdr;
	l.set_used = (uint32_t)hdr + 8;
	l.long_tagged = 1;
	l.long_shift = 30;
	l.fr_localsplus = out->fr_size;
	*out = l;
}

/* The heap census's fields (heap_census.c), where the block gives the GC
 * state's place and size: the census finds the generations' list heads
 * inside it (their order and what lies between them changed from 3.13 to
 * 3.14 to 3.15: Include/internal/pycore_gc.h, pycore_interp_structs.h).
 * PyTypeObject has tp_basicsize and tp_itemsize right after tp_name,
 * PyListObject its allocated after ob_item, PyByteArrayObject its ob_alloc
 * right after the PyVarObject head, PyGC_Head is two words
 * (Include/cpython/{object,listobject,bytearrayobject}.h, unchanged 3.13
 * to 3.15); 3.12+ put two words of managed dict and weakref before GC
 * objects with those flags (_PyType_PreHeaderSize). */
static void heap_layout(const struct dbg_view *v, struct py_layout *out)
{
	uint32_t gc, list_items, basic;
	uint64_t gc_size;
	if (!out->tp_name || !out->ob_size ||
	    !dbg_offset(v, "interpreter_state", "gc", 8, DBG_MAX_STRUCT, &gc) ||
	    !dbg_value(v, "gc.size", &gc_size) || gc_size < 8 + 4 * 16 ||
	    gc_size > 4096 ||
	    !dbg_offset(v, "list_object", "ob_item", 8, DBG_MAX_STRUCT,
			&list_items))
		return;
	if (dbg_offset(v, "type_object", "tp_basicsize", 8, DBG_MAX_STRUCT,
		       &basic) && basic != out->tp_name + 8)
		return;
	out->gc_in_interp = 1;
	out->gc_state = gc;
	out->gc_state_size = (uint32_t)gc_size;
	out->gc_head_size = 16;
	out->tp_basicsize = out->tp_name + 8;
	out->tp_itemsize = out->tp_name + 16;
	out->list_items = list_items;
	out->list_alloc = list_items + 8;
	out->bytearray_alloc = out->ob_size + 8;
	out->preheader = 16;
	out->preheader_flags = (1u << 3) | (1u << 4);
	if (!dbg_offset(v, "set_object", "table", 8, DBG_MAX_STRUCT,
			&out->set_table) ||
	    !dbg_offset(v, "set_object", "mask", 8, DBG_MAX_STRUCT,
			&out->set_mask))
		out->set_table = out->set_mask = 0;
}

int py_layout_from_debug_offsets_as(const uint8_t *buf, size_t len,
				    const struct dbg_shape *shape,
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
	char as[48] = "";
	if (!shape) {
		shape = dbg_shape_find(minor);
		if (!shape)
			return lp_error_set(err, LP_ENOTFOUND,
				"CPython %d.%d _Py_DebugOffsets: no known shape "
				"of the block for this version", major, minor);
	} else if (shape->minor != minor) {
		snprintf(as, sizeof as, " read as 3.%d's", shape->minor);
	}
	const struct dbg_facts *facts = dbg_shape_facts(shape);
	struct dbg_view v = { buf, len, 8, shape };
	uint64_t ft = 1;
	CHECK(len >= dbg_view_need(&v), "block length");
	CHECK(dbg_value(&v, "free_threaded", &ft), "free_threaded");
	if (ft != 0)
		return lp_error_set(err, LP_EUNSUPPORTED,
			"CPython %d.%d is a free-threaded build (no GIL, "
			"python%d.%dt): loupe reads only the default builds with "
			"a GIL for now", major, minor, major, minor);

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

	uint32_t gil_rs, gil_locked, gil_holder;
	OFF(out->rt_interp_head, "runtime_state", "interpreters_head", 8);
	OFF(out->is_id, "interpreter_state", "id", 8);
	OFF(out->is_next, "interpreter_state", "next", 8);
	OFF(out->is_tstate_head, "interpreter_state", "threads_head", 8);
	OFF(out->is_gil_ptr, "interpreter_state", "ceval_gil", 8);
	OFF(gil_rs, "interpreter_state", "gil_runtime_state", 0);
	OFF(gil_locked, "interpreter_state", "gil_runtime_state_locked", 4);
	OFF(gil_holder, "interpreter_state", "gil_runtime_state_holder", 8);
	CHECK(gil_locked >= gil_rs, "interpreter_state.gil_runtime_state_locked");
	CHECK(gil_holder >= gil_rs, "interpreter_state.gil_runtime_state_holder");
	OFF(out->ts_next, "thread_state", "next", 8);
	OFF(out->ts_interp, "thread_state", "interp", 8);
	OFF(out->ts_frame, "thread_state", "current_frame", 8);
	OFF(out->ts_thread_id, "thread_state", "thread_id", 8);
	OFF(out->ts_native_tid, "thread_state", "native_thread_id", 8);
	OFF(out->ts_chunk, "thread_state", "datastack_chunk", 8);
	OFF(out->fr_back, "interpreter_frame", "previous", 8);
	OFF(out->fr_code, "interpreter_frame", "executable", 8);
	OFF(out->fr_lasti, "interpreter_frame", "instr_ptr", 8);
	OFF(out->fr_owner, "interpreter_frame", "owner", 1);
	OFF(out->fr_size, "interpreter_frame", "localsplus", 0);
	OFF(out->co_name, "code_object", "name", 8);
	OFF(out->co_qualname, "code_object", "qualname", 8);
	OFF(out->co_filename, "code_object", "filename", 8);
	OFF(out->co_linetable, "code_object", "linetable", 8);
	OFF(out->co_firstlineno, "code_object", "firstlineno", 4);
	OFF(out->co_code_adaptive, "code_object", "co_code_adaptive", 0);
	OFF(out->ob_type, "pyobject", "ob_type", 8);
	OFF(out->bytes_len, "bytes_object", "ob_size", 8);
	OFF(out->bytes_data, "bytes_object", "ob_sval", 1);
	OFF(out->uni_state, "unicode_object", "state", 4);
	OFF(out->uni_len, "unicode_object", "length", 8);
	OFF(out->uni_ascii_size, "unicode_object", "asciiobject_size", 0);
	/* The frame we copy must hold every field we read, and a frame and a
	 * code-object header must be small: they are copied per sample. */
	CHECK(out->fr_size >= 16 && out->fr_size <= 256, "interpreter_frame.size");
	CHECK(out->co_code_adaptive <= 1024, "code_object.size");
	/* The walker copies less than the sizes the block declares: a frame
	 * up to localsplus, a str header up to its ASCII data, a bytes header
	 * up to ob_sval, the GIL from its holder word; what it reads must lie
	 * inside those copies (a block whose offsets only fit the declared
	 * sizes made it read past them: the py_offsets fuzzer). */
	CHECK((uint64_t)out->fr_back + 8 <= out->fr_size &&
	      (uint64_t)out->fr_code + 8 <= out->fr_size &&
	      (uint64_t)out->fr_lasti + 8 <= out->fr_size &&
	      (uint64_t)out->fr_owner + 1 <= out->fr_size,
	      "interpreter_frame fields before localsplus");
	CHECK((uint64_t)out->uni_state + 4 <= out->uni_ascii_size &&
	      (uint64_t)out->uni_len + 8 <= out->uni_ascii_size,
	      "unicode_object.state and .length inside asciiobject_size");
	CHECK((uint64_t)out->bytes_len + 8 <= out->bytes_data,
	      "bytes_object.ob_size before ob_sval");
	CHECK((uint64_t)gil_locked >= (uint64_t)gil_holder + 8 ||
	      (uint64_t)gil_locked + 4 <= gil_holder,
	      "interpreter_state.gil_runtime_state_locked apart from _holder");

	/* Whether a collection runs (Include/internal/pycore_gc.h
	 * struct _gc_runtime_state.collecting): for top's header only, so a
	 * block without it leaves it 0 instead of failing the attach. */
	uint32_t gc_base, gc_coll;
	if (dbg_offset(&v, "interpreter_state", "gc", 0, DBG_MAX_STRUCT, &gc_base) &&
	    dbg_offset(&v, "gc", "collecting", 4, DBG_MAX_STRUCT, &gc_coll) &&
	    (uint64_t)gc_base + gc_coll + 4 <= DBG_MAX_STRUCT)
		out->is_gc_collecting = gc_base + gc_coll;

	/* Whether any code object was freed since a sample (walk.c
	 * resolve): an optimisation, so a block without it is read too. */
	uint32_t code_gen;
	if (dbg_offset(&v, "interpreter_state", "code_object_generation", 8,
		       DBG_MAX_STRUCT, &code_gen) && code_gen)
		out->is_code_gen = code_gen;

	out->gil_holder = gil_holder - gil_rs;
	out->gil_locked = gil_locked - gil_rs;
	out->gil_size = out->gil_holder + 8 > out->gil_locked + 4 ?
				out->gil_holder + 8 : out->gil_locked + 4;
	/* The cond the GIL's waiters sleep on is in no block: its place is
	 * a fact of the struct's head, taken when the block agrees. */
	if (out->gil_holder == facts->gil_holder &&
	    out->gil_locked == facts->gil_locked)
		out->gil_cond = facts->gil_cond;
#define MAXEND(acc, off, w) \
	do { uint64_t e__ = (off) + (w); if (e__ > (acc)) (acc) = e__; } while (0)
	uint64_t e = 0;
	MAXEND(e, out->is_next, 8);
	MAXEND(e, out->is_tstate_head, 8);
	MAXEND(e, out->is_id, 8);
	MAXEND(e, out->is_gil_ptr, 8);
	out->is_size = (uint32_t)e;
	e = 0;
	MAXEND(e, out->ts_next, 8);
	MAXEND(e, out->ts_interp, 8);
	MAXEND(e, out->ts_frame, 8);
	MAXEND(e, out->ts_thread_id, 8);
	MAXEND(e, out->ts_native_tid, 8);
	MAXEND(e, out->ts_chunk, 8);
	out->ts_size = (uint32_t)e;
	e = 0;
	MAXEND(e, out->co_name, 8);
	MAXEND(e, out->co_qualname, 8);
	MAXEND(e, out->co_filename, 8);
	MAXEND(e, out->co_firstlineno, 4);
	MAXEND(e, out->co_linetable, 8);
	MAXEND(e, out->ob_type, 8);
	if (facts->co_version) {
		out->co_version = out->co_firstlineno + facts->co_version;
		MAXEND(e, out->co_version, 4);
	}
	if (facts->co_framesize) {
		out->co_framesize = out->co_firstlineno + facts->co_framesize;
		MAXEND(e, out->co_framesize, 4);
	}
	out->co_size = (uint32_t)e;
#undef MAXEND
	locals_layout(&v, out);
	heap_layout(&v, out);
	out->owner_cstack = facts->owner_cstack;
	out->owner_first_skip = facts->owner_first_skip;
	out->tagged_code = facts->tagged_code;

	/* PyCompactUnicodeObject = PyASCIIObject + utf8_length + utf8 (no
	 * wstr since 3.12, Include/cpython/unicodeobject.h); state bits are
	 * interned:2 kind:3 compact:1 ascii:1 in 3.13 to 3.15.  3.15's block
	 * gives the compact size itself. */
	uint64_t cu;
	out->uni_compact_size = out->uni_ascii_size + 16;
	if (dbg_value(&v, "unicode_object.compactunicodeobject_size", &cu))
		out->uni_compact_size = (uint32_t)cu;
	out->uni_kind_shift = 2;
	out->uni_compact_bit = 5;
	out->uni_ascii_bit = 6;
	CHECK(dbg_value(&v, "unicode_object.size", &cu) &&
	      out->uni_compact_size <= cu && cu <= DBG_MAX_STRUCT,
	      "unicode_object.size");
	/* _PyStackChunk {previous, size, top, data[]}, unchanged since 3.11
	 * (Include/cpython/pystate.h). */
	out->chunk_previous = 0;
	out->chunk_size = 8;
	out->chunk_data = 24;
	*hexversion = hex;
	return LP_OK;
}

int py_layout_from_debug_offsets(const uint8_t *buf, size_t len,
				 struct py_layout *out, uint64_t *hexversion,
				 lp_error *err)
{
	return py_layout_from_debug_offsets_as(buf, len, NULL, out,
					       hexversion, err);
}
