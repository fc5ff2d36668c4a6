# Check units of the front end's terminal helpers (status line, progress
# bar): their text, without a terminal.
check_PROGRAMS += tests/unit/check_status_line
TESTS += tests/unit/check_status_line
tests_unit_check_status_line_SOURCES = tests/unit/check_status_line.c \
	ui/cli/status_line.c ui/cli/status_line.h ui/cli/progress.c ui/cli/progress.h
tests_unit_check_status_line_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_status_line_LDADD = $(UNIT_LIBS) -lpthread

# The escaping of names printed on a terminal (ui/cli/text_escape.c).
check_PROGRAMS += tests/unit/check_text_escape
TESTS += tests/unit/check_text_escape
tests_unit_check_text_escape_SOURCES = tests/unit/check_text_escape.c \
	ui/cli/text_escape.c ui/cli/text_escape.h
tests_unit_check_text_escape_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_text_escape_LDADD = $(UNIT_LIBS)
