# Check units of loupe top's table model (pure: no ncurses).
check_PROGRAMS += tests/unit/check_top_model
TESTS += tests/unit/check_top_model
tests_unit_check_top_model_SOURCES = tests/unit/check_top_model.c \
	ui/top_model.c ui/top_model.h
tests_unit_check_top_model_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_top_model_LDADD = $(UNIT_LIBS)
