/* Address to function name for one target process: maps + cached ELF files
 * (by build-id) + /tmp/perf-PID.map for JIT code. */
#ifndef LOUPE_SYMBOLS_H
#define LOUPE_SYMBOLS_H

#include <stdbool.h>
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

/* Parsed ELF files shared by symbolizers (subprocesses, the daemon's many
 * targets): keyed by build-id and by the opened file's dev, inode, size and
 * mtime.  Reference counted; not thread-safe. */
typedef struct elf_cache elf_cache;
int elf_cache_new(elf_cache **out);
/* Where detached debug files are looked up by build-id for stripped files
 * (default /usr/lib/debug; NULL: never).  LP_OK or LP_ENOMEM. */
int elf_cache_set_debug_dir(elf_cache *c, const char *dir);
/* Drops one reference; the last one frees every cached file. */
void elf_cache_free(elf_cache *c);

/* procfd: an fd of /proc/PID, files are opened through its root/ so that a
 * process in another mount namespace is read right. */
int symbolizer_new(symbolizer **out, pid_t pid, int procfd);
/* The same with a shared cache (a reference is taken; NULL: a private one).
 * procfd stays the caller's and must outlive the symbolizer. */
int symbolizer_new_cached(symbolizer **out, pid_t pid, int procfd,
			  elf_cache *cache);
void symbolizer_free(symbolizer *s);

/* Whether lookups give C++ and Rust names demangled (the default) or as
 * the symbol tables have them. */
void symbolizer_set_demangle(symbolizer *s, bool on);

/* Forgets per-process state after the maps changed (ELF cache is kept). */
void symbolizer_maps_changed(symbolizer *s);

/* Resolves a runtime address.  Strings stay valid until symbolizer_free.
 * LP_OK when a mapping covers addr: module and module_offset are filled,
 * func is NULL when no symbol covers addr.  LP_ENOTFOUND when no mapping
 * does (module "[unknown]", module_offset = addr).  Warm, it makes no
 * system call: two binary searches (maps, then symbols). */
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
