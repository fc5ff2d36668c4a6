/* The heap census: every object on the cyclic GC's lists (the generations
 * and the permanent one) of the main interpreter, counted by type.  The
 * lists' heads come from the version's layout (tools/gen-py-layouts: in
 * _PyRuntime up to 3.8, in PyInterpreterState from 3.9), so this file has
 * no version branches.  Reads go through a small cache of 16 KiB lines
 * (a pool's size from 3.10, Objects/obmalloc.c), so objects next to each
 * other in a pool cost one read, and the heap is never copied whole.
 *
 * A nonblocking census reads a heap that moves: every step is checked.
 * The next node's back pointer must name the node we came from, a type
 * pointer must point at an object whose own type is a type (its metatype
 * has Py_TPFLAGS_TYPE_SUBCLASS), and every list is followed at most
 * MAX_HEAP_OBJECTS nodes; what fails is counted as changed and the walk
 * of that list stops there rather than follow a pointer it cannot trust. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "maps.h"
#include "target.h"
#include "pyproc.h"
#include "python/asyncio_layout.h"
#include "python/debug_offsets.h"
#include "python/heap.h"
#include "python/layout.h"

#define LINE (16u * 1024)
/* Py_TPFLAGS_TYPE_SUBCLASS and Py_TPFLAGS_READY: the same bits in every
 * version loupe reads (Include/object.h). */
#define TPF_TYPE_SUBCLASS (1ul << 31)
#define TPF_READY (1ul << 12)
/* Py_TPFLAGS_HAVE_GC, the same bit in every version (Include/object.h):
 * such objects are the GC lists' and counted there. */
#define TPF_HAVE_GC (1ul << 14)
/* Py_TPFLAGS_DICT_SUBCLASS, the same bit in every 3.x: dict and its
 * subclasses, which all start with a PyDictObject. */
#define TPF_DICT_SUBCLASS (1ul << 29)
/* Bytes of a dict keys object's header read: past every field a layout
 * names (dk_indices, the header's size, is 40 at most in every 3.x). */
#define KEYS_HEAD 64u
/* Bytes of a dict entry at most (PyDictKeyEntry: hash, key, value) */
#define ENTRY_MAX 32u
/* Entries of pymalloc's arenas vector read at once (x 48 bytes, within
 * the smallest arena's buffer, 256 KiB) */
#define ARENA_READ 1024u
/* Type object fields at the same offsets in every 3.x on 64-bit
 * (Include/cpython/object.h): tp_dictoffset; Py_TPFLAGS_MANAGED_DICT
 * (3.11+) and Py_TPFLAGS_INLINE_VALUES (3.13+), Include/object.h */
#define TP_DICTOFFSET 288u
#define TPF_MANAGED_DICT (1ul << 4)
#define TPF_INLINE_VALUES (1ul << 2)
/* Low bits of _gc_prev hold flags from 3.8 (Include/internal/pycore_gc.h);
 * nodes are at least 8-aligned in every version. */
#define PREV_MASK (~(uint64_t)7)

struct cache {
	mem_reader *r;
	uint64_t *tag;		/* line address + 1, 0: empty */
	uint8_t *data;
	uint64_t reads;
};

struct tslot {
	uint64_t addr;		/* 0: empty */
	int32_t idx;		/* into types, -1: not a type */
};

struct census {
	py_proc *py;
	const struct py_layout *L;
	struct cache c;
	struct tslot *map;
	size_t map_cap, map_n;
	struct py_heap_type *types;
	size_t ntypes, types_cap;
	/* per type, in parallel with types */
	uint64_t *basic, *item, *flags, *dictoff;
	int gone;
	/* large objects already counted (a set of addresses) */
	uint64_t *large;
	size_t large_cap, large_n;
	uint64_t *items;	/* MAX_HEAP_ITEMS_READ item pointers */
	uint8_t *ents;		/* MAX_HEAP_ITEMS_READ entries read */
	uint64_t *arena_base;	/* pymalloc's arenas, sorted */
	size_t narenas;
	uint64_t arena_size;
	struct remote_iov *iov;	/* MAX_IOV headers read at once */
	uint8_t *hdrs;		/* MAX_IOV x HDR bytes */
	uint64_t *cand;
	uint64_t items_budget;
	/* how dicts and their keys objects lie (dict_keys 0: not read) */
	struct aio_objects dk;
};

static int cread(struct cache *c, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len) {
		uint64_t line = addr & ~(uint64_t)(LINE - 1);
		size_t off = (size_t)(addr - line);
		size_t n = LINE - off < len ? LINE - off : len;
		size_t i = (size_t)(line / LINE) % MAX_HEAP_CACHE_LINES;
		uint8_t *d = c->data + i * LINE;
		if (c->tag[i] != line + 1) {
			c->reads++;
			int rc = mem_read(c->r, line, d, LINE);
			if (rc != LP_OK) {
				c->tag[i] = 0;
				/* a line across the end of a mapping: read
				 * just what was asked */
				if (rc != LP_EFAULT)
					return rc;
				c->reads++;
				rc = mem_read(c->r, addr, out, n);
				if (rc != LP_OK)
					return rc;
				goto next;
			}
			c->tag[i] = line + 1;
		}
		memcpy(out, d + off, n);
next:
		out += n;
		addr += n;
		len -= n;
	}
	return LP_OK;
}

static uint64_t u64(const uint8_t *b, uint32_t off)
{
	return GET_MEMBER(uint64_t, b, off);
}

/* The index of type addr in ce->types, -1 when it is not a type, -2 when
 * the target is gone or memory ran out. */
static int32_t type_of(struct census *ce, uint64_t addr)
{
	const struct py_layout *L = ce->L;
	if (ce->map_n * 2 >= ce->map_cap) {
		if (ce->map_cap >= 4 * (size_t)MAX_HEAP_TYPES)
			return -1;
		size_t ncap = ce->map_cap ? ce->map_cap * 2 : 1024;
		struct tslot *nm = calloc(ncap, sizeof *nm);
		if (!nm)
			return -2;
		for (size_t i = 0; i < ce->map_cap; i++) {
			if (!ce->map[i].addr)
				continue;
			size_t h = (ce->map[i].addr >> 4) * 0x9E3779B97F4A7C15ull
				   % ncap;
			while (nm[h].addr)
				h = (h + 1) % ncap;
			nm[h] = ce->map[i];
		}
		free(ce->map);
		ce->map = nm;
		ce->map_cap = ncap;
	}
	size_t h = (addr >> 4) * 0x9E3779B97F4A7C15ull % ce->map_cap;
	while (ce->map[h].addr) {
		if (ce->map[h].addr == addr)
			return ce->map[h].idx;
		h = (h + 1) % ce->map_cap;
	}
	/* A new one: checked once. */
	int32_t idx = -1;
	uint8_t t[512], m[512];
	uint32_t need = L->tp_flags + 8;
	if (L->tp_name + 8 > need)
		need = L->tp_name + 8;
	if (L->tp_itemsize + 8 > need)
		need = L->tp_itemsize + 8;
	if (L->major == 3 && TP_DICTOFFSET + 8 > need)
		need = TP_DICTOFFSET + 8;
	if ((addr & 7) || need > sizeof t)
		goto store;
	int rc = cread(&ce->c, addr, t, need);
	if (rc == LP_ENOPROC || rc == LP_EPERM) {
		ce->gone = rc;
		return -2;
	}
	if (rc != LP_OK)
		goto store;
	uint64_t meta = u64(t, L->ob_type);
	uint64_t flags = u64(t, L->tp_flags);
	if (!meta || (meta & 7) || !(flags & TPF_READY) ||
	    cread(&ce->c, meta, m, L->tp_flags + 8) != LP_OK ||
	    !(u64(m, L->tp_flags) & TPF_TYPE_SUBCLASS))
		goto store;
	char name[96];
	uint64_t np = u64(t, L->tp_name);
	if (!np || cread(&ce->c, np, name, 1) != LP_OK)
		goto store;
	/* the name up to its NUL, within the buffer, without a read past
	 * the end of its mapping */
	size_t len = 0;
	while (len + 1 < sizeof name) {
		if (cread(&ce->c, np + len, &name[len], 1) != LP_OK)
			break;
		if (!name[len])
			break;
		if ((unsigned char)name[len] < 0x20 || name[len] == 0x7f)
			goto store;
		len++;
	}
	name[len] = 0;
	if (!len)
		goto store;
	if (ce->ntypes == ce->types_cap) {
		size_t ncap = ce->types_cap ? ce->types_cap * 2 : 256;
		void *a = realloc(ce->types, ncap * sizeof *ce->types);
		if (!a)
			return -2;
		ce->types = a;
		uint64_t **arr[4] = { &ce->basic, &ce->item, &ce->flags,
				      &ce->dictoff };
		for (int k = 0; k < 4; k++) {
			void *b = realloc(*arr[k], ncap * sizeof(uint64_t));
			if (!b)
				return -2;
			*arr[k] = b;
		}
		ce->types_cap = ncap;
	}
	idx = (int32_t)ce->ntypes++;
	struct py_heap_type *ty = &ce->types[idx];
	memset(ty, 0, sizeof *ty);
	ty->addr = addr;
	memcpy(ty->name, name, len + 1);
	ce->basic[idx] = u64(t, L->tp_basicsize);
	ce->item[idx] = u64(t, L->tp_itemsize);
	ce->flags[idx] = flags;
	ce->dictoff[idx] = L->major == 3 ? u64(t, TP_DICTOFFSET) : 0;
store:
	ce->map[h].addr = addr;
	ce->map[h].idx = idx;
	ce->map_n++;
	return idx;
}

static int by_bytes(const void *a, const void *b)
{
	const struct py_heap_type *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Adds addr to the set of large objects; false when it was there (or the
 * set cannot grow: then it is not counted twice either). */
static bool large_add(struct census *ce, uint64_t addr)
{
	if (ce->large_n * 2 >= ce->large_cap) {
		size_t ncap = ce->large_cap ? ce->large_cap * 2 : 1024;
		uint64_t *ns = calloc(ncap, sizeof *ns);
		if (!ns)
			return false;
		for (size_t i = 0; i < ce->large_cap; i++) {
			if (!ce->large[i])
				continue;
			size_t h = (ce->large[i] >> 4) * 0x9E3779B97F4A7C15ull
				   % ncap;
			while (ns[h])
				h = (h + 1) % ncap;
			ns[h] = ce->large[i];
		}
		free(ce->large);
		ce->large = ns;
		ce->large_cap = ncap;
	}
	size_t h = (addr >> 4) * 0x9E3779B97F4A7C15ull % ce->large_cap;
	while (ce->large[h]) {
		if (ce->large[h] == addr)
			return false;
		h = (h + 1) % ce->large_cap;
	}
	ce->large[h] = addr;
	ce->large_n++;
	return true;
}

/* Whether p lies in one of pymalloc's arenas (then it is no large
 * object, and the arena walk counted it). */
static bool in_arena(const struct census *ce, uint64_t p)
{
	size_t lo = 0, hi = ce->narenas;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ce->arena_base[mid] <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && p < ce->arena_base[lo - 1] + ce->arena_size;
}

/* HDR bytes of an object's header, enough for PyVarObject and a compact
 * str's header in every version. */
#define HDR 128u

/* The bytes of a compact str whose header h was read (its header, its
 * characters and their NUL: Include/cpython/unicodeobject.h), 0 when it
 * is not one. */
static uint64_t str_size(const struct py_layout *L, const uint8_t *h)
{
	uint32_t st = GET_MEMBER(uint32_t, h, L->uni_state);
	int64_t len = GET_MEMBER(int64_t, h, L->uni_len);
	unsigned kind = (st >> L->uni_kind_shift) & 7;
	if (!((st >> L->uni_compact_bit) & 1) || len < 0 ||
	    len > (1ll << 40) || (kind != 1 && kind != 2 && kind != 4))
		return 0;
	return ((st >> L->uni_ascii_bit) & 1)
	       ? L->uni_ascii_size + (uint64_t)len + 1
	       : L->uni_compact_size + ((uint64_t)len + 1) * kind;
}

/* One item's header h, read: counted when a large untracked object. */
static int large_one(struct census *ce, uint64_t p, const uint8_t *h,
		     struct py_heap_census *out)
{
	const struct py_layout *L = ce->L;
	uint64_t tp = u64(h, L->ob_type);
	if (!tp)
		return LP_OK;
	int32_t ti = type_of(ce, tp);
	if (ti == -2)
		return ce->gone ? ce->gone : LP_ENOMEM;
	if (ti < 0 || (ce->flags[ti] & TPF_HAVE_GC))
		return LP_OK;
	uint64_t sz = 0;
	const char *name = ce->types[ti].name;
	if (!strcmp(name, "str")) {
		sz = str_size(L, h);
		if (!sz)
			return LP_OK;
	} else if (ce->item[ti] && !(L->long_tagged && !strcmp(name, "int"))) {
		int64_t m = GET_MEMBER(int64_t, h, L->ob_size);
		if (m < 0)
			m = -m;
		if ((uint64_t)m >= (1ull << 40) / ce->item[ti])
			return LP_OK;
		sz = ce->basic[ti] + (uint64_t)m * ce->item[ti];
	}
	if (sz <= 512 || !large_add(ce, p))
		return LP_OK;
	ce->types[ti].count++;
	ce->types[ti].bytes += sz;
	out->large_objects++;
	return LP_OK;
}

/* Of the k object pointers in ce->items, those that are large objects
 * the GC does not track (bytes, str, ... over pymalloc's 512 bytes, so
 * allocated by malloc and in no arena) are counted once each: their
 * headers read MAX_IOV at a time. */
static int large_ptrs(struct census *ce, size_t k, struct py_heap_census *out)
{
	const struct py_layout *L = ce->L;
	uint32_t need = L->ob_size + 8;
	if (L->uni_compact_size > need)
		need = L->uni_compact_size;
	if (need > HDR)
		return LP_OK;
	size_t nc = 0;
	for (size_t i = 0; i <= k; i++) {
		if (i < k) {
			uint64_t p = ce->items[i];
			if (p < 4096 || p >= (1ull << 47) || (p & 7) ||
			    in_arena(ce, p))
				continue;
			ce->cand[nc] = p;
			ce->iov[nc] = (struct remote_iov){
				p, ce->hdrs + nc * HDR, need };
			memset(ce->hdrs + nc * HDR, 0, need);
			if (++nc < MAX_IOV)
				continue;
		}
		if (!nc)
			continue;
		/* the readable ones are filled; the others stay zero, with
		 * no type */
		int rc = mem_readv(ce->c.r, ce->iov, nc);
		ce->c.reads++;
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			return rc;
		for (size_t j = 0; j < nc; j++) {
			rc = large_one(ce, ce->cand[j], ce->hdrs + j * HDR, out);
			if (rc != LP_OK)
				return rc;
		}
		nc = 0;
	}
	return LP_OK;
}

/* The large objects n entries of es bytes from entries point at (the
 * pointer voff bytes into each): a list's or tuple's items (es 8), a
 * dict's entries or values.  Read MAX_HEAP_ITEMS_READ entries at a time,
 * at most items_budget in a census. */
static int large_entries(struct census *ce, uint64_t entries, uint64_t n,
			 uint32_t es, uint32_t voff,
			 struct py_heap_census *out)
{
	if (es < 8 || es > ENTRY_MAX || voff + 8 > es)
		return LP_OK;
	if (n > ce->items_budget)
		n = ce->items_budget;
	ce->items_budget -= n;
	for (uint64_t done = 0; done < n;) {
		uint64_t k = n - done;
		if (k > MAX_HEAP_ITEMS_READ)
			k = MAX_HEAP_ITEMS_READ;
		/* through the cache: most of them are small and lie in
		 * pymalloc's pools beside each other */
		int rc = cread(&ce->c, entries + done * es, ce->ents, k * es);
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			return rc;
		if (rc != LP_OK)
			return LP_OK;
		for (uint64_t i = 0; i < k; i++)
			ce->items[i] = u64(ce->ents, (uint32_t)(i * es + voff));
		rc = large_ptrs(ce, (size_t)k, out);
		if (rc != LP_OK)
			return rc;
		done += k;
	}
	return LP_OK;
}

static int large_items(struct census *ce, uint64_t items, uint64_t n,
		       struct py_heap_census *out)
{
	return large_entries(ce, items, n, 8, 0, out);
}

/* How dicts lie for this process: the object facts probed per version
 * (tools/gen-asyncio-layouts), ma_keys and ma_values from the
 * interpreter's _Py_DebugOffsets where it has them (3.13+), validated
 * once; dict_keys 0 when they do not hold (the tables are then left
 * out, and said so). */
static void dict_facts(py_proc *py, const struct py_layout *L,
		       struct aio_objects *O)
{
	memset(O, 0, sizeof *O);
	const struct aio_objects *p = L->major == 3 ?
		aio_objects_for(L->minor) : NULL;
	if (!p)
		return;
	*O = *p;
	if (py->dbg_shape && py->runtime) {
		uint8_t buf[PY_DEBUG_OFFSETS_READ];
		size_t need = 8 + 8 * py->dbg_shape->n;
		struct dbg_view v = { buf, need, 8, py->dbg_shape };
		if (need > sizeof buf ||
		    mem_read(py->reader, py->runtime, buf, need) != LP_OK ||
		    !dbg_offset(&v, "dict_object", "ma_keys", 8, 4096,
				&O->dict_keys) ||
		    !dbg_offset(&v, "dict_object", "ma_values", 8, 4096,
				&O->dict_values)) {
			O->dict_keys = 0;
			return;
		}
	}
	if (!O->dict_keys || O->dict_keys + 8 > 128 ||
	    O->dict_values + 8 > 128 || O->dk_indices > KEYS_HEAD ||
	    O->dk_nentries + 8 > O->dk_indices ||
	    O->dk_size + 8 > O->dk_indices ||
	    O->dk_log2_index_bytes >= O->dk_indices ||
	    O->dk_kind >= O->dk_indices ||
	    (!O->dk_size && !O->dk_log2_index_bytes) ||
	    O->dk_general.size < 16 || O->dk_general.size > 32 ||
	    O->dk_unicode.size < 16 || O->dk_unicode.size > 32)
		O->dict_keys = 0;
}

/* Bytes of one dict index for a table of 2^log2 slots: as wide as the
 * slot count needs (DK_IXSIZE, the same rule in every 3.x). */
static unsigned ix_log2(unsigned log2)
{
	return log2 < 8 ? 0 : log2 < 16 ? 1 : log2 < 32 ? 2 : 3;
}

/* The bytes a dict o (its PyDictObject read) holds beyond itself: its
 * keys object (PyDictKeysObject: header, index table, USABLE_FRACTION of
 * the slots as entries; Objects/dict-common.h up to 3.10,
 * Include/internal/pycore_dict.h from 3.11), once per keys object when
 * shared (a split table, shared by a class's instances, or the empty
 * keys every empty dict points at), and a split dict's values array
 * where it is allocated apart (up to 3.12; 3.13+ keep them inline in
 * the instance).  *rc is set when the target is gone. */
/* Where a dict's values lie: n entries of es bytes from entries, each
 * value voff bytes in, or (values not 0) n pointers from values. */
struct dvals {
	uint64_t entries, values, n;
	uint32_t es, voff;
};

static uint64_t dict_tables(struct census *ce, const uint8_t *o,
			    struct py_heap_census *out, int *rc,
			    struct dvals *dv, bool count)
{
	const struct aio_objects *O = &ce->dk;
	uint64_t keys = u64(o, O->dict_keys);
	uint64_t values = u64(o, O->dict_values);
	memset(dv, 0, sizeof *dv);
	uint8_t h[KEYS_HEAD];
	if (keys < 4096 || keys >= (1ull << 47) || (keys & 7)) {
		out->changed++;
		return 0;
	}
	int r = cread(&ce->c, keys, h, O->dk_indices);
	if (r == LP_ENOPROC || r == LP_EPERM) {
		*rc = r;
		return 0;
	}
	if (r != LP_OK) {
		out->changed++;
		return 0;
	}
	unsigned log2 = 0, log2_ix;
	if (O->dk_size) {
		/* up to 3.10: the slot count, a power of two */
		uint64_t size = u64(h, O->dk_size);
		while (log2 < MAX_HEAP_DICT_LOG2 && (1ull << log2) < size)
			log2++;
		if (!size || (1ull << log2) != size)
			goto changed;
		log2_ix = log2 + ix_log2(log2);
	} else {
		/* 3.11+: the index table's byte log2, slots by their width */
		log2_ix = h[O->dk_log2_index_bytes];
		while (log2 < MAX_HEAP_DICT_LOG2 &&
		       log2 + ix_log2(log2) < log2_ix)
			log2++;
		if (log2 + ix_log2(log2) != log2_ix)
			goto changed;
	}
	/* dk_kind (3.11+): 0 general entries, 1 str keys, 2 split */
	unsigned kind = O->dk_kind ? h[O->dk_kind] : 0;
	if (kind > 2)
		goto changed;
	uint64_t usable = (2ull << log2) / 3;
	int64_t n = GET_MEMBER(int64_t, h, O->dk_nentries);
	if (n < 0 || (uint64_t)n > usable)
		goto changed;
	uint64_t es = kind ? O->dk_unicode.size : O->dk_general.size;
	dv->entries = keys + O->dk_indices + (1ull << log2_ix);
	dv->values = values ? values + O->values_pre : 0;
	dv->n = (uint64_t)n;
	dv->es = (uint32_t)es;
	dv->voff = kind ? O->dk_unicode.value : O->dk_general.value;
	if (!count)
		return 0;
	uint64_t add = 0;
	/* a combined table with entries is its dict's own (dk_refcnt 1) */
	if ((!values && n) || large_add(ce, keys))
		add += O->dk_indices + (1ull << log2_ix) + usable * es;
	if (values && O->values_kind != PY_VALUES_INLINE)
		add += usable * 8;
	return add;
changed:
	out->changed++;
	return 0;
}

/* The large objects a dict's values point at (once each). */
static int dict_large(struct census *ce, const struct dvals *dv,
		      struct py_heap_census *out)
{
	if (!dv->n)
		return LP_OK;
	if (dv->values)
		return large_entries(ce, dv->values, dv->n, 8, 0, out);
	return large_entries(ce, dv->entries, dv->n, dv->es, dv->voff, out);
}

/* How many values a 3.11/3.12 values array vals holds: the prefix
 * before values[0] ends with its own size, then the count of values
 * set, before them their indices in insertion order (Objects/
 * dictobject.c new_values, _PyDictValues_AddToInsertionOrder); the
 * largest index + 1, 0 when the prefix does not read so. */
static uint64_t prefix_count(struct census *ce, uint64_t vals, int *rc)
{
	uint8_t pre[256];
	if (vals < 4096 || (vals & 7))
		return 0;
	*rc = cread(&ce->c, vals - 8, pre, 8);
	if (*rc != LP_OK)
		return 0;
	unsigned psz = pre[7], set = pre[6];
	if (psz < 8 || psz % 8 || set + 2 > psz)
		return 0;
	*rc = cread(&ce->c, vals - psz, pre, psz);
	if (*rc != LP_OK)
		return 0;
	uint64_t n = 0;
	for (unsigned k = 0; k < set; k++)
		if ((uint64_t)pre[psz - 3 - k] + 1 > n)
			n = pre[psz - 3 - k] + 1u;
	return n;
}

/* An instance's attributes: the large objects its __dict__ (at
 * tp_dictoffset, or 3.11+'s managed dict pointer before the object) or,
 * without one, its managed values (3.11's values pointer, 3.12's tagged
 * word, 3.13+'s inline values after tp_basicsize) point at. */
static int inst_values(struct census *ce, uint64_t obj, int32_t ti,
		       struct py_heap_census *out)
{
	const struct py_layout *L = ce->L;
	const struct aio_objects *O = &ce->dk;
	uint64_t flags = ce->flags[ti];
	uint64_t dict = 0, vals = 0, n = 0, w = 0;
	int rc = LP_OK;
	if (O->values_kind != PY_VALUES_NONE && (flags & TPF_MANAGED_DICT)) {
		if (!O->managed_dict || O->managed_dict > 64 || obj < 4096)
			return LP_OK;
		rc = cread(&ce->c, obj - O->managed_dict, &w, 8);
		if (rc != LP_OK)
			goto done;
		switch (O->values_kind) {
		case PY_VALUES_PTR:
			dict = w;
			if (!dict && O->managed_values &&
			    O->managed_values <= 64)
				rc = cread(&ce->c, obj - O->managed_values,
					   &vals, 8);
			break;
		case PY_VALUES_TAGGED:
			if (w & 1)
				vals = w + 1;
			else
				dict = w;
			break;
		case PY_VALUES_INLINE:
			dict = w;
			if (!dict && (flags & TPF_INLINE_VALUES) &&
			    ce->basic[ti] >= 16 && ce->basic[ti] < 4096) {
				/* struct _dictvalues: capacity, size,
				 * embedded, valid (pycore_dict.h) */
				uint8_t hd[4];
				rc = cread(&ce->c, obj + ce->basic[ti], hd, 4);
				if (rc == LP_OK && hd[3]) {
					vals = obj + ce->basic[ti];
					n = hd[0];
				}
			}
			break;
		default:
			break;
		}
		if (rc == LP_OK && vals && O->values_kind != PY_VALUES_INLINE)
			n = prefix_count(ce, vals, &rc);
	} else if ((int64_t)ce->dictoff[ti] > 0 && ce->dictoff[ti] < 4096) {
		rc = cread(&ce->c, obj + ce->dictoff[ti], &dict, 8);
	}
	if (rc != LP_OK)
		goto done;
	if (dict) {
		uint8_t o[128];
		uint32_t need = O->dict_keys > O->dict_values ? O->dict_keys
							      : O->dict_values;
		need += 8;
		if (L->ob_type + 8 > need)
			need = L->ob_type + 8;
		if (dict < 4096 || (dict & 7) || need > sizeof o)
			return LP_OK;
		rc = cread(&ce->c, dict, o, need);
		if (rc != LP_OK)
			goto done;
		/* a dict still: its type one of dict's */
		int32_t dt = type_of(ce, u64(o, L->ob_type));
		if (dt == -2)
			return ce->gone ? ce->gone : LP_ENOMEM;
		if (dt < 0 || !(ce->flags[dt] & TPF_DICT_SUBCLASS))
			return LP_OK;
		struct dvals dv;
		int grc = LP_OK;
		dict_tables(ce, o, out, &grc, &dv, false);
		if (grc != LP_OK)
			return grc;
		return dict_large(ce, &dv, out);
	}
	if (vals && n)
		return large_entries(ce, vals + O->values_pre, n, 8, 0, out);
done:
	return rc == LP_ENOPROC || rc == LP_EPERM ? rc : LP_OK;
}

/* Follows one list from its head; returns LP_OK or the target's end. */
static int walk_list(struct census *ce, uint64_t head,
		     struct py_heap_census *out, uint64_t *budget)
{
	const struct py_layout *L = ce->L;
	uint32_t gh = L->gc_head_size;
	uint32_t span = gh + L->ob_size + 8;
	uint32_t ext = gh + L->list_alloc + 8;
	if (L->bytearray_alloc && gh + L->bytearray_alloc + 8 > ext)
		ext = gh + L->bytearray_alloc + 8;
	if (L->set_table && gh + L->set_table + 8 > ext)
		ext = gh + L->set_table + 8;
	if (L->set_mask && gh + L->set_mask + 8 > ext)
		ext = gh + L->set_mask + 8;
	if (ce->dk.dict_keys) {
		const struct aio_objects *O = &ce->dk;
		uint32_t d = O->dict_keys > O->dict_values ? O->dict_keys
							  : O->dict_values;
		if (gh + d + 8 > ext)
			ext = gh + d + 8;
	}
	if (ext > span)
		span = ext;
	uint8_t b[256];
	if (span > sizeof b)
		return LP_EFORMAT;
	uint64_t prev = head, node;
	int rc = mem_read_u64(ce->c.r, head, &node);
	ce->c.reads++;
	if (rc != LP_OK)
		return rc == LP_EFAULT ? LP_OK : rc;
	while (node != head) {
		if (!*budget || !node || (node & 7)) {
			out->changed++;
			out->lists_cut++;
			return LP_OK;
		}
		(*budget)--;
		/* the GC head and the type first: a small object at the end
		 * of an arena has nothing readable after it */
		uint32_t hlen = gh + L->ob_type + 8;
		rc = cread(&ce->c, node, b, hlen);
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			return rc;
		if (rc != LP_OK || (u64(b, 8) & PREV_MASK) != prev) {
			/* moved or freed while we read: the rest of this
			 * list is not ours to follow */
			out->changed++;
			out->lists_cut++;
			return LP_OK;
		}
		const uint8_t *o = b + gh;
		int32_t ti = type_of(ce, u64(o, L->ob_type));
		if (ti == -2)
			return ce->gone ? ce->gone : LP_ENOMEM;
		if (ti < 0) {
			out->changed++;
		} else {
			struct py_heap_type *ty = &ce->types[ti];
			/* the size fields, for the types that have them */
			bool list = !strcmp(ty->name, "list");
			bool ba = L->bytearray_alloc &&
				  !strcmp(ty->name, "bytearray");
			bool set = L->set_table &&
				   (!strcmp(ty->name, "set") ||
				    !strcmp(ty->name, "frozenset"));
			bool dict = ce->dk.dict_keys &&
				    (ce->flags[ti] & TPF_DICT_SUBCLASS);
			if ((ce->item[ti] || list || ba || set || dict) &&
			    span > hlen) {
				rc = cread(&ce->c, node + hlen, b + hlen,
					   span - hlen);
				if (rc == LP_ENOPROC || rc == LP_EPERM)
					return rc;
				if (rc != LP_OK) {
					out->changed++;
					goto next;
				}
			}
			uint64_t sz = ce->basic[ti] + gh;
			struct dvals dv = { 0 };
			if (ce->item[ti]) {
				int64_t n = GET_MEMBER(int64_t, o, L->ob_size);
				if (n < 0)
					n = -n;
				/* types with an item size but no ob_size
				 * (3.11+ generators size their frame from
				 * the code) add no variable part */
				if ((uint64_t)n < (1ull << 40) / ce->item[ti])
					sz += (uint64_t)n * ce->item[ti];
			}
			if (ce->flags[ti] & L->preheader_flags)
				sz += L->preheader;
			/* the separately allocated buffers of lists and
			 * bytearrays (by name: the built-in types') */
			if (list) {
				int64_t a = GET_MEMBER(int64_t, o,
						       L->list_alloc);
				if (a > 0 && a < (1ll << 40))
					sz += (uint64_t)a * 8;
			} else if (set) {
				/* a table outside the object (not its
				 * smalltable): mask + 1 setentry {key, hash}
				 * of 16 bytes (Include/cpython/setobject.h) */
				uint64_t obj = node + gh;
				uint64_t tab = u64(o, L->set_table);
				int64_t m = GET_MEMBER(int64_t, o, L->set_mask);
				if ((tab < obj || tab >= obj + ce->basic[ti]) &&
				    m > 0 && m < (1ll << 36))
					sz += ((uint64_t)m + 1) * 16;
			} else if (ba) {
				int64_t a = GET_MEMBER(int64_t, o,
						       L->bytearray_alloc);
				if (a > 0 && a < (1ll << 40))
					sz += (uint64_t)a;
			} else if (dict) {
				int grc = LP_OK;
				sz += dict_tables(ce, o, out, &grc, &dv, true);
				if (grc != LP_OK)
					return grc;
			}
			ty->count++;
			ty->bytes += sz;
			/* what its items hold beyond pymalloc */
			bool tuple = !strcmp(ty->name, "tuple");
			if (dict) {
				rc = dict_large(ce, &dv, out);
				if (rc != LP_OK)
					return rc;
			} else if (ce->dk.dict_keys && !list && !tuple && !set) {
				rc = inst_values(ce, node + gh, ti, out);
				if (rc != LP_OK)
					return rc;
			}
			if (list || tuple) {
				int64_t n = GET_MEMBER(int64_t, o, L->ob_size);
				uint64_t items = list
					? u64(o, L->list_items)
					: node + gh + L->tuple_items;
				if (n > 0 && items && !(items & 7)) {
					rc = large_items(ce, items, (uint64_t)n,
							 out);
					if (rc != LP_OK)
						return rc;
				}
			}
		}
next:
		prev = node;
		node = u64(b, 0);
		/* 3.8+ mark unreachable objects in the next pointer's low bit
		 * during a collection */
		node &= PREV_MASK;
	}
	return LP_OK;
}

/* One entry of the arenas vector that has an arena. */
struct arena_ent {
	uint64_t base, carved;
	uint32_t idx;
};

static int by_base(const void *a, const void *b)
{
	const struct arena_ent *x = a, *y = b;
	if (x->base != y->base)
		return x->base < y->base ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The small objects the GC does not track (str, bytes, int, float...):
 * every used block of every pool of pymalloc's arenas (the vector's
 * pointer at arenas_at, its uint length at maxarenas_at), read an
 * arena's carved pools at a time.  A pool's free blocks (its freeblock
 * list, followed at most once per block) and the never-used ones (from
 * nextoffset) are skipped; a used block counts when it holds a plausible
 * reference count and a type that checks as a type without
 * Py_TPFLAGS_HAVE_GC.  Blocks that are not objects (buffers) are left. */
static int walk_arenas(struct census *ce, uint64_t arenas_at,
		       uint64_t maxarenas_at, struct py_heap_census *out)
{
	const struct py_layout *L = ce->L;
	uint64_t arenas;
	uint32_t maxarenas;
	if (mem_read_u64(ce->c.r, arenas_at, &arenas) ||
	    mem_read(ce->c.r, maxarenas_at, &maxarenas, 4))
		return LP_EFAULT;
	ce->c.reads += 2;
	if (!arenas || maxarenas > MAX_HEAP_ARENAS || !L->ao_size ||
	    L->ao_size > 256 || L->pool_size < 1024 ||
	    L->arena_size > MAX_HEAP_ARENA_BYTES ||
	    L->arena_size < L->pool_size || L->arena_size % L->pool_size)
		return LP_EFORMAT;
	size_t blen = L->arena_size > (size_t)ARENA_READ * L->ao_size ?
		      L->arena_size : (size_t)ARENA_READ * L->ao_size;
	uint8_t *buf = malloc(blen);
	uint8_t *freebm = malloc(L->pool_size >> L->align_shift);
	struct arena_ent *ents = NULL;
	size_t nent = 0, ent_cap = 0;
	int rc = LP_ENOMEM;
	if (!buf || !freebm)
		goto out;
	/* the vector first, ARENA_READ entries a read (through buf) */
	for (uint32_t a0 = 0; a0 < maxarenas; a0 += ARENA_READ) {
		uint32_t k = maxarenas - a0 < ARENA_READ ? maxarenas - a0
							 : ARENA_READ;
		rc = mem_read(ce->c.r, arenas + (uint64_t)a0 * L->ao_size, buf,
			      (size_t)k * L->ao_size);
		ce->c.reads++;
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			goto out;
		if (rc != LP_OK) {
			out->changed++;
			break;	/* the vector moved (grown): the rest unread */
		}
		for (uint32_t j = 0; j < k; j++) {
			const uint8_t *ao = buf + (size_t)j * L->ao_size;
			uint64_t base = u64(ao, L->ao_address);
			if (!base)
				continue;
			if (nent == ent_cap) {
				size_t nc = ent_cap ? ent_cap * 2 : 256;
				void *nb = realloc(ents, nc * sizeof *ents);
				if (!nb) {
					rc = LP_ENOMEM;
					goto out;
				}
				ents = nb;
				ent_cap = nc;
			}
			ents[nent].base = base;
			ents[nent].carved = u64(ao, L->ao_pool_address);
			ents[nent++].idx = a0 + j;
		}
	}
	/* by address: arenas that overlap (a vector that lies) are read
	 * once, the later ones counted as changed */
	qsort(ents, nent, sizeof *ents, by_base);
	ce->arena_base = malloc((nent ? nent : 1) * sizeof(uint64_t));
	if (!ce->arena_base) {
		rc = LP_ENOMEM;
		goto out;
	}
	uint64_t end = 0;
	for (size_t e = 0; e < nent; e++) {
		uint32_t a = ents[e].idx;
		uint64_t base = ents[e].base, carved = ents[e].carved;
		if (base < end) {
			out->changed++;
			continue;
		}
		end = base + L->arena_size;
		ce->arena_base[ce->narenas++] = base;
		uint64_t first = (base + L->pool_size - 1) &
				 ~(uint64_t)(L->pool_size - 1);
		/* pools are carved whole from the first aligned one */
		if (carved <= first || carved > base + L->arena_size ||
		    (carved - first) % L->pool_size)
			continue;
		size_t len = (size_t)(carved - first);
		rc = mem_read(ce->c.r, first, buf, len);
		ce->c.reads++;
		if (rc == LP_ENOPROC || rc == LP_EPERM)
			goto out;
		if (rc != LP_OK) {
			out->changed++;
			continue;
		}
		for (size_t off = 0; off + L->pool_size <= len;
		     off += L->pool_size) {
			const uint8_t *pool = buf + off;
			uint64_t paddr = first + off;
			uint32_t count = GET_MEMBER(uint32_t, pool, L->ph_count);
			uint32_t szidx = GET_MEMBER(uint32_t, pool, L->ph_szidx);
			uint32_t next = GET_MEMBER(uint32_t, pool,
						   L->ph_nextoffset);
			if (!count)
				continue;
			uint64_t size = (uint64_t)(szidx + 1) << L->align_shift;
			/* arenaindex and maxnextoffset are the uints before
			 * szidx and after nextoffset (struct pool_header):
			 * a pool that names another arena, or whose last
			 * offset is not the pool's end less a block, is no
			 * pool of this arena (or is being reset) */
			uint32_t aidx = GET_MEMBER(uint32_t, pool,
						   L->ph_szidx - 4);
			uint32_t maxnext = GET_MEMBER(uint32_t, pool,
						      L->ph_nextoffset + 4);
			if (size > 512 || next > L->pool_size ||
			    next < L->ph_overhead || aidx != a ||
			    maxnext + size != L->pool_size) {
				out->changed++;
				continue;
			}
			size_t nblocks = (next - L->ph_overhead) / size;
			memset(freebm, 0, nblocks);
			uint64_t fb = u64(pool, L->ph_freeblock);
			for (size_t k = 0; fb && k <= nblocks; k++) {
				if (fb < paddr + L->ph_overhead ||
				    fb >= paddr + next ||
				    (fb - paddr - L->ph_overhead) % size)
					break;	/* moving: the rest counted
						 * as used, checked below */
				size_t i = (fb - paddr - L->ph_overhead) / size;
				freebm[i] = 1;
				fb = u64(pool, (uint32_t)(fb - paddr));
			}
			for (size_t i = 0; i < nblocks; i++) {
				if (freebm[i])
					continue;
				const uint8_t *blk = pool + L->ph_overhead +
						     i * size;
				uint64_t refcnt = u64(blk, 0);
				uint64_t tp = u64(blk, L->ob_type);
				if (!refcnt || refcnt > (1ull << 32) ||
				    tp < 4096 || tp >= (1ull << 47) || (tp & 7))
					continue;
				int32_t ti = type_of(ce, tp);
				if (ti == -2) {
					rc = ce->gone ? ce->gone : LP_ENOMEM;
					goto out;
				}
				if (ti < 0 || (ce->flags[ti] & TPF_HAVE_GC))
					continue;
				uint64_t sz = size;
				if (ce->item[ti] && size >= 24) {
					int64_t n = GET_MEMBER(int64_t, blk,
							       L->ob_size);
					/* 3.12+ ints: lv_tag, the digit count
					 * above 3 sign and flag bits
					 * (Include/cpython/longintrepr.h) */
					if (L->long_tagged &&
					    !strcmp(ce->types[ti].name, "int"))
						n = (int64_t)((uint64_t)n >> 3);
					if (n < 0)
						n = -n;
					if ((uint64_t)n < size)
						sz = ce->basic[ti] +
						     (uint64_t)n * ce->item[ti];
				} else if (strcmp(ce->types[ti].name, "str")) {
					sz = ce->basic[ti];
				} else if (L->uni_ascii_size &&
					   L->uni_state + 4 <= size &&
					   L->uni_len + 8 <= size) {
					/* its own length where its header
					 * reads as a compact str, else the
					 * block */
					uint64_t s = str_size(L, blk);
					if (s)
						sz = s;
				}
				if (sz > size)
					sz = size;
				ce->types[ti].count++;
				ce->types[ti].bytes += sz;
				out->small_objects++;
			}
		}
	}
	ce->arena_size = L->arena_size;
	rc = LP_OK;
out:
	free(buf);
	free(freebm);
	free(ents);
	return rc;
}

/* pymalloc's structures where no layout or symbol names them: struct
 * pool_header and struct arena_object have kept one shape on 64-bit
 * builds (Include/internal/pycore_obmalloc.h; Objects/obmalloc.c before
 * 3.12): a pool's count, freeblock, nextpool, prevpool, then the uints
 * arenaindex, szidx, nextoffset, maxnextoffset; an arena's address,
 * pool_address, nfreepools, ntotalpools.  Size classes are 16 bytes
 * apart on 64-bit from 3.8 (ALIGNMENT_SHIFT 4), 32 of them, so the
 * usedpools array is 64 pointers.  Every use is checked against the
 * pools themselves. */
#define PH_NEXTPOOL 16
#define PH_PREVPOOL 24
#define PH_ARENAINDEX 32
#define PH_SZIDX 36
#define PH_NEXTOFFSET 40
#define PH_MAXNEXTOFFSET 44
#define PH_SIZE 48
#define AO_SIZE 48
#define AO_NTOTALPOOLS 20
#define NCLASSES 32u
#define USEDPOOLS_BYTES (2 * NCLASSES * 8)
/* pools whose headers the search checks */
#define MAX_SAMPLES (2 * NCLASSES)

struct pool_sample {
	uint64_t addr;
	uint32_t arenaindex;
};

/* Whether h, read at addr, is a used pool's header whose fields agree:
 * maxnextoffset is exactly POOL_SIZE - the block size (4 or 16 KiB
 * pools), nextoffset and freeblock on the block grid inside the pool,
 * a count the pool can hold.  *pool_size is set. */
static bool pool_ok(const uint8_t *h, uint64_t addr, uint32_t *pool_size)
{
	uint32_t count = GET_MEMBER(uint32_t, h, 0);
	uint64_t fb = u64(h, 8);
	uint32_t aidx = GET_MEMBER(uint32_t, h, PH_ARENAINDEX);
	uint32_t szidx = GET_MEMBER(uint32_t, h, PH_SZIDX);
	uint32_t next = GET_MEMBER(uint32_t, h, PH_NEXTOFFSET);
	uint32_t maxnext = GET_MEMBER(uint32_t, h, PH_MAXNEXTOFFSET);
	if (szidx >= NCLASSES || aidx >= MAX_HEAP_ARENAS)
		return false;
	uint32_t size = (szidx + 1) << 4;
	uint32_t ps = maxnext + size;
	if ((ps != 4096 && ps != 16384) || (addr & (ps - 1)) || !count ||
	    count > (ps - PH_SIZE) / size || next < PH_SIZE ||
	    next > maxnext + size || (next - PH_SIZE) % size)
		return false;
	if (fb && (fb < addr + PH_SIZE || fb >= addr + next ||
		   (fb - addr - PH_SIZE) % size))
		return false;
	*pool_size = ps;
	return true;
}

/* Whether the 64 words w, at addr u, have usedpools' shape: for each
 * size class, both entries point 2 words before the pair itself (no
 * used pool) or both at pool-aligned addresses (its first and last). */
static bool usedpools_shape(const uint8_t *w, uint64_t u)
{
	for (uint32_t i = 0; i < NCLASSES; i++) {
		uint64_t e0 = u64(w, 16 * i), e1 = u64(w, 16 * i + 8);
		uint64_t head = u + 16 * i - 16;
		if (e0 == head && e1 == head)
			continue;
		if (!e0 || !e1 || ((e0 | e1) & 4095) || e0 >= (1ull << 47) ||
		    e1 >= (1ull << 47))
			return false;
	}
	return true;
}

/* Checks the pools usedpools at u (its words w) names: each class's
 * first pool has the class's head as prevpool, its last as nextpool,
 * both of the class's size and whole (pool_ok).  Returns how many
 * agreed (their samples kept), 0 when too many did not (a moving heap
 * may fail a few). */
static size_t usedpools_check(struct census *ce, const uint8_t *w,
			      uint64_t u, struct pool_sample *smp,
			      uint32_t *pool_size, int *rc)
{
	struct remote_iov iov[MAX_SAMPLES];
	uint8_t h[MAX_SAMPLES][PH_SIZE];
	uint32_t cls[MAX_SAMPLES];
	size_t n = 0, ok = 0, bad = 0;
	for (uint32_t i = 0; i < NCLASSES; i++) {
		uint64_t e0 = u64(w, 16 * i), e1 = u64(w, 16 * i + 8);
		if (e0 == u + 16 * i - 16)
			continue;
		for (int k = 0; k < 2; k++) {
			memset(h[n], 0, PH_SIZE);
			iov[n] = (struct remote_iov){ k ? e1 : e0, h[n],
						      PH_SIZE };
			cls[n++] = i;
		}
	}
	if (!n)
		return 0;
	*rc = mem_readv(ce->c.r, iov, n);
	ce->c.reads++;
	if (*rc == LP_ENOPROC || *rc == LP_EPERM)
		return 0;
	*rc = LP_OK;
	uint32_t ps = 0;
	for (size_t j = 0; j < n; j++) {
		uint32_t i = cls[j], p = 0;
		uint64_t head = u + 16 * i - 16;
		uint32_t link = (j & 1) ? PH_NEXTPOOL : PH_PREVPOOL;
		if (!pool_ok(h[j], iov[j].addr, &p) ||
		    GET_MEMBER(uint32_t, h[j], PH_SZIDX) != i ||
		    u64(h[j], link) != head || (ps && p != ps)) {
			bad++;
			continue;
		}
		ps = p;
		smp[ok].addr = iov[j].addr;
		smp[ok++].arenaindex = GET_MEMBER(uint32_t, h[j],
						  PH_ARENAINDEX);
	}
	if (!ok || bad * 4 > ok)
		return 0;
	*pool_size = ps;
	return ok;
}

/* Whether the arenas vector at v (maxarenas m, 0: unknown) holds the
 * sampled pools, each in the arena of its arenaindex; sets the arena
 * size (its ntotalpools pools, one fewer when the arena's base is not
 * pool-aligned: Objects/obmalloc.c new_arena). */
static bool vector_ok(struct census *ce, uint64_t v, uint64_t m,
		      const struct pool_sample *smp, size_t ns,
		      uint32_t pool_size, uint32_t *arena_size, int *rc)
{
	struct remote_iov iov[MAX_SAMPLES];
	uint8_t ao[MAX_SAMPLES][AO_SIZE];
	if (!v || (v & 7) || v >= (1ull << 47) || m > MAX_HEAP_ARENAS)
		return false;
	for (size_t j = 0; j < ns; j++) {
		if (m && smp[j].arenaindex >= m)
			return false;
		memset(ao[j], 0, AO_SIZE);
		iov[j] = (struct remote_iov){
			v + (uint64_t)smp[j].arenaindex * AO_SIZE, ao[j],
			AO_SIZE };
	}
	*rc = mem_readv(ce->c.r, iov, ns);
	ce->c.reads++;
	if (*rc == LP_ENOPROC || *rc == LP_EPERM)
		return false;
	*rc = LP_OK;
	size_t ok = 0, bad = 0;
	uint32_t asz = 0;
	for (size_t j = 0; j < ns; j++) {
		uint64_t base = u64(ao[j], 0), carved = u64(ao[j], 8);
		uint32_t total = GET_MEMBER(uint32_t, ao[j], AO_NTOTALPOOLS);
		uint32_t pools = 1;
		while (pools < total && pools < 4096)
			pools <<= 1;
		uint64_t a = (uint64_t)pools * pool_size;
		if (!base || !total || total > 4096 ||
		    a > MAX_HEAP_ARENA_BYTES || smp[j].addr < base ||
		    smp[j].addr >= base + a || carved <= smp[j].addr ||
		    carved > base + a || (asz && a != asz)) {
			bad++;
			continue;
		}
		asz = (uint32_t)a;
		ok++;
	}
	if (!ok || bad * 4 > ok)
		return false;
	*arena_size = asz;
	return true;
}

/* The interpreter binary's writable mappings (the file that holds
 * _PyRuntime or the interpreter pointer, and the anonymous .bss right
 * after it), at most max, within MAX_HEAP_DATA_SCAN bytes. */
static size_t data_regions(py_proc *py, const struct maps *m,
			   uint64_t (*reg)[2], size_t max)
{
	uint64_t anchor = py->runtime ? py->runtime : py->interp_head_addr;
	const struct map_entry *e = m && anchor ? maps_find(m, anchor) : NULL;
	if (!e || !e->path[0] || e->path[0] == '[')
		return 0;
	size_t n = 0;
	uint64_t total = 0;
	for (size_t i = 0; i < m->n && n < max; i++) {
		const struct map_entry *x = &m->v[i];
		bool mine = x->inode == e->inode && !strcmp(x->path, e->path);
		bool bss = !mine && i && !x->path[0] &&
			   x->start == m->v[i - 1].end &&
			   m->v[i - 1].inode == e->inode &&
			   !strcmp(m->v[i - 1].path, e->path);
		if (!(mine || bss) || (x->perms & (MAP_PERM_R | MAP_PERM_W)) !=
		    (MAP_PERM_R | MAP_PERM_W))
			continue;
		if (total + (x->end - x->start) > MAX_HEAP_DATA_SCAN)
			break;
		total += x->end - x->start;
		reg[n][0] = x->start;
		reg[n++][1] = x->end;
	}
	return n;
}

static bool in_regions(uint64_t (*reg)[2], size_t n, uint64_t p)
{
	for (size_t i = 0; i < n; i++)
		if (p >= reg[i][0] && p < reg[i][1])
			return true;
	return false;
}

/* 3.11's arenas vector is a static variable of its own: a word of the
 * binary's data pointing outside it at a vector that holds the sampled
 * pools; its length, maxarenas (16 doubled as it grows), is a uint
 * beside it, the largest such near it (a vector read past its end finds
 * no pool whose arenaindex names it).  Searched in chunks, the
 * candidates' entries read MAX_IOV at a time. */
static bool vector_search(struct census *ce, uint64_t (*reg)[2], size_t nreg,
			  const struct pool_sample *smp, size_t ns,
			  uint32_t pool_size, uint64_t *arenas_at,
			  uint64_t *maxarenas_at, uint32_t *arena_size, int *rc)
{
	uint32_t maxidx = 0;
	for (size_t j = 0; j < ns; j++)
		if (smp[j].arenaindex > maxidx)
			maxidx = smp[j].arenaindex;
	uint64_t found[MAX_HEAP_POOL_CANDIDATES];
	size_t nf = 0;
	/* MAX_IOV entries fit in hdrs (MAX_IOV x HDR bytes) */
	uint8_t (*ao)[AO_SIZE] = (uint8_t (*)[AO_SIZE])ce->hdrs;
	uint8_t *buf = malloc(HEAP_DATA_CHUNK);
	if (!buf) {
		*rc = LP_ENOMEM;
		return false;
	}
	for (size_t r = 0; r < nreg && nf < MAX_HEAP_POOL_CANDIDATES; r++) {
		for (uint64_t at = reg[r][0]; at < reg[r][1] &&
		     nf < MAX_HEAP_POOL_CANDIDATES; at += HEAP_DATA_CHUNK) {
			size_t len = reg[r][1] - at < HEAP_DATA_CHUNK ?
				     (size_t)(reg[r][1] - at) : HEAP_DATA_CHUNK;
			*rc = mem_read(ce->c.r, at, buf, len);
			ce->c.reads++;
			if (*rc == LP_ENOPROC || *rc == LP_EPERM)
				goto fail;
			if (*rc != LP_OK)
				continue;
			size_t nc = 0;
			for (size_t o = 0; o <= len; o += 8) {
				if (o < len) {
					uint64_t v = u64(buf, (uint32_t)o);
					if (v < 65536 || (v & 7) ||
					    v >= (1ull << 47) ||
					    in_regions(reg, nreg, v))
						continue;
					memset(ao[nc], 0, AO_SIZE);
					ce->iov[nc] = (struct remote_iov){
						v + (uint64_t)smp[0].arenaindex *
						AO_SIZE, ao[nc], AO_SIZE };
					ce->cand[nc] = at + o;
					if (++nc < MAX_IOV)
						continue;
				}
				if (!nc)
					continue;
				*rc = mem_readv(ce->c.r, ce->iov, nc);
				ce->c.reads++;
				if (*rc == LP_ENOPROC || *rc == LP_EPERM)
					goto fail;
				for (size_t j = 0; j < nc &&
				     nf < MAX_HEAP_POOL_CANDIDATES; j++) {
					uint64_t b = u64(ao[j], 0);
					uint64_t c = u64(ao[j], 8);
					if (b && b <= smp[0].addr &&
					    c > smp[0].addr &&
					    c <= b + MAX_HEAP_ARENA_BYTES)
						found[nf++] = ce->cand[j];
				}
				nc = 0;
			}
		}
	}
	free(buf);
	*rc = LP_OK;
	for (size_t k = 0; k < nf; k++) {
		uint64_t v;
		if (mem_read_u64(ce->c.r, found[k], &v) != LP_OK ||
		    !vector_ok(ce, v, 0, smp, ns, pool_size, arena_size, rc))
			continue;
		/* its length: a uint within 512 bytes, in the same region */
		uint64_t lo = found[k] - 512, hi = found[k] + 520;
		for (size_t r = 0; r < nreg; r++) {
			if (found[k] < reg[r][0] || found[k] >= reg[r][1])
				continue;
			if (lo < reg[r][0])
				lo = reg[r][0];
			if (hi > reg[r][1])
				hi = reg[r][1];
		}
		uint8_t near[1032];
		if (hi <= lo || hi - lo > sizeof near ||
		    mem_read(ce->c.r, lo, near, hi - lo) != LP_OK)
			continue;
		uint32_t best = 0;
		uint64_t best_at = 0;
		for (uint64_t o = 0; o + 4 <= hi - lo; o += 4) {
			uint32_t m = GET_MEMBER(uint32_t, near, o);
			if (m < 16 || m > MAX_HEAP_ARENAS || (m & (m - 1)) ||
			    m <= maxidx || m <= best)
				continue;
			best = m;
			best_at = lo + o;
		}
		if (!best)
			continue;
		*arenas_at = found[k];
		*maxarenas_at = best_at;
		return true;
	}
	return false;
fail:
	free(buf);
	return false;
}

/* Finds pymalloc's arenas vector from the shape of its state: the
 * usedpools array in the binary's data (pairs pointing at themselves,
 * or at pools that point back), checked through the pools it names;
 * then the arenas vector right after it (3.12+: struct _obmalloc_state
 * keeps mgmt after pools) or, failing that, a static variable holding
 * those pools (3.11).  Fills L's pymalloc facts; NULL, or why not. */
static const char *pools_find(struct census *ce, const struct maps *maps,
			      struct py_layout *L,
			      uint64_t *arenas_at, uint64_t *maxarenas_at,
			      char *how, size_t howlen, int *rc)
{
	py_proc *py = ce->py;
	uint64_t reg[16][2];
	*rc = LP_OK;
	size_t nreg = data_regions(py, maps, reg, 16);
	if (!nreg)
		return "the interpreter's data was not found in its maps";
	uint8_t *buf = malloc(HEAP_DATA_CHUNK + USEDPOOLS_BYTES);
	struct pool_sample smp[MAX_SAMPLES];
	const char *why = "no usedpools array of pymalloc in the "
			  "interpreter's data (PYTHONMALLOC=malloc?)";
	if (!buf) {
		*rc = LP_ENOMEM;
		return "out of memory";
	}
	size_t tried = 0;
	for (size_t r = 0; r < nreg && tried < MAX_HEAP_POOL_CANDIDATES; r++) {
		for (uint64_t at = reg[r][0]; at + USEDPOOLS_BYTES <= reg[r][1];
		     at += HEAP_DATA_CHUNK) {
			uint64_t len = reg[r][1] - at;
			if (len > HEAP_DATA_CHUNK + USEDPOOLS_BYTES)
				len = HEAP_DATA_CHUNK + USEDPOOLS_BYTES;
			*rc = mem_read(ce->c.r, at, buf, len);
			ce->c.reads++;
			if (*rc == LP_ENOPROC || *rc == LP_EPERM)
				goto out;
			if (*rc != LP_OK)
				continue;
			for (uint64_t o = 0; o < HEAP_DATA_CHUNK &&
			     o + USEDPOOLS_BYTES <= len; o += 8) {
				uint64_t u = at + o;
				if (!usedpools_shape(buf + o, u))
					continue;
				if (++tried > MAX_HEAP_POOL_CANDIDATES)
					break;
				uint32_t ps = 0, asz = 0;
				size_t ns = usedpools_check(ce, buf + o, u,
							    smp, &ps, rc);
				if (*rc != LP_OK)
					goto out;
				if (!ns)
					continue;
				why = "pymalloc's usedpools array was found "
				      "but not its arenas vector";
				uint64_t v = 0, m = 0;
				if (mem_read_u64(ce->c.r, u + USEDPOOLS_BYTES,
						 &v) == LP_OK &&
				    mem_read(ce->c.r, u + USEDPOOLS_BYTES + 8,
					     &m, 4) == LP_OK &&
				    vector_ok(ce, v, m, smp, ns, ps, &asz,
					      rc)) {
					*arenas_at = u + USEDPOOLS_BYTES;
					*maxarenas_at = *arenas_at + 8;
					snprintf(how, howlen,
						 "found by their shape: usedpools "
						 "at %#llx (%zu pools checked), the "
						 "arenas vector after it",
						 (unsigned long long)u, ns);
				} else if (*rc == LP_OK &&
					   vector_search(ce, reg, nreg,
							 smp, ns, ps, arenas_at,
							 maxarenas_at, &asz,
							 rc)) {
					snprintf(how, howlen,
						 "found by their shape: usedpools "
						 "at %#llx (%zu pools checked), the "
						 "arenas vector at %#llx",
						 (unsigned long long)u, ns,
						 (unsigned long long)*arenas_at);
				} else {
					if (*rc != LP_OK)
						goto out;
					continue;
				}
				L->ao_size = AO_SIZE;
				L->ao_address = 0;
				L->ao_pool_address = 8;
				L->ph_count = 0;
				L->ph_freeblock = 8;
				L->ph_szidx = PH_SZIDX;
				L->ph_nextoffset = PH_NEXTOFFSET;
				L->ph_overhead = PH_SIZE;
				L->pool_size = ps;
				L->arena_size = asz;
				L->align_shift = 4;
				why = NULL;
				goto out;
			}
		}
	}
out:
	free(buf);
	return why;
}

/* Where pymalloc keeps its arenas vector and its length: in the
 * interpreter's state (3.12+, from the layout), or in obmalloc.c's static
 * variables found by symbol (3.7-3.11, om_static).  NULL, or why not. */
static const char *arenas_where(py_proc *py, symbolizer *syms,
				const struct py_layout *L, uint64_t *arenas_at,
				uint64_t *maxarenas_at)
{
	if (L->om_arenas) {
		uint64_t st = 0;
		if (!py->interp_head_addr ||
		    mem_read_u64(py->reader, py->interp_head_addr, &st) || !st ||
		    (L->om_ptr && mem_read_u64(py->reader, st + L->om_ptr, &st)))
			return "cannot read the interpreter's state";
		*arenas_at = st + L->om_arenas;
		*maxarenas_at = st + L->om_maxarenas;
		return NULL;
	}
	if (!L->om_static)
		return L->major == 3 && L->minor >= 14 ?
			"_Py_DebugOffsets does not describe them" :
			"none generated";
	const struct maps *m = py->target ? target_maps(py->target) : NULL;
	uint64_t sa = 0, sm = 0;
	if (!m || !syms ||
	    symbolizer_find(syms, m, py->sym_mod, "arenas", arenas_at,
			    &sa) != LP_OK ||
	    symbolizer_find(syms, m, py->sym_mod, "maxarenas", maxarenas_at,
			    &sm) != LP_OK)
		return "they are static variables in obmalloc.c that this "
		       "interpreter's binary does not name (stripped)";
	/* a pointer and a uint (Objects/obmalloc.c) */
	if (sa != 8 || sm != 4)
		return "its symbols arenas and maxarenas are not obmalloc.c's";
	return NULL;
}

/* 3.13+ without a table: the list heads inside the GC state, each a
 * PyGC_Head whose neighbours point back at it (an empty list points at
 * itself), found by reading the state once; offsets into the
 * interpreter. */
static int find_heads(py_proc *py, const struct py_layout *L,
		      uint64_t *heads, size_t *n, lp_error *err)
{
	uint64_t interp;
	uint8_t st[4096];
	if (!py->interp_head_addr ||
	    mem_read_u64(py->reader, py->interp_head_addr, &interp) ||
	    !interp || L->gc_state_size > sizeof st ||
	    mem_read(py->reader, interp + L->gc_state, st, L->gc_state_size))
		return lp_error_set(err, LP_EFORMAT,
				    "cannot read the interpreter's GC state");
	for (uint32_t o = 0; o + 16 <= L->gc_state_size && *n < 4; o += 8) {
		uint64_t self = interp + L->gc_state + o;
		uint64_t next = u64(st, o), prev = u64(st, o + 8) & PREV_MASK;
		uint64_t back = 0, fwd = 0;
		if (!next || !prev || (next & 7))
			continue;
		if (next == self && prev == self) {
			heads[(*n)++] = L->gc_state + o;
			o += 8;
			continue;
		}
		if (mem_read_u64(py->reader, next + 8, &back) ||
		    (back & PREV_MASK) != self ||
		    mem_read_u64(py->reader, prev, &fwd) ||
		    (fwd & PREV_MASK) != self)
			continue;
		heads[(*n)++] = L->gc_state + o;
		o += 8;
	}
	return LP_OK;
}

int py_heap_census(py_proc *py, symbolizer *syms,
		   struct py_heap_census *out, lp_error *err)
{
	return py_heap_census_maps(py, syms,
				   py->target ? target_maps(py->target) : NULL,
				   out, err);
}

int py_heap_census_maps(py_proc *py, symbolizer *syms,
			const struct maps *maps, struct py_heap_census *out,
			lp_error *err)
{
	memset(out, 0, sizeof *out);
	struct py_layout L = py->L;
	/* 3.13 takes its layout from _Py_DebugOffsets, which has no GC lists:
	 * those come from the generated table of its headers. */
	if (!L.gc_head0) {
		/* py_layout_table keeps 3.13's table for tests only */
		const struct py_layout *t = NULL;
		for (size_t i = 0; i < py_layouts_count; i++)
			if (py_layouts_all[i]->major == L.major &&
			    py_layouts_all[i]->minor == L.minor)
				t = py_layouts_all[i];
		if (t && t->gc_head0) {
			L.gc_head0 = t->gc_head0;
			L.gc_head1 = t->gc_head1;
			L.gc_head2 = t->gc_head2;
			L.gc_head3 = t->gc_head3;
			L.gc_head_size = t->gc_head_size;
			L.gc_in_interp = t->gc_in_interp;
			L.tp_basicsize = t->tp_basicsize;
			L.tp_itemsize = t->tp_itemsize;
			L.list_items = t->list_items;
			L.list_alloc = t->list_alloc;
			L.bytearray_alloc = t->bytearray_alloc;
			L.preheader = t->preheader;
			L.preheader_flags = t->preheader_flags;
			L.set_table = t->set_table;
			L.set_mask = t->set_mask;
			L.om_ptr = t->om_ptr;
			L.om_static = t->om_static;
			L.om_arenas = t->om_arenas;
			L.om_maxarenas = t->om_maxarenas;
			L.ao_size = t->ao_size;
			L.ao_address = t->ao_address;
			L.ao_pool_address = t->ao_pool_address;
			L.ph_count = t->ph_count;
			L.ph_freeblock = t->ph_freeblock;
			L.ph_szidx = t->ph_szidx;
			L.ph_nextoffset = t->ph_nextoffset;
			L.ph_overhead = t->ph_overhead;
			L.arena_size = t->arena_size;
			L.pool_size = t->pool_size;
			L.align_shift = t->align_shift;
		}
	}
	uint64_t found[4] = { 0 };
	size_t nfound = 0;
	if (!L.gc_head0 && L.gc_state_size && L.gc_in_interp) {
		int rc = find_heads(py, &L, found, &nfound, err);
		if (rc != LP_OK)
			return rc;
	}
	if ((!L.gc_head0 && !nfound) || !L.gc_head_size)
		return lp_error_set(err, LP_EUNSUPPORTED,
			"Python %d.%d: its GC lists are not reachable from "
			"outside (static in gcmodule.c before 3.7; no layout "
			"with them for this version)",
			L.major, L.minor);
	uint64_t base = 0;
	if (L.gc_in_interp) {
		if (!py->interp_head_addr ||
		    mem_read_u64(py->reader, py->interp_head_addr, &base) ||
		    !base)
			return lp_error_set(err, LP_EFORMAT,
				"cannot read the interpreter state");
	} else {
		base = py->runtime;
		if (!base)
			return lp_error_set(err, LP_EUNSUPPORTED,
				"Python %d.%d: _PyRuntime not found",
				L.major, L.minor);
	}
	struct census ce = { .py = py, .L = &L,
			     .items_budget = MAX_HEAP_ITEMS };
	dict_facts(py, &L, &ce.dk);
	ce.c.r = py->reader;
	ce.c.tag = calloc(MAX_HEAP_CACHE_LINES, sizeof *ce.c.tag);
	ce.c.data = malloc((size_t)MAX_HEAP_CACHE_LINES * LINE);
	ce.items = malloc(MAX_HEAP_ITEMS_READ * sizeof *ce.items);
	ce.ents = malloc(MAX_HEAP_ITEMS_READ * ENTRY_MAX);
	ce.iov = malloc(MAX_IOV * sizeof *ce.iov);
	ce.hdrs = malloc((size_t)MAX_IOV * HDR);
	ce.cand = malloc(MAX_IOV * sizeof *ce.cand);
	int rc = LP_ENOMEM;
	if (!ce.c.tag || !ce.c.data || !ce.items || !ce.iov || !ce.hdrs ||
	    !ce.cand || !ce.ents)
		goto fail;
	/* the arenas first: the large objects' search skips what lies in
	 * them */
	bool arenas_read = false;
	uint64_t arenas_at = 0, maxarenas_at = 0;
	const char *no_arenas = arenas_where(py, syms, &L, &arenas_at,
					     &maxarenas_at);
	char whybuf[200];
	if (!no_arenas)
		snprintf(out->pools, sizeof out->pools, "named by %s",
			 L.om_arenas ? "the layout (the interpreter's state)"
				     : "the symbols arenas and maxarenas");
	else if (L.major == 3 && L.minor >= 8 && maps) {
		/* no layout or symbol: by the shape of pymalloc's state */
		int frc = LP_OK;
		const char *why = pools_find(&ce, maps, &L, &arenas_at,
					     &maxarenas_at,
					     out->pools, sizeof out->pools,
					     &frc);
		if (frc == LP_ENOPROC || frc == LP_EPERM || frc == LP_ENOMEM) {
			rc = frc;
			goto fail;
		}
		if (why) {
			snprintf(whybuf, sizeof whybuf, "%s; %s", no_arenas,
				 why);
			no_arenas = whybuf;
			out->pools[0] = 0;
		} else {
			no_arenas = NULL;
		}
	}
	if (!no_arenas) {
		rc = walk_arenas(&ce, arenas_at, maxarenas_at, out);
		if (rc == LP_ENOPROC || rc == LP_EPERM || rc == LP_ENOMEM)
			goto fail;
		arenas_read = rc == LP_OK;
		if (!arenas_read) {
			no_arenas = "pymalloc's arenas did not read as its "
				    "layout says";
			out->pools[0] = 0;
		}
	}
	uint64_t heads[4] = { L.gc_head0, L.gc_head1, L.gc_head2, L.gc_head3 };
	if (nfound)
		memcpy(heads, found, sizeof heads);
	uint64_t budget = MAX_HEAP_OBJECTS;
	for (int i = 0; i < 4; i++) {
		if (!heads[i])
			continue;
		rc = walk_list(&ce, base + heads[i], out, &budget);
		if (rc != LP_OK)
			goto fail;
	}
	for (size_t i = 0; i < ce.ntypes; i++) {
		if (!ce.types[i].count)
			continue;
		out->objects += ce.types[i].count;
		out->bytes += ce.types[i].bytes;
		ce.types[out->ntypes++] = ce.types[i];
	}
	qsort(ce.types, out->ntypes, sizeof *ce.types, by_bytes);
	out->types = ce.types;
	ce.types = NULL;
	out->reads = ce.c.reads;
	const char *dicts = ce.dk.dict_keys ? "" :
		"; dict key tables are not counted (no dict layout)";
	if (arenas_read)
		snprintf(out->unseen, sizeof out->unseen,
			 "large untracked objects (over 512 bytes) that no "
			 "list, tuple, tracked dict or instance holds are not "
			 "counted%s", dicts);
	else
		snprintf(out->unseen, sizeof out->unseen,
			 "small objects the GC does not track (str, bytes, "
			 "int, float) are not counted (pymalloc's pools not "
			 "found in %d.%d: %s)%s",
			 L.major, L.minor, no_arenas, dicts);
	rc = LP_OK;
fail:
	free(ce.c.tag);
	free(ce.c.data);
	free(ce.items);
	free(ce.ents);
	free(ce.large);
	free(ce.iov);
	free(ce.hdrs);
	free(ce.cand);
	free(ce.arena_base);
	free(ce.map);
	free(ce.types);
	free(ce.basic);
	free(ce.item);
	free(ce.flags);
	free(ce.dictoff);
	if (rc == LP_ENOPROC)
		return lp_error_set(err, rc, "the process is gone");
	if (rc == LP_EPERM)
		return lp_error_set(err, rc, "permission denied reading the "
				    "process's memory");
	if (rc != LP_OK)
		return lp_error_set(err, rc, "heap census failed");
	return LP_OK;
}

void py_heap_census_fini(struct py_heap_census *c)
{
	free(c->types);
	memset(c, 0, sizeof *c);
}
