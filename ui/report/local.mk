# The text writers of loupe dump and loupe report (the daemon's views use
# dump_output too), and report's reading of recordings and daemon stores.
loupe_SOURCES += \
	ui/report/dump_output.c ui/report/dump_output.h \
	ui/report/report_tasks.c ui/report/report_tasks.h \
	ui/report/report_procs.c ui/report/report_procs.h \
	ui/report/report_input.c ui/report/report_input.h \
	ui/report/report_lines.c ui/report/report_lines.h
