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
 * chain. */
#include "python/asyncio.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "python/asyncio_layout.h"
#include "python/pyobj.h"
#include "python/pyproc.h"

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
};

struct aio_type {
	uint64_t addr;		/* 0: free */
	int kind;
	uint64_t flags;
	int64_t dictoffset, basicsize;
	uint64_t cached_keys;
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
	struct { uint64_t loop; pid_t tid; } loops[MAX_ASYNCIO_LOOPS];
	size_t nloops;
	uint32_t gen;
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
	};
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
		if (strcmp(n, k[i].name) == 0)
			return k[i].kind;
	return K_OTHER;
}

static const struct aio_type *type_info(aio_reader *a, uint64_t type)
{
	static const struct aio_type none = { 0, K_OTHER, 0, 0, 0, 0 };
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
	struct aio_type t = { type, K_OTHER, w64(buf, TP_FLAGS),
			      (int64_t)w64(buf, TP_DICTOFFSET),
			      (int64_t)w64(buf, TP_BASICSIZE), 0 };
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
		if (depth == 0)
			t.kind = k;
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

/* Follows coro down its awaits into frames[]; returns how many. */
/* One await chain being followed (read_chains). */
struct chain {
	uint64_t obj;		/* the next coroutine or future, 0: ended */
	size_t n;
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

/* One level of one chain from the bytes of its object (whole: all of
 * level_len, else the 16-byte header only). */
static void chain_step(aio_reader *a, struct chain *c, uint8_t *buf, bool whole)
{
	const struct aio_layout *A = a->A;
	int k = type_info(a, w64(buf, 8))->kind;	/* ob_type */
	if (k != K_CORO && k != K_GEN) {
		c->obj = 0;	/* a future, a FutureIter: the end */
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
 * its header alone). */
static void read_chains(aio_reader *a, struct chain *cs, size_t m)
{
	size_t len = level_len(a->A);
	if (len > CHAIN_BUF)
		return;
	for (size_t depth = 0; depth <= MAX_AWAIT_DEPTH; depth++) {
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
			bool whole = rc == LP_OK ||
				     rd(a, c->obj, buf, len) == LP_OK;
			if (!whole && rd(a, c->obj, buf, 16) != LP_OK) {
				c->trunc = c->n > 0;
				c->obj = 0;
				continue;
			}
			chain_step(a, c, buf, whole);
		}
	}
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

/* The first task of a set (awaited_by of a task awaited by several). */
static uint64_t set_first_task(aio_reader *a, uint64_t set)
{
	uint8_t h[48];
	if (rd(a, set, h, sizeof h) != LP_OK)
		return 0;
	uint64_t mask = w64(h, 32), table = w64(h, 40);
	if (mask + 1 > 4096 || ((mask + 1) & mask))
		return 0;
	for (uint64_t i = 0; i <= mask; i++) {
		uint64_t key = rd64(a, table + 16 * i);
		int k = key ? obj_type(a, key)->kind : K_OTHER;
		if (k == K_CTASK || k == K_PYTASK)
			return key;
	}
	return 0;
}

/* ---- entries ---- */

static void entry_clear(struct aio_entry *e)
{
	free(e->frames);
	free(e->children);
	e->frames = NULL;
	e->children = NULL;
	e->nchildren = 0;
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

/* What the task waits on: a task, or a gather future and its children
 * (_GatheringFuture._children, asyncio/tasks.py), kept in e so that
 * linking the tree needs no reads. */
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
	uint64_t list = obj_attr(a, e->waiter, "_children");
	uint8_t h[32];
	if (!list || obj_type(a, list)->kind != K_LIST ||
	    rd(a, list, h, sizeof h) != LP_OK)
		return;
	int64_t n = (int64_t)w64(h, 16);	/* ob_size */
	if (n <= 0 || n > MAX_PY_DICT_ENTRIES)
		return;
	e->children = malloc((size_t)n * 8);
	if (e->children && rd(a, w64(h, 24), e->children, (size_t)n * 8) == LP_OK) {
		e->nchildren = (size_t)n;
	} else {
		free(e->children);
		e->children = NULL;
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
		e->coro = w64(b, A->task_coro);
		r->name_obj = w64(b, A->task_name);
		uint64_t by = w64(b, A->task_awaited_by);
		e->t.state = AIO_PENDING;	/* a done task leaves the list */
		e->waiter = 0;
		if (by && b[A->task_awaited_by_is_set])
			by = set_first_task(a, by);
		int k = by ? obj_type(a, by)->kind : K_OTHER;
		e->parent_addr = k == K_CTASK || k == K_PYTASK ? by : 0;
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
	/* Who awaits this task: a TaskGroup's done callback is its bound
	 * method _on_task_done, whose self knows the parent task
	 * (asyncio/taskgroups.py).  3.14 says it itself (awaited_by).  The
	 * callback of a task does not change: looked at once. */
	if (a->A->lists || (r->cb && r->cb == e->cb))
		return true;
	e->cb = r->cb;
	e->parent_addr = 0;
	if (r->cb && obj_type(a, r->cb)->kind == K_METHOD) {
		uint64_t self = rd64(a, r->cb + 24);	/* PyMethodObject.im_self */
		if (self && obj_type(a, self)->kind == K_TASKGROUP)
			e->parent_addr = obj_attr(a, self, "_parent_task");
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

static void link_child(aio_reader *a, uint64_t child, size_t parent)
{
	long i = index_find(a, a->cur, child);
	if (i >= 0 && (size_t)i != parent && a->cur[i].t.parent < 0)
		a->cur[i].t.parent = (int)parent;
}

/* Parents: the task a task awaits directly (await task), the children of
 * the gather future it awaits (_GatheringFuture._children), the parent a
 * TaskGroup child names. */
static void link_tasks(aio_reader *a)
{
	for (size_t i = 0; i < a->ncur; i++)
		a->cur[i].t.parent = -1;
	for (size_t i = 0; i < a->ncur; i++) {
		struct aio_entry *e = &a->cur[i];
		if (e->parent_addr) {
			long p = index_find(a, a->cur, e->parent_addr);
			if (p >= 0 && (size_t)p != i)
				e->t.parent = (int)p;
		}
	}
	for (size_t i = 0; i < a->ncur; i++) {
		struct aio_entry *e = &a->cur[i];
		if (!e->waiter || e->t.running)
			continue;
		if (e->waiter_kind == K_CTASK || e->waiter_kind == K_PYTASK)
			link_child(a, e->waiter, i);
		for (size_t c = 0; c < e->nchildren; c++)
			link_child(a, e->children[c], i);
	}
	/* Break cycles (torn reads): a parent chain longer than the task
	 * count loops. */
	for (size_t i = 0; i < a->ncur; i++) {
		int p = a->cur[i].t.parent;
		for (size_t d = 0; p >= 0 && d <= a->ncur; d++) {
			if ((size_t)p == i) {
				a->cur[i].t.parent = -1;
				break;
			}
			p = a->cur[p].t.parent;
		}
	}
}

/* The running task of each loop, and the thread of each loop. */
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
		/* its thread: the one running the outermost coroutine */
		for (size_t t = 0; t < nth && e->t.coro_code; t++) {
			bool on = false;
			for (size_t f = 0; f < th[t].nframes && !on; f++)
				on = th[t].frames[f].code_addr == e->t.coro_code;
			if (!on || !th[t].tid)
				continue;
			size_t l = 0;
			while (l < a->nloops && a->loops[l].loop != loop)
				l++;
			if (l == a->nloops && l < MAX_ASYNCIO_LOOPS)
				a->nloops++;
			if (l < a->nloops)
				a->loops[l].loop = loop, a->loops[l].tid = th[t].tid;
			break;
		}
	}
	free(v.entries);
}

static void mark_running_314(aio_reader *a)
{
	uint64_t ts[MAX_WALK_THREADS];
	pid_t tid[MAX_WALK_THREADS];
	size_t nts = thread_states(a, ts, tid, MAX_WALK_THREADS);
	for (size_t i = 0; i < nts; i++) {
		uint64_t task = rd64(a, ts[i] + a->A->ts_running_task);
		long k = task ? index_find(a, a->cur, task) : -1;
		if (k >= 0)
			a->cur[k].t.running = true;
	}
}

int aio_reader_update(aio_reader *a, const struct py_thread *threads,
		      size_t nthreads, bool full, lp_error *err)
{
	a->nupdate++;
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
		mark_running(a, threads, nthreads);
	}
	for (size_t i = 0; i < a->ncur && !a->A->lists; i++) {
		a->cur[i].t.tid = 0;
		for (size_t l = 0; l < a->nloops; l++)
			if (a->loops[l].loop == a->cur[i].t.loop)
				a->cur[i].t.tid = a->loops[l].tid;
	}
	link_tasks(a);
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
	if (!a->addrs || !a->cur || !a->prev || !a->index || !a->out ||
	    !a->tids || !a->walk.addrs || !a->walk.tids || !a->chain_iov ||
	    !a->chain_of || !a->chain_buf || !a->task_buf || !a->chains ||
	    !a->reads) {
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
