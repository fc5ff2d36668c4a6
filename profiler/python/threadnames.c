/* Python's names of a process's threads (threading.Thread(name=...)),
 * read where the threading module keeps them: sys.modules['threading']
 * ._active maps each thread's ident (its pthread_t, which the thread state
 * holds as thread_id) to its Thread, whose name is Thread._name.  Dicts,
 * instance attributes and ints are read with asyncio.c's readers and the
 * object facts of the version (asyncio_layout.h).  Not on the sampling
 * path: the sampler asks again only when its threads change or every few
 * seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "memreader.h"
#include "python/pyobj.h"
#include "python/pyproc.h"

/* The object facts and sys.modules of the process's version: the asyncio
 * table up to 3.13; from 3.14 the probed facts with what _Py_DebugOffsets
 * says of dicts, of sys.modules and of the size of PyTypeObject, which
 * PyHeapTypeObject starts with, followed by the method tables (async 4,
 * number 36, mapping 3, sequence 10 and buffer 2 pointers since 3.10),
 * ht_name, ht_slots and ht_qualname, then ht_cached_keys
 * (Include/cpython/object.h; 3.15's PyTypeObject grew, the rest did not).
 * false when the version has none (2.7). */
#define HT_CACHED_KEYS_AFTER_TYPE ((4 + 36 + 3 + 10 + 2 + 3) * 8)
static bool objects_layout(py_proc *py, struct aio_layout *A)
{
	memset(A, 0, sizeof *A);
	const struct py_layout *L = &py->L;
	if (L->major != 3)
		return false;
	const struct aio_layout *T = aio_layout_table(L->minor);
	if (T) {
		*A = *T;
		return A->is_modules != 0;
	}
	const struct aio_objects *O = aio_objects_for(L->minor);
	if (!O || !py->dbg_shape || !py->runtime)
		return false;
	uint8_t buf[PY_DEBUG_OFFSETS_READ];
	size_t need = 8 + 8 * py->dbg_shape->n;
	if (need > sizeof buf ||
	    mem_read(py->reader, py->runtime, buf, need) != LP_OK)
		return false;
	struct dbg_view v = { buf, need, 8, py->dbg_shape };
	A->minor = L->minor;
	A->obj = *O;
	uint64_t tsz;
	if (!dbg_value(&v, "type_object.size", &tsz) || tsz < 64 || tsz > 4096)
		return false;
	A->ht_cached_keys = (uint32_t)tsz + HT_CACHED_KEYS_AFTER_TYPE;
	return dbg_offset(&v, "interpreter_state", "imports_modules", 8,
			  4u << 20, &A->is_modules) &&
	       dbg_offset(&v, "dict_object", "ma_keys", 8, 4u << 20,
			  &A->obj.dict_keys) &&
	       dbg_offset(&v, "dict_object", "ma_values", 8, 4u << 20,
			  &A->obj.dict_values);
}

int py_proc_thread_names(py_proc *py, const struct py_thread *th, size_t n,
			 struct py_thread_name *out, size_t *nout,
			 lp_error *err)
{
	*nout = 0;
	struct aio_layout A;
	if (!objects_layout(py, &A))
		return lp_error_set(err, LP_EUNSUPPORTED, "CPython %s: thread "
				    "names are not read for this version",
				    py->version);
	aio_reader *a = aio_objreader_new(py, &A);
	if (!a)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	int rc = LP_OK;
	uint64_t interp = rd64(a, py->interp_head_addr);
	uint64_t modules = interp ? rd64(a, interp + A.is_modules) : 0;
	uint64_t mod = modules ? dict_get(a, modules, "threading") : 0;
	/* PyModuleObject.md_dict: right after PyObject_HEAD in every 3.x
	 * (Objects/moduleobject.c), as asyncio.c reads it */
	uint64_t md = mod ? rd64(a, mod + 16) : 0;
	uint64_t active = md ? dict_get(a, md, "_active") : 0;
	struct dict_view v;
	if (!active || dict_view(a, active, &v) != LP_OK)
		goto out;	/* threading not imported: no names */
	/* each thread's ident, from its thread state */
	uint64_t ids[MAX_PY_NAMED_THREADS];
	size_t m = n < MAX_PY_NAMED_THREADS ? n : MAX_PY_NAMED_THREADS;
	for (size_t i = 0; i < m; i++)
		ids[i] = th[i].tstate ?
			rd64(a, th[i].tstate + py->L.ts_thread_id) : 0;
	for (size_t e = 0; e < v.n && *nout < m; e++) {
		uint64_t key = GET_MEMBER(uint64_t, v.entries + e * v.esize, v.koff);
		uint64_t ident;
		if (!key || !read_small_int(a, key, &ident) || !ident)
			continue;
		size_t i;
		for (i = 0; i < m && ids[i] != ident; i++)
			;
		if (i == m || !th[i].tid)
			continue;
		uint64_t thread = entry_value(a, &v, e);
		uint64_t name = thread ? obj_attr(a, thread, "_name") : 0;
		const char *s = name ? read_name(a, name) : NULL;
		if (!s || !*s)
			continue;
		out[*nout].tid = th[i].tid;
		snprintf(out[*nout].name, sizeof out[*nout].name, "%s", s);
		(*nout)++;
	}
	free(v.entries);
out:
	aio_reader_free(a);
	return rc;
}
