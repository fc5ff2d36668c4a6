# The tracer (loupe trace): syscall sources, loop ticks, stalls.  Part of
# the engine library; it includes profiler/ headers, never ui/.
libloupe_a_SOURCES += \
	tracer/tracefs.c tracer/tracefs.h \
	tracer/syscalls.c tracer/syscalls.h \
	tracer/sysevent.h \
	tracer/perf_sys.c tracer/perf_sys.h \
	tracer/ptrace_sys.c tracer/ptrace_sys.h \
	tracer/hist.c tracer/hist.h \
	tracer/loop.c tracer/loop.h \
	tracer/fold.c tracer/fold.h \
	tracer/tracer.c tracer/tracer.h \
	tracer/trace_text.c tracer/trace_text.h \
	tracer/trace_session.c tracer/trace_session.h
libloupe_a_CPPFLAGS += -iquote $(srcdir)/tracer -iquote tracer

# Names of the syscalls of the architecture built for: [nr] = "name", from
# the C library's <sys/syscall.h> (no table to keep up to date by hand).
tracer/syscall_table.h: Makefile
	$(AM_V_GEN)$(MKDIR_P) tracer && \
	echo '#include <sys/syscall.h>' | $(CPP) -dM - | \
	  sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$$/[\2] = "\1",/p' \
	  > $@.tmp && test -s $@.tmp && mv $@.tmp $@
BUILT_SOURCES = tracer/syscall_table.h
CLEANFILES += tracer/syscall_table.h tracer/syscall_table.h.tmp
