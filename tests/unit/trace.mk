# Check units of the tracer (loop ticks, histogram, folding, spans).
check_PROGRAMS += tests/unit/check_trace
TESTS += tests/unit/check_trace
tests_unit_check_trace_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_trace_LDADD = $(UNIT_LIBS)

# tracefs files (copies, hostile ones) and perf_sys on a thread of the test
# (skipped, saying why, where the kernel or the privileges refuse).
check_PROGRAMS += tests/unit/check_perf_sys
TESTS += tests/unit/check_perf_sys
tests_unit_check_perf_sys_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_perf_sys_LDADD = $(UNIT_LIBS) -lpthread
