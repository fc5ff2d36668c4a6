# Check units of the tracer (loop ticks, histogram, folding, spans).
check_PROGRAMS += tests/unit/check_trace
TESTS += tests/unit/check_trace
tests_unit_check_trace_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_trace_LDADD = $(UNIT_LIBS)
