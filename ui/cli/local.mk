# What the commands share on the command line and the terminal: option
# parsing, units, opening the target (session), the status lines and the
# progress bar, the escaping of printed names, --version.
CLI_SOURCES = \
	ui/cli/options.c ui/cli/options.h \
	ui/cli/units.c ui/cli/units.h \
	ui/cli/text_escape.c ui/cli/text_escape.h \
	ui/cli/session.c ui/cli/session.h \
	ui/cli/version.c ui/cli/version.h \
	ui/cli/status_line.c ui/cli/status_line.h \
	ui/cli/sampler_status.c ui/cli/sampler_status.h \
	ui/cli/progress.c ui/cli/progress.h \
	ui/cli/trace_status.c ui/cli/trace_status.h
loupe_SOURCES += $(CLI_SOURCES)
