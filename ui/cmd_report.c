/* loupe report: convert or summarize a .loupe recording. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "formats/formats.h"
#include "options.h"
#include "profile.h"
#include "progress.h"
#include "report_procs.h"
#include "report_input.h"
#include "report_lines.h"
#include "report_tasks.h"
#include "text_escape.h"

static const char usage[] =
	"usage: loupe report FILE.loupe|DIR [--since S] [--format F] [-o OUT] [OPTIONS]\n"
	"\n"
	"Converts a raw recording (- reads it from standard input; a FIFO or a\n"
	"device is refused) to another format (to OUT, or collapsed stacks\n"
	"on stdout), or without --format and -o prints the top functions.  Given\n"
	"a directory of loupe daemon windows (DIR/NAME-PID-START), merges its\n"
	"windows.\n"
	"\n"
	"  -o, --output OUT     where to write (format from the extension; - or a\n"
	"                       device or FIFO is written to, a file replaced)\n"
	"      --follow         -o may be a symbolic link: write to its target\n"
	"                       (refused without it)\n"
	"      --format F       collapsed, flamegraph, speedscope, chrome, pprof,\n"
	"                       pstats or loupe\n"
	"      --mode M         wall, cpu or gil (default: the recording's)\n"
	"      --threads        a root frame per thread\n"
	"      --idle           keep idle samples in cpu mode\n"
	"      --no-lines       aggregate by function, not by line\n"
	"      --inverted       flamegraph: icicle (roots at the top)\n"
	"      --since S        DIR: only the windows of the last S (90s, 10m,\n"
	"                       2h; default: every window)\n"
	"      --tasks          per coroutine of a --tasks recording: wall time\n"
	"                       (suspended included), CPU time, tasks in it\n"	"      --per-task       a --tasks recording's outputs with a root per\n"
	"                       task, not one per outermost coroutine\n"
	"  -p, --pid PID        only this process of a --subprocesses recording\n"
	"      --merge-processes  no root frame per process: identical workers\n"
	"                       add up\n"
	"      --lines FUNCTION  that Python function's own and total shares per\n"
	"                       line beside its source (read from this\n"
	"                       filesystem), the hottest line marked\n"
	"  -q, --quiet          no progress bar on stderr\n"
	"\n"
	"Without -o or --format, prints the top functions: own and total share of\n"
	"CPU and wall samples, and the processes of a --subprocesses recording.\n"
	"The chrome format needs a recording made to .loupe (it keeps every\n"
	"sample's time).\n";

/* Top functions, own and total, CPU and wall, each as a share of its own
 * total; sorted by own weight under the chosen mode (wall for wall, CPU
 * otherwise), ties by total. */
static uint64_t own_of(const struct profile_func_stats *f, bool wall)
{
	return wall ? f->own_samples : f->own_cpu_samples;
}

static uint64_t total_of(const struct profile_func_stats *f, bool wall)
{
	return wall ? f->total_samples : f->total_cpu_samples;
}

static double pct(uint64_t n, uint64_t d)
{
	return d ? 100.0 * (double)n / (double)d : 0.0;
}

/* A recording of loupe trace: its ticks and stalls (profile spans). */
static void print_spans(const profile *p)
{
	size_t n, ticks = 0, stalls = 0;
	const struct profile_span *sp = profile_spans(p, &n);
	for (size_t i = 0; i < n; i++)
		strcmp(profile_str(p, sp[i].cat), "stall") == 0 ? stalls++ : ticks++;
	if (!n)
		return;
	printf("\nEvent-loop trace: %zu ticks, %zu stalls\n", ticks + stalls, stalls);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(profile_str(p, sp[i].cat), "stall") != 0)
			continue;
		char name[TEXT_ESCAPE_MAX], detail[TEXT_ESCAPE_MAX];
		printf("  %s at %.3f s on thread %d: %s\n",
		       text_escape(profile_str(p, sp[i].name), name, sizeof name),
		       (double)sp[i].start_ns / 1e9, (int)sp[i].tid,
		       text_escape(profile_str(p, sp[i].detail), detail, sizeof detail));
	}
}

static int print_summary(const profile *p, const struct cli_opts *o,
			 const struct report_proc *procs, size_t nprocs,
			 const struct report_input *in)
{
	struct profile_func_stats *fs;
	size_t n;
	if (profile_func_stats(p, !o->no_lines, &fs, &n) != LP_OK) {
		cli_error("out of memory");
		return 1;
	}
	bool wall = o->mode == MODE_WALL;
	struct profile_agg sum = profile_agg_sum(p);
	uint64_t total_wall = sum.samples, total_cpu = sum.cpu_samples,
		 cpu_ns = sum.cpu_ns;
	/* Selection of the top 25 (n can be large; 25 passes are cheap). */
	size_t top = n < 25 ? n : 25;
	for (size_t i = 0; i < top; i++) {
		size_t best = i;
		for (size_t j = i + 1; j < n; j++) {
			uint64_t bj = own_of(&fs[j], wall), bb = own_of(&fs[best], wall);
			if (bj > bb || (bj == bb && total_of(&fs[j], wall) >
						    total_of(&fs[best], wall)))
				best = j;
		}
		struct profile_func_stats tmp = fs[i];
		fs[i] = fs[best];
		fs[best] = tmp;
	}
	/* what the recording says is printed escaped: it may come from
	 * anyone (text_escape.h) */
	char e1[TEXT_ESCAPE_MAX], e2[TEXT_ESCAPE_MAX], e3[TEXT_ESCAPE_MAX],
		e4[TEXT_ESCAPE_MAX];
	const char *comm = profile_meta(p, "target.comm");
	const char *pid = profile_meta(p, "target.pid");
	const char *runtime = profile_meta(p, "runtime");
	const char *rate = profile_meta(p, "rate");
	comm = comm ? text_escape(comm, e1, sizeof e1) : NULL;
	pid = pid ? text_escape(pid, e2, sizeof e2) : NULL;
	runtime = runtime ? text_escape(runtime, e3, sizeof e3) : NULL;
	rate = rate ? text_escape(rate, e4, sizeof e4) : NULL;
	if (o->pid_filter) {
		char ep[TEXT_ESCAPE_MAX];
		const char *pc = output_process_comm(p, o->pid_filter);
		pc = pc ? text_escape(pc, ep, sizeof ep) : NULL;
		printf("process %d%s%s%s of ", (int)o->pid_filter, pc ? " (" : "",
		       pc ? pc : "", pc ? ")" : "");
	}
	printf("%s%s%s%s\n", comm ? comm : "recording", pid ? " (PID " : "",
	       pid ? pid : "", pid ? ")" : "");
	printf("%s%s%s Hz; wall samples %llu, CPU samples %llu, CPU time %.2f s\n\n",
	       runtime ? runtime : "", runtime ? ", " : "", rate ? rate : "?",
	       (unsigned long long)total_wall, (unsigned long long)total_cpu,
	       cpu_ns / 1e9);
	/* loupe daemon's windows: what it sampled and what it could not */
	const char *by = profile_meta(p, "command");
	if (by && strcmp(by, "daemon") == 0) {
		const char *cmdline = profile_meta(p, "target.cmdline");
		const char *samples = profile_meta(p, "samples");
		const char *missed = profile_meta(p, "missed");
		if (in->cmdlines) {	/* a reused PID in an older loupe's directory */
			printf("loupe daemon: %s samples, %s deadlines missed; %u processes had this PID, command lines: ",
			       samples ? text_escape(samples, e1, sizeof e1) : "?",
			       missed ? text_escape(missed, e2, sizeof e2) : "?", in->processes);
			text_fputs(in->cmdlines, stdout);
		} else {
			printf("loupe daemon: %s samples, %s deadlines missed; command line: ",
			       samples ? text_escape(samples, e1, sizeof e1) : "?",
			       missed ? text_escape(missed, e2, sizeof e2) : "?");
			text_fputs(cmdline && *cmdline ? cmdline : "?", stdout);
		}
		printf("\n\n");
	}
	/* samples whose Python stack could not be read whole (record) */
	const char *failed = profile_meta(p, "failed_samples");
	if (failed)
		printf("not in these figures: samples %s\n\n", failed);
	/* a recording of several processes: which, and their shares */
	const char *sub = profile_meta(p, "subprocesses");
	if (!o->pid_filter && (nprocs > 1 || (sub && strcmp(sub, "on") == 0)))
		report_print_procs(procs, nprocs, total_wall);
	printf("  %%Own CPU  %%Total CPU  %%Own wall  %%Total wall  Function (by %s own)\n",
	       wall ? "wall" : "CPU");
	for (size_t i = 0; i < top; i++) {
		if (!total_of(&fs[i], wall))
			break;
		char name[1024], shown[TEXT_ESCAPE_MAX];
		format_frame(p, fs[i].frame, !o->no_lines, name, sizeof name);
		text_escape(name, shown, sizeof shown);
		printf("  %7.1f  %10.1f  %9.1f  %11.1f  %s\n",
		       pct(fs[i].own_cpu_samples, total_cpu),
		       pct(fs[i].total_cpu_samples, total_cpu),
		       pct(fs[i].own_samples, total_wall),
		       pct(fs[i].total_samples, total_wall), shown);
	}
	free(fs);
	print_spans(p);
	return 0;
}

/* A view the recording cannot give is refused, never shown as something
 * it is not: a cpu recording of a loupe that kept on-CPU samples only has
 * no wall time, and a recording without GIL data no gil view. */
static bool report_view_refused(const profile *p, const char *path,
				enum sample_mode mode)
{
	const char *kept = profile_meta(p, "samples");
	const char *rec = profile_meta(p, "mode");
	const char *gil = profile_meta(p, "gil");
	const char *runtime = profile_meta(p, "runtime");
	char e[TEXT_ESCAPE_MAX];
	bool all = kept && strcmp(kept, "all") == 0;
	if (mode == MODE_WALL && !all && rec && strcmp(rec, "wall") != 0) {
		cli_error("%s was recorded in %s mode, which kept on-CPU samples only: it has no wall view (record to .loupe again: it now keeps both)",
			  text_escape(path, e, sizeof e), strcmp(rec, "gil") == 0 ? "gil" : "cpu");
		return true;
	}
	bool has_gil = gil ? strcmp(gil, "yes") == 0
			   : runtime && strncmp(runtime, "CPython", 7) == 0;
	if (mode == MODE_GIL && !has_gil) {
		cli_error("%s has no GIL data (not a CPython recording): it has no gil view",
			  text_escape(path, e, sizeof e));
		return true;
	}
	return false;
}

int cmd_report(int argc, char **argv)
{
	struct cli_opts o;
	int rc = cli_parse(argc, argv, OPT_OUTPUT | OPT_SHAPE | OPT_TASKS |
			   OPT_PID_FILTER | OPT_PROCESSES | OPT_SINCE |
			   OPT_LINES_OF, usage, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 1) {
		cli_error("give exactly one recording to report on (see 'loupe report --help')");
		return 2;
	}
	if (o.lines_of && (o.output || o.format != FORMAT_NONE || o.tasks)) {
		cli_error("--lines prints a function's lines: it takes no -o, --format or --tasks");
		return 2;
	}
	if (o.lines_of && !o.lines_of[0]) {
		cli_error("--lines needs a function name");
		return 2;
	}
	if (o.output && o.format == FORMAT_NONE) {
		o.format = format_from_path(o.output);
		if (o.format == FORMAT_NONE) {
			cli_error("cannot tell the format of '%s' from its extension: give --format", o.output);
			return 2;
		}
	}
	struct stat st;
	if (o.since > 0 && (stat(o.args[0], &st) != 0 || !S_ISDIR(st.st_mode))) {
		cli_error("--since takes a directory of daemon windows (DIR/NAME-PID-START), not '%s'", o.args[0]);
		return 2;
	}
	profile *p = profile_new();
	if (!p) {
		cli_error("out of memory");
		return 1;
	}
	int status = 1;
	struct report_proc *procs = NULL;
	size_t nprocs = 0;
	lp_error err = { 0 };
	struct report_input info;
	/* only the chrome trace needs every sample; the others aggregates */
	if (format_needs_timeline(o.format))
		profile_keep_timeline(p, true);
	rc = report_input_read(o.args[0], o.since, p, o.quiet, &info, &err);
	if (rc != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	if (info.truncated)
		cli_error("warning: %s ends inside a record (cut off while written); reporting what precedes it", info.truncated);
	if (info.cmdlines)
		cli_error("warning: %s holds the windows of %u processes that had the same PID (an older loupe named directories by PID only): their samples are merged; command lines: %s",
			  o.args[0], info.processes, info.cmdlines);
	if (!o.mode_set) {
		const char *m = profile_meta(p, "mode");
		if (!m || format_mode_from_name(m, &o.mode) != 0)
			o.mode = MODE_CPU;
	} else if (report_view_refused(p, o.args[0], o.mode)) {
		goto out;
	}
	if (report_procs(p, &procs, &nprocs) != LP_OK) {
		cli_error("out of memory");
		goto out;
	}
	if (o.pid_filter) {
		if (!report_has_pid(procs, nprocs, o.pid_filter)) {
			char list[256];
			report_pid_list(procs, nprocs, list, sizeof list);
			cli_error("PID %d is not in %s: its processes are %s", (int)o.pid_filter,
				  o.args[0], nprocs ? list : "none (no samples)");
			goto out;
		}
		/* the summary, the task table and the raw format read the
		 * whole profile: give them that process's part only (the
		 * other writers also skip other processes, by oo.pid) */
		profile *one = report_select_pid(p, o.pid_filter);
		if (!one) {
			cli_error("out of memory");
			goto out;
		}
		profile_free(p);
		p = one;
	}
	struct output_opts oo = cli_output_opts(&o);
	if (o.output) {
		if (format_write_file(p, o.format, o.output, &oo, &err) != LP_OK) {
			cli_error("%s", err.msg);
			goto out;
		}
	} else if (o.format == FORMAT_COLLAPSED) {
		if (format_write(format_info(FORMAT_COLLAPSED), p, stdout, &oo) != LP_OK ||
		    fflush(stdout) != 0) {
			cli_error("cannot write to stdout");
			goto out;
		}
	} else if (o.format != FORMAT_NONE) {
		cli_error("format %s needs an output file: give -o FILE", format_name(o.format));
		status = 2;
		goto out;
	} else if (o.lines_of) {
		status = report_lines(p, o.lines_of, o.mode);
		goto out;
	} else if (o.tasks ? report_tasks(p) : print_summary(p, &o, procs, nprocs, &info)) {
		goto out;
	}
	status = 0;
out:
	free(procs);
	profile_free(p);
	return status;
}
