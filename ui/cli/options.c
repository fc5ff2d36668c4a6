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

/* A time: "50" (ms), "50ms", "0.05s", "500us"; into ms. */
static int parse_time_ms(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || !(v > 0))
		return -1;
	if (*end == 0 || strcmp(end, "ms") == 0)
		*out = v;
	else if (strcmp(end, "s") == 0)
		*out = v * 1e3;
	else if (strcmp(end, "us") == 0)
		*out = v / 1e3;
	else
		return -1;
	return *out > 0 && *out <= MAX_THRESHOLD_MS ? 0 : -1;
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
		{ "ptrace", no_argument, NULL, O_PTRACE },
		{ "subprocesses", no_argument, NULL, O_SUBPROC },
		{ "merge-processes", no_argument, NULL, O_MERGE_PROC },
		{ "since", required_argument, NULL, O_SINCE },
		{ "follow", no_argument, NULL, O_FOLLOW },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
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
	const char *optstring = allowed & OPT_TARGET ? "+:p:r:d:o:qh" : ":p:r:d:o:qh";
	while ((c = getopt_long(argc, argv, optstring, all, NULL)) != -1) {
		unsigned need = 0;
		switch (c) {
		case 'p': case 'r': case 'd': case O_NATIVE: case O_BLOCKING:
		case O_NONBLOCKING: case O_NO_DEMANGLE:
			need = c != 'p' ? OPT_SAMPLING :
			       allowed & OPT_PID_FILTER ? OPT_PID_FILTER :
							  OPT_TARGET;
			break;
		case O_SUBPROC:
			need = OPT_SUBPROC;
			break;
		case O_MERGE_PROC:
			need = OPT_PROCESSES;
			break;
		case O_SINCE:
			need = OPT_SINCE;
			break;
		case O_FORMAT:
			need = allowed & OPT_TEXT_JSON ? OPT_TEXT_JSON : OPT_OUTPUT;
			break;
		case 'o': case O_INVERTED: case O_FOLLOW:
			need = OPT_OUTPUT;
			break;
		case O_TASKS:
			need = OPT_TASKS;
			break;
		case O_THRESHOLD:
			need = allowed & OPT_TRACE ? OPT_TRACE : OPT_DIFF;
			break;
		case O_PTRACE:
			need = OPT_TRACE;
			break;
		case O_MODE: case O_THREADS: case O_IDLE: case O_NO_LINES:
			need = OPT_SHAPE;
			break;
		default:
			break;
		}
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
			if (parse_double(optarg, &o->duration) ||
			    o->duration > MAX_DURATION_S)
				return usage_error(cmd, "invalid duration '%s': expected seconds, more than 0 and at most a year (%.0f)", optarg, MAX_DURATION_S);
			break;
		case 'o':
			o->output = optarg;
			break;
		case O_FORMAT:
			if (allowed & OPT_TEXT_JSON) {
				if (strcmp(optarg, "json") != 0 &&
				    strcmp(optarg, "text") != 0)
					return usage_error(cmd, "unknown format '%s': use text or json", optarg);
				o->json = strcmp(optarg, "json") == 0;
				break;
			}
			o->format = format_from_name(optarg);
			if (o->format == FORMAT_NONE)
				return usage_error(cmd, "unknown format '%s': use collapsed, flamegraph, speedscope, chrome, pprof, pstats or loupe", optarg);
			break;
		case O_MODE:
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
		case O_THRESHOLD: {
			if (allowed & OPT_TRACE) {
				/* loupe trace: a time */
				if (parse_time_ms(optarg, &o->threshold))
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
			return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
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
	};
	return oo;
}
