#include "version.h"

#include <zlib.h>

#include "config.h"
#include "python/py.h"

void version_print(FILE *fp)
{
	char py[512];
	py_support_describe(py, sizeof py);
	fprintf(fp, "loupe %s\n", PACKAGE_VERSION);
	/* libunwind and libelf have no run-time version call: these are the
	 * versions configure found; zlib's is the one loaded. */
	fprintf(fp, "built with libunwind %s, libelf (elfutils) %s, ncursesw %s; zlib %s\n",
		LOUPE_LIBUNWIND_VERSION, LOUPE_LIBELF_VERSION,
		LOUPE_NCURSESW_VERSION, zlibVersion());
	fprintf(fp, "CPython: %s\n", py);
	fputs("native: ELF symbols by build-id (libelf), DWARF CFI unwinding "
	      "(libunwind, remote), perf-PID.map files\n", fp);
	fputs("trace: event loops from the raw_syscalls tracepoints "
	      "(perf_event_open), ptrace when those are not allowed\n", fp);
}
