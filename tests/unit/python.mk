# Check units of this area: check_PROGRAMS += tests/unit/check_X; TESTS += tests/unit/check_X
check_PROGRAMS += tests/unit/check_py_live tests/unit/check_py_walk
TESTS += tests/unit/check_py_live tests/unit/check_py_walk
tests_unit_check_py_live_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_py_live_LDADD = $(UNIT_LIBS)
tests_unit_check_py_walk_SOURCES = tests/unit/check_py_walk.c \
	tests/unit/mem_capture.c tests/unit/mem_capture.h
tests_unit_check_py_walk_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_py_walk_LDADD = $(UNIT_LIBS)
# The line-table decoders' unit (profiler/python/linetable.c).
check_PROGRAMS += tests/unit/check_py_linetable
TESTS += tests/unit/check_py_linetable
tests_unit_check_py_linetable_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_py_linetable_LDADD = $(UNIT_LIBS)
# The asyncio reader over captured memory images (profiler/python/asyncio.c).
check_PROGRAMS += tests/unit/check_py_asyncio
TESTS += tests/unit/check_py_asyncio
tests_unit_check_py_asyncio_SOURCES = tests/unit/check_py_asyncio.c \
	tests/unit/mem_capture.c tests/unit/mem_capture.h
tests_unit_check_py_asyncio_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_py_asyncio_LDADD = $(UNIT_LIBS)
# The _Py_DebugOffsets loader on real blocks of 3.13-3.15 and broken ones.
check_PROGRAMS += tests/unit/check_py_debug_offsets
TESTS += tests/unit/check_py_debug_offsets
tests_unit_check_py_debug_offsets_SOURCES = tests/unit/check_py_debug_offsets.c \
	tests/unit/debug_offsets_fixtures.h
tests_unit_check_py_debug_offsets_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_py_debug_offsets_LDADD = $(UNIT_LIBS)
# dump --locals' reader over built memory images, known and hostile.
check_PROGRAMS += tests/unit/check_py_locals
TESTS += tests/unit/check_py_locals
tests_unit_check_py_locals_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_py_locals_LDADD = $(UNIT_LIBS)
# tracemalloc's traces reader over built tables, known and hostile.
check_PROGRAMS += tests/unit/check_py_tracemalloc
TESTS += tests/unit/check_py_tracemalloc
tests_unit_check_py_tracemalloc_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_py_tracemalloc_LDADD = $(UNIT_LIBS)
# the heap census's search for pymalloc's pools by shape, known and hostile.
check_PROGRAMS += tests/unit/check_py_heap_pools
TESTS += tests/unit/check_py_heap_pools
tests_unit_check_py_heap_pools_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_py_heap_pools_LDADD = $(UNIT_LIBS)
