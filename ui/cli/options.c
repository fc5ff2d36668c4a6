#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status_line.h"
#include "units.h"

/* Highest rate accepted; a loop cannot keep deadlines closer than this. */
#define MAX_RATE_HZ 1000000.0
/* Longest -d and --since: a year (the sampler's deadlines in ns stay far
 * from overflow; -d inf or 1e30 once wrapped them and recorded nothing). */
#define MAX_DURATION_S (365.0 * 86400)
/* Longest loupe trace --threshold, in ms: an hour. */
#define MAX_THRESHOLD_MS (3600.0 * 1000)

enum {
	O_MODE = 256, O_NATIVE, O_BLOCKING, O_NONBLOCKING, O_THREADS, O_IDLE,
	O_NO_LINES, O_FORMAT, O_HELP, O_NO_DEMANGLE,
	O_INVERTED = 400, O_THRESHOLD, O_TASKS,
	O_PTRACE = 500,
	O_SUBPROC = 600, O_MERGE_PROC,
	O_SINCE = 700,
	O_FOLLOW = 800,
	O_GIL = 900, O_JSON, O_PER_TASK, O_SORT, O_LINES_OF,
	O_LOCALS = 1000,
	O_MEMORY = 1100,
};

void cli_error(const char *fmt, ...)
{
	va_list ap;
	status_line_hold();	/* a message never lands inside the line */
	fputs("loupe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	status_line_release();
}

static int parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || !(v > 0))
		return -1;
	*out = v;
	return 0;
}

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("loupe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'loupe %s --help')\n", cmd);
	return 2;
}

/* py-spy's short options, where they mean what loupe's long ones do. */
static int short_alias(int c)
{
	switch (c) {
	case 'f': return O_FORMAT;
	case 'n': return O_NATIVE;
	case 's': return O_SUBPROC;
	case 'i': return O_IDLE;
	case 'F': return O_NO_LINES;	/* py-spy: by function, not line */
	case 'l': return O_LOCALS;	/* py-spy dump -l */
	default: return c;
	}
}

/* The group of commands an option belongs to (OPT_*), 0 for every one. */
static unsigned option_need(int c, unsigned allowed)
{
	switch (c) {
	case 'p':
		return allowed & OPT_PID_FILTER ? OPT_PID_FILTER : OPT_TARGET;
	case 'r': case 'd': case O_NATIVE: case O_BLOCKING:
	case O_NONBLOCKING: case O_NO_DEMANGLE:
		return OPT_SAMPLING;
	case O_SUBPROC:
		return OPT_SUBPROC;
	case O_MERGE_PROC:
		return OPT_PROCESSES;
	case O_SINCE:
		return OPT_SINCE;
	case O_SORT: case O_MEMORY:
		return OPT_SORT;
	case O_LINES_OF:
		return OPT_LINES_OF;
	case O_FORMAT:
		return allowed & OPT_TEXT_JSON ? OPT_TEXT_JSON : OPT_OUTPUT;
	case O_JSON: case O_LOCALS:
		return OPT_TEXT_JSON;
	case 'o': case O_INVERTED: case O_FOLLOW:
		return OPT_OUTPUT;
	case O_TASKS: case O_PER_TASK:
		return OPT_TASKS;
	case O_THRESHOLD:
		return allowed & OPT_TRACE ? OPT_TRACE : OPT_DIFF;
	case O_PTRACE:
		return OPT_TRACE;
	case O_MODE: case O_GIL: case O_THREADS: case O_IDLE: case O_NO_LINES:
		return OPT_SHAPE;
	default:
		return 0;
	}
}

/* Edit distance of a and b (both short: option names), capped at 9. */
static unsigned edit_distance(const char *a, size_t na, const char *b)
{
	size_t nb = strlen(b);
	unsigned row[40];
	if (na >= 39 || nb >= 39)
		return 9;
	for (size_t j = 0; j <= nb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= na; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= nb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[nb] > 9 ? 9 : row[nb];
}

/* "unknown option '--subprocess'" with the nearest option this command
 * takes, when one is near enough to be what was meant. */
static int unknown_option(const char *cmd, const char *arg,
			  const struct option *all, unsigned allowed)
{
	if (strncmp(arg, "--", 2) != 0 || !arg[2])
		return usage_error(cmd, "unknown option '%s'", arg);
	const char *name = arg + 2;
	size_t n = strcspn(name, "=");
	const char *best = NULL;
	unsigned bestd = 9;
	for (const struct option *op = all; op->name; op++) {
		unsigned need = option_need(short_alias(op->val), allowed);
		if (need && !(allowed & need))
			continue;
		unsigned d = edit_distance(name, n, op->name);
		if (d < bestd) {
			bestd = d;
			best = op->name;
		}
	}
	if (best && bestd <= (n < 6 ? 1u : n < 12 ? 2u : 3u))
		return usage_error(cmd, "unknown option '%s': did you mean --%s?", arg, best);
	return usage_error(cmd, "unknown option '%s'", arg);
}

int cli_parse(int argc, char **argv, unsigned allowed, const char *usage,
	      struct cli_opts *o)
{
	static const struct option all[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "mode", required_argument, NULL, O_MODE },
		{ "native", no_argument, NULL, O_NATIVE },
		{ "no-demangle", no_argument, NULL, O_NO_DEMANGLE },
		{ "blocking", no_argument, NULL, O_BLOCKING },
		{ "nonblocking", no_argument, NULL, O_NONBLOCKING },
		{ "threads", no_argument, NULL, O_THREADS },
		{ "idle", no_argument, NULL, O_IDLE },
		{ "no-lines", no_argument, NULL, O_NO_LINES },
		{ "inverted", no_argument, NULL, O_INVERTED },
		{ "threshold", required_argument, NULL, O_THRESHOLD },
		{ "tasks", no_argument, NULL, O_TASKS },
		{ "locals", no_argument, NULL, O_LOCALS },
		{ "per-task", no_argument, NULL, O_PER_TASK },
		{ "sort", required_argument, NULL, O_SORT },
		{ "memory", no_argument, NULL, O_MEMORY },
		{ "lines", required_argument, NULL, O_LINES_OF },
		{ "ptrace", no_argument, NULL, O_PTRACE },
		{ "subprocesses", no_argument, NULL, O_SUBPROC },
		{ "merge-processes", no_argument, NULL, O_MERGE_PROC },
		{ "since", required_argument, NULL, O_SINCE },
		{ "follow", no_argument, NULL, O_FOLLOW },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		/* py-spy's spellings of the same things */
		{ "gil", no_argument, NULL, O_GIL },
		{ "function", no_argument, NULL, 'F' },
		{ "nolineno", no_argument, NULL, O_NO_LINES },
		{ "json", no_argument, NULL, O_JSON },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0];
	memset(o, 0, sizeof *o);
	o->rate = 100;
	opterr = 0;
	optind = 1;
	int c;
	/* With a target, '+': stop at the first non-option so that after "--"
	 * CMD keeps its own options.  Without one (report FILE -o OUT),
	 * options may follow the positional arguments. */
	const char *optstring = allowed & OPT_TARGET ? "+:p:r:d:o:qhf:nsiFl" :
						       ":p:r:d:o:qhf:nsiFl";
	while ((c = getopt_long(argc, argv, optstring, all, NULL)) != -1) {
		c = short_alias(c);
		unsigned need = option_need(c, allowed);
		if (need && !(allowed & need))
			return usage_error(cmd, "'loupe %s' takes no option %s", cmd,
					   argv[optind - 1]);
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return -1;
		case 'p': {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v <= 0 || v > INT_MAX)
				return usage_error(cmd, "invalid PID '%s': expected a positive number", optarg);
			if (allowed & OPT_PID_FILTER)
				o->pid_filter = (pid_t)v;
			else
				o->pid = (pid_t)v;
			break;
		}
		case 'r':
			if (parse_double(optarg, &o->rate) || o->rate > MAX_RATE_HZ)
				return usage_error(cmd, "invalid rate '%s': expected samples per second, more than 0 and at most %.0f", optarg, MAX_RATE_HZ);
			o->rate_set = true;
			break;
		case 'd':
			if (units_duration(optarg, &o->duration) ||
			    o->duration > MAX_DURATION_S)
				return usage_error(cmd, "invalid duration '%s': expected a duration such as 10 (seconds), 30s, 500ms, 10m or 2h, more than 0 and at most a year", optarg);
			break;
		case 'o':
			o->output = optarg;
			break;
		case O_FORMAT: {
			if (allowed & OPT_TEXT_JSON) {
				if (strcmp(optarg, "json") != 0 &&
				    strcmp(optarg, "text") != 0)
					return usage_error(cmd, "unknown format '%s': use text or json", optarg);
				o->json = strcmp(optarg, "json") == 0;
				break;
			}
			lp_error ferr = { 0 };
			if (format_parse(optarg, &o->format, &ferr) != LP_OK)
				return usage_error(cmd, "%s", ferr.msg);
			break;
		}
		case O_JSON:
			o->json = true;
			break;
		case O_LOCALS:
			o->locals = true;
			break;
		case O_GIL:
			o->mode = MODE_GIL;
			o->mode_set = true;
			break;
		case O_MODE:
			/* record --mode memory: cpu samples, memory charged
			 * (ui/cmd_record_memory.c) */
			if (strcmp(optarg, "memory") == 0 &&
			    strcmp(cmd, "record") == 0) {
				o->memory = true;
				o->mode = MODE_CPU;
				o->mode_set = true;
				break;
			}
			if (format_mode_from_name(optarg, &o->mode) != 0)
				return usage_error(cmd, "invalid mode '%s': use wall, cpu or gil", optarg);
			o->mode_set = true;
			break;
		case O_NATIVE: o->native = true; break;
		case O_NO_DEMANGLE: o->no_demangle = true; break;
		case O_BLOCKING: o->blocking = true; break;
		case O_NONBLOCKING: o->blocking = false; break;
		case O_THREADS: o->threads = true; break;
		case O_IDLE: o->idle = true; break;
		case O_NO_LINES: o->no_lines = true; break;
		case O_INVERTED: o->inverted = true; break;
		case O_FOLLOW: o->follow = true; break;
		case O_TASKS: o->tasks = true; break;
		case O_PER_TASK: o->per_task = true; break;
		case O_SORT: o->sort = optarg; break;
		case O_MEMORY: o->memory = true; break;
		case O_LINES_OF: o->lines_of = optarg; break;
		case O_THRESHOLD: {
			if (allowed & OPT_TRACE) {
				/* loupe trace: a time */
				if (units_time_ms(optarg, &o->threshold) ||
				    o->threshold > MAX_THRESHOLD_MS)
					return usage_error(cmd, "invalid threshold '%s': expected a time such as 50ms or 0.2s, at most 1 hour", optarg);
				o->threshold_set = true;
				break;
			}
			/* percentage points of the total; 0 flags any growth */
			char *end;
			errno = 0;
			o->threshold = strtod(optarg, &end);
			if (errno || end == optarg || (*end && strcmp(end, "%") != 0) ||
			    !(o->threshold >= 0 && o->threshold <= 100))
				return usage_error(cmd, "invalid threshold '%s': expected percentage points from 0 to 100", optarg);
			o->threshold_set = true;
			break;
		}
		case O_PTRACE: o->ptrace = true; break;
		case O_SUBPROC: o->subprocesses = true; break;
		case O_MERGE_PROC: o->merge_processes = true; break;
		case O_SINCE:
			if (units_duration(optarg, &o->since) ||
			    o->since > MAX_DURATION_S)
				return usage_error(cmd, "invalid --since '%s': expected a duration such as 90s, 10m or 2h, at most a year", optarg);
			break;
		case 'q': o->quiet = true; break;
		case ':':
			return usage_error(cmd, "option %s needs a value", argv[optind - 1]);
		default:
			return unknown_option(cmd, argv[optind - 1], all, allowed);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") == 0) {
		if (!(allowed & OPT_TARGET))
			return usage_error(cmd, "'loupe %s' does not start commands", cmd);
		o->cmd = &argv[optind];
	} else {
		o->args = &argv[optind];
		o->nargs = argc - optind;
	}
	if (allowed & OPT_TARGET) {
		if (o->nargs > 0)
			return usage_error(cmd, "unexpected argument '%s' (a command to run goes after --)", o->args[0]);
		if (!o->pid && !o->cmd)
			return usage_error(cmd, "no target: give -p PID or -- COMMAND");
		if (o->pid && o->cmd)
			return usage_error(cmd, "give either -p PID or -- COMMAND, not both");
	}
	return 0;
}

struct output_opts cli_output_opts(const struct cli_opts *o)
{
	struct output_opts oo = {
		.mode = o->mode,
		.threads = o->threads,
		.lines = !o->no_lines,
		.idle = o->idle,
		.inverted = o->inverted,
		.merge_processes = o->merge_processes,
		.pid = o->pid_filter,
		.follow = o->follow,
		.per_task = o->per_task,
	};
	return oo;
}
