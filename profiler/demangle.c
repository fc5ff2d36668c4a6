#include "demangle.h"

#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

#include "bounds.h"

char *lp_demangle(const char *name)
{
	/* Only the Itanium C++ ABI's "_Z" (which Rust's legacy scheme
	 * reuses) and Rust v0's "_R": DMGL_AUTO would also try the D, Ada
	 * and Java schemes on C names such as _DYNAMIC.  A name cut at the
	 * bound (elf.c keeps MAX_SYMBOL_NAME_LEN - 1 bytes) is left as is. */
	if (!name || name[0] != '_' || (name[1] != 'Z' && name[1] != 'R') ||
	    strnlen(name, MAX_SYMBOL_NAME_LEN) >= MAX_SYMBOL_NAME_LEN)
		return NULL;
	/* perf's flags (tools/perf/util/symbol-elf.c): parameters and
	 * const/volatile qualifiers; Rust hashes are dropped. */
	return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
}
