/* What CPython says of itself: the shapes of the _Py_DebugOffsets block
 * (at the start of _PyRuntime, 3.13+) and of the _asyncio module's
 * .AsyncioDebug block (3.14+), per minor version, as named fields, and the
 * one bounds check every reader of them uses.  The few facts a block does
 * not carry (the frame-owner enum, tagged code references) live beside each
 * shape, so that version knowledge is data in this one place.  Private to
 * profiler/python/. */
#ifndef LOUPE_PY_DEBUG_OFFSETS_H
#define LOUPE_PY_DEBUG_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One version's block: its uint64 words, named "section.field" in block
 * order, after a header of hdr bytes (the 8-byte cookie, or none). */
struct dbg_shape {
	int major, minor;
	size_t n;
	const char *const *fields;
};

/* The generated _Py_DebugOffsets shapes (debug_offsets_gen.c), oldest
 * first. */
extern const struct dbg_shape dbg_shapes_gen[];
extern const size_t dbg_shapes_gen_count;

/* Facts of one minor version that its block does not give. */
struct dbg_facts {
	int owner_cstack;	/* the frame owner of the eval loop's entry
				 * shim (enum _frameowner) */
	int owner_first_skip;	/* owners >= this are not Python frames */
	bool tagged_code;	/* f_executable is a _PyStackRef */
	int yf_depth;		/* a coroutine suspended in an await holds
				 * the awaited object this many slots below
				 * its frame's stack pointer */
	uint32_t co_version;	/* PyCodeObject.co_version, this many bytes
				 * after co_firstlineno (3.13; 3.14+ count
				 * freed code objects instead); 0: none */
	uint32_t co_framesize;	/* PyCodeObject.co_framesize, as co_version */
	/* struct _gil_runtime_state: the offsets of last_holder and locked
	 * the block must give for cond to be at gil_cond (the GIL waiters'
	 * condition variable, which no block gives) */
	uint32_t gil_holder, gil_locked, gil_cond;
};

/* The _Py_DebugOffsets shape of 3.minor, or NULL when none is known. */
const struct dbg_shape *dbg_shape_find(int minor);
/* The newest known shape with a minor below `below` (INT_MAX: the newest),
 * for inferring a version newer than every table; NULL past the oldest. */
const struct dbg_shape *dbg_shape_older(int below);
/* The facts of a shape's version. */
const struct dbg_facts *dbg_shape_facts(const struct dbg_shape *s);
/* The .AsyncioDebug shape for 3.minor (3.14+), or NULL. */
const struct dbg_shape *dbg_asyncio_shape(int minor);

/* A block as read from a process, seen through one shape. */
struct dbg_view {
	const uint8_t *buf;
	size_t len;
	size_t hdr;			/* bytes before the first word */
	const struct dbg_shape *shape;
};

/* Bytes the view's shape needs. */
size_t dbg_view_need(const struct dbg_view *v);
/* The word named name ("thread_state.size").  false when the shape has no
 * such field or the block is too short. */
bool dbg_value(const struct dbg_view *v, const char *name, uint64_t *out);
/* The offset of section.field, checked to hold width bytes inside the size
 * the block gives for section ("section.size"), itself at most max_size.
 * false when it does not. */
bool dbg_offset(const struct dbg_view *v, const char *section,
		const char *field, uint64_t width, uint64_t max_size,
		uint32_t *out);
/* off + width inside a struct of size sz, which is at most max_size. */
bool dbg_fits(uint64_t off, uint64_t width, uint64_t sz, uint64_t max_size);

#endif
