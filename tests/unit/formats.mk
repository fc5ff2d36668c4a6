# Check units of this area: check_PROGRAMS += tests/unit/check_X; TESTS += tests/unit/check_X
check_PROGRAMS += tests/unit/check_profile tests/unit/check_collapsed \
	tests/unit/check_raw
TESTS += tests/unit/check_profile tests/unit/check_collapsed \
	tests/unit/check_raw
tests_unit_check_profile_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_profile_LDADD = $(UNIT_LIBS)
tests_unit_check_collapsed_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_collapsed_LDADD = $(UNIT_LIBS)
tests_unit_check_raw_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_raw_LDADD = $(UNIT_LIBS)
