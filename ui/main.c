/* loupe: the command dispatcher. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "heap_traces.h"
#include "options.h"
#include "version.h"

static const char usage[] =
	"usage: loupe COMMAND [OPTIONS]\n"
	"\n"
	"A sampling profiler for live processes: CPython 2.7 and 3.6+, and native\n"
	"programs (C, C++, Rust).\n"
	"\n"
	"Commands:\n"
	"  top      live view of where time goes      loupe top -p PID\n"
	"  record   record a profile to a file        loupe record -p PID -o out.txt\n"
	"  dump     print every thread's stack now    loupe dump -p PID\n"
	"  heap     live objects by type, growth      loupe heap -p PID\n"
	"  trace    find what blocks an event loop    loupe trace -p PID\n"
	"  report   convert or summarize a recording  loupe report out.loupe\n"
	"  diff     compare two recordings (CI)       loupe diff base.loupe new.loupe\n"
	"  daemon   profile a host continuously       loupe daemon --config FILE\n"
	"  ctl      talk to a running loupe daemon    loupe ctl status\n"
	"\n"
	"'loupe COMMAND --help' describes a command's options.\n"
	"Exit status: 0 done, 1 runtime failure, 2 usage error.\n";

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "record", cmd_record },
	{ "dump", cmd_dump },
	{ "heap", cmd_heap },
	{ "report", cmd_report },
	{ "diff", cmd_diff },
	{ "top", cmd_top },
	{ "trace", cmd_trace },
	{ "daemon", cmd_daemon },
	{ "ctl", cmd_ctl },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		version_print(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	cli_error("unknown command '%s' (see 'loupe --help')", argv[1]);
	return 2;
}
