/* Command-line options shared by loupe's commands. */
#ifndef LOUPE_UI_OPTIONS_H
#define LOUPE_UI_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

#include "formats/formats.h"

/* Which options a command takes. */
enum {
	OPT_TARGET = 1 << 0,	/* -p PID / -- CMD */
	OPT_SAMPLING = 1 << 1,	/* --rate --duration --native --blocking ... */
	OPT_OUTPUT = 1 << 2,	/* -o --format --follow */
	OPT_SHAPE = 1 << 3,	/* --mode --threads --no-lines --idle */
	OPT_DIFF = 1 << 6,	/* --threshold (loupe diff) */
	OPT_TRACE = 1 << 7,	/* --threshold TIME --ptrace (loupe trace) */
	OPT_TASKS = 1 << 8,	/* --tasks (asyncio task mode) */
	OPT_TEXT_JSON = 1 << 9,	/* --format text|json (loupe dump) */
	OPT_SUBPROC = 1 << 10,	/* --subprocesses */
	OPT_PROCESSES = 1 << 11,	/* --merge-processes (outputs) */
	OPT_PID_FILTER = 1 << 12,	/* -p/--pid PID: only that process's
					 * samples (report; no target) */
	OPT_SINCE = 1 << 13,	/* --since DURATION (report of a directory
				 * of daemon windows) */
	OPT_SORT = 1 << 14,	/* --sort COLUMN (loupe top) */
	OPT_LINES_OF = 1 << 15,	/* --lines FUNCTION (loupe report) */
};

struct cli_opts {
	pid_t pid;
	char **cmd;		/* argv after "--", NULL-terminated */
	double rate;
	double duration;
	enum sample_mode mode;
	bool mode_set;
	bool memory;		/* record --mode memory, top --memory */
	bool native, blocking, threads, idle, no_lines, quiet;
	bool no_demangle;	/* --no-demangle: C++/Rust names raw */
	bool tasks;		/* --tasks */
	const char *sort;	/* --sort COLUMN (top): NULL, the mode's own */
	const char *lines_of;	/* --lines FUNCTION (report): its lines */
	bool per_task;		/* --per-task: a root per task, not per
				 * outermost coroutine */
	bool tasks_auto;	/* task mode where it can be read, no warning
				 * where not (set by trace, not an option) */
	bool json;		/* --format json (dump) */
	bool locals;		/* --locals (dump) */
	bool keep_all;		/* every thread's sample, on CPU or not, with
				 * its CPU weight, whatever the mode (record
				 * to .loupe: any view later; not an option) */
	bool subprocesses;	/* --subprocesses: every descendant too */
	bool merge_processes;	/* --merge-processes: no per-process root */
	pid_t pid_filter;	/* report -p PID; 0: every process */
	const char *output;
	bool follow;		/* --follow: -o may be a symbolic link */
	enum output_format format;
	bool inverted;		/* --inverted: icicle flame graph */
	double threshold;	/* --threshold PCT (loupe diff), in points;
				 * --threshold TIME (loupe trace), in ms */
	bool threshold_set;
	bool rate_set;		/* -r was given */
	bool ptrace;		/* --ptrace: loupe trace without tracepoints */
	double since;		/* --since: seconds back from now; 0 none */
	char **args;		/* positional arguments */
	int nargs;
};

/* Parses argv (argv[0] is the command name).  Returns 0 to go on, or the
 * process exit status: 0 after --help, 2 after a usage error (printed). */
int cli_parse(int argc, char **argv, unsigned allowed, const char *usage,
	      struct cli_opts *o);

/* Prints "loupe: MSG" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct output_opts cli_output_opts(const struct cli_opts *o);

#endif
