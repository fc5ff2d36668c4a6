/* Where a CPython version keeps tracemalloc's state (private to
 * profiler/python/; data in tracemalloc_layouts_gen.c). */
#ifndef LOUPE_PY_TRACEMALLOC_LAYOUT_H
#define LOUPE_PY_TRACEMALLOC_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tm_layout {
	int minor;		/* 3.minor */
	/* true: config and traces are at these offsets in _PyRuntime;
	 * false: the symbols _Py_tracemalloc_config (or config_sym) and
	 * tracemalloc_traces */
	bool runtime;
	/* 3.6-3.8: entries hold key and value inline, key_size and data_size
	 * in the table; later: entry = {next, hash, key, value} */
	bool inline_entries;
	/* the config's symbol where it is not _Py_tracemalloc_config */
	const char *config_sym;
	uint32_t config;	/* _PyRuntime offset of the config */
	uint32_t traces;	/* _PyRuntime offset of the traces pointer */
	/* sizeof(_PyRuntimeState) of the headers the offsets come from:
	 * from 3.13 the size the process's _Py_DebugOffsets gives must
	 * hold the offsets and be near it, else the layout is refused */
	uint32_t runtime_size;
	uint32_t tb_frames;	/* offset of frames[] in a traceback */
	uint32_t frame_size;	/* a frame: filename pointer, lineno */
	bool filename_cstr;	/* the filename is a C string (3.15), not a
				 * str object */
};

extern const struct tm_layout tm_layouts[];
extern const size_t tm_nlayouts;

#endif
