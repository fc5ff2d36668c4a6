/* Where asyncio keeps its tasks, for one CPython minor version (3.6 to
 * 3.13): fields of the C TaskObj / FutureObj / FutureIterObject
 * (Modules/_asynciomodule.c), where a coroutine keeps its frame and where
 * that frame's value stack ends, sys.modules in the interpreter state, the
 * shared keys of a heap type, the globals of asyncio.tasks that hold the
 * tasks, and how dicts, instance attributes and ints lie (every version
 * probed, 3.14+ included).  Generated as data by tools/gen-asyncio-layouts
 * into asyncio_layouts_gen.c; from 3.14 partly read from the interpreter
 * (asyncio314.c).  Private to profiler/python/. */
#ifndef LOUPE_PY_ASYNCIO_LAYOUT_H
#define LOUPE_PY_ASYNCIO_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* How the top of a suspended frame's value stack is found; a coroutine
 * suspended in `await x` holds x's iterator there (_PyGen_yf in
 * Objects/genobject.c). */
enum aio_stack_kind {
	PY_STACK_TOP_PTR = 1,	/* <= 3.9: f_stacktop points past the top */
	PY_STACK_BASE_DEPTH,	/* 3.10: f_valuestack + int f_stackdepth */
	PY_STACK_LOCALS_INDEX,	/* 3.11-3.13: localsplus[int stacktop - 1] */
};

/* Where an instance whose type has a managed dict (3.11+,
 * Py_TPFLAGS_MANAGED_DICT) keeps its attribute values before it has a
 * dict of its own (Include/internal/pycore_object.h). */
enum aio_values_kind {
	PY_VALUES_NONE = 0,	/* <= 3.10: no managed dict (tp_dictoffset) */
	PY_VALUES_PTR,		/* 3.11: a values pointer of its own in the
				 * pre-header (managed_values) */
	PY_VALUES_TAGGED,	/* 3.12: the dict word holds values - 1 (odd) */
	PY_VALUES_INLINE,	/* 3.13+: inline, after tp_basicsize bytes */
};

/* One kind of dict keys entry: its size and where key and value lie. */
struct aio_dk_entry {
	uint32_t size, key, value;
};

/* How CPython's generic objects lie (dicts, instance attributes, ints),
 * for one minor version: found by value in the interpreter's own objects
 * (tools/gen-asyncio-layouts), or, from 3.14, partly from _Py_DebugOffsets
 * (asyncio314.c).  A field that a version does not have is 0. */
struct aio_objects {
	int minor;		/* the version they were found in */
	/* PyDictObject: ma_keys, ma_values; bytes before values[0] in a
	 * split dict's values (3.13: struct _dictvalues' 8-byte head) */
	uint32_t dict_keys, dict_values, values_pre;
	/* PyDictKeysObject (Objects/dict-common.h up to 3.10,
	 * Include/internal/pycore_dict.h from 3.11): the Py_ssize_t slot
	 * count (<= 3.10; its indices are 1, 2, 4 or 8 bytes by size) or
	 * the byte log2 of the indices' size (3.11+), the byte dk_kind
	 * (3.11+: 0 general entries, else str-keyed ones), the entry
	 * count and where the indices start (the entries follow them) */
	uint32_t dk_size, dk_log2_index_bytes, dk_kind;
	uint32_t dk_nentries, dk_indices;
	struct aio_dk_entry dk_general, dk_unicode;
	/* managed dict (enum aio_values_kind): bytes before the object of
	 * the dict pointer and (PY_VALUES_PTR) of the values pointer */
	int values_kind;
	uint32_t managed_dict, managed_values;
	/* PyLongObject: ob_size (signed digit count) or, lv_tagged, 3.12's
	 * lv_tag (digit count << 3 | sign bits, 2 negative); 30-bit digits */
	uint32_t long_size, long_digit;
	int long_tagged;
	/* A loop's ready queue (loop._ready, a collections.deque of
	 * Handles: Modules/_collectionsmodule.c): the deque's leftblock,
	 * rightblock, leftindex and rightindex; a block's items (block_len
	 * of them) and its rightlink */
	uint32_t deque_left, deque_right, deque_lindex, deque_rindex;
	uint32_t block_data, block_next, block_len;
	/* asyncio.Handle's _callback slot (asyncio/events.py __slots__) */
	uint32_t handle_callback;
	/* where a callback the loop will run holds its task, 0 unused: the
	 * C Task's step / wakeup wrappers, a builtin method's m_self, a
	 * bound method's im_self */
	uint32_t cb_task[3];
	/* TaskObj.task_loop, for every version (3.14+ too) */
	uint32_t ctask_loop;
};

/* The probed object facts of every interpreter the generator saw (3.6 to
 * the newest, 3.14+ included), oldest first. */
extern const struct aio_objects *const aio_objects_all[];
extern const size_t aio_objects_count;
/* The facts of 3.minor, else of the newest version below it (a version
 * newer than every probe is read as the newest; what it gives is then
 * validated on the process), NULL below the oldest. */
const struct aio_objects *aio_objects_for(int minor);

struct aio_layout {
	int minor;
	struct aio_objects obj;	/* dicts, instance attributes, ints */
	/* the globals of asyncio.tasks (names found by value): the WeakSet
	 * of tasks, the set of eager tasks (3.12+, else NULL) and the dict
	 * of running tasks; set_all NULL: 3.6's _asyncio keeps them in C
	 * statics (aio_module_symbol) */
	const char *set_all, *set_eager, *set_current;
	int stack_kind;		/* enum aio_stack_kind */
	uint32_t is_modules;	/* PyInterpreterState: sys.modules */
	/* TaskObj (its FutureObj head first) */
	uint32_t task_loop, task_coro, task_name, task_fut_waiter;
	uint32_t task_callback0, fut_state;
	uint32_t futiter_future;	/* FutureIterObject.future */
	/* coroutine / generator: gi_frame pointer (<= 3.10) or the offset
	 * of the embedded _PyInterpreterFrame (3.11+); one of them is 0 */
	uint32_t gen_frame, gen_iframe;
	/* in the frame: the stack pointer / base field, and the int depth
	 * or index field (0 for PY_STACK_TOP_PTR) */
	uint32_t fr_stack, fr_depth;
	uint32_t ht_cached_keys;	/* PyHeapTypeObject */

	/* 3.14+, from the interpreter (asyncio314.c): tasks are kept in
	 * linked lists, one per thread state and one per interpreter, whose
	 * nodes are TaskObj.task_node (Modules/_asynciomodule.c); the
	 * running task is in the thread state; who awaits a task is
	 * task_awaited_by (one future, or a set when the flag byte says). */
	int lists;			/* 1: the fields below are set */
	int tagged_stack;		/* value stack holds _PyStackRefs */
	int yf_depth;			/* PY_STACK_TOP_PTR from 3.14: slots
					 * below the stack pointer where the
					 * awaited object is (0: 1) */
	uint32_t task_size, task_node, task_awaited_by, task_awaited_by_is_set;
	uint32_t ts_tasks_head, ts_running_task, is_tasks_head;
	uint32_t fr_locals;		/* 3.14+: _PyInterpreterFrame.localsplus */
};

extern const struct aio_layout *const aio_layouts_all[];
extern const size_t aio_layouts_count;

/* The table for 3.minor, or NULL. */
const struct aio_layout *aio_layout_table(int minor);

struct py_proc;
/* The table for the process's version, NULL when it has none (3.14+: see
 * aio_layout_from_process). */
const struct aio_layout *aio_layout_for(const struct py_proc *py);
/* 3.14+: builds *out from the interpreter's _Py_DebugOffsets (generator
 * and frame fields) and the _asyncio module's .AsyncioDebug section
 * (_Py_AsyncioModuleDebugOffsets).  LP_ENOTFOUND while _asyncio is not
 * loaded yet; LP_EFORMAT with a message when a block does not validate. */
int aio_layout_from_process(struct py_proc *py, struct aio_layout *out,
			    lp_error *err);
/* The runtime address of a symbol of the _asyncio module (or of the
 * interpreter where it is built in); LP_ENOTFOUND when not loaded or
 * stripped.  3.6 keeps its task set in the statics all_tasks and
 * current_tasks, which no Python namespace reaches. */
int aio_module_symbol(struct py_proc *py, const char *name, uint64_t *addr);

/* For the unit tests, which replay a process over a memory image: the
 * layout a reader uses (NULL while not known yet), and a reader built on
 * a given one (a 3.14 layout captured from the live process). */
struct aio_reader;
const struct aio_layout *aio_reader_layout(const struct aio_reader *a);
int aio_reader_new_with(struct aio_reader **out, struct py_proc *py,
			const struct aio_layout *given, lp_error *err);

#endif
