/* CPython from outside: find the interpreter in a target, then read every
 * thread's Python stack straight from its memory.  Public face of
 * profiler/python/; everything else in that folder is private to it. */
#ifndef LOUPE_PY_H
#define LOUPE_PY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "symbols.h"
#include "target.h"

struct py_frame {
	const char *func;	/* co_qualname where it exists, else co_name */
	const char *file;	/* co_filename */
	int32_t line;		/* current line, 0 when unknown */
	uint64_t code_addr;	/* remote address of the code object */
	/* True on the first (outermost) Python frame run by one C-level call
	 * of the eval loop; native merge starts a new _PyEval_EvalFrame*
	 * group at each one (3.11+: is_entry / a C-stack shim below it; up to
	 * 3.10 every frame is one). */
	bool entry;
	/* For an entry frame from 3.12: the address of the C-stack shim
	 * frame below it, which lives in the C stack frame of the eval-loop
	 * call running it, so native merge can find that call even where
	 * the eval loop has no symbol or was inlined (LTO).  0: unknown. */
	uint64_t cstack;
};

struct py_thread {
	pid_t tid;		/* OS thread id, 0 when it could not be known */
	uint64_t tstate;	/* remote PyThreadState address */
	bool gil;		/* holds the GIL (where the version says) */
	bool truncated;		/* the walk stopped early (depth, cycle,
				 * torn read) */
	size_t nframes;
	struct py_frame *frames;	/* leaf first; owned by the py_proc */
};

typedef struct py_proc py_proc;

/* Finds CPython in t: the executable or a mapped libpython, its version,
 * _PyRuntime (3.7+) or interp_head, and the layout for that version.
 * LP_ENOTFOUND when t is not a CPython process (not an error for native
 * targets); other codes with a message when it is CPython but unreadable. */
int py_proc_attach(py_proc **out, target *t, symbolizer *syms, lp_error *err);
void py_proc_free(py_proc *py);

/* "3.11.7" */
const char *py_proc_version(const py_proc *py);
/* Where the layout came from, for the user: "" for a built-in table,
 * "3.15 debug offsets", or "3.15 debug offsets, inferred" when the
 * version's shape was not known and this one validated against the live
 * process. */
const char *py_proc_layout_source(const py_proc *py);

/* Walks every interpreter and thread state.  *threads points into a buffer
 * owned by py (valid until the next call); strings stay valid until
 * py_proc_free.  LP_ENOPROC when the target is gone. */
int py_proc_sample(py_proc *py, struct py_thread **threads, size_t *n);

/* Runtime address of the eval loop function (_PyEval_EvalFrameDefault or
 * PyEval_EvalFrameEx), found even where the binary does not export it by
 * name; 0 when unknown.  Native merge replaces its frames. */
uint64_t py_proc_eval_func(const py_proc *py);

/* What this build reads, for 'loupe --version': the versions with a
 * built-in table and where newer ones get their layout.  Returns the length
 * written (the text is cut to fit len). */
size_t py_support_describe(char *buf, size_t len);

/* Number of mem_reader calls of the last py_proc_sample (benchmarks). */
uint64_t py_proc_last_reads(const py_proc *py);

#endif
