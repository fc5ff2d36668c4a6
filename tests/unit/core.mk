# Check units of the core (maps, memreader, target).  Pattern for a unit:
#   check_PROGRAMS += tests/unit/check_maps
#   TESTS += tests/unit/check_maps
#   tests_unit_check_maps_CPPFLAGS = $(UNIT_CPPFLAGS)
#   tests_unit_check_maps_LDADD = $(UNIT_LIBS)
