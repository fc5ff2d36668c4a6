# Check units of the core (maps, memreader, target, unwind).  Pattern for a
# unit:
#   check_PROGRAMS += tests/unit/check_maps
#   TESTS += tests/unit/check_maps
#   tests_unit_check_maps_CPPFLAGS = $(UNIT_CPPFLAGS)
#   tests_unit_check_maps_LDADD = $(UNIT_LIBS)
check_PROGRAMS += tests/unit/check_maps tests/unit/check_target \
	tests/unit/check_unwind
TESTS += tests/unit/check_maps tests/unit/check_target tests/unit/check_unwind
tests_unit_check_maps_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_maps_LDADD = $(UNIT_LIBS)
tests_unit_check_target_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_target_LDADD = $(UNIT_LIBS) -lpthread
tests_unit_check_unwind_CPPFLAGS = $(UNIT_CPPFLAGS) $(LIBELF_CFLAGS)
tests_unit_check_unwind_LDADD = $(UNIT_LIBS)

# The process check_unwind unwinds, with and without frame pointers (the
# flags of tests/targets/local.mk): check_unwind finds it next to itself.
check_PROGRAMS += tests/unit/unwind_child_fp tests/unit/unwind_child_nofp
tests_unit_unwind_child_fp_SOURCES = tests/unit/unwind_child.c
tests_unit_unwind_child_fp_CFLAGS = $(TARGET_FP)
tests_unit_unwind_child_fp_LDADD = -lpthread
tests_unit_unwind_child_nofp_SOURCES = tests/unit/unwind_child.c
tests_unit_unwind_child_nofp_CFLAGS = $(TARGET_NOFP)
tests_unit_unwind_child_nofp_LDADD = -lpthread

# The perf_event native path and unwinding from a copied stack
# (profiler/perf_native, unwind_from_snapshot), on unwind_child_nofp.
check_PROGRAMS += tests/unit/check_perf_native
TESTS += tests/unit/check_perf_native
tests_unit_check_perf_native_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_perf_native_LDADD = $(UNIT_LIBS) -lpthread
EXTRA_tests_unit_check_perf_native_DEPENDENCIES = tests/unit/unwind_child_nofp

# proc_watch: a tree of real processes, by netlink (as root) and /proc scan.
check_PROGRAMS += tests/unit/check_proc_watch
TESTS += tests/unit/check_proc_watch
tests_unit_check_proc_watch_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_proc_watch_LDADD = $(UNIT_LIBS) -lpthread

# The sampler's stack merge on recorded stacks and its schedule (no live
# process): profiler/sampler_proc.c, profiler/schedule.c.
check_PROGRAMS += tests/unit/check_sampler
TESTS += tests/unit/check_sampler
tests_unit_check_sampler_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_sampler_LDADD = $(UNIT_LIBS)

# procfs (the /proc parsers on fixture text, reads of our own files) and
# the errno classifier of error.c.
check_PROGRAMS += tests/unit/check_procfs tests/unit/check_errno
TESTS += tests/unit/check_procfs tests/unit/check_errno
tests_unit_check_procfs_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_procfs_LDADD = $(UNIT_LIBS)
tests_unit_check_errno_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_errno_LDADD = $(UNIT_LIBS)

# On-CPU detection from context-switch records (profiler/oncpu,
# perf_ring): made-up and hostile rings, and this test's own threads.
check_PROGRAMS += tests/unit/check_oncpu
TESTS += tests/unit/check_oncpu
tests_unit_check_oncpu_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_oncpu_LDADD = $(UNIT_LIBS) -lpthread

# libc_cond: glibc's waiter count of a pthread_cond_t (top's GIL waiters).
check_PROGRAMS += tests/unit/check_libc_cond
TESTS += tests/unit/check_libc_cond
tests_unit_check_libc_cond_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_libc_cond_LDADD = $(UNIT_LIBS) -lpthread
