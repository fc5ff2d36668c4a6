/* Generic objects of a CPython process read through an asyncio reader's
 * object layout (asyncio.c): dicts, instance attributes, small ints and
 * str names.  Exposed, unchanged, for the thread-name lookup
 * (threadnames.c).  Private to profiler/python/. */
#ifndef LOUPE_PY_PYOBJ_H
#define LOUPE_PY_PYOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "python/asyncio.h"
#include "python/asyncio_layout.h"

/* The entries of a dict (or of a split dict's shared keys). */
struct dict_view {
	uint8_t *entries;	/* malloc'ed */
	size_t n, esize, koff, voff;
	uint64_t values;	/* split dict: the values array, else 0 */
};

/* A reader of objects only (no tasks): A's object facts and is_modules,
 * for aio_reader_free. */
aio_reader *aio_objreader_new(py_proc *py, const struct aio_layout *A);

/* A word at addr, 0 when unreadable. */
uint64_t rd64(aio_reader *a, uint64_t addr);
/* The entries of dict (free v->entries after). */
int dict_view(aio_reader *a, uint64_t dict, struct dict_view *v);
/* Entry i's value. */
uint64_t entry_value(aio_reader *a, const struct dict_view *v, size_t i);
/* The value of str key name in dict, or 0. */
uint64_t dict_get(aio_reader *a, uint64_t dict, const char *name);
/* An instance attribute in the object's own dict, or 0. */
uint64_t obj_attr(aio_reader *a, uint64_t obj, const char *name);
/* A non-negative int of at most two digits. */
bool read_small_int(aio_reader *a, uint64_t obj, uint64_t *out);
/* A str object's text (interned), NULL when it is no str. */
const char *read_name(aio_reader *a, uint64_t obj);

#endif
