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
	uint64_t addr;		/* remote address of the frame (for
				 * py_frame_locals), 0 when not a frame */
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

/* Why a thread's stack could not be read whole.  Such a stack is not
 * shown as one: the sample counts as failed, with its reason. */
#define PY_WALK_FAILS(X)                                                   \
	X(OK, "read whole")                                                \
	X(TORN, "frames changed during the read")                          \
	X(UNREADABLE, "a frame or code object could not be read")          \
	X(TOO_DEEP, "deeper than the walk's bound")
enum py_walk_fail {
#define PY_WALK_ENUM(name, text) PY_WALK_##name,
	PY_WALK_FAILS(PY_WALK_ENUM)
#undef PY_WALK_ENUM
	PY_WALK_NFAILS
};
/* "frames changed during the read"; the short name ("torn") with brief. */
const char *py_walk_fail_str(enum py_walk_fail f);
const char *py_walk_fail_name(enum py_walk_fail f);

struct py_thread {
	pid_t tid;		/* OS thread id, 0 when it could not be known */
	uint64_t tstate;	/* remote PyThreadState address */
	bool gil;		/* holds the GIL (where the version says) */
	bool truncated;		/* fail is set: frames[] holds the part of
				 * the stack read (leaf side) for asyncio's
				 * merge, not a stack to show.  A deep
				 * stack's "[N frames omitted]" frame keeps
				 * root and leaf: not truncated */
	uint8_t fail;		/* enum py_walk_fail: PY_WALK_OK, or why the
				 * stack could not be read whole (after
				 * MAX_PY_WALK_RETRIES or, up to 3.10,
				 * MAX_PY_OBJ_WALK_RETRIES fresh re-reads) */
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

/* Whether the main interpreter is collecting garbage now (3.13+: the
 * debug offsets' gc.collecting; the collection runs in the thread that
 * holds the GIL).  Two small reads: for a live view, not every sample of
 * a recording.  LP_EUNSUPPORTED when the version does not expose it. */
int py_proc_gc_collecting(py_proc *py, bool *collecting);
/* How many threads wait for the main interpreter's GIL now: the waiters
 * of the condition variable take_gil sleeps on (Python/ceval_gil.c),
 * counted by glibc's pthread_cond_t itself; which threads they are is
 * not known.  Right after py_proc_sample: its words come from that
 * sample's copies and are kept for the next sample's vectored read (the
 * libc's version is looked up once), so a live view pays no read of its
 * own.  LP_EUNSUPPORTED when the version's GIL has no cond
 * we know of (2.7, 3.6) or the libc is not a glibc that counts (musl);
 * LP_EFORMAT when the word read cannot be a waiter count. */
int py_proc_gil_waiters(py_proc *py, uint32_t *waiters);
/* The same, right after py_proc_sample, from the copies of its one
 * vectored read: the two words are kept for the next sample's, so a
 * steady view of the GC costs no read of its own. */
int py_proc_sample_gc(py_proc *py, bool *collecting);

/* What this build reads, for 'loupe --version': the versions with a
 * built-in table and where newer ones get their layout.  Returns the length
 * written (the text is cut to fit len). */
size_t py_support_describe(char *buf, size_t len);

/* Local variables of one frame, for dump --locals (locals.c). */
#define PY_LOCAL_NAME_MAX 64	/* a name longer than this is cut */
#define PY_LOCAL_TYPE_MAX 48	/* a type name longer than this is cut */
#define PY_LOCAL_REPR_MAX 160	/* the rendering of one value */
struct py_local {
	char name[PY_LOCAL_NAME_MAX];
	char type[PY_LOCAL_TYPE_MAX];	/* "" when changed or unreadable */
	/* A short, safe rendering: None, True/False, an int within 64
	 * bits, a float, a str or bytes cut and escaped as Python would
	 * write it; for anything else "<list len=3 at 0x...>" (the length
	 * of a list, tuple, dict or set); "<changed>" when the value or
	 * its frame moved while it was read, "<unreadable>" when it could
	 * not be read. */
	char repr[PY_LOCAL_REPR_MAX];
};
/* Reads the local variables of frame f (of the last py_proc_sample, in
 * the thread's frames[]) into out[0..max), names from the code object and
 * values from the frame, each value read once and checked again after
 * (frame's code, slot, object type) so that a value that moved says
 * "<changed>".  Never follows an object beyond the one it renders (a cell
 * to its content), never calls into the target; every read bounded.
 * *frame_changed: the frame no longer runs f's code (out is then empty).
 * Unbound locals are left out.  LP_EUNSUPPORTED (with err) when this
 * layout cannot read locals, LP_ENOPROC when the target is gone, LP_OK
 * otherwise (also when names or values were partly unreadable). */
int py_frame_locals(py_proc *py, const struct py_frame *f,
		    struct py_local *out, size_t max, size_t *n,
		    bool *frame_changed, lp_error *err);

/* Python's name of a thread (threading.Thread.name), cut to fit. */
struct py_thread_name {
	pid_t tid;
	char name[64];
};
/* The names threading gives the threads th[0..n) (of a py_proc_sample):
 * sys.modules['threading']._active, ident -> Thread._name, the ident being
 * the thread state's thread_id.  Reads a few dicts: not for every sample.
 * *nout: names found (threads threading does not know have none).
 * LP_EUNSUPPORTED for a version whose objects are not known (2.7). */
int py_proc_thread_names(py_proc *py, const struct py_thread *th, size_t n,
			 struct py_thread_name *out, size_t *nout,
			 lp_error *err);

/* Number of mem_reader calls of the last py_proc_sample (benchmarks). */
uint64_t py_proc_last_reads(const py_proc *py);

#endif
