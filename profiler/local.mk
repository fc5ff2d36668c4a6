# The engine: a static library linked by the binary, the tests and tools.
# Its public headers are in profiler/include (Makefile.am).
noinst_LIBRARIES += libloupe.a
libloupe_a_CPPFLAGS = $(PROFILER_CPPFLAGS) $(LIBUNWIND_CFLAGS) $(LIBELF_CFLAGS) $(ZLIB_CFLAGS)
libloupe_a_SOURCES = \
	profiler/include/bounds.h \
	profiler/error.c profiler/include/error.h \
	profiler/clock.c profiler/include/clock.h \
	profiler/jitter.c profiler/include/jitter.h \
	profiler/utf8.c profiler/include/utf8.h \
	profiler/pages.c profiler/include/pages.h \
	profiler/procfs.c profiler/include/procfs.h \
	profiler/memreader.c profiler/include/memreader.h \
	profiler/maps.c profiler/include/maps.h \
	profiler/target.c profiler/include/target.h \
	profiler/elf.c profiler/include/elf.h \
	profiler/demangle.c profiler/demangle.h \
	profiler/symbols.c profiler/include/symbols.h \
	profiler/unwind.c profiler/unwind.h \
	profiler/perf_ring.c profiler/perf_ring.h \
	profiler/perf_native.c profiler/perf_native.h \
	profiler/oncpu.c profiler/oncpu.h \
	profiler/profile.c profiler/include/profile.h \
	profiler/profile_merge.c \
	profiler/proc_watch.c profiler/proc_watch.h profiler/include/proc_events.h \
	profiler/sampler.c profiler/include/sampler.h profiler/sampler_int.h \
	profiler/memcharge.c profiler/include/memcharge.h \
	profiler/sampler_tree.c profiler/sampler_proc.c \
	profiler/schedule.c profiler/include/schedule.h \
	profiler/tasks.c profiler/tasks.h \
	profiler/libc_cond.c profiler/libc_cond.h \
	profiler/include/task_view.h

# libunwind's signal masking skipped inside our own walks: it defines libc's
# sigprocmask, so it is never in libloupe.a; a program that unwinds at rate
# (and installs no handler that unwinds) lists it in its sources.
LOUPE_UNWIND_SIGMASK = profiler/unwind_sigmask.c

# What links the engine (and the tracer, which uses it) needs.
LOUPE_ENGINE_LIBS = libtracer.a libloupe.a $(LIBUNWIND_LIBS) $(LIBELF_LIBS) $(ZLIB_LIBS) $(DEMANGLE_LIBS) -lm -lpthread
