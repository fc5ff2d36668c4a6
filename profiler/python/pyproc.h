/* The state of one attached CPython process, private to profiler/python/:
 * shared by attach.c (detection) and walk.c (sampling), and built directly
 * by the unit tests over memory images. */
#ifndef LOUPE_PY_PYPROC_H
#define LOUPE_PY_PYPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "memreader.h"
#include "python/debug_offsets.h"
#include "python/layout.h"
#include "python/py.h"

/* Code objects remembered by remote address: MAX_PY_CODE_CACHE (bounds.h),
 * a power of two for the hash. */
#define PY_CODE_CACHE_SIZE MAX_PY_CODE_CACHE
/* Slots probed in the code cache before the oldest one is evicted. */
#define PY_CODE_CACHE_PROBE 8
/* Frames from the leaf that a walk must find in the one read that copied
 * the thread state (deeper ones may come from later reads: the regions a
 * re-read can hold are bounded by the prefetch). */
#define PY_WALK_ONE_READ (PY_MAX_PREFETCH / 4)
/* Copies one sample can look up: the prefetch (next and full walk's
 * regions), then a torn walk's re-read (walk.c walk_thread). */
#define PY_SLOTS_CAP (3 * PY_MAX_PREFETCH + 1)
/* (lasti, line) pairs remembered per code object. */
#define PY_LINE_MEMO 4
#define PY_MAX_PREFETCH MAX_PY_PREFETCH
#define PY_MAX_CHUNK_READ MAX_PY_CHUNK_READ
/* Bytes of one arena block of a sample's local copies. */
#define PY_ARENA_BLOCK (64u * 1024)

struct py_code {
	uint64_t addr;		/* 0: free slot */
	uint64_t name_obj, qualname_obj, file_obj, table_obj;
	uint64_t ident;		/* the text of its name and file */
	uint32_t name_size, file_size;	/* their regions (str_ident) */
	/* 3.14+: no code object of gen_interp was freed since its text was
	 * checked while its count of those stood at gen */
	uint64_t gen_interp, gen;
	uint32_t version;	/* its co_version (3.12/3.13), 0: none */
	uint32_t frame_bytes;	/* its frame's size on the data stack, from
				 * the last header read (0: unknown) */
	int32_t firstlineno;
	uint64_t last_used;	/* sample counter, for eviction */
	uint64_t checked;	/* sample whose read checked the header */
	uint32_t checked_batch;	/* the newest read among the copies of
				 * that header and its strings */
	uint32_t oldest_batch;	/* the oldest one */
	const char *func, *file;	/* interned */
	uint8_t *table;
	uint32_t table_len;
	uint32_t memo_lasti[PY_LINE_MEMO];
	int32_t memo_line[PY_LINE_MEMO];
	unsigned memo_n, memo_next;
};

/* A string's text checked in a sample (walk.c str_ident). */
#define PY_STR_MEMO 16
struct py_str_memo {
	uint64_t obj, nsample, ident;
	uint32_t size, batch;
};

struct py_slot {
	uint64_t addr;
	uint32_t len;
	bool used;
	bool ok;
	uint8_t *data;
	uint32_t batch;		/* the read that copied it: one number per
				 * vectored read or single read */
};

struct py_arena_block {
	struct py_arena_block *next;
	size_t used, cap;
	uint8_t data[];
};

struct py_strpool;

/* Where rget(keep) files a region: the next sample's prefetch, the next
 * full walk's, or both (see walk.c, light samples). */
enum py_keep { PY_KEEP_NEXT, PY_KEEP_BOTH, PY_KEEP_FULL_ONLY };

struct py_proc {
	mem_reader *reader;
	target *target;			/* NULL over memory images */
	struct py_layout L;
	char version[32];
	uint64_t interp_head_addr;	/* where the first interpreter's
					 * address is stored */
	uint64_t tstate_current_addr;	/* 2.7/3.6 _PyThreadState_Current */
	uint64_t runtime;		/* _PyRuntime, 0 before 3.7 */
	/* The module symbolizer_find names the interpreter by ("" for a
	 * static executable), for readers that look up more symbols
	 * (tracemalloc.c). */
	char sym_mod[256];
	/* 3.13+: the _Py_DebugOffsets shape the layout was read with, and
	 * whether it was inferred (the version has none of its own). */
	const struct dbg_shape *dbg_shape;
	bool dbg_inferred;
	uint64_t code_type;		/* PyCode_Type, 0 when unknown */
	uint64_t eval_func;		/* _PyEval_EvalFrameDefault, or 0 */
	int pthread_tid_off;		/* offset of tid in glibc's struct
					 * pthread, -1 until found */
	uint64_t tid_retry;		/* sample of the next search */
	unsigned tid_tries;
	/* __wrefs in the target's pthread_cond_t (libc_cond.h), looked up
	 * at the first py_proc_gil_waiters; -1: no count to read */
	int cond_wrefs_off;
	bool cond_wrefs_looked;

	/* Output, reused between samples. */
	struct py_thread *threads;
	size_t threads_cap;
	struct py_frame *frames;
	size_t frames_cap;

	/* Prefetch: regions read last sample, read again in one readv. */
	struct py_slot *slots, *next_slots;
	struct py_slot *full_slots;	/* regions of the last full walk */
	size_t nslots, nnext, nfull, slots_cap;
	size_t cursor;
#define PY_RECENT 3
	size_t recent[PY_RECENT];	/* slots found last (rget) */
	size_t slot_floor;		/* a re-read looks only at slots from
					 * here (walk.c walk_thread) */
	uint32_t want_batch;		/* when set, rget takes only copies of
					 * that read (walk.c check_code) */
	uint32_t batch;			/* the last read's number */
	uint32_t last_batch;		/* the read rget's copy came from */
	uint32_t code_frame_bytes;	/* its frame's size on the data
					 * stack (resolve), 0: unknown */
	uint32_t code_batch;		/* the read of the last code header
					 * resolve checked */
	uint32_t code_oldest;		/* the oldest read among that header's
					 * and its strings' copies */
	const struct py_code *code_entry; /* that code object's entry */
	/* Up to 3.10: the code object last seen running in a frame object,
	 * by its address (walk.c read_frame_with) */
#define PY_FRAME_CODES 256
	struct py_frame_code {
		uint64_t frame;
		const struct py_code *code;
	} frame_codes[PY_FRAME_CODES];
	const struct py_code *leaf_code;  /* the last walk's leaf's */
	struct remote_iov *iov;		/* MAX_IOV of them */
	uint32_t *order;		/* slots by address, for merging */
	/* The last prefetch's order (MAX_IOV each): its slots' addresses
	 * and lengths, and their order by address (read_slots) */
	uint32_t *sorted, *sorted_len;
	uint64_t *sorted_addr;
	size_t sorted_n;
	uint64_t *pthread_ids;		/* per thread, <= 3.10 */
	struct py_arena_block *arena, *arena_cur;

	/* Light samples (see walk.c): the last complete picture of every
	 * thread, and the GIL words it was taken under. */
	struct py_thread *prev_threads;
	size_t prev_n, prev_cap;
	struct py_frame *prev_frames;
	size_t prev_frames_n, prev_frames_cap;
	uint64_t prev_gil_addr;		/* remote GIL struct, 0: no light */
	/* 3.14+: the interpreter whose code objects this sample resolves
	 * and its count of code objects freed (code_gen_ok: read in this
	 * sample, for the thread being walked). */
	uint64_t code_gen_interp, code_gen;
	bool code_gen_ok;
	uint64_t prev_switch, prev_holder;
	uint64_t full_ns;		/* coarse time of the last full walk */
	uint64_t light_samples;		/* statistics for benchmarks */
	uint64_t walk_retries;		/* torn walks read again */
	uint64_t walk_failed;		/* thread walks that stayed failed */
	/* Frames found where their caller's frame ends, and not (walk.c
	 * next_to_caller): a layout whose sizes do not hold stops the check. */
	uint64_t adjacent_ok, adjacent_bad;
	const char *omitted_name;	/* "[N frames omitted]", interned */
	size_t omitted_n;
	enum py_keep keep;
	bool contended;			/* the GIL changed hands lately */

	struct py_code *codes;
	/* the codes that hold a line table: py_proc_fini frees those without
	 * touching the table's pages that no code ever used */
	uint64_t code_tables[PY_CODE_CACHE_SIZE / 64];
	struct py_strpool *strings;
	uint64_t nsample;
	struct py_str_memo str_memo[PY_STR_MEMO];
	uint64_t last_reads;
	int gone;			/* LP_ENOPROC / LP_EPERM seen */
};

/* Sets up py over reader with a layout: used by py_proc_attach and by the
 * unit tests, which then set interp_head_addr and friends themselves. */
int py_proc_init(py_proc *py, mem_reader *reader, const struct py_layout *L);
void py_proc_fini(py_proc *py);

/* For asyncio.c: the text of a str object (interned, NULL when it cannot
 * be read), and a py_frame from a copy of a frame's first L.fr_size
 * bytes (a coroutine's frame, not on any thread's stack). */
const char *py_proc_str(py_proc *py, uint64_t obj);
const char *py_proc_intern(py_proc *py, const char *s);
/* A compact str (3.x) decoded from a local copy of its first len bytes,
 * NULL when it does not fit in them or is not one (walk.c). */
const char *py_proc_str_from_copy(py_proc *py, const uint8_t *obj,
				  size_t len);
int py_proc_frame_from_copy(py_proc *py, const uint8_t *fp,
			    struct py_frame *out);

/* len bytes at addr, from this sample's copies when they hold them, and
 * kept for the next sample's vectored read (walk.c): for the few words a
 * live view reads every tick beside the stacks. */
int py_proc_kept_read(py_proc *py, uint64_t addr, void *out, size_t len);

#endif
