# The engine: a static library linked by the binary, the tests and tools.
noinst_LIBRARIES += libloupe.a
libloupe_a_CPPFLAGS = $(AM_CPPFLAGS) $(LIBUNWIND_CFLAGS) $(LIBELF_CFLAGS) $(ZLIB_CFLAGS)
libloupe_a_SOURCES = \
	profiler/bounds.h \
	profiler/error.c profiler/error.h \
	profiler/clock.c profiler/clock.h \
	profiler/jitter.c profiler/jitter.h \
	profiler/procfs.c profiler/procfs.h \
	profiler/memreader.c profiler/memreader.h \
	profiler/maps.c profiler/maps.h \
	profiler/target.c profiler/target.h \
	profiler/elf.c profiler/elf.h \
	profiler/demangle.c profiler/demangle.h \
	profiler/symbols.c profiler/symbols.h \
	profiler/unwind.c profiler/unwind.h \
	profiler/perf_native.c profiler/perf_native.h \
	profiler/profile.c profiler/profile.h \
	profiler/profile_merge.c \
	profiler/proc_watch.c profiler/proc_watch.h \
	profiler/sampler.c profiler/sampler.h profiler/sampler_int.h \
	profiler/sampler_tree.c \
	profiler/tasks.c profiler/tasks.h

# libunwind's signal masking skipped inside our own walks: it defines libc's
# sigprocmask, so it is never in libloupe.a; a program that unwinds at rate
# (and installs no handler that unwinds) lists it in its sources.
LOUPE_UNWIND_SIGMASK = profiler/unwind_sigmask.c

# What links the engine needs.
LOUPE_ENGINE_LIBS = libloupe.a $(LIBUNWIND_LIBS) $(LIBELF_LIBS) $(ZLIB_LIBS) $(DEMANGLE_LIBS) -lm -lpthread
