# The tracer (loupe trace): syscall sources, loop ticks, stalls.  A library
# of its own over the engine: it sees profiler/include, never ui/ (its
# public headers are in tracer/include; Makefile.am).
noinst_LIBRARIES += libtracer.a
libtracer_a_CPPFLAGS = $(TRACER_CPPFLAGS)
libtracer_a_SOURCES = \
	tracer/tracefs.c tracer/tracefs.h \
	tracer/syscalls.c tracer/syscalls.h \
	tracer/include/sysevent.h \
	tracer/perf_sys.c tracer/perf_sys.h \
	tracer/ptrace_sys.c tracer/ptrace_sys.h \
	tracer/hist.c tracer/include/hist.h \
	tracer/loop.c tracer/include/loop.h \
	tracer/fold.c tracer/include/fold.h \
	tracer/tracer.c tracer/include/tracer.h \
	tracer/trace_text.c tracer/include/trace_text.h \
	tracer/trace_session.c tracer/include/trace_session.h

# Names of the syscalls of the architecture built for: [nr] = "name", from
# the C library's <sys/syscall.h> (no table to keep up to date by hand).
tracer/syscall_table.h: Makefile
	$(AM_V_GEN)$(MKDIR_P) tracer && \
	echo '#include <sys/syscall.h>' | $(CPP) -dM - | \
	  sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$$/[\2] = "\1",/p' \
	  > $@.tmp && test -s $@.tmp && mv $@.tmp $@
BUILT_SOURCES = tracer/syscall_table.h
CLEANFILES += tracer/syscall_table.h tracer/syscall_table.h.tmp
