/* The heap census (loupe heap): live objects of a CPython process counted
 * by type from outside, through the cyclic GC's lists.  Read without
 * writing to the target; objects that change under a nonblocking census
 * are counted as changed, never followed. */
#ifndef LOUPE_PY_HEAP_H
#define LOUPE_PY_HEAP_H

#include <stdint.h>
#include <stddef.h>

#include "error.h"
#include "python/py.h"
#include "symbols.h"

struct py_heap_type {
	uint64_t addr;		/* the type object in the target */
	char name[96];		/* its tp_name, checked printable */
	uint64_t count;		/* live objects */
	uint64_t bytes;		/* object + variable part + pre-header +
				 * GC head + list/bytearray/set buffers +
				 * dict key tables (a shared one once) */
};

struct py_heap_census {
	struct py_heap_type *types;	/* sorted by bytes, largest first */
	size_t ntypes;
	uint64_t objects, bytes;	/* totals over types */
	uint64_t changed;	/* objects seen changing under the census
				 * (type not a type, list not closing) */
	uint64_t lists_cut;	/* GC lists left before their end */
	uint64_t reads;		/* remote read calls */
	uint64_t small_objects;	/* of objects, those found in pymalloc's
				 * arenas (not on a GC list) */
	uint64_t large_objects;	/* those over 512 bytes found as items of
				 * lists and tuples, values of tracked
				 * dicts, instances' attributes */
	char unseen[384];	/* what this census cannot see, said */
	char pools[160];	/* how pymalloc's pools were found, or "" */
};

/* Counts the objects of every GC list of py's main interpreter, and the
 * small objects of pymalloc's arenas where they can be found (syms, may
 * be NULL: finds them up to 3.11, in static variables).
 * LP_EUNSUPPORTED (with the reason) where the version's layout does not
 * say where the lists are. */
int py_heap_census(py_proc *py, symbolizer *syms,
		   struct py_heap_census *out, lp_error *err);
/* The same with the process's maps given (NULL: none), where pymalloc's
 * pools are searched when nothing names them: for memory images. */
struct maps;
int py_heap_census_maps(py_proc *py, symbolizer *syms,
			const struct maps *maps, struct py_heap_census *out,
			lp_error *err);
void py_heap_census_fini(struct py_heap_census *c);

#endif
