/* tracemalloc's traces, read from outside: when the target runs
 * tracemalloc (PYTHONTRACEMALLOC=N or tracemalloc.start()), every live
 * allocation it traces, grouped by traceback (profiler/python/
 * tracemalloc.c).  Never writes to the target; every read bounded. */
#ifndef LOUPE_PY_TRACEMALLOC_H
#define LOUPE_PY_TRACEMALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "python/py.h"
#include "symbols.h"

struct py_tm_frame {
	const char *file;	/* interned by the py_proc; "<unknown>" */
	uint32_t line;
};

/* One traceback and the live traces allocated under it. */
struct py_tm_site {
	uint64_t size;		/* bytes */
	uint64_t count;		/* traces */
	uint32_t nframes;	/* frames[0] is the most recent call */
	struct py_tm_frame *frames;
};

struct py_tm_snapshot {
	struct py_tm_site *sites;	/* unordered */
	size_t nsites;
	uint64_t total_size, total_count;
	/* entries that could not be read or changed under the read */
	uint64_t unreadable;
};

/* Reads every trace of the default domain.  LP_ENOTFOUND (with a message)
 * when tracemalloc is not tracing; LP_EUNSUPPORTED when this version's
 * state cannot be located (no layout, or a stripped 3.6-3.11 without the
 * static symbol); LP_ENOPROC when the target is gone. */
int py_tracemalloc_snapshot(py_proc *py, symbolizer *syms,
			    struct py_tm_snapshot *out, lp_error *err);
void py_tm_snapshot_fini(struct py_tm_snapshot *s);

#endif
