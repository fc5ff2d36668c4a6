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

#include "heap_int.h"

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



/* One item's header h, read: counted when a large untracked object. */
static int large_one(struct census *ce, uint64_t p, const uint8_t *h,
		     struct py_heap_census *out)
{
	const struct py_layout *L = ce->L;
	uint64_t tp = u64(h, L->ob_type);
	if (!tp)
		return LP_OK;
	int32_t ti = heap_type_of(ce, tp);
	if (ti == -2)
		return ce->gone ? ce->gone : LP_ENOMEM;
	if (ti < 0 || (ce->flags[ti] & TPF_HAVE_GC))
		return LP_OK;
	uint64_t sz = 0;
	const char *name = ce->types[ti].name;
	if (!strcmp(name, "str")) {
		sz = heap_str_size(L, h);
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
		int rc = heap_cread(&ce->c, entries + done * es, ce->ents, k * es);
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
	int r = heap_cread(&ce->c, keys, h, O->dk_indices);
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
	*rc = heap_cread(&ce->c, vals - 8, pre, 8);
	if (*rc != LP_OK)
		return 0;
	unsigned psz = pre[7], set = pre[6];
	if (psz < 8 || psz % 8 || set + 2 > psz)
		return 0;
	*rc = heap_cread(&ce->c, vals - psz, pre, psz);
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
		rc = heap_cread(&ce->c, obj - O->managed_dict, &w, 8);
		if (rc != LP_OK)
			goto done;
		switch (O->values_kind) {
		case PY_VALUES_PTR:
			dict = w;
			if (!dict && O->managed_values &&
			    O->managed_values <= 64)
				rc = heap_cread(&ce->c, obj - O->managed_values,
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
				rc = heap_cread(&ce->c, obj + ce->basic[ti], hd, 4);
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
		rc = heap_cread(&ce->c, obj + ce->dictoff[ti], &dict, 8);
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
		rc = heap_cread(&ce->c, dict, o, need);
		if (rc != LP_OK)
			goto done;
		/* a dict still: its type one of dict's */
		int32_t dt = heap_type_of(ce, u64(o, L->ob_type));
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
		rc = heap_cread(&ce->c, node, b, hlen);
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
		int32_t ti = heap_type_of(ce, u64(o, L->ob_type));
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
				rc = heap_cread(&ce->c, node + hlen, b + hlen,
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
	const char *no_arenas = heap_arenas_where(py, syms, &L, &arenas_at,
						  &maxarenas_at);
	char whybuf[200];
	if (!no_arenas)
		snprintf(out->pools, sizeof out->pools, "named by %s",
			 L.om_arenas ? "the layout (the interpreter's state)"
				     : "the symbols arenas and maxarenas");
	else if (L.major == 3 && L.minor >= 8 && maps) {
		/* no layout or symbol: by the shape of pymalloc's state */
		int frc = LP_OK;
		const char *why = heap_pools_find(&ce, maps, &L, &arenas_at,
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
		rc = heap_walk_arenas(&ce, arenas_at, maxarenas_at, out);
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
	if (out->ntypes)	/* qsort wants a pointer even for none */
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
