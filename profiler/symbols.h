/* Address to function name for one target process: maps + cached ELF files
 * (by build-id) + /tmp/perf-PID.map for JIT code. */
#ifndef LOUPE_SYMBOLS_H
#define LOUPE_SYMBOLS_H

#include <stdint.h>
#include <sys/types.h>

#include "elf.h"
#include "error.h"
#include "maps.h"

struct symbol_info {
	const char *func;	/* NULL when no symbol covers the address */
	uint64_t func_offset;	/* address - symbol start */
	const char *module;	/* basename of the mapped file, or "[anon]" */
	uint64_t module_offset;	/* address as an offset into the file */
};

typedef struct symbolizer symbolizer;

/* procfd: an fd of /proc/PID, files are opened through its root/ so that a
 * process in another mount namespace is read right. */
int symbolizer_new(symbolizer **out, pid_t pid, int procfd);
void symbolizer_free(symbolizer *s);

/* Forgets per-process state after the maps changed (ELF cache is kept). */
void symbolizer_maps_changed(symbolizer *s);

/* Resolves a runtime address.  Strings stay valid until symbolizer_free. */
int symbolizer_lookup(symbolizer *s, const struct maps *m, uint64_t addr,
		      struct symbol_info *out);

/* The ELF file mapped at m (opened and cached), and its load bias. */
int symbolizer_elf(symbolizer *s, const struct map_entry *m, elf_file **out,
		   uint64_t *bias);

/* Runtime address of a named symbol in the first mapped file whose
 * basename starts with module_prefix (e.g. "libpython3.11"). */
int symbolizer_find(symbolizer *s, const struct maps *m,
		    const char *module_prefix, const char *name,
		    uint64_t *addr, uint64_t *size);

#endif
