# Check units of this area: check_PROGRAMS += tests/unit/check_X; TESTS += tests/unit/check_X
check_PROGRAMS += tests/unit/check_profile tests/unit/check_collapsed \
	tests/unit/check_raw tests/unit/check_task_groups
TESTS += tests/unit/check_profile tests/unit/check_collapsed \
	tests/unit/check_raw tests/unit/check_task_groups
tests_unit_check_task_groups_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_task_groups_LDADD = $(UNIT_LIBS)
tests_unit_check_profile_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_profile_LDADD = $(UNIT_LIBS)
tests_unit_check_collapsed_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_collapsed_LDADD = $(UNIT_LIBS)
tests_unit_check_raw_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_raw_LDADD = $(UNIT_LIBS)

# The viewers' writers (flamegraph, speedscope, chrome, pprof, pstats) on a
# hand-built profile (viewer_fixture.h).
VIEWER_UNITS = tests/unit/check_flamegraph tests/unit/check_speedscope \
	tests/unit/check_chrome tests/unit/check_pprof tests/unit/check_pstats
check_PROGRAMS += $(VIEWER_UNITS)
TESTS += $(VIEWER_UNITS)
EXTRA_DIST += tests/unit/viewer_fixture.h
tests_unit_check_flamegraph_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_flamegraph_LDADD = $(UNIT_LIBS)
tests_unit_check_speedscope_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_speedscope_LDADD = $(UNIT_LIBS)
tests_unit_check_chrome_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_chrome_LDADD = $(UNIT_LIBS)
tests_unit_check_pprof_CPPFLAGS = $(UNIT_CPPFLAGS) $(ZLIB_CFLAGS)
tests_unit_check_pprof_LDADD = $(UNIT_LIBS)
tests_unit_check_pstats_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_pstats_LDADD = $(UNIT_LIBS)

# The writers on a recording of a process tree (--subprocesses).
check_PROGRAMS += tests/unit/check_processes
TESTS += tests/unit/check_processes
tests_unit_check_processes_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_processes_LDADD = $(UNIT_LIBS)

# A synthetic .loupe of any length, threads and distinct stacks, to measure
# report and diff on large inputs: gen_recording OUT SECONDS RATE THREADS
# STACKS (not a test by itself).
check_PROGRAMS += tests/unit/gen_recording
tests_unit_gen_recording_CPPFLAGS = $(AM_CPPFLAGS)
tests_unit_gen_recording_LDADD = $(LOUPE_ENGINE_LIBS)
# A synthetic .loupe of a process tree, for report -p and the per-process
# outputs: gen_tree_recording OUT WORKERS SAMPLES (not a test by itself).
check_PROGRAMS += tests/unit/gen_tree_recording
tests_unit_gen_tree_recording_CPPFLAGS = $(AM_CPPFLAGS)
tests_unit_gen_tree_recording_LDADD = $(LOUPE_ENGINE_LIBS)

# The format table: every name and extension to its writer, the one-line
# error for an unknown name.
check_PROGRAMS += tests/unit/check_format_table
TESTS += tests/unit/check_format_table
tests_unit_check_format_table_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_format_table_LDADD = $(UNIT_LIBS)
