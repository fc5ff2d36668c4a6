# Check units of loupe top's table model (pure: no ncurses).
check_PROGRAMS += tests/unit/check_top_model
TESTS += tests/unit/check_top_model
tests_unit_check_top_model_SOURCES = tests/unit/check_top_model.c \
	ui/top/top_model.c ui/top/top_model.h
tests_unit_check_top_model_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_top_model_LDADD = $(UNIT_LIBS)
# loupe top's trends and header lines (pure: no ncurses).
check_PROGRAMS += tests/unit/check_top_trend
TESTS += tests/unit/check_top_trend
tests_unit_check_top_trend_SOURCES = tests/unit/check_top_trend.c \
	ui/top/top_trend.c ui/top/top_trend.h ui/top/top_header.c ui/top/top_header.h \
	ui/top/top_model.c ui/top/top_model.h ui/cli/sampler_status.c ui/cli/sampler_status.h \
	ui/cli/status_line.c ui/cli/status_line.h ui/cli/units.c ui/cli/units.h
tests_unit_check_top_trend_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_top_trend_LDADD = $(UNIT_LIBS) -lpthread
# The per-coroutine views of a task-mode profile (top's task view, report
# --tasks).
check_PROGRAMS += tests/unit/check_tasks_view
TESTS += tests/unit/check_tasks_view
tests_unit_check_tasks_view_SOURCES = tests/unit/check_tasks_view.c \
	ui/top/top_model.c ui/top/top_model.h ui/report/report_tasks.c ui/report/report_tasks.h \
	ui/cli/text_escape.c ui/cli/text_escape.h \
	ui/cli/options.c ui/cli/options.h ui/cli/units.c ui/cli/units.h ui/cli/status_line.c ui/cli/status_line.h
tests_unit_check_tasks_view_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_tasks_view_LDADD = $(UNIT_LIBS) -lpthread
# A function's figures per line and its source file (top's source view,
# report --lines).
check_PROGRAMS += tests/unit/check_top_lines
TESTS += tests/unit/check_top_lines
tests_unit_check_top_lines_SOURCES = tests/unit/check_top_lines.c \
	ui/top/top_lines.c ui/top/top_lines.h \
	ui/cli/text_escape.c ui/cli/text_escape.h
tests_unit_check_top_lines_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_check_top_lines_LDADD = $(UNIT_LIBS)
