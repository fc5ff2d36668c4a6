/* The heap census's own state and helpers, shared by its three files:
 * heap_census.c (the GC lists, large objects, the census itself),
 * heap_pools.c (pymalloc's arenas and pools: where they are, and the
 * small objects in them) and heap_types.c (cached reads and the types
 * met, which both call).  Not a public header. */
#ifndef LOUPE_HEAP_INT_H
#define LOUPE_HEAP_INT_H

#include <stdint.h>

#include "bounds.h"
#include "maps.h"
#include "pyproc.h"
#include "python/asyncio_layout.h"
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

/* HDR bytes of an object's header, enough for PyVarObject and a compact
 * str's header in every version. */
#define HDR 128u

static inline uint64_t u64(const uint8_t *b, uint32_t off)
{
	return GET_MEMBER(uint64_t, b, off);
}

/* heap_types.c: len bytes at addr through the census's line cache; the
 * index in ce->types of the type at addr (-1: no type, -2: out of memory
 * or the target gone); a compact str's size from a copy of its header. */
int heap_cread(struct cache *c, uint64_t addr, void *buf, size_t len);
int32_t heap_type_of(struct census *ce, uint64_t addr);
uint64_t heap_str_size(const struct py_layout *L, const uint8_t *h);

/* heap_pools.c */
int heap_walk_arenas(struct census *ce, uint64_t arenas_at,
		     uint64_t maxarenas_at, struct py_heap_census *out);
const char *heap_pools_find(struct census *ce, const struct maps *maps,
			    struct py_layout *L, uint64_t *arenas_at,
			    uint64_t *maxarenas_at, char *how, size_t howlen,
			    int *rc);
const char *heap_arenas_where(py_proc *py, symbolizer *syms,
			      const struct py_layout *L, uint64_t *arenas_at,
			      uint64_t *maxarenas_at);

#endif
