/* Where CPython keeps what loupe reads, for one minor version: offsets and
 * sizes of the interpreter's structs, and which of the few shapes of the
 * thread / frame / line-table machinery the version has.  Private to
 * profiler/python/.  Up to 3.12 the values come from the generated tables in
 * layouts_gen.c (tools/gen-py-layouts compiles against each version's
 * headers); from 3.13 they are built at attach time from the _Py_DebugOffsets
 * the interpreter carries at the start of _PyRuntime (py_debugoffsets.c). */
#ifndef LOUPE_PY_LAYOUT_H
#define LOUPE_PY_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* How the current frame of a thread state is found. */
enum py_frames_kind {
	PY_FRAMES_OBJECT = 1,	/* <= 3.10: tstate->frame, PyFrameObject */
	PY_FRAMES_CFRAME,	/* 3.11, 3.12: tstate->cframe->current_frame */
	PY_FRAMES_DIRECT,	/* 3.13+: tstate->current_frame */
};

/* What the frame's instruction field holds. */
enum py_lasti_kind {
	PY_LASTI_BYTES = 1,	/* <= 3.9: f_lasti, byte offset */
	PY_LASTI_UNITS,		/* 3.10: f_lasti, index of 2-byte code units */
	PY_LASTI_PTR,		/* 3.11+: pointer into co_code_adaptive */
};

enum py_linetable_kind {
	PY_LT_LNOTAB = 1,	/* co_lnotab, <= 3.9 */
	PY_LT_310,		/* co_linetable, 3.10 */
	PY_LT_LOCATION,		/* co_linetable, 3.11+ */
};

/* Who holds the GIL, and where that is written. */
enum py_gil_kind {
	PY_GIL_TSTATE_CURRENT = 1,	/* 2.7, 3.6: _PyThreadState_Current is
					 * NULL while nobody holds it */
	PY_GIL_RUNTIME,		/* 3.7-3.11: _PyRuntime.ceval.gil */
	PY_GIL_INTERP_PTR,	/* 3.12+: interp->ceval.gil -> gil state */
};

/* How the first Python frame of one C call of the eval loop is marked. */
enum py_entry_kind {
	PY_ENTRY_ALL = 1,	/* <= 3.10: every frame is its own C call */
	PY_ENTRY_FLAG,		/* 3.11: _PyInterpreterFrame.is_entry */
	PY_ENTRY_SHIM,		/* 3.12+: a FRAME_OWNED_BY_CSTACK frame below */
};

struct py_layout {
	int major, minor;
	int frames, lasti, linetable, gil, entry;	/* the enums above */
	int py2_strings;	/* names are PyStringObject (2.7) */

	/* _PyRuntime (3.7+): offset of interpreters.head; GIL fields of
	 * ceval.gil (3.7-3.11). */
	uint32_t rt_interp_head;
	uint32_t rt_gil_holder, rt_gil_locked;
	/* ceval.gil.cond (3.7-3.11): the condition variable a thread waiting
	 * for the GIL sleeps on (Python/ceval_gil.c take_gil); 0: unknown */
	uint32_t rt_gil_cond;

	/* PyInterpreterState: end of the last field read (informative: the
	 * walker copies only the spans it needs). */
	uint32_t is_size, is_next, is_tstate_head, is_id;
	uint32_t is_gil_ptr;			/* 3.12+: ceval.gil */
	/* 3.13+: interp->gc.collecting (an int), from the debug offsets'
	 * interpreter_state.gc and gc.collecting; 0: not exposed */
	uint32_t is_gc_collecting;
	/* 3.12/3.13: PyCodeObject.co_version, a number given to each code
	 * object made; 0: none */
	uint32_t co_version;
	/* 3.14+: interp->_code_object_generation, counted up by every
	 * code object's deallocation (Objects/codeobject.c code_dealloc);
	 * 0: not exposed */
	uint32_t is_code_gen;
	/* struct _gil_runtime_state (3.12+) */
	uint32_t gil_size, gil_holder, gil_locked;
	uint32_t gil_cond;	/* its cond, as rt_gil_cond; 0: unknown */

	/* PyThreadState */
	uint32_t ts_size, ts_next, ts_interp, ts_frame, ts_thread_id;
	uint32_t ts_native_tid;		/* 0: not in this version */
	uint32_t ts_chunk;		/* datastack_chunk, 3.11+ */
	uint32_t cframe_current;	/* _PyCFrame.current_frame (3.11/12) */

	/* PyFrameObject (<= 3.10) or _PyInterpreterFrame (3.11+) */
	uint32_t fr_size, fr_back, fr_code, fr_lasti, fr_owner, fr_is_entry;
	int owner_cstack;		/* FRAME_OWNED_BY_CSTACK, or -1 */
	int owner_first_skip;		/* owners >= this are not Python
					 * frames (shim, interpreter) */
	int tagged_code;		/* f_executable is a _PyStackRef */

	/* PyCodeObject */
	uint32_t co_size, co_name, co_qualname, co_filename, co_firstlineno;
	/* The size of its frame on a thread's data stack (3.11+): 3.12+'s
	 * co_framesize in words, or 3.11's co_nlocalsplus + co_stacksize
	 * words past fr_size (localsplus); 0: unknown */
	uint32_t co_framesize, co_stacksize, co_nlocalsplus;
	uint32_t co_linetable, co_code_adaptive;
	uint32_t ob_type;		/* PyObject.ob_type */

	/* Local variables (dump --locals): the tuple of their names
	 * (co_varnames up to 3.10, co_localsplusnames and the bytes of
	 * co_localspluskinds from 3.11) and where the frame's values start */
	uint32_t co_varnames, co_localsplusnames, co_localspluskinds;
	/* up to 3.10: the names of the cells after the locals
	 * (f_localsplus[nlocals..]: co_cellvars, then co_freevars) */
	uint32_t co_cellvars, co_freevars;
	uint32_t fr_localsplus;
	/* The objects a local's short rendering reads: PyVarObject.ob_size,
	 * PyTypeObject.tp_name / tp_flags, PyTupleObject.ob_item,
	 * PyFloatObject.ob_fval, PyDictObject.ma_used, PySetObject.used,
	 * PyCellObject.ob_ref, PyIntObject.ob_ival (2.7), PyLongObject's
	 * size (ob_size, or 3.12's lv_tag: digit count << 3 | sign) and
	 * digits of long_shift bits */
	uint32_t ob_size, tp_name, tp_flags, tuple_items, float_val;
	uint32_t dict_used, set_used, cell_ref, int_val;
	uint32_t long_size, long_digit;
	uint8_t long_tagged, long_shift;

	/* str (2.7 PyStringObject) / bytes: length field and data */
	uint32_t bytes_len, bytes_data;
	/* PyASCIIObject / PyCompactUnicodeObject (3.x) */
	uint32_t uni_len, uni_state, uni_ascii_size, uni_compact_size;
	uint8_t uni_kind_shift, uni_compact_bit, uni_ascii_bit;

	/* The heap census: offsets of the GC generations' list heads
	 * (PyGC_Head) in _PyRuntime, or in the interpreter when gc_in_interp;
	 * 0: none known.  The PyGC_Head's size (its first word is the next
	 * pointer in every version), the size fields of types, lists and
	 * bytearrays, and the pre-header of 3.12+ (managed dict/weakref). */
	uint32_t gc_head0, gc_head1, gc_head2, gc_head3, gc_head_size;
	uint8_t gc_in_interp;
	/* 3.13+ (debug offsets): the interpreter's GC state, where the
	 * census looks for the list heads when no table gives them */
	uint32_t gc_state, gc_state_size;
	uint32_t tp_basicsize, tp_itemsize, list_items, list_alloc;
	uint32_t bytearray_alloc, preheader, preheader_flags;
	uint32_t set_table, set_mask;	/* PySetObject: its table, mask */
	/* pymalloc (3.12+): where the interpreter keeps its arenas vector and
	 * its length (om_ptr: 3.13's interp->obmalloc pointer to the state,
	 * which holds them; 0: in the interpreter itself), struct
	 * arena_object and struct pool_header fields, the pools' header size,
	 * arena and pool sizes, the size-class shift; om_arenas 0: unknown. */
	uint32_t om_ptr, om_arenas, om_maxarenas;
	/* 3.7-3.11: the arenas vector and its length are Objects/obmalloc.c's
	 * static variables `arenas` and `maxarenas`, found by symbol where
	 * the binary names them (not stripped); om_arenas is then 0 */
	uint8_t om_static;
	uint32_t ao_size, ao_address, ao_pool_address;
	uint32_t ph_count, ph_freeblock, ph_szidx, ph_nextoffset, ph_overhead;
	uint32_t arena_size, pool_size, align_shift;

	/* _PyStackChunk (3.11+) */
	uint32_t chunk_previous, chunk_size, chunk_data;
};

/* The generated table for major.minor, or NULL (3.13+ have none on
 * purpose: their layout comes from the process). */
const struct py_layout *py_layout_table(int major, int minor);
/* Every generated table, for tests. */
extern const struct py_layout *const py_layouts_all[];
extern const size_t py_layouts_count;

/* Builds *out from the _Py_DebugOffsets bytes found at the start of
 * _PyRuntime (len bytes of it), after checking cookie, version and every
 * offset against the sizes the block declares.  *hexversion receives
 * PY_VERSION_HEX.  LP_EFORMAT with a message when anything does not hold. */
int py_layout_from_debug_offsets(const uint8_t *buf, size_t len,
				 struct py_layout *out, uint64_t *hexversion,
				 lp_error *err);
struct dbg_shape;
/* The same, reading the block through a given shape (debug_offsets.h):
 * how a version newer than every known shape is tried against each of
 * them.  With shape NULL, the shape of the block's own version, and
 * LP_EUNSUPPORTED when none is known. */
int py_layout_from_debug_offsets_as(const uint8_t *buf, size_t len,
				    const struct dbg_shape *shape,
				    struct py_layout *out, uint64_t *hexversion,
				    lp_error *err);
/* Bytes of _PyRuntime to read for py_layout_from_debug_offsets. */
#define PY_DEBUG_OFFSETS_READ 1024

#endif
