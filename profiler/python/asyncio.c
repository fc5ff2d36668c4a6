/* Reading asyncio's tasks and their await chains from outside (see
 * asyncio.h).  Generic object reading lives here too: types (name, flags,
 * dict offset), dicts (combined and split, 3.6-style indices and 3.11's
 * dk_kind), instance attributes (tp_dictoffset, 3.11's managed dict, 3.12's
 * tagged dict-or-values, 3.13's inline values), sets, lists and small ints.
 * Every loop over remote data is bounded (bounds.h); anything that does
 * not look like what it should ends the walk it is in, never the process.
 *
 * Cost: the task set is re-read each update (one header and one table
 * read; its weakrefs only when the table changed), then at most
 * MAX_ASYNCIO_TASK_READS tasks (new ones first, then round robin) have
 * their object and await chain read again; the rest keep their last
 * chain.  Who awaits whom is linked again each update from what was read
 * (no reads), into arrays sized at creation.  The thread of each loop is
 * read from the threads' running loops every LOOPS_EVERY updates. */
#include "python/asyncio.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "python/asyncio_layout.h"
#include "python/pyobj.h"
#include "python/pyproc.h"
#include "target.h"

/* Updates between two lookups of asyncio's globals while they are not
 * found (asyncio not imported yet). */
#define ROOTS_RETRY 16
/* Types remembered by address (a power of two). */
#define TYPE_CACHE 256
/* Bytes of a type object read: up to tp_dictoffset (Include/cpython/
 * object.h: the same offsets in every 3.x on 64-bit). */
#define TP_NAME 24
#define TP_BASICSIZE 32
#define TP_FLAGS 168
#define TP_BASE 256
#define TP_DICT 264
#define TP_DICTOFFSET 288
#define TYPE_READ 296
/* Py_TPFLAGS_MANAGED_DICT (3.11+), Py_TPFLAGS_INLINE_VALUES (3.13+). */
#define TPF_MANAGED_DICT (1ul << 4)
#define TPF_INLINE_VALUES (1ul << 2)
/* Py_TPFLAGS_HEAPTYPE, _LONG_SUBCLASS, _UNICODE_SUBCLASS (Include/object.h,
 * the same bits in every 3.x): PyUnicode_Type and PyLong_Type are static
 * types with their subclass bit. */
#define TPF_HEAPTYPE (1ul << 9)
#define TPF_LONG_SUBCLASS (1ul << 24)
#define TPF_UNICODE_SUBCLASS (1ul << 28)
/* Bytes of a task name read with its header in one go; a longer name is
 * read again whole (up to MAX_STRING_LEN characters). */
#define NAME_READ 256
/* Bytes of a Task object read (every field the tables name is below). */
#define TASK_READ 256
/* Bytes of a coroutine's frame header read, past every field used. */
#define FRAME_READ 512
/* Room per task in the batch buffers: a task object, an await level. */
#define TASK_BUF 1024
#define CHAIN_BUF (FRAME_READ + 256)

enum aio_kind {
	K_OTHER = 0, K_CORO, K_GEN, K_FUTITER, K_CTASK, K_PYTASK, K_GATHER,
	K_METHOD, K_TASKGROUP, K_LIST, K_STR, K_INT,
	K_AGEN, K_ASEND, K_ATHROW, K_CWRAP, K_FUTURE, K_FLOAT, K_TIMER,
	K_DEQUE, K_UVTIMER,
	K_FUNC, K_PARTIAL, K_TUPLE, K_HOLDER, K_NONE,
};

struct aio_type {
	uint64_t addr;		/* 0: free */
	int kind;
	const char *name;	/* tp_name (interned), NULL unread */
	uint64_t flags;
	int64_t dictoffset, basicsize;
	uint64_t cached_keys;
	int64_t when_off;	/* TimerHandle: _when's slot offset, 0 not
				 * looked up, -1 none */
};

struct aio_entry {
	struct aio_task t;
	struct py_frame *frames;	/* owned, t.frames points here */
	uint64_t coro, waiter, parent_addr;
	int waiter_kind;		/* enum aio_kind of the waiter */
	uint64_t *children;		/* a gather waiter's children, owned */
	size_t nchildren;
	uint64_t name_obj;		/* the name object read last time */
	uint64_t type;			/* its ob_type when read */
	uint64_t cb;			/* the done callback looked at */
	uint64_t read_at;		/* update count of the last read, 0
					 * never */
	/* 3.14+: the tasks in task_awaited_by; before: what the first
	 * done callback holds (closure cells, a partial's arguments),
	 * matched with the futures tasks wait on (link_tasks).  Grown,
	 * never shrunk, up to MAX_TASK_AWAITERS. */
	uint64_t *by;
	uint32_t nby, by_cap;
	uint32_t by_more;		/* 3.14+: awaiters past the kept */
};

/* Thread states whose task lists are walked. */
#define MAX_WALK_THREADS 64

/* A walk of 3.14's task lists, spread over updates. */
struct list_walk {
	bool active;
	uint64_t interp, head, node;
	uint64_t ts[MAX_WALK_THREADS];
	pid_t tid[MAX_WALK_THREADS];
	size_t nts, li, n, steps;
	uint64_t *addrs;
	pid_t *tids;
};

struct aio_reader {
	py_proc *py;
	const struct aio_layout *A;
	struct aio_layout own;		/* 3.14+: built from the process */
	bool need_layout;		/* 3.14+: _asyncio not loaded yet */
	pid_t *tids;			/* 3.14+: thread of each addrs[] */
	uint64_t listed_at;		/* 3.14+: update of the last walk */
	struct list_walk walk;		/* 3.14+: the walk in progress */
	/* Batched reads of up to MAX_ASYNCIO_TASK_READS tasks. */
	struct remote_iov *chain_iov;
	size_t *chain_of;
	uint8_t *chain_buf, *task_buf;
	struct chain *chains;
	struct task_read *reads;
	uint64_t nupdate;
	bool full;			/* this update reads everything */
	int64_t now_ns;			/* the target's CLOCK_MONOTONIC in
					 * this full update, 0 unread */
	uint64_t roots_at;		/* update of the last roots lookup */
	uint64_t sets[2];		/* the set objects of tasks (the
					 * WeakSet's .data / _eager_tasks) */
	bool weak[2];			/* entries are weakrefs */
	uint64_t current;		/* _current_tasks dict */
	struct aio_type types[TYPE_CACHE];
	/* PyUnicode_Type and PyLong_Type, learned from the first object of
	 * each seen (a static type named so, with its subclass bit): a name
	 * is a str only if its ob_type is this very address. */
	uint64_t str_type, int_type;
	uint64_t torn;			/* task reads dropped: a field
					 * changed under the read */
	/* Task list of the last update and its set tables, to skip the
	 * weakref reads when nothing changed. */
	uint8_t *table[2];
	size_t table_len[2];
	uint8_t *scratch;		/* this update's copy of a table */
	size_t scratch_len;
	uint64_t *addrs;
	size_t naddrs;
	/* Entries: cur of this update, prev of the one before, swapped. */
	struct aio_entry *cur, *prev;
	size_t ncur, nprev;
	struct aio_task *out;		/* the tasks of cur, contiguous */
	uint32_t *index;		/* hash: task addr -> prev entry + 1 */
	size_t cursor;			/* round robin of re-reads */
	size_t dropped;
	/* exact: read from the thread's running loop, else guessed from
	 * the running task's coroutine being on the thread's stack */
	struct { uint64_t loop; pid_t tid; bool exact; } loops[MAX_ASYNCIO_LOOPS];
	size_t nloops;
	uint64_t loops_at;		/* update of the last running-loop
					 * look-up in the thread states */
	uint32_t gen;
	/* Awaiter links of this update (link_tasks), sized at creation:
	 * (task, awaiter) pairs, then per task its awaiters, contiguous. */
	struct link { uint32_t task, by; } *links;
	size_t nlinks;
	uint32_t *link_start;		/* MAX_ASYNCIO_TASKS + 1 */
	int *awaiters;			/* MAX_ASYNCIO_AWAIT_LINKS */
	/* Which tasks are ready (aio_reader_watch_ready): asked for, every
	 * loop's queue read at the last count, update of that count */
	bool watch_ready, ready_known;
	uint64_t ready_at;
	uint32_t *windex;		/* hash: awaited future -> entry + 1 */
	size_t links_dropped;
};

#define INDEX_SIZE (2 * MAX_ASYNCIO_TASKS)

/* ---- reads ---- */

static size_t task_len(const struct aio_layout *A)
{
	return A->lists ? A->task_size : TASK_READ;
}

static int rd(aio_reader *a, uint64_t addr, void *buf, size_t len)
{
	if (!addr || addr + len < addr)
		return LP_EFAULT;
	return mem_read(a->py->reader, addr, buf, len);
}

uint64_t rd64(aio_reader *a, uint64_t addr)
{
	uint64_t v = 0;
	return rd(a, addr, &v, 8) == LP_OK ? v : 0;
}

static uint64_t w64(const uint8_t *p, size_t off)
{
	return GET_MEMBER(uint64_t, p, off);
}

/* ---- types ---- */

static int kind_of_name(const char *n)
{
	static const struct { const char *name; int kind; } k[] = {
		{ "coroutine", K_CORO }, { "generator", K_GEN },
		{ "_asyncio.FutureIter", K_FUTITER }, { "FutureIter", K_FUTITER },
		{ "_asyncio.Task", K_CTASK }, { "_GatheringFuture", K_GATHER },
		{ "method", K_METHOD }, { "TaskGroup", K_TASKGROUP },
		{ "list", K_LIST }, { "str", K_STR }, { "int", K_INT },
		/* Objects/genobject.c: an async generator and the awaitables
		 * its __anext__/asend/athrow/aclose return; 3.6-3.7's
		 * coroutine.__await__() */
		{ "async_generator", K_AGEN },
		{ "async_generator_asend", K_ASEND },
		{ "async_generator_athrow", K_ATHROW },
		{ "coroutine_wrapper", K_CWRAP },
		{ "_asyncio.Future", K_FUTURE }, { "Future", K_FUTURE },
		{ "float", K_FLOAT }, { "TimerHandle", K_TIMER },
		{ "collections.deque", K_DEQUE },
		{ "uvloop.loop.TimerHandle", K_UVTIMER },
		{ "function", K_FUNC }, { "functools.partial", K_PARTIAL },
		{ "tuple", K_TUPLE }, { "_RunningLoopHolder", K_HOLDER },
		{ "NoneType", K_NONE },
	};
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
		if (strcmp(n, k[i].name) == 0)
			return k[i].kind;
	return K_OTHER;
}

static const struct aio_type *type_info(aio_reader *a, uint64_t type)
{
	static const struct aio_type none = { 0, K_OTHER, NULL, 0, 0, 0, 0, -1 };
	if (!type)
		return &none;
	size_t h = (size_t)((type >> 4) * 0x9e3779b97f4a7c15ull >> 56) &
		   (TYPE_CACHE - 1);
	struct aio_type *e = &a->types[h];
	if (e->addr == type)
		return e;
	uint8_t buf[TYPE_READ];
	if (rd(a, type, buf, sizeof buf) != LP_OK)
		return &none;
	struct aio_type t = { type, K_OTHER, NULL, w64(buf, TP_FLAGS),
			      (int64_t)w64(buf, TP_DICTOFFSET),
			      (int64_t)w64(buf, TP_BASICSIZE), 0, 0 };
	t.cached_keys = a->A->ht_cached_keys ?
			rd64(a, type + a->A->ht_cached_keys) : 0;
	/* A subclass of a Task is a task: walk tp_base a few levels.  The
	 * pure-Python Task (asyncio/tasks.py) is named "Task" and derives
	 * from the pure-Python "Future". */
	uint64_t ty = type;
	char prev[64] = "";
	for (int depth = 0; depth < 8 && ty; depth++) {
		char name[64] = "";
		uint64_t np = depth == 0 ? w64(buf, TP_NAME) : rd64(a, ty + TP_NAME);
		if (!np || rd(a, np, name, sizeof name - 1) != LP_OK)
			break;
		name[sizeof name - 1] = '\0';
		int k = kind_of_name(name);
		/* str and int: the interpreter's own static types only (a
		 * class named "str" is not one), at one address each */
		if (k == K_FLOAT && (depth > 0 || (t.flags & TPF_HEAPTYPE)))
			k = K_OTHER;
		if (k == K_STR || k == K_INT) {
			uint64_t want = k == K_STR ? TPF_UNICODE_SUBCLASS :
						     TPF_LONG_SUBCLASS;
			uint64_t *known = k == K_STR ? &a->str_type :
						       &a->int_type;
			if (depth > 0 || (t.flags & TPF_HEAPTYPE) ||
			    !(t.flags & want) || (*known && *known != type))
				k = K_OTHER;
			else
				*known = type;
		}
		if (depth == 0) {
			t.kind = k;
			t.name = py_proc_intern(a->py, name);
		}
		if (k == K_CTASK) {
			t.kind = K_CTASK;
			break;
		}
		if (strcmp(name, "Future") == 0 && strcmp(prev, "Task") == 0) {
			t.kind = K_PYTASK;
			break;
		}
		if (depth > 0 && k == K_GATHER)
			t.kind = K_GATHER;
		snprintf(prev, sizeof prev, "%s", name);
		ty = depth == 0 ? w64(buf, TP_BASE) : rd64(a, ty + TP_BASE);
	}
	*e = t;
	return e;
}

static const struct aio_type *obj_type(aio_reader *a, uint64_t obj)
{
	return type_info(a, obj ? rd64(a, obj + 8) : 0);
}

/* ---- dicts ---- */

/* struct dict_view: python/pyobj.h */

/* Bytes of a dict keys object's header read (past every field a layout
 * names: dk_indices is 40 at most in every 3.x). */
#define KEYS_HEAD 64

/* Reads the entries of a dict keys object (Objects/dict-common.h up to
 * 3.10, Include/internal/pycore_dict.h from 3.11), laid out as the
 * layout's object facts say. */
static int keys_view(aio_reader *a, uint64_t keys, struct dict_view *v)
{
	const struct aio_objects *O = &a->A->obj;
	uint8_t h[KEYS_HEAD];
	memset(v, 0, sizeof *v);
	if (O->dk_indices > sizeof h || O->dk_nentries + 8 > O->dk_indices ||
	    O->dk_size + 8 > O->dk_indices ||
	    O->dk_log2_index_bytes >= O->dk_indices ||
	    O->dk_kind >= O->dk_indices ||
	    (!O->dk_size && !O->dk_log2_index_bytes))
		return LP_EFORMAT;
	if (rd(a, keys, h, O->dk_indices) != LP_OK)
		return LP_EFAULT;
	uint64_t start = keys + O->dk_indices;
	int64_t n = (int64_t)w64(h, O->dk_nentries);
	if (O->dk_size) {
		/* the slot count; indices as wide as it needs */
		int64_t size = (int64_t)w64(h, O->dk_size);
		if (size <= 0 || size > 4 * MAX_PY_DICT_ENTRIES)
			return LP_EFORMAT;
		unsigned ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
		start += (uint64_t)size * ix;
	} else {
		unsigned log2_ix = h[O->dk_log2_index_bytes];
		if (log2_ix > 24)
			return LP_EFORMAT;
		start += 1ull << log2_ix;
	}
	/* dk_kind (3.11+): 0 general entries, 1 str keys, 2 split */
	unsigned kind = O->dk_kind ? h[O->dk_kind] : 0;
	if (kind > 2)
		return LP_EFORMAT;
	const struct aio_dk_entry *en = kind ? &O->dk_unicode : &O->dk_general;
	if (en->size < 16 || en->size > 32 || en->key + 8 > en->size ||
	    en->value + 8 > en->size)
		return LP_EFORMAT;
	v->esize = en->size, v->koff = en->key, v->voff = en->value;
	if (n < 0 || n > MAX_PY_DICT_ENTRIES)
		return LP_EFORMAT;
	v->n = (size_t)n;
	if (!n)
		return LP_OK;
	v->entries = malloc(v->n * v->esize);
	if (!v->entries)
		return LP_ENOMEM;
	if (rd(a, start, v->entries, v->n * v->esize) != LP_OK) {
		free(v->entries);
		v->entries = NULL;
		return LP_EFAULT;
	}
	return LP_OK;
}

/* The address of value i of a split dict's values array. */
static uint64_t split_value_addr(const aio_reader *a, uint64_t values, size_t i)
{
	/* 3.13 puts capacity/size/embedded/valid bytes before the values
	 * (struct _dictvalues in pycore_dict.h): values_pre */
	return values + a->A->obj.values_pre + 8 * i;
}

uint64_t entry_value(aio_reader *a, const struct dict_view *v, size_t i)
{
	if (v->values)
		return rd64(a, split_value_addr(a, v->values, i));
	return w64(v->entries + i * v->esize, v->voff);
}

int dict_view(aio_reader *a, uint64_t dict, struct dict_view *v)
{
	const struct aio_objects *O = &a->A->obj;
	uint8_t h[64];
	memset(v, 0, sizeof *v);
	/* PyDictObject: ma_keys, ma_values (32 and 40 in every 3.x) */
	if (O->dict_keys + 8 > sizeof h || O->dict_values + 8 > sizeof h)
		return LP_EFORMAT;
	size_t len = (O->dict_keys > O->dict_values ? O->dict_keys :
						      O->dict_values) + 8;
	if (rd(a, dict, h, len) != LP_OK)
		return LP_EFAULT;
	int rc = keys_view(a, w64(h, O->dict_keys), v);
	v->values = w64(h, O->dict_values);
	return rc;
}

/* Index of the entry whose key is the str name, or -1. */
static long view_find(aio_reader *a, const struct dict_view *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++) {
		uint64_t k = w64(v->entries + i * v->esize, v->koff);
		if (!k)
			continue;
		const char *s = py_proc_str(a->py, k);
		if (s && strcmp(s, name) == 0)
			return (long)i;
	}
	return -1;
}

uint64_t dict_get(aio_reader *a, uint64_t dict, const char *name)
{
	struct dict_view v;
	if (dict_view(a, dict, &v) != LP_OK)
		return 0;
	long i = view_find(a, &v, name);
	uint64_t r = i >= 0 ? entry_value(a, &v, (size_t)i) : 0;
	free(v.entries);
	return r;
}

/* An instance attribute found in the object's own dict (not on its
 * class), or 0. */
uint64_t obj_attr(aio_reader *a, uint64_t obj, const char *name)
{
	const struct aio_type *t = obj_type(a, obj);
	const struct aio_objects *O = &a->A->obj;
	uint64_t dict = 0, values = 0;
	if (O->values_kind != PY_VALUES_NONE && (t->flags & TPF_MANAGED_DICT)) {
		/* The pre-header before the object (Include/internal/
		 * pycore_object.h): 3.11 dict at -3 words, values at -4;
		 * 3.12 one word at -3, odd for values; 3.13
		 * the dict at -3, values inline after the object. */
		if (!O->managed_dict || O->managed_dict > 64 || obj < 64)
			return 0;
		uint64_t w = rd64(a, obj - O->managed_dict);
		switch (O->values_kind) {
		case PY_VALUES_PTR:
			dict = w;
			values = dict || !O->managed_values ||
				 O->managed_values > 64 ? 0 :
				 rd64(a, obj - O->managed_values);
			break;
		case PY_VALUES_TAGGED:
			/* _PyDictOrValues_SetValues stores values - 1 */
			if (w & 1)
				values = w + 1;
			else
				dict = w;
			break;
		case PY_VALUES_INLINE:
			dict = w;
			if (!dict && (t->flags & TPF_INLINE_VALUES) &&
			    t->basicsize > 0)
				values = obj + (uint64_t)t->basicsize;
			break;
		default:
			return 0;
		}
	} else if (t->dictoffset > 0 && t->dictoffset < 4096) {
		dict = rd64(a, obj + (uint64_t)t->dictoffset);
	}
	if (dict)
		return dict_get(a, dict, name);
	if (!values || !t->cached_keys)
		return 0;
	struct dict_view v;
	if (keys_view(a, t->cached_keys, &v) != LP_OK)
		return 0;
	long i = view_find(a, &v, name);
	free(v.entries);
	return i >= 0 ? rd64(a, split_value_addr(a, values, (size_t)i)) : 0;
}

/* ---- small objects ---- */

/* A small non-negative int (3.12 keeps unnamed tasks' names as the
 * counter until get_name(): Modules/_asynciomodule.c). */
bool read_small_int(aio_reader *a, uint64_t obj, uint64_t *out)
{
	const struct aio_objects *O = &a->A->obj;
	uint8_t b[64];
	if (O->long_size + 8 > sizeof b || O->long_digit + 8 > sizeof b ||
	    rd(a, obj, b, O->long_digit + 8) != LP_OK)
		return false;
	uint64_t tag = w64(b, O->long_size);
	/* 3.12+: lv_tag = ndigits << 3 | sign; before, ob_size = ndigits */
	int64_t nd = O->long_tagged ? (int64_t)(tag >> 3) : (int64_t)tag;
	if (O->long_tagged && (tag & 3) == 2)
		return false;	/* negative */
	if (nd < 0 || nd > 2)
		return false;
	uint32_t d0 = GET_MEMBER(uint32_t, b, O->long_digit),
		 d1 = GET_MEMBER(uint32_t, b, O->long_digit + 4);
	*out = nd == 0 ? 0 : nd == 1 ? d0 : d0 + ((uint64_t)d1 << 30);
	return true;
}

/* A task's name: its str object read now, in one read with its header
 * (never a copy read before the task was), or 3.12's lazy counter.  The
 * caller then checks that the task still holds obj (read_tasks). */
const char *read_name(aio_reader *a, uint64_t obj)
{
	uint8_t b[NAME_READ];
	size_t got = sizeof b;
	if (rd(a, obj, b, got) != LP_OK &&
	    rd(a, obj, b, got = 64) != LP_OK)	/* near a mapping's end */
		return NULL;
	const struct aio_type *t = type_info(a, w64(b, 8));
	if (t->kind == K_STR) {
		const char *s = py_proc_str_from_copy(a->py, b, got);
		if (s)
			return s;
		/* longer than the first read: once more, whole */
		const struct py_layout *L = &a->py->L;
		int64_t len = GET_MEMBER(int64_t, b, L->uni_len);
		if (len <= 0 || len > MAX_STRING_LEN)
			return NULL;
		size_t need = L->uni_compact_size + 4 * (size_t)len;
		uint8_t *big = malloc(need);
		if (!big)
			return NULL;
		s = rd(a, obj, big, need) == LP_OK &&
		    w64(big, 8) == a->str_type ?
			py_proc_str_from_copy(a->py, big, need) : NULL;
		free(big);
		return s;
	}
	uint64_t v;
	if (t->kind == K_INT && read_small_int(a, obj, &v)) {
		char buf[32];
		snprintf(buf, sizeof buf, "Task-%llu", (unsigned long long)v);
		return py_proc_intern(a->py, buf);
	}
	return NULL;
}

/* ---- await chains ---- */

/* Address of the top of the value stack of a suspended frame (copy fp of
 * the frame at addr), 0 when empty or implausible. */
static uint64_t stack_top(const aio_reader *a, uint64_t addr, const uint8_t *fp)
{
	const struct aio_layout *A = a->A;
	if (A->stack_kind == PY_STACK_TOP_PTR) {
		uint64_t p = w64(fp, A->fr_stack);
		uint64_t d = 8 * (uint64_t)(A->yf_depth > 0 ? A->yf_depth : 1);
		return p > d ? p - d : 0;
	}
	int32_t d = GET_MEMBER(int32_t, fp, A->fr_depth);
	if (d <= 0 || d > 4096)
		return 0;
	uint64_t base = A->stack_kind == PY_STACK_BASE_DEPTH ?
				w64(fp, A->fr_stack) : addr + A->fr_stack;
	return base ? base + 8 * (uint64_t)(d - 1) : 0;
}

/* One await chain being followed (read_chains). */
struct chain {
	uint64_t obj;		/* the next coroutine or future, 0: ended */
	uint64_t last;		/* the innermost coroutine / generator */
	uint64_t leaf;		/* what it awaits that is none (a future) */
	size_t n, hops;
	bool trunc;
	struct py_frame frames[MAX_AWAIT_DEPTH];
};

/* Bytes read per await level: the object's header with, from 3.11, the
 * frame embedded in it (gi_iframe); up to 3.10 the header holds the
 * gi_frame pointer and the frame is a second read. */
static size_t level_len(const struct aio_layout *A)
{
	return A->gen_iframe ? A->gen_iframe + FRAME_READ : A->gen_frame + 8;
}

/* Bytes of an object's header that a level needs at least: ob_type and
 * the one pointer after it that an async generator's asend / athrow
 * awaitable (ags_gen, agt_gen) and 3.6's coroutine_wrapper (cw_coroutine)
 * hold (Objects/genobject.c, every 3.x). */
#define HOP_READ 24

/* One level of one chain from the bytes of its object (got of them: all
 * of level_len, else HOP_READ or the 16-byte header only). */
static void chain_step(aio_reader *a, struct chain *c, uint8_t *buf,
		       size_t got)
{
	const struct aio_layout *A = a->A;
	bool whole = got >= level_len(A);
	int k = type_info(a, w64(buf, 8))->kind;	/* ob_type */
	if (k == K_ASEND || k == K_ATHROW || k == K_CWRAP) {
		/* `async for`, `anext()`, `athrow()`, `aclose()`: through to
		 * the async generator, whose frame is the next level */
		c->obj = got >= HOP_READ ? w64(buf, 16) : 0;
		if (!c->obj || ++c->hops > MAX_AWAIT_DEPTH) {
			c->trunc = true;
			c->obj = 0;
		}
		return;
	}
	if (k != K_CORO && k != K_GEN && k != K_AGEN) {
		c->leaf = c->obj;	/* a future, a FutureIter: the end */
		c->obj = 0;
		return;
	}
	uint64_t fr = A->gen_iframe ? c->obj + A->gen_iframe :
				      w64(buf, A->gen_frame);
	const uint8_t *fp = buf + (A->gen_iframe ? A->gen_iframe : 0);
	if (!whole || (!A->gen_iframe &&
		       (!fr || rd(a, fr, buf, FRAME_READ) != LP_OK)) ||
	    py_proc_frame_from_copy(a->py, fp, &c->frames[c->n]) != LP_OK) {
		c->trunc = c->n > 0;
		c->obj = 0;
		return;
	}
	c->last = c->obj;
	c->n++;
	uint64_t top = stack_top(a, fr, fp);
	/* the value stack lies in the frame (3.11+: localsplus; before,
	 * the frame object's f_localsplus): usually inside the copy */
	uint64_t obj;
	if (top >= fr && top - fr <= FRAME_READ - 8)
		obj = w64(fp, (size_t)(top - fr));
	else
		obj = top ? rd64(a, top) : 0;
	if (A->tagged_stack)
		obj &= ~(uint64_t)3;	/* _PyStackRef tag bits */
	c->obj = obj;
	if (obj && c->n == MAX_AWAIT_DEPTH) {
		c->trunc = true;
		c->obj = 0;
	}
}

/* Follows m chains from their coroutines down their awaits, breadth
 * first: one vectored read per level for all of them.  A read that fails
 * in a batch is redone alone (a small future near a mapping's end gets
 * its header alone).  Levels: MAX_AWAIT_DEPTH frames and as many hops
 * through async generator awaitables. */
static void read_chains(aio_reader *a, struct chain *cs, size_t m)
{
	size_t len = level_len(a->A);
	if (len > CHAIN_BUF)
		return;
	for (size_t depth = 0; depth <= 2 * MAX_AWAIT_DEPTH + 1; depth++) {
		size_t niov = 0;
		for (size_t i = 0; i < m; i++)
			if (cs[i].obj) {
				a->chain_iov[niov] = (struct remote_iov){
					cs[i].obj, a->chain_buf + i * CHAIN_BUF, len };
				a->chain_of[niov++] = i;
			}
		if (!niov)
			return;
		int rc = mem_readv(a->py->reader, a->chain_iov, niov);
		if (rc == LP_ENOPROC || rc == LP_EPERM) {
			a->py->gone = rc;
			return;
		}
		for (size_t k = 0; k < niov; k++) {
			struct chain *c = &cs[a->chain_of[k]];
			uint8_t *buf = a->chain_iov[k].local;
			size_t got = rc == LP_OK ||
				     rd(a, c->obj, buf, len) == LP_OK ? len :
				     rd(a, c->obj, buf, HOP_READ) == LP_OK ?
				     HOP_READ : 16;
			if (got == 16 && rd(a, c->obj, buf, 16) != LP_OK) {
				c->trunc = c->n > 0;
				c->obj = 0;
				continue;
			}
			chain_step(a, c, buf, got);
		}
	}
	for (size_t i = 0; i < m; i++)
		if (cs[i].obj) {	/* levels ran out */
			cs[i].trunc = true;
			cs[i].obj = 0;
		}
}

/* ---- what a task waits for ---- */

/* Slots (locals, then the value stack) of a suspended frame read to find
 * what it waits on: asyncio's own functions have a handful. */
#define WAIT_SLOTS 16

/* The first slots of the frame of the suspended coroutine / generator
 * gen (tag bits cleared); how many were read. */
static size_t frame_slots(aio_reader *a, uint64_t gen, uint64_t *out)
{
	const struct aio_layout *A = a->A;
	uint64_t base, end;
	if (A->gen_iframe && A->stack_kind == PY_STACK_LOCALS_INDEX) {
		/* 3.11-3.13: localsplus, then stacktop slots in use */
		uint64_t fr = gen + A->gen_iframe;
		int32_t d = 0;
		if (rd(a, fr + A->fr_depth, &d, 4) != LP_OK || d <= 0 ||
		    d > 4096)
			return 0;
		base = fr + A->fr_stack;
		end = base + 8 * (uint64_t)d;
	} else if (A->gen_iframe) {
		/* 3.14+: localsplus up to the saved stack pointer */
		uint64_t fr = gen + A->gen_iframe;
		if (!A->fr_locals)
			return 0;
		base = fr + A->fr_locals;
		end = rd64(a, fr + A->fr_stack);
	} else {
		/* up to 3.10: the frame object's f_localsplus ends it (the
		 * type's basicsize counts its first item: frameobject.c),
		 * up to f_stacktop (<= 3.9) or f_valuestack + f_stackdepth */
		uint64_t fr = rd64(a, gen + A->gen_frame);
		const struct aio_type *ft = obj_type(a, fr);
		if (!fr || ft->basicsize < 80 || ft->basicsize > 1024 ||
		    !ft->name || strcmp(ft->name, "frame") != 0)
			return 0;
		base = fr + (uint64_t)ft->basicsize - 8;
		if (A->stack_kind == PY_STACK_TOP_PTR) {
			end = rd64(a, fr + A->fr_stack);
		} else {
			int32_t d = 0;
			if (rd(a, fr + A->fr_depth, &d, 4) != LP_OK || d < 0 ||
			    d > 4096)
				return 0;
			end = rd64(a, fr + A->fr_stack) + 8 * (uint64_t)d;
		}
	}
	if (end <= base || end - base > 8 * 65536)
		return 0;
	size_t n = (size_t)((end - base) / 8);
	if (n > WAIT_SLOTS)
		n = WAIT_SLOTS;
	if (rd(a, base, out, 8 * n) != LP_OK)
		return 0;
	for (size_t i = 0; A->tagged_stack && i < n; i++)
		out[i] &= ~(uint64_t)3;	/* _PyStackRef tag bits */
	return n;
}

/* Whether the class of obj or one of its bases (8 levels) is named one
 * of names[] (NULL-terminated); which one, or NULL. */
static const char *class_is(aio_reader *a, uint64_t obj,
			    const char *const *names)
{
	uint64_t ty = obj ? rd64(a, obj + 8) : 0;
	for (int d = 0; d < 8 && ty; d++) {
		const struct aio_type *t = type_info(a, ty);
		for (size_t i = 0; t->name && names[i]; i++)
			if (strcmp(t->name, names[i]) == 0)
				return names[i];
		ty = rd64(a, ty + TP_BASE);
	}
	return NULL;
}

/* The offset of a __slots__ attribute in objects of type ty (asyncio's
 * Handle classes have no dict): the member descriptor in its class's
 * dict or a base's gives it (PyMemberDescrObject.d_member at 40,
 * PyMemberDef.offset at 16: Include/descrobject.h, every 3.x).  -1 when
 * there is none. */
static int64_t slot_offset(aio_reader *a, uint64_t ty, const char *name)
{
	int64_t size = type_info(a, ty)->basicsize;
	for (int d = 0; d < 8 && ty; d++) {
		uint64_t dict = rd64(a, ty + TP_DICT);
		uint64_t desc = dict ? dict_get(a, dict, name) : 0;
		const struct aio_type *dt = obj_type(a, desc);
		if (desc && dt->name &&
		    strcmp(dt->name, "member_descriptor") == 0) {
			uint64_t def = rd64(a, desc + 40);
			int64_t off = def ? (int64_t)rd64(a, def + 16) : 0;
			return off >= 16 && off + 8 <= size ? off : -1;
		}
		ty = rd64(a, ty + TP_BASE);
	}
	return -1;
}

/* A TimerHandle's _when object (its offset looked up once per type). */
static uint64_t timer_when(aio_reader *a, uint64_t obj)
{
	uint64_t ty = rd64(a, obj + 8);
	const struct aio_type *ct = ty ? type_info(a, ty) : NULL;
	if (!ct || ct->addr != ty)
		return 0;	/* not cached: an unreadable type */
	struct aio_type *t = &a->types[ct - a->types];
	if (!t->when_off)
		t->when_off = slot_offset(a, ty, "_when");
	return t->when_off > 0 ? rd64(a, obj + (uint64_t)t->when_off) : 0;
}

/* A float's value, or an int's; NAN for anything else. */
static double read_number(aio_reader *a, uint64_t obj)
{
	uint8_t b[24];
	uint64_t v;
	if (rd(a, obj, b, sizeof b) != LP_OK)
		return NAN;
	int k = type_info(a, w64(b, 8))->kind;
	if (k == K_FLOAT) {
		double d = GET_MEMBER(double, b, 16);	/* ob_fval */
		return isfinite(d) ? d : NAN;
	}
	if (k == K_INT && read_small_int(a, obj, &v))
		return (double)v;
	return NAN;
}

/* len() of a list or a collections.deque (ob_size at 16 in both:
 * PyObject_VAR_HEAD), -1 for anything else. */
static int64_t read_len(aio_reader *a, uint64_t obj)
{
	int k = obj_type(a, obj)->kind;
	int64_t n = (int64_t)(k == K_LIST || k == K_DEQUE ? rd64(a, obj + 16) :
			      (uint64_t)-1);
	return n >= 0 && n <= (1ll << 40) ? n : -1;
}

/* uvloop's TimerHandle keeps _when (loop.time() at the end: libuv's
 * CLOCK_MONOTONIC milliseconds / 1e3) in a C field of its own; it is the
 * one float the object holds (uvloop/cbhandles.pxd: callback, args,
 * timer, loop, context, _debug_info, _when), so the word that points to
 * a float is it.  0 when none does. */
static uint64_t uv_when(aio_reader *a, uint64_t obj)
{
	uint64_t w[16];
	int64_t size = obj_type(a, obj)->basicsize;
	size_t n = size > 16 && size <= (int64_t)sizeof w ? (size_t)size / 8 :
		   sizeof w / 8;
	if (rd(a, obj, w, 8 * n) != LP_OK)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (w[i] && !(w[i] & 7) && obj_type(a, w[i])->kind == K_FLOAT)
			return w[i];
	return 0;
}

/* Whether file is asyncio's module mod ("queues.py"). */
static bool asyncio_file(const char *file, const char *mod)
{
	size_t lf = file ? strlen(file) : 0, lm = strlen(mod);
	return lf > lm + 8 && strcmp(file + lf - lm, mod) == 0 &&
	       strncmp(file + lf - lm - 8, "asyncio/", 8) == 0;
}

/* The object a future-like leaf stands for: a FutureIter's future. */
static void wait_on_object(aio_reader *a, struct aio_wait *w, uint64_t obj)
{
	int k = obj_type(a, obj)->kind;
	if (k == K_FUTITER) {
		obj = rd64(a, obj + a->A->futiter_future);
		k = obj_type(a, obj)->kind;
	}
	w->obj = obj;
	w->type = obj_type(a, obj)->name;
	w->kind = k == K_CTASK || k == K_PYTASK ? AIO_WAIT_TASK :
		  k == K_GATHER ? AIO_WAIT_GATHER :
		  k == K_FUTURE ? AIO_WAIT_FUTURE : AIO_WAIT_NONE;
	if (!w->kind)
		w->obj = 0, w->type = NULL;
}

/* What a task suspended in frame f (the innermost of its chain, the
 * frame of the coroutine or generator last) waits for, leaf being what
 * that frame awaits (a future, 0 when not read): asyncio's own
 * functions are known by name and module and their self (or the
 * TimerHandle of a sleep) read, else the leaf says it.  Read in full
 * updates only. */
static void read_wait(aio_reader *a, struct aio_wait *w,
		      const struct py_frame *f, uint64_t last, uint64_t leaf)
{
	static const char *const queue[] = { "Queue", NULL };
	static const char *const cond[] = { "Condition", NULL };
	static const char *const sem[] = { "Semaphore", NULL };
	static const char *const lock[] = { "Lock", NULL };
	static const char *const event[] = { "Event", NULL };
	static const char *const sock[] = { "_socket.socket", NULL };
	*w = (struct aio_wait){ .items = -1, .maxsize = -1, .left = NAN,
				.delay = NAN, .fd = -1 };
	const char *fn = f && f->func ? f->func : "";
	const char *dot = strrchr(fn, '.');
	fn = dot ? dot + 1 : fn;	/* 3.11+ names by qualname */
	uint64_t sl[WAIT_SLOTS], ty[WAIT_SLOTS];
	size_t n = f && last ? frame_slots(a, last, sl) : 0;
	uint64_t self = n ? sl[0] : 0;
	/* the slots' types in one read */
	struct remote_iov iov[WAIT_SLOTS];
	size_t niov = 0;
	for (size_t i = 0; i < n; i++) {
		ty[i] = 0;
		if (sl[i] && !(sl[i] & 7))
			iov[niov++] = (struct remote_iov){ sl[i] + 8, &ty[i], 8 };
	}
	if (niov && mem_readv(a->py->reader, iov, niov) != LP_OK)
		for (size_t i = 0; i < n; i++)
			ty[i] = sl[i] ? rd64(a, sl[i] + 8) : 0;
	if (n && asyncio_file(f->file, "tasks.py") &&
	    strcmp(fn, "sleep") == 0) {
		/* async def sleep(delay, result=None): h = loop.call_later(
		 * delay, ...): the TimerHandle's _when is loop.time() at
		 * the end (asyncio/events.py; uvloop's has none) */
		w->kind = AIO_WAIT_SLEEP;
		w->delay = read_number(a, sl[0]);
		for (size_t i = 1; i < n; i++) {
			int k = type_info(a, ty[i])->kind;
			if (k != K_TIMER && k != K_UVTIMER)
				continue;
			double when = read_number(a, k == K_TIMER ?
				timer_when(a, sl[i]) : uv_when(a, sl[i]));
			/* the target's clock, read once per update */
			if (!a->now_ns && a->py->target &&
			    target_monotonic_ns(a->py->target, &a->now_ns) != LP_OK)
				a->now_ns = 0;
			if (!isnan(when) && a->now_ns)
				w->left = when - (double)a->now_ns / 1e9;
			break;
		}
		return;
	}
	if (n && asyncio_file(f->file, "tasks.py") &&
	    strcmp(fn, "wait_for") == 0) {
		/* the task wait_for made of what it was given (local fut) */
		for (size_t i = 0; i < n; i++) {
			int k = type_info(a, ty[i])->kind;
			if (k == K_CTASK || k == K_PYTASK) {
				wait_on_object(a, w, sl[i]);
				return;
			}
		}
	}
	if (n && asyncio_file(f->file, "queues.py") && class_is(a, self, queue) &&
	    (strcmp(fn, "get") == 0 || strcmp(fn, "put") == 0)) {
		w->kind = fn[0] == 'g' ? AIO_WAIT_QUEUE_GET : AIO_WAIT_QUEUE_PUT;
		w->obj = self;
		w->type = obj_type(a, self)->name;
		w->items = read_len(a, obj_attr(a, self, "_queue"));
		double m = read_number(a, obj_attr(a, self, "_maxsize"));
		w->maxsize = isnan(m) ? -1 : (int64_t)m;
		return;
	}
	if (n && asyncio_file(f->file, "locks.py")) {
		int k = strcmp(fn, "wait") == 0 ?
			(class_is(a, self, cond) ? AIO_WAIT_CONDITION :
			 class_is(a, self, event) ? AIO_WAIT_EVENT : 0) :
			strcmp(fn, "acquire") == 0 ?
			(class_is(a, self, sem) ? AIO_WAIT_SEMAPHORE :
			 class_is(a, self, lock) ? AIO_WAIT_LOCK : 0) : 0;
		if (k) {
			w->kind = k;
			w->obj = self;
			w->type = obj_type(a, self)->name;
			if (k == AIO_WAIT_SEMAPHORE) {
				double v = read_number(a, obj_attr(a, self, "_value"));
				w->items = isnan(v) ? -1 : (int64_t)v;
			}
			return;
		}
	}
	if (n >= 2 && asyncio_file(f->file, "selector_events.py") &&
	    strncmp(fn, "sock_", 5) == 0 && class_is(a, sl[1], sock)) {
		/* loop.sock_recv(sock, n) and friends: PySocketSockObject's
		 * sock_fd, an int after the header (Modules/socketmodule.h) */
		int32_t fd = -1;
		w->kind = AIO_WAIT_SOCKET;
		w->what = py_proc_intern(a->py, fn);
		w->obj = sl[1];
		if (rd(a, sl[1] + 16, &fd, 4) == LP_OK && fd >= 0)
			w->fd = fd;
		return;
	}
	if (n && asyncio_file(f->file, "streams.py") &&
	    strcmp(fn, "_wait_for_data") == 0) {
		/* StreamReader._wait_for_data: its transport's _sock_fd
		 * (asyncio/selector_events.py _SelectorTransport) */
		uint64_t tr = obj_attr(a, self, "_transport");
		double fd = tr ? read_number(a, obj_attr(a, tr, "_sock_fd")) : NAN;
		w->kind = AIO_WAIT_SOCKET;
		w->what = py_proc_intern(a->py, "StreamReader.read");
		w->obj = self;
		w->fd = isnan(fd) ? -1 : (int)fd;
		return;
	}
	if (n && asyncio_file(f->file, "futures.py") &&
	    strcmp(fn, "__await__") == 0) {
		leaf = self;	/* the pure-Python Future's __await__ */
	}
	if (leaf)
		wait_on_object(a, w, leaf);
}

/* ---- roots ---- */

/* 3.6: _asyncio's static all_tasks (a WeakSet) and current_tasks (a
 * dict), by symbol (Modules/_asynciomodule.c of 3.6). */
static int find_roots_36(aio_reader *a, lp_error *err)
{
	uint64_t all_p, cur_p;
	if (aio_module_symbol(a->py, "all_tasks", &all_p) != LP_OK ||
	    aio_module_symbol(a->py, "current_tasks", &cur_p) != LP_OK)
		return lp_error_set(err, LP_EFORMAT, "the _asyncio module of "
				    "CPython %s has no all_tasks symbol "
				    "(stripped?)", a->py->version);
	uint64_t all = rd64(a, all_p);
	a->current = rd64(a, cur_p);
	a->sets[0] = all ? obj_attr(a, all, "data") : 0;
	a->weak[0] = true;
	a->sets[1] = 0;
	if (!a->sets[0] || !a->current)
		return lp_error_set(err, LP_EFORMAT, "_asyncio of CPython %s "
				    "has no readable task set", a->py->version);
	return LP_OK;
}

static int find_roots(aio_reader *a, lp_error *err)
{
	py_proc *py = a->py;
	a->roots_at = a->nupdate;
	a->sets[0] = a->sets[1] = a->current = 0;
	uint64_t interp = rd64(a, py->interp_head_addr);
	uint64_t modules = interp ? rd64(a, interp + a->A->is_modules) : 0;
	if (!modules)
		return LP_OK;	/* the interpreter is starting: later */
	struct dict_view v;
	if (dict_view(a, modules, &v) != LP_OK)
		return lp_error_set(err, LP_EFORMAT, "cannot read sys.modules");
	long im = view_find(a, &v, "asyncio.tasks");
	uint64_t mod = im >= 0 ? entry_value(a, &v, (size_t)im) : 0;
	free(v.entries);
	if (!mod)
		return LP_OK;	/* asyncio not imported (yet) */
	if (!a->A->set_all || !a->A->set_current)
		return find_roots_36(a, err);	/* 3.6: C statics */
	uint64_t md = rd64(a, mod + 16);	/* PyModuleObject.md_dict */
	if (!md || dict_view(a, md, &v) != LP_OK)
		return lp_error_set(err, LP_EFORMAT, "cannot read the globals "
				    "of asyncio.tasks");
	long iall = view_find(a, &v, a->A->set_all);
	long ieager = a->A->set_eager ? view_find(a, &v, a->A->set_eager) : -1;
	long icur = view_find(a, &v, a->A->set_current);
	uint64_t all = iall >= 0 ? entry_value(a, &v, (size_t)iall) : 0;
	uint64_t eager = ieager >= 0 ? entry_value(a, &v, (size_t)ieager) : 0;
	a->current = icur >= 0 ? entry_value(a, &v, (size_t)icur) : 0;
	free(v.entries);
	/* weakref.WeakSet keeps its weakrefs in the set self.data */
	a->sets[0] = all ? obj_attr(a, all, "data") : 0;
	a->weak[0] = true;
	a->sets[1] = eager;
	a->weak[1] = false;
	if (!a->sets[0] || !a->current)
		return lp_error_set(err, LP_EFORMAT, "asyncio.tasks has no "
				    "readable task set");
	return LP_OK;
}

/* A layout built from the process (3.14+) reads dicts and ints with the
 * object facts of its version's probe, or of the newest probed version
 * when it is newer than all (asyncio314.c): checked once on the process,
 * by reading sys.hexversion through sys.modules (dicts with str keys, a
 * module's, an int) and comparing it with the version word of
 * _Py_DebugOffsets.  LP_ENOTFOUND while sys is not imported yet. */
static int objects_validate(aio_reader *a, lp_error *err)
{
	py_proc *py = a->py;
	uint64_t interp = rd64(a, py->interp_head_addr);
	uint64_t modules = interp && a->A->is_modules ?
			   rd64(a, interp + a->A->is_modules) : 0;
	uint64_t sys = modules ? dict_get(a, modules, "sys") : 0;
	if (!sys)
		return LP_ENOTFOUND;
	uint64_t md = rd64(a, sys + 16);	/* PyModuleObject.md_dict */
	uint64_t hv = md ? dict_get(a, md, "hexversion") : 0, v = 0;
	uint64_t want = py->runtime ? rd64(a, py->runtime + 8) : 0;
	if (!hv || obj_type(a, hv)->kind != K_INT || !read_small_int(a, hv, &v) ||
	    !want || v != want)
		return lp_error_set(err, LP_EFORMAT, "CPython %s: dicts and "
				    "ints read with the probed object layout "
				    "do not give sys.hexversion; asyncio "
				    "tasks of this build cannot be read",
				    py->version);
	return LP_OK;
}

/* ---- the task list ---- */

static bool add_addr(aio_reader *a, uint64_t t)
{
	if (a->naddrs >= MAX_ASYNCIO_TASKS) {
		a->dropped++;
		return false;
	}
	a->addrs[a->naddrs++] = t;
	return true;
}

/* Appends the objects of set i (through its weakrefs for a WeakSet). */
static int read_set(aio_reader *a, int i, bool *changed)
{
	uint8_t h[48];
	if (!a->sets[i])
		return LP_OK;
	if (rd(a, a->sets[i], h, sizeof h) != LP_OK)
		return LP_EFAULT;
	/* PySetObject: fill 16, used 24, mask 32, table 40 (setobject.h) */
	uint64_t mask = w64(h, 32), table = w64(h, 40);
	if (mask + 1 > MAX_PY_SET_SLOTS || ((mask + 1) & mask))
		return LP_EFORMAT;
	size_t len = (size_t)(mask + 1) * 16;
	if (len != a->table_len[i]) {
		uint8_t *t = realloc(a->table[i], len);
		if (!t)
			return LP_ENOMEM;
		a->table[i] = t;
		a->table_len[i] = len;
		memset(t, 0, len);
		*changed = true;
	}
	if (len > a->scratch_len) {
		uint8_t *b = realloc(a->scratch, len);
		if (!b)
			return LP_ENOMEM;
		a->scratch = b;
		a->scratch_len = len;
	}
	if (rd(a, table, a->scratch, len) != LP_OK)
		return LP_EFAULT;
	if (memcmp(a->scratch, a->table[i], len) != 0) {
		memcpy(a->table[i], a->scratch, len);
		*changed = true;
	}
	return LP_OK;
}

/* Weakrefs of a WeakSet read per vectored read (below MAX_IOV). */
#define WEAKREF_BATCH 512

static int list_tasks(aio_reader *a)
{
	bool changed = a->naddrs == 0;
	for (int i = 0; i < 2; i++) {
		int rc = read_set(a, i, &changed);
		if (rc != LP_OK)
			return rc;
	}
	if (!changed)
		return LP_OK;
	a->naddrs = 0;
	a->dropped = 0;
	for (int i = 0; i < 2; i++) {
		if (!a->sets[i])
			continue;
		size_t slots = a->table_len[i] / 16;
		struct remote_iov iov[WEAKREF_BATCH];
		uint64_t got[WEAKREF_BATCH];
		size_t niov = 0;
		for (size_t s = 0; s <= slots; s++) {
			uint64_t key = s < slots ? w64(a->table[i], s * 16) : 0;
			/* a removed slot holds the dummy key: a weakref read
			 * of it gives a non-task, dropped below */
			if (key && !a->weak[i]) {
				add_addr(a, key);
			} else if (key) {
				/* PyWeakReference.wr_object at 16 */
				got[niov] = 0;
				iov[niov] = (struct remote_iov){ key + 16,
								 &got[niov], 8 };
				niov++;
			}
			if (niov == WEAKREF_BATCH || (s == slots && niov)) {
				if (mem_readv(a->py->reader, iov, niov) ==
				    LP_ENOPROC)
					return LP_ENOPROC;
				for (size_t k = 0; k < niov; k++)
					if (got[k])
						add_addr(a, got[k]);
				niov = 0;
			}
		}
	}
	return LP_OK;
}

/* ---- 3.14+: linked lists of tasks ---- */

/* Updates between the starts of two walks of the task lists, and list
 * nodes followed per update: a walk is one read per task (pointer
 * chasing), so it is spread over updates and its result replaces the
 * task list when it is complete; tasks created meanwhile show up at the
 * next walk. */
#define LIST_WALK_EVERY 8
#define LIST_WALK_BUDGET 128

/* Every thread state of the first interpreter: (tstate, tid) pairs. */
static size_t thread_states(aio_reader *a, uint64_t *ts, pid_t *tid, size_t max)
{
	const struct py_layout *L = &a->py->L;
	uint64_t interp = rd64(a, a->py->interp_head_addr);
	uint64_t t = interp ? rd64(a, interp + L->is_tstate_head) : 0;
	size_t n = 0;
	while (t && n < max) {
		uint64_t next = rd64(a, t + L->ts_next);
		ts[n] = t;
		tid[n++] = L->ts_native_tid ?
			(pid_t)rd64(a, t + L->ts_native_tid) : 0;
		if (next == t)
			break;
		t = next;
	}
	return n;
}

/* The head of list li of the walk: the threads', then the interpreter's
 * (tasks of threads that ended). */
static uint64_t walk_head(const aio_reader *a, size_t li)
{
	return li < a->walk.nts ? a->walk.ts[li] + a->A->ts_tasks_head :
				  a->walk.interp + a->A->is_tasks_head;
}

static int list_tasks_314(aio_reader *a, bool full)
{
	struct list_walk *w = &a->walk;
	if (!w->active) {
		if (a->naddrs && a->nupdate - a->listed_at < LIST_WALK_EVERY)
			return LP_OK;
		w->interp = rd64(a, a->py->interp_head_addr);
		if (!w->interp)
			return LP_OK;
		w->nts = thread_states(a, w->ts, w->tid, MAX_WALK_THREADS);
		w->li = 0;
		w->head = walk_head(a, 0);
		w->node = rd64(a, w->head);	/* llist_node.next */
		w->n = 0;
		w->steps = 0;
		w->active = true;
	}
	for (size_t budget = full ? SIZE_MAX : LIST_WALK_BUDGET; budget; budget--) {
		if (!w->node || w->node == w->head || w->n >= MAX_ASYNCIO_TASKS ||
		    w->steps++ > MAX_ASYNCIO_TASKS) {
			if (w->li++ >= w->nts)
				break;	/* the interpreter's list was the last */
			w->head = walk_head(a, w->li);
			w->node = rd64(a, w->head);
			w->steps = 0;
			continue;
		}
		w->addrs[w->n] = w->node - a->A->task_node;
		w->tids[w->n++] = w->li < w->nts ? w->tid[w->li] : 0;
		w->node = rd64(a, w->node);
	}
	if (a->py->gone)
		return a->py->gone;
	if (w->li <= w->nts)
		return LP_OK;	/* to be continued */
	memcpy(a->addrs, w->addrs, w->n * sizeof *a->addrs);
	memcpy(a->tids, w->tids, w->n * sizeof *a->tids);
	a->naddrs = w->n;
	a->dropped = 0;
	a->listed_at = a->nupdate;
	w->active = false;
	return LP_OK;
}

static void mark_running_314(aio_reader *a);

/* Room for n addresses in e->by (n <= MAX_TASK_AWAITERS); grown, never
 * shrunk, so that a task read again costs no allocation. */
static bool by_reserve(struct aio_entry *e, size_t n)
{
	if (n <= e->by_cap)
		return true;
	size_t cap = n < 4 ? 4 : n;
	uint64_t *b = realloc(e->by, cap * sizeof *b);
	if (!b)
		return false;
	e->by = b;
	e->by_cap = (uint32_t)cap;
	return true;
}

/* Set slots read per read when listing a set of awaiters. */
#define SET_CHUNK 64
/* Slots of an awaited_by set looked at: a set of MAX_TASK_AWAITERS tasks
 * has fewer (setobject.c keeps it at most 3/5 full); a larger set is
 * listed as far as these go. */
#define AWAITED_BY_SLOTS 1024

/* 3.14+: the tasks of task_awaited_by into e->by: one future, or a set
 * of them (Modules/_asynciomodule.c future_add_to_awaited_by); a set's
 * removed entries hold its dummy key, not a task, and are skipped. */
static void read_awaited_by(aio_reader *a, struct aio_entry *e, uint64_t by,
			    bool is_set)
{
	e->nby = 0;
	e->by_more = 0;
	if (!by)
		return;
	if (!is_set) {
		int k = obj_type(a, by)->kind;
		if ((k == K_CTASK || k == K_PYTASK) && by_reserve(e, 1))
			e->by[e->nby++] = by;
		return;
	}
	uint8_t h[48];
	if (rd(a, by, h, sizeof h) != LP_OK)
		return;
	/* PySetObject: used 24, mask 32, table 40 (Include/cpython/
	 * setobject.h) */
	uint64_t used = w64(h, 24), mask = w64(h, 32), table = w64(h, 40);
	if (mask + 1 > MAX_PY_SET_SLOTS || ((mask + 1) & mask))
		return;
	uint8_t slots[SET_CHUNK * 16];
	for (uint64_t i = 0; i <= mask && i < AWAITED_BY_SLOTS &&
	     e->nby < MAX_TASK_AWAITERS; i += SET_CHUNK) {
		size_t n = mask + 1 - i < SET_CHUNK ? (size_t)(mask + 1 - i) :
						      SET_CHUNK;
		if (rd(a, table + 16 * i, slots, 16 * n) != LP_OK)
			return;
		for (size_t k = 0; k < n && e->nby < MAX_TASK_AWAITERS; k++) {
			uint64_t key = w64(slots, 16 * k);
			int kind = key ? obj_type(a, key)->kind : K_OTHER;
			if ((kind == K_CTASK || kind == K_PYTASK) &&
			    by_reserve(e, e->nby + 1))
				e->by[e->nby++] = key;
		}
	}
	if (e->nby == MAX_TASK_AWAITERS && used > e->nby && used <= mask + 1)
		e->by_more = (uint32_t)(used - e->nby);
}

/* offsetof(PyFunctionObject, func_closure) (Include/cpython/
 * funcobject.h): after code, globals, defaults and kwdefaults up to 3.9;
 * 3.10 puts globals, builtins, name and qualname first. */
static uint64_t func_closure_off(int minor)
{
	return minor >= 10 ? 72 : 48;
}

/* Up to 3.13: what a task's first done callback holds that may be the
 * future a task awaiting it waits on, into e->by: the cells of a
 * function's closure (asyncio.wait's _on_completion holds `waiter`,
 * asyncio/tasks.py _wait) or a functools.partial's arguments (wait_for's
 * _release_waiter up to 3.11).  Only compared with futures tasks wait
 * on (link_tasks), never printed. */
static void read_callback_refs(aio_reader *a, struct aio_entry *e,
			       uint64_t cb, int kind)
{
	e->nby = 0;
	uint64_t tup = kind == K_FUNC ? rd64(a, cb + func_closure_off(a->A->minor)) :
		       rd64(a, cb + 24);	/* partialobject.args */
	uint8_t b[24 + 8 * MAX_CALLBACK_REFS];
	if (!tup || obj_type(a, tup)->kind != K_TUPLE ||
	    rd(a, tup, b, 24) != LP_OK)
		return;
	int64_t n = (int64_t)w64(b, 16);	/* ob_size */
	if (n <= 0)
		return;
	if (n > MAX_CALLBACK_REFS)
		n = MAX_CALLBACK_REFS;
	if (rd(a, tup + 24, b + 24, 8 * (size_t)n) != LP_OK ||
	    !by_reserve(e, (size_t)n))
		return;
	for (int64_t i = 0; i < n; i++) {
		uint64_t v = w64(b, 24 + 8 * (size_t)i);
		if (kind == K_FUNC && v)
			v = rd64(a, v + 16);	/* PyCellObject.ob_ref */
		if (v)
			e->by[e->nby++] = v;
	}
}

/* ---- entries ---- */

static void entry_clear(struct aio_entry *e)
{
	free(e->frames);
	free(e->children);
	free(e->by);
	e->frames = NULL;
	e->children = NULL;
	e->by = NULL;
	e->nchildren = 0;
	e->nby = e->by_cap = 0;
}

static size_t hash_addr(uint64_t addr)
{
	return (size_t)((addr >> 4) * 0x9e3779b97f4a7c15ull >> 40) &
	       (INDEX_SIZE - 1);
}

static void index_build(aio_reader *a, const struct aio_entry *e, size_t n)
{
	memset(a->index, 0, INDEX_SIZE * sizeof *a->index);
	for (size_t i = 0; i < n; i++) {
		size_t h = hash_addr(e[i].t.addr);
		for (size_t k = 0; k < INDEX_SIZE && a->index[h]; k++)
			h = (h + 1) & (INDEX_SIZE - 1);
		a->index[h] = (uint32_t)i + 1;
	}
}

static long index_find(const aio_reader *a, const struct aio_entry *e,
		       uint64_t addr)
{
	size_t h = hash_addr(addr);
	for (size_t k = 0; k < INDEX_SIZE && a->index[h]; k++) {
		uint32_t i = a->index[h] - 1;
		if (e[i].t.addr == addr)
			return (long)i;
		h = (h + 1) & (INDEX_SIZE - 1);
	}
	return -1;
}

/* A gather inside a gather is followed for its children (gather(
 * gather(a, b), c): a and b are awaited by the task awaiting the outer
 * one, as 3.14's gather records itself); so many nested gathers per task
 * at most, found among so many children looked at. */
#define MAX_NESTED_GATHERS 16
#define GATHER_CHILDREN_CHECKED 256

/* Appends the children of the gather future g (_GatheringFuture.
 * _children, asyncio/tasks.py) to e->children. */
static void gather_children(aio_reader *a, struct aio_entry *e, uint64_t g)
{
	uint64_t list = obj_attr(a, g, "_children");
	uint8_t h[32];
	if (!list || obj_type(a, list)->kind != K_LIST ||
	    rd(a, list, h, sizeof h) != LP_OK)
		return;
	int64_t n = (int64_t)w64(h, 16);	/* ob_size */
	if (n <= 0 || n > MAX_PY_DICT_ENTRIES ||
	    e->nchildren + (size_t)n > MAX_PY_DICT_ENTRIES)
		return;
	uint64_t *c = realloc(e->children, (e->nchildren + (size_t)n) * 8);
	if (!c)
		return;
	e->children = c;
	if (rd(a, w64(h, 24), c + e->nchildren, (size_t)n * 8) == LP_OK)
		e->nchildren += (size_t)n;
}

/* What the task waits on: a task, or a gather future and its children
 * (nested gathers flattened), kept in e so that linking needs no
 * reads. */
static void read_waiter(aio_reader *a, struct aio_entry *e, uint64_t prev)
{
	/* a task parked on one future keeps it: nothing to read again
	 * (a gather's children are fixed when it is created) */
	if (e->waiter && e->waiter == prev)
		return;
	free(e->children);
	e->children = NULL;
	e->nchildren = 0;
	e->waiter_kind = e->waiter ? obj_type(a, e->waiter)->kind : K_OTHER;
	if (e->waiter_kind != K_GATHER)
		return;
	gather_children(a, e, e->waiter);
	size_t nested = 0;
	for (size_t i = 0; i < e->nchildren && i < GATHER_CHILDREN_CHECKED &&
	     nested < MAX_NESTED_GATHERS; i++) {
		uint64_t c = e->children[i];
		if (!c || obj_type(a, c)->kind != K_GATHER)
			continue;
		e->children[i] = 0;	/* not a task: its children instead */
		nested++;
		gather_children(a, e, c);
	}
}

/* Reads one task object and its chain into e. */
/* What read_task_fields found that read_task_finish needs. */
struct task_read {
	uint64_t name_obj, cb, prev_waiter;
	uint64_t type, prev_coro;	/* ob_type read; the coroutine the
					 * entry had before (0: none) */
};

/* Reads a task's fields from the copy b (len bytes: all of the task, or
 * its 16-byte header when the rest was unreadable); clears e->t.addr when
 * it is not a task. */
static void read_task_fields(aio_reader *a, struct aio_entry *e,
			     const uint8_t *b, size_t len, struct task_read *r)
{
	const struct aio_layout *A = a->A;
	r->name_obj = r->cb = 0;
	r->prev_waiter = e->read_at ? e->waiter : 0;
	r->prev_coro = e->t.nframes || e->name_obj ? e->coro : 0;
	r->type = e->type = w64(b, 8);
	e->read_at = a->nupdate;
	const struct aio_type *t = type_info(a, r->type);
	if (t->kind == K_CTASK && len < task_len(A)) {
		e->t.addr = 0;	/* a C task cut short: unreadable */
		return;
	}
	if (t->kind == K_CTASK && A->lists) {
		e->t.loop = A->task_loop ? w64(b, A->task_loop) : 0;
		e->coro = w64(b, A->task_coro);
		r->name_obj = w64(b, A->task_name);
		e->t.state = AIO_PENDING;	/* a done task leaves the list */
		e->waiter = 0;
		e->parent_addr = 0;
		read_awaited_by(a, e, w64(b, A->task_awaited_by),
				b[A->task_awaited_by_is_set] != 0);
	} else if (t->kind == K_CTASK) {
		e->t.loop = w64(b, A->task_loop);
		e->coro = w64(b, A->task_coro);
		e->waiter = w64(b, A->task_fut_waiter);
		e->t.state = GET_MEMBER(int32_t, b, A->fut_state);
		r->name_obj = A->task_name ? w64(b, A->task_name) : 0;
		r->cb = A->task_callback0 ? w64(b, A->task_callback0) : 0;
	} else if (t->kind == K_PYTASK) {
		e->t.loop = obj_attr(a, e->t.addr, "_loop");
		e->coro = obj_attr(a, e->t.addr, "_coro");
		e->waiter = obj_attr(a, e->t.addr, "_fut_waiter");
		r->name_obj = obj_attr(a, e->t.addr, "_name");
		const char *st = py_proc_str(a->py, obj_attr(a, e->t.addr, "_state"));
		/* the first done callback: _callbacks[0] is (callback,
		 * context) (asyncio/futures.py add_done_callback) */
		uint64_t cbs = obj_attr(a, e->t.addr, "_callbacks"), tup;
		uint8_t h[32];
		if (cbs && obj_type(a, cbs)->kind == K_LIST &&
		    rd(a, cbs, h, sizeof h) == LP_OK && w64(h, 16) > 0 &&
		    (tup = rd64(a, w64(h, 24))) != 0)
			r->cb = rd64(a, tup + 24);	/* ob_item[0] */
		e->t.state = st && strcmp(st, "CANCELLED") == 0 ? AIO_CANCELLED :
			     st && strcmp(st, "FINISHED") == 0 ? AIO_FINISHED :
			     AIO_PENDING;
	} else {
		e->t.addr = 0;	/* not a task (a dead weakref's None) */
		return;
	}
	if (e->t.state < AIO_PENDING || e->t.state > AIO_FINISHED)
		e->t.state = AIO_PENDING;
}

/* Takes the chain read for e, its name, waiter and parent; false when the
 * task cannot be named (its name object is gone: a torn read), and then e
 * is to be dropped, not shown under another name. */
static bool read_task_finish(aio_reader *a, struct aio_entry *e,
			     const struct task_read *r, const struct chain *c)
{
	size_t n = c->n;
	/* names rarely change: read the text again only when the name
	 * object did, or the task is not the one read last time (another
	 * task at the same address has another coroutine) */
	const char *name = r->name_obj && r->name_obj == e->name_obj &&
			   e->coro == r->prev_coro ?
		e->t.name : r->name_obj ? read_name(a, r->name_obj) : NULL;
	e->name_obj = name ? r->name_obj : 0;
	/* From 3.8 every task has a name (a str, or 3.12's counter): none
	 * readable means it was freed under the read.  3.7 has none (no
	 * task_name): the coroutine's qualname stands in (asyncio.h). */
	if (!name && a->A->task_name)
		return false;
	if (!name)
		name = n ? c->frames[0].func : "<task>";
	read_waiter(a, e, r->prev_waiter);
	bool same = n == e->t.nframes && e->frames && name == e->t.name;
	for (size_t i = 0; same && i < n; i++)
		same = c->frames[i].code_addr == e->frames[i].code_addr &&
		       c->frames[i].line == e->frames[i].line;
	if (!same) {
		struct py_frame *f = n ? malloc(n * sizeof *f) : NULL;
		if (n && !f)
			return false;
		if (n)
			memcpy(f, c->frames, n * sizeof *f);
		free(e->frames);
		e->frames = f;
		e->t.nframes = n;
		e->t.name = name;
		e->t.gen = ++a->gen;
	}
	e->t.truncated = c->trunc;
	e->t.coro_code = n ? e->frames[0].code_addr : 0;
	/* what it waits for: snapshots only (formatting, more reads) */
	if (a->full)
		read_wait(a, &e->t.wait, n ? &c->frames[n - 1] : NULL, c->last,
			  c->leaf);
	else
		memset(&e->t.wait, 0, sizeof e->t.wait);
	/* Who awaits this task: a TaskGroup's done callback is its bound
	 * method _on_task_done, whose self knows the parent task
	 * (asyncio/taskgroups.py).  3.14 says it itself (awaited_by).  The
	 * callback of a task does not change: looked at once. */
	if (a->A->lists || (r->cb && r->cb == e->cb))
		return true;
	e->cb = r->cb;
	e->parent_addr = 0;
	e->nby = 0;
	int k = r->cb ? obj_type(a, r->cb)->kind : K_OTHER;
	if (k == K_METHOD) {
		uint64_t self = rd64(a, r->cb + 24);	/* PyMethodObject.im_self */
		if (self && obj_type(a, self)->kind == K_TASKGROUP)
			e->parent_addr = obj_attr(a, self, "_parent_task");
	} else if (k == K_FUNC || k == K_PARTIAL) {
		read_callback_refs(a, e, r->cb, k);
	}
	return true;
}

/* Words checked again per task (ob_type, coroutine, name, awaited future;
 * the first two for a task kept from an earlier read), and tasks per
 * vectored read of them. */
#define VERIFY_WORDS 4
#define VERIFY_BATCH (MAX_IOV / VERIFY_WORDS)
#define VERIFY_KEPT_BATCH (MAX_IOV / 2)

/* Whether each task of v[0..m) (m <= VERIFY_BATCH, or VERIFY_KEPT_BATCH
 * when not fresh) still holds what was read on its behalf: its type and
 * coroutine (and when it was just read, fresh: its name object and the
 * future it awaits), read again after its chain and name were.  A task
 * changed meanwhile (freed, its memory reused, or it moved on) is dropped
 * rather than shown with what belonged to another: its address comes
 * back as a new task, read first, at the next update. */
static void verify_tasks(aio_reader *a, struct aio_entry **v, size_t m,
			 bool fresh)
{
	const struct aio_layout *A = a->A;
	struct remote_iov iov[VERIFY_BATCH * VERIFY_WORDS];
	uint64_t got[VERIFY_BATCH * VERIFY_WORDS];
	uint64_t want[VERIFY_BATCH * VERIFY_WORDS];
	uint32_t owner[VERIFY_BATCH * VERIFY_WORDS];
	size_t n = 0;
	size_t cap = fresh ? VERIFY_BATCH : VERIFY_KEPT_BATCH;
	for (size_t i = cap; i < m; i++)
		v[i]->t.addr = 0;	/* never: the callers batch by cap */
#define VERIFY_ADD(off, val) do {					\
		want[n] = (val);					\
		got[n] = want[n] ^ 1;	/* unread: a mismatch */	\
		owner[n] = (uint32_t)i;					\
		iov[n] = (struct remote_iov){ e->t.addr + (off), &got[n], 8 }; \
		n++;							\
	} while (0)
	for (size_t i = 0; i < m && i < cap; i++) {
		struct aio_entry *e = v[i];
		if (!e->t.addr)
			continue;
		VERIFY_ADD(8, e->type);
		if (type_info(a, e->type)->kind != K_CTASK)
			continue;	/* pure-Python: checked below */
		VERIFY_ADD(A->task_coro, e->coro);
		if (fresh && A->task_name && e->name_obj)
			VERIFY_ADD(A->task_name, e->name_obj);
		if (fresh && !A->lists)
			VERIFY_ADD(A->task_fut_waiter, e->waiter);
	}
#undef VERIFY_ADD
	if (!n)
		return;
	int rc = mem_readv(a->py->reader, iov, n);
	if (rc == LP_ENOPROC || rc == LP_EPERM) {
		a->py->gone = rc;
		return;
	}
	for (size_t k = 0; k < n; k++) {
		struct aio_entry *e = v[owner[k]];
		if (e->t.addr && got[k] != want[k]) {
			e->t.addr = 0;
			a->torn++;
		}
	}
	/* A pure-Python task's fields are dict entries: its name and
	 * coroutine looked up again after a read (kept ones: its type). */
	for (size_t i = 0; fresh && i < m && i < cap; i++) {
		struct aio_entry *e = v[i];
		if (!e->t.addr || type_info(a, e->type)->kind != K_PYTASK)
			continue;
		if (obj_attr(a, e->t.addr, "_coro") != e->coro ||
		    (e->name_obj &&
		     obj_attr(a, e->t.addr, "_name") != e->name_obj)) {
			e->t.addr = 0;
			a->torn++;
		}
	}
}

/* Reads the tasks sel[0..m) (m <= MAX_ASYNCIO_TASK_READS): one vectored
 * read of the task objects, then of each level of their await chains. */
static void read_tasks(aio_reader *a, struct aio_entry **sel, size_t m)
{
	size_t len = task_len(a->A);
	if (len < 16 || len > TASK_BUF)
		return;
	for (size_t i = 0; i < m; i++)
		a->chain_iov[i] = (struct remote_iov){ sel[i]->t.addr,
						       a->task_buf + i * TASK_BUF, len };
	int rc = mem_readv(a->py->reader, a->chain_iov, m);
	if (rc == LP_ENOPROC || rc == LP_EPERM) {
		a->py->gone = rc;
		return;
	}
	for (size_t i = 0; i < m; i++) {
		uint8_t *b = a->task_buf + i * TASK_BUF;
		size_t got = len;
		/* a failed batch: each alone; a small object (a pure-Python
		 * task) near a mapping's end: its header alone */
		if (rc != LP_OK && rd(a, sel[i]->t.addr, b, len) != LP_OK &&
		    rd(a, sel[i]->t.addr, b, got = 16) != LP_OK)
			got = 0;
		if (!got) {
			sel[i]->read_at = a->nupdate;
			sel[i]->t.addr = 0;
		} else {
			read_task_fields(a, sel[i], b, got, &a->reads[i]);
		}
		a->chains[i] = (struct chain){ .obj = sel[i]->t.addr ? sel[i]->coro : 0 };
	}
	read_chains(a, a->chains, m);
	for (size_t i = 0; i < m; i++)
		if (sel[i]->t.addr &&
		    !read_task_finish(a, sel[i], &a->reads[i], &a->chains[i])) {
			sel[i]->t.addr = 0;
			a->torn++;
		}
	verify_tasks(a, sel, m, true);
}

/* The tasks not read again this update keep their last name and chain:
 * each is checked to be the same task still (its type and coroutine, two
 * words: a task replaced at the same address has another coroutine), so
 * that a task freed and replaced between two reads is not shown under
 * the name of the one before. */
static void verify_kept(aio_reader *a)
{
	struct aio_entry *v[VERIFY_KEPT_BATCH];
	size_t m = 0;
	for (size_t i = 0; i < a->ncur; i++) {
		struct aio_entry *e = &a->cur[i];
		if (!e->t.addr || e->read_at == a->nupdate || !e->read_at)
			continue;
		v[m++] = e;
		if (m == VERIFY_KEPT_BATCH) {
			verify_tasks(a, v, m, false);
			m = 0;
		}
	}
	if (m)
		verify_tasks(a, v, m, false);
}

/* Records that the task at index by awaits the one at index task. */
static void add_link(aio_reader *a, size_t task, long by)
{
	if (by < 0 || (size_t)by == task)
		return;
	if (a->nlinks == MAX_ASYNCIO_AWAIT_LINKS) {
		a->links_dropped++;
		return;
	}
	a->links[a->nlinks++] = (struct link){ (uint32_t)task, (uint32_t)by };
}

/* Up to 3.13: tasks whose first done callback holds the future some task
 * waits on are awaited by that task (asyncio.wait, wait_for): the tasks
 * waiting on a plain future, hashed by that future, then looked up. */
static void link_callbacks(aio_reader *a)
{
	memset(a->windex, 0, INDEX_SIZE * sizeof *a->windex);
	for (size_t j = 0; j < a->ncur; j++) {
		const struct aio_entry *e = &a->cur[j];
		if (!e->waiter || e->t.running || e->waiter_kind == K_CTASK ||
		    e->waiter_kind == K_PYTASK || e->waiter_kind == K_GATHER)
			continue;
		size_t h = hash_addr(e->waiter);
		for (size_t k = 0; k < INDEX_SIZE && a->windex[h]; k++)
			h = (h + 1) & (INDEX_SIZE - 1);
		a->windex[h] = (uint32_t)j + 1;
	}
	for (size_t i = 0; i < a->ncur; i++) {
		const struct aio_entry *e = &a->cur[i];
		for (size_t r = 0; r < e->nby; r++) {
			size_t h = hash_addr(e->by[r]);
			for (size_t k = 0; k < INDEX_SIZE && a->windex[h]; k++) {
				uint32_t j = a->windex[h] - 1;
				if (a->cur[j].waiter == e->by[r])
					add_link(a, i, (long)j);
				h = (h + 1) & (INDEX_SIZE - 1);
			}
		}
	}
}

/* Who awaits whom: the parent a TaskGroup child names and 3.14's
 * task_awaited_by first (a task's first link is its parent when it
 * makes no cycle), then the task a task awaits directly (await task),
 * the children of the gather future it awaits (_GatheringFuture.
 * _children), the tasks whose done callback wakes the future it awaits.
 * Every task gets its awaiters as one run of a->awaiters (a counting
 * sort of the links by task), without repeats, at most
 * MAX_TASK_AWAITERS. */
static void link_tasks(aio_reader *a)
{
	size_t n = a->ncur;
	bool refs = false;
	a->nlinks = 0;
	a->links_dropped = 0;
	for (size_t i = 0; i < n; i++) {
		const struct aio_entry *e = &a->cur[i];
		if (e->parent_addr)
			add_link(a, i, index_find(a, a->cur, e->parent_addr));
		if (a->A->lists) {
			for (size_t k = 0; k < e->nby; k++)
				add_link(a, i, index_find(a, a->cur, e->by[k]));
			a->links_dropped += e->by_more;
		}
		else
			refs |= e->nby > 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct aio_entry *e = &a->cur[i];
		if (!e->waiter || e->t.running)
			continue;
		long w = e->waiter_kind == K_CTASK || e->waiter_kind == K_PYTASK ?
			 index_find(a, a->cur, e->waiter) : -1;
		if (w >= 0)
			add_link(a, (size_t)w, (long)i);
		for (size_t c = 0; c < e->nchildren; c++) {
			long k = index_find(a, a->cur, e->children[c]);
			if (k >= 0)
				add_link(a, (size_t)k, (long)i);
		}
	}
	if (refs)
		link_callbacks(a);
	/* counting sort by task: start[i] .. start[i + 1] */
	uint32_t *start = a->link_start;
	memset(start, 0, (n + 1) * sizeof *start);
	for (size_t l = 0; l < a->nlinks; l++)
		start[a->links[l].task + 1]++;
	for (size_t i = 1; i <= n; i++)
		start[i] += start[i - 1];
	for (size_t l = 0; l < a->nlinks; l++)
		a->awaiters[start[a->links[l].task]++] = (int)a->links[l].by;
	for (size_t i = n; i > 0; i--)
		start[i] = start[i - 1];
	start[0] = 0;
	/* in place: repeats dropped, each run cut at MAX_TASK_AWAITERS */
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		size_t first = w;
		for (size_t k = start[i]; k < start[i + 1]; k++) {
			int by = a->awaiters[k];
			bool dup = false;
			for (size_t j = first; j < w && !dup; j++)
				dup = a->awaiters[j] == by;
			if (dup)
				continue;
			if (w - first == MAX_TASK_AWAITERS) {
				a->links_dropped++;
				continue;
			}
			a->awaiters[w++] = by;
		}
		struct aio_task *t = &a->cur[i].t;
		t->awaited_by = w > first ? a->awaiters + first : NULL;
		t->nawaited_by = w - first;
		t->parent = w > first ? a->awaiters[first] : -1;
	}
	/* Parents form a forest: a parent chain that comes back to its task
	 * (a torn read, or tasks awaiting each other) loses its first link;
	 * the task keeps its awaiters. */
	for (size_t i = 0; i < n; i++) {
		int p = a->cur[i].t.parent;
		for (size_t d = 0; p >= 0 && d <= n; d++) {
			if ((size_t)p == i) {
				a->cur[i].t.parent = -1;
				break;
			}
			p = a->cur[p].t.parent;
		}
	}
}

/* Updates between two look-ups of the running loop of each thread. */
#define LOOPS_EVERY 8

/* Ties loop to thread tid; exact when read from the thread itself (a
 * guess never replaces it). */
static void loop_set(aio_reader *a, uint64_t loop, pid_t tid, bool exact)
{
	size_t l = 0;
	while (l < a->nloops && a->loops[l].loop != loop)
		l++;
	if (l < a->nloops && a->loops[l].exact && !exact)
		return;
	if (l == a->nloops && l < MAX_ASYNCIO_LOOPS)
		a->nloops++;
	if (l < a->nloops)
		a->loops[l].loop = loop, a->loops[l].tid = tid,
		a->loops[l].exact = exact;
}

/* Where a thread state keeps the loop the thread runs (Include/cpython/
 * pystate.h and internal/pycore_tstate.h of each version, measured
 * against its headers): 3.7-3.12 in its dict (offsetof(PyThreadState,
 * dict)), 3.13 in _PyThreadStateImpl.asyncio_running_loop, right after
 * the PyThreadState; 0: nowhere (3.6: a threading.local of
 * asyncio/events.py). */
static uint64_t ts_loop_off(int minor, bool *in_dict)
{
	*in_dict = minor <= 12;
	return minor == 13 ? 304 : minor == 12 ? 112 : minor == 11 ? 128 :
	       minor >= 7 && minor <= 10 ? 152 : 0;
}

/* 3.7-3.13: the loop each thread runs, where _asyncio's
 * _set_running_loop keeps it (Modules/_asynciomodule.c): up to 3.12 the
 * thread state's dict, key "__asyncio_running_event_loop__", a
 * _RunningLoopHolder (rl_loop) up to 3.11 and the loop itself in 3.12;
 * 3.13 a field of the thread state; None or NULL when the thread runs
 * none.  uvloop sets it through the same call. */
static void running_loops(aio_reader *a, const struct py_thread *th, size_t nth)
{
	bool in_dict;
	uint64_t off = ts_loop_off(a->A->minor, &in_dict);
	for (size_t t = 0; off && t < nth; t++) {
		if (!th[t].tstate || !th[t].tid)
			continue;
		uint64_t v = rd64(a, th[t].tstate + off);
		if (in_dict && v)
			v = dict_get(a, v, "__asyncio_running_event_loop__");
		int k = v ? obj_type(a, v)->kind : K_NONE;
		if (k == K_HOLDER)
			v = rd64(a, v + 16);	/* PyRunningLoopHolder.rl_loop */
		else if (a->A->minor < 12)
			continue;
		k = v ? obj_type(a, v)->kind : K_NONE;
		if (k != K_NONE && k != K_OTHER)
			continue;	/* not a loop */
		if (k == K_OTHER)
			loop_set(a, v, th[t].tid, true);
	}
}

/* The running task of each loop, and the thread of each loop not known
 * from the threads themselves: the one running the task's outermost
 * coroutine (a guess: several loops may run the same coroutine). */
static void mark_running(aio_reader *a, const struct py_thread *th, size_t nth)
{
	struct dict_view v;
	if (!a->current || dict_view(a, a->current, &v) != LP_OK)
		return;
	for (size_t i = 0; i < v.n && i < MAX_ASYNCIO_LOOPS; i++) {
		uint64_t loop = w64(v.entries + i * v.esize, v.koff);
		uint64_t task = entry_value(a, &v, i);
		long k = loop && task ? index_find(a, a->cur, task) : -1;
		if (k < 0)
			continue;
		struct aio_entry *e = &a->cur[k];
		e->t.running = true;
		for (size_t t = 0; t < nth && e->t.coro_code; t++) {
			bool on = false;
			for (size_t f = 0; f < th[t].nframes && !on; f++)
				on = th[t].frames[f].code_addr == e->t.coro_code;
			if (on && th[t].tid) {
				loop_set(a, loop, th[t].tid, false);
				break;
			}
		}
	}
	free(v.entries);
}

/* 3.14+: each thread state names its running task; the task is tied to
 * that thread (a task may sit in the list of the thread that made it). */
static void mark_running_314(aio_reader *a)
{
	uint64_t ts[MAX_WALK_THREADS];
	pid_t tid[MAX_WALK_THREADS];
	size_t nts = thread_states(a, ts, tid, MAX_WALK_THREADS);
	for (size_t i = 0; i < nts; i++) {
		uint64_t task = rd64(a, ts[i] + a->A->ts_running_task);
		long k = task ? index_find(a, a->cur, task) : -1;
		if (k >= 0) {
			a->cur[k].t.running = true;
			if (tid[i])
				a->cur[k].t.tid = tid[i];
		}
	}
}

/* ---- ready tasks ---- */

/* Counted every this many updates (and at every full one): the queue
 * of a busy loop changes at every step, a live view redraws each second. */
#define READY_EVERY 8
/* The bytes of a callback object that may hold its task (cb_task). */
#define CB_READ 32

/* Marks the tasks of loop whose step or wakeup is in its ready queue
 * (loop._ready, asyncio/base_events.py): a deque of Handles walked from
 * its left block, each Handle's _callback holding its task where the
 * layout says (a C step wrapper, a builtin or bound method).  false when
 * the queue cannot be read: uvloop keeps it in C, a deque longer than
 * MAX_ASYNCIO_READY, a read that failed. */
static bool ready_of_loop(aio_reader *a, uint64_t loop)
{
	const struct aio_objects *O = &a->A->obj;
	uint64_t blk[2 + 64];
	if (!O->block_len || O->block_len > 64 || !O->handle_callback ||
	    O->block_data + 8 * (uint64_t)O->block_len > O->block_next ||
	    O->block_next + 8 > sizeof blk || O->deque_left > 96 ||
	    O->deque_lindex > 96)
		return false;
	const struct aio_type *lt = obj_type(a, loop);
	if (!lt->name || strncmp(lt->name, "uvloop.", 7) == 0)
		return false;
	uint64_t dq = obj_attr(a, loop, "_ready");
	if (!dq || obj_type(a, dq)->kind != K_DEQUE)
		return false;
	uint8_t h[104];
	if (rd(a, dq, h, sizeof h) != LP_OK)
		return false;
	int64_t n = (int64_t)w64(h, 16);	/* ob_size: its length */
	uint64_t b = w64(h, O->deque_left), idx = w64(h, O->deque_lindex);
	if (n < 0 || n > MAX_ASYNCIO_READY || idx >= O->block_len)
		return false;
	if (n && rd(a, b, blk, O->block_next + 8) != LP_OK)
		return false;
	for (int64_t k = 0; k < n; k++) {
		if (idx == O->block_len) {
			b = blk[O->block_next / 8];
			if (rd(a, b, blk, O->block_next + 8) != LP_OK)
				return false;
			idx = 0;
		}
		uint64_t handle = blk[O->block_data / 8 + idx++];
		uint64_t cb = handle ? rd64(a, handle + O->handle_callback) : 0;
		uint8_t c[CB_READ];
		if (!cb || rd(a, cb, c, sizeof c) != LP_OK)
			continue;
		/* a task of this loop named where a callback holds it is
		 * that task (every one is in the index) */
		for (size_t j = 0; j < 3; j++) {
			uint32_t off = O->cb_task[j];
			long e = off >= 16 && off + 8 <= sizeof c ?
					 index_find(a, a->cur, w64(c, off)) : -1;
			if (e >= 0 && a->cur[e].t.loop == loop) {
				a->cur[e].t.ready = true;
				break;
			}
		}
	}
	return true;
}

/* The ready tasks of every loop that has a task waiting. */
static void mark_ready(aio_reader *a)
{
	uint64_t loops[MAX_ASYNCIO_LOOPS];
	size_t nl = 0;
	bool known = true;
	for (size_t i = 0; i < a->ncur; i++) {
		a->cur[i].t.ready = false;
		uint64_t l = a->cur[i].t.loop;
		if (a->cur[i].t.running)
			continue;
		if (!l) {
			known = false;	/* its loop not read */
			continue;
		}
		size_t k = 0;
		while (k < nl && loops[k] != l)
			k++;
		if (k == nl && nl < MAX_ASYNCIO_LOOPS)
			loops[nl++] = l;
		else if (k == nl)
			known = false;
	}
	for (size_t k = 0; k < nl; k++)
		known &= ready_of_loop(a, loops[k]);
	a->ready_known = known;
}

/* A running task's chain from its thread's stack, from its outermost
 * coroutine up to the frame running now (sync functions included): a
 * running coroutine's frame has no stack top to follow (up to 3.11 it is
 * saved only when the frame suspends).  Full updates only; the thread
 * of its loop when known, else the first that runs that coroutine. */
static void chain_from_thread(aio_reader *a, struct aio_entry *e,
			      const struct py_thread *th, size_t nth)
{
	memset(&e->t.wait, 0, sizeof e->t.wait);
	for (int pass = 0; pass < 2 && e->t.coro_code; pass++)
		for (size_t t = 0; t < nth; t++) {
			const struct py_thread *p = &th[t];
			if (pass == 0 && (!e->t.tid || p->tid != e->t.tid))
				continue;
			size_t at = p->nframes;
			for (size_t f = p->nframes; f-- > 0 && at == p->nframes;)
				if (p->frames[f].code_addr == e->t.coro_code)
					at = f;
			if (at == p->nframes)
				continue;
			/* frames[] is leaf first: the chain runs from at
			 * down to 0 */
			size_t n = at + 1;
			bool trunc = n > MAX_AWAIT_DEPTH;
			if (trunc)
				n = MAX_AWAIT_DEPTH;
			bool same = n == e->t.nframes && e->frames;
			for (size_t i = 0; same && i < n; i++)
				same = p->frames[at - i].code_addr ==
				       e->frames[i].code_addr &&
				       p->frames[at - i].line == e->frames[i].line;
			if (!same) {
				struct py_frame *fr = malloc(n * sizeof *fr);
				if (!fr)
					return;
				for (size_t i = 0; i < n; i++)
					fr[i] = p->frames[at - i];
				free(e->frames);
				e->frames = fr;
				e->t.frames = fr;
				e->t.nframes = n;
				e->t.gen = ++a->gen;
			}
			e->t.truncated = trunc;
			return;
		}
}

int aio_reader_update(aio_reader *a, const struct py_thread *threads,
		      size_t nthreads, bool full, lp_error *err)
{
	a->nupdate++;
	a->full = full;
	a->now_ns = 0;
	int rc;
	if (a->need_layout && (a->nupdate == 1 ||
			       a->nupdate - a->roots_at >= ROOTS_RETRY)) {
		a->roots_at = a->nupdate;
		rc = aio_layout_from_process(a->py, &a->own, err);
		if (rc == LP_OK)
			rc = objects_validate(a, err);
		if (rc == LP_OK)
			a->need_layout = false;
		else if (rc != LP_ENOTFOUND)
			return rc;
	}
	if (a->need_layout)
		return LP_OK;	/* _asyncio not loaded yet: no tasks */
	if (a->A->lists) {
		rc = list_tasks_314(a, full);
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			return rc;
	} else {
		/* asyncio's globals are set once at import: looked up until
		 * found, then again only after a read of them failed */
		if (!a->sets[0] && (a->nupdate == 1 ||
				    a->nupdate - a->roots_at >= ROOTS_RETRY)) {
			rc = find_roots(a, err);
			if (rc != LP_OK)
				return rc;
		}
		if (!a->sets[0]) {
			for (size_t i = 0; i < a->ncur; i++)
				entry_clear(&a->cur[i]);
			a->ncur = 0;
			a->naddrs = 0;
			return LP_OK;
		}
		rc = list_tasks(a);
		if (rc == LP_ENOPROC || rc == LP_ENOMEM)
			return rc;
		if (rc != LP_OK) {
			a->sets[0] = 0;		/* look the roots up again */
			return LP_OK;
		}
	}
	/* Carry last update's entries over by address. */
	struct aio_entry *t = a->prev;
	a->prev = a->cur;
	a->cur = t;
	a->nprev = a->ncur;
	a->ncur = 0;
	index_build(a, a->prev, a->nprev);
	for (size_t i = 0; i < a->naddrs; i++) {
		long p = index_find(a, a->prev, a->addrs[i]);
		struct aio_entry *e = &a->cur[a->ncur];
		if (p >= 0) {
			if (!a->prev[p].t.addr)
				continue;	/* seen twice */
			*e = a->prev[p];
			a->prev[p].frames = NULL;
			a->prev[p].children = NULL;
			a->prev[p].by = NULL;
			a->prev[p].t.addr = 0;
		} else {
			memset(e, 0, sizeof *e);
			e->t.addr = a->addrs[i];
			e->t.parent = -1;
		}
		e->t.running = false;
		if (a->A->lists)
			e->t.tid = a->tids[i];
		a->ncur++;
	}
	for (size_t i = 0; i < a->nprev; i++)
		entry_clear(&a->prev[i]);
	/* Re-read: new tasks first, then round robin, within the budget;
	 * in batches of MAX_ASYNCIO_TASK_READS. */
	size_t budget = full ? a->ncur : MAX_ASYNCIO_TASK_READS, m = 0;
	struct aio_entry *sel[MAX_ASYNCIO_TASK_READS];
	for (size_t i = 0; i < a->ncur && budget; i++)
		if (!a->cur[i].read_at) {
			sel[m++] = &a->cur[i];
			a->cur[i].read_at = a->nupdate;	/* chosen */
			budget--;
			if (m == MAX_ASYNCIO_TASK_READS) {
				read_tasks(a, sel, m);
				m = 0;
			}
		}
	for (size_t k = 0; k < a->ncur && budget; k++) {
		size_t i = (a->cursor + k) % a->ncur;
		if (a->cur[i].read_at == a->nupdate)
			continue;
		sel[m++] = &a->cur[i];
		a->cur[i].read_at = a->nupdate;
		budget--;
		a->cursor = i + 1;
		if (m == MAX_ASYNCIO_TASK_READS) {
			read_tasks(a, sel, m);
			m = 0;
		}
	}
	if (m)
		read_tasks(a, sel, m);
	verify_kept(a);
	/* Drop what was not a task, and finished tasks. */
	size_t w = 0;
	for (size_t i = 0; i < a->ncur; i++) {
		if (!a->cur[i].t.addr || !a->cur[i].read_at ||
		    a->cur[i].t.state != AIO_PENDING) {
			entry_clear(&a->cur[i]);
			continue;
		}
		a->cur[w] = a->cur[i];
		a->cur[w].t.frames = a->cur[w].frames;
		w++;
	}
	a->ncur = w;
	index_build(a, a->cur, a->ncur);
	if (a->A->lists) {
		mark_running_314(a);
	} else {
		if (nthreads && (full || !a->loops_at ||
				 a->nupdate - a->loops_at >= LOOPS_EVERY)) {
			a->loops_at = a->nupdate;
			running_loops(a, threads, nthreads);
		}
		mark_running(a, threads, nthreads);
	}
	for (size_t i = 0; i < a->ncur && !a->A->lists; i++) {
		a->cur[i].t.tid = 0;
		for (size_t l = 0; l < a->nloops; l++)
			if (a->loops[l].loop == a->cur[i].t.loop)
				a->cur[i].t.tid = a->loops[l].tid;
	}
	for (size_t i = 0; full && i < a->ncur; i++)
		if (a->cur[i].t.running)
			chain_from_thread(a, &a->cur[i], threads, nthreads);
	link_tasks(a);
	if (!a->watch_ready) {
		a->ready_known = false;
	} else if (full || !a->ready_at ||
		   a->nupdate - a->ready_at >= READY_EVERY) {
		a->ready_at = a->nupdate;
		mark_ready(a);
	}
	for (size_t i = 0; i < a->ncur; i++)
		a->out[i] = a->cur[i].t;
	return a->py->gone ? a->py->gone : LP_OK;
}

const struct aio_task *aio_reader_tasks(const aio_reader *a, size_t *n,
					size_t *dropped)
{
	*n = a->ncur;
	if (dropped)
		*dropped = a->dropped;
	return a->out;
}

bool aio_reader_ready_known(const aio_reader *a)
{
	return a->ready_known;
}

void aio_reader_watch_ready(aio_reader *a, bool on)
{
	a->watch_ready = on;
}

size_t aio_reader_awaiters_dropped(const aio_reader *a)
{
	return a->links_dropped;
}

const struct aio_task *aio_reader_running(const aio_reader *a, pid_t tid)
{
	for (size_t i = 0; i < a->ncur; i++)
		if (a->out[i].running && a->out[i].tid == tid)
			return &a->out[i];
	return NULL;
}

const struct aio_layout *aio_reader_layout(const aio_reader *a)
{
	return a->need_layout ? NULL : a->A;
}

int aio_reader_new(aio_reader **out, py_proc *py, lp_error *err)
{
	return aio_reader_new_with(out, py, NULL, err);
}

int aio_reader_new_with(aio_reader **out, py_proc *py,
			const struct aio_layout *given, lp_error *err)
{
	*out = NULL;
	const struct aio_layout *A = given ? given : aio_layout_for(py);
	/* no table (3.14+): the interpreter describes its tasks itself */
	bool from_process = !given && !A && py->dbg_shape;
	if (!A && !from_process)
		return lp_error_set(err, LP_EUNSUPPORTED, "asyncio tasks of "
				    "CPython %s cannot be read (3.6 and later "
				    "only)", py->version);
	aio_reader *a = calloc(1, sizeof *a);
	if (!a)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	a->py = py;
	if (given)
		a->own = *given;
	a->A = from_process || given ? &a->own : A;
	a->need_layout = from_process;
	a->addrs = malloc(MAX_ASYNCIO_TASKS * sizeof *a->addrs);
	a->cur = calloc(MAX_ASYNCIO_TASKS, sizeof *a->cur);
	a->prev = calloc(MAX_ASYNCIO_TASKS, sizeof *a->prev);
	a->index = calloc(INDEX_SIZE, sizeof *a->index);
	a->out = calloc(MAX_ASYNCIO_TASKS, sizeof *a->out);
	a->tids = calloc(MAX_ASYNCIO_TASKS, sizeof *a->tids);
	a->walk.addrs = calloc(MAX_ASYNCIO_TASKS, sizeof *a->walk.addrs);
	a->walk.tids = calloc(MAX_ASYNCIO_TASKS, sizeof *a->walk.tids);
	a->chain_iov = calloc(MAX_ASYNCIO_TASK_READS, sizeof *a->chain_iov);
	a->chain_of = calloc(MAX_ASYNCIO_TASK_READS, sizeof *a->chain_of);
	a->chain_buf = malloc(MAX_ASYNCIO_TASK_READS * CHAIN_BUF);
	a->task_buf = malloc(MAX_ASYNCIO_TASK_READS * TASK_BUF);
	a->chains = calloc(MAX_ASYNCIO_TASK_READS, sizeof *a->chains);
	a->reads = calloc(MAX_ASYNCIO_TASK_READS, sizeof *a->reads);
	a->links = malloc(MAX_ASYNCIO_AWAIT_LINKS * sizeof *a->links);
	a->link_start = malloc((MAX_ASYNCIO_TASKS + 1) * sizeof *a->link_start);
	a->awaiters = malloc(MAX_ASYNCIO_AWAIT_LINKS * sizeof *a->awaiters);
	a->windex = malloc(INDEX_SIZE * sizeof *a->windex);
	if (!a->addrs || !a->cur || !a->prev || !a->index || !a->out ||
	    !a->tids || !a->walk.addrs || !a->walk.tids || !a->chain_iov ||
	    !a->chain_of || !a->chain_buf || !a->task_buf || !a->chains ||
	    !a->reads || !a->links || !a->link_start || !a->awaiters ||
	    !a->windex) {
		aio_reader_free(a);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	/* Every task once now, before sampling starts: the budget of later
	 * updates then only covers what changes, and a layout that does not
	 * fit is told at attach time. */
	int rc = aio_reader_update(a, NULL, 0, true, err);
	if (rc != LP_OK) {
		aio_reader_free(a);
		return rc;
	}
	*out = a;
	return LP_OK;
}

void aio_reader_free(aio_reader *a)
{
	if (!a)
		return;
	for (size_t i = 0; a->cur && i < a->ncur; i++)
		entry_clear(&a->cur[i]);
	free(a->cur);
	free(a->prev);
	free(a->index);
	free(a->out);
	free(a->tids);
	free(a->walk.addrs);
	free(a->walk.tids);
	free(a->chain_iov);
	free(a->chain_of);
	free(a->chain_buf);
	free(a->task_buf);
	free(a->chains);
	free(a->reads);
	free(a->links);
	free(a->link_start);
	free(a->awaiters);
	free(a->windex);
	free(a->addrs);
	free(a->table[0]);
	free(a->table[1]);
	free(a->scratch);
	free(a);
}

aio_reader *aio_objreader_new(py_proc *py, const struct aio_layout *A)
{
	aio_reader *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->py = py;
	a->own = *A;
	a->A = &a->own;
	return a;
}
