# loupe: main and one cmd_*.c per command here; the parts they share are in
# the folders beside (cli, top, report, ctl, store, daemon), each adding its
# sources to loupe through its own local.mk.
bin_PROGRAMS += loupe
# ui/ sees the public headers of the engine and the tracer (their include/
# folders), its own folders, and config.h (Makefile.am says why).
UI_DIRS = ui ui/cli ui/top ui/report ui/ctl ui/store ui/daemon
UI_CPPFLAGS = -D_GNU_SOURCE $(TRACER_PUBLIC) $(PROFILER_PUBLIC) \
	$(UI_DIRS:%=-iquote $(srcdir)/%) -iquote $(top_builddir)/build-aux
loupe_CPPFLAGS = $(UI_CPPFLAGS) $(ZLIB_CFLAGS)
loupe_SOURCES = \
	ui/main.c \
	ui/commands.h \
	ui/cmd_record.c \
	ui/cmd_record_memory.c ui/record_memory.h \
	ui/cmd_dump.c \
	ui/cmd_heap.c \
	ui/cmd_heap_traces.c ui/heap_traces.h \
	ui/cmd_report.c \
	ui/cmd_diff.c \
	ui/cmd_top.c \
	ui/cmd_trace.c \
	ui/cmd_ctl.c \
	ui/cmd_daemon.c
loupe_LDADD = $(LOUPE_ENGINE_LIBS)
loupe_SOURCES += $(LOUPE_UNWIND_SIGMASK)
