bin_PROGRAMS += loupe
loupe_CPPFLAGS = $(AM_CPPFLAGS) $(ZLIB_CFLAGS)
loupe_SOURCES = \
	ui/main.c \
	ui/commands.h \
	ui/options.c ui/options.h \
	ui/units.c ui/units.h \
	ui/text_escape.c ui/text_escape.h \
	ui/session.c ui/session.h \
	ui/cmd_record.c \
	ui/cmd_dump.c \
	ui/dump_output.c ui/dump_output.h \
	ui/cmd_report.c \
	ui/report_tasks.c ui/report_tasks.h \
	ui/report_procs.c ui/report_procs.h \
	ui/report_input.c ui/report_input.h \
	ui/cmd_trace.c \
	ui/version.c ui/version.h \
	ui/status_line.c ui/status_line.h \
	ui/sampler_status.c ui/sampler_status.h \
	ui/progress.c ui/progress.h \
	ui/trace_status.c ui/trace_status.h
loupe_LDADD = $(LOUPE_ENGINE_LIBS)
loupe_SOURCES += $(LOUPE_UNWIND_SIGMASK)

# The live view (only ui/top* links ncurses) and report/diff front ends add
# their sources here.
include $(srcdir)/ui/top.mk
include $(srcdir)/ui/report.mk
include $(srcdir)/ui/daemon.mk
