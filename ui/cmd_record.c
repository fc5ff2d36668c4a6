/* loupe record: sample a target and write a recording. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "record_memory.h"
#include "formats/formats.h"
#include "options.h"
#include "profile.h"
#include "sampler.h"
#include "sampler_status.h"
#include "session.h"

static const char usage[] =
	"usage: loupe record [OPTIONS] [-o FILE] (-p PID | -- CMD [ARGS...])\n"
	"\n"
	"Samples every thread of a process and writes a profile to FILE.\n"
	"\n"
	"  -p, --pid PID        attach to a running process\n"
	"  -o, --output FILE    where to write (format from the extension; - or a\n"
	"                       device or FIFO is written to, a file replaced;\n"
	"                       default: loupe-PID-YYYYmmdd-HHMMSS.svg, or the\n"
	"                       --format's extension)\n"
	"      --follow         -o may be a symbolic link: write to its target\n"
	"                       (refused without it)\n"
	"      --format F       collapsed, flamegraph, speedscope, chrome, pprof,\n"
	"                       pstats or loupe (raw)\n"
	"  -r, --rate HZ        samples per second per thread (default 100)\n"
	"  -d, --duration S     stop after S seconds, at most a year (default:\n"
	"                       Ctrl-C or exit)\n"
	"      --mode M         wall, cpu or gil: which samples count (default cpu);\n"
	"                       memory: RSS growth charged to the stacks that ran\n"
	"                       (-o OUT; the release to OUT.release.EXT)\n"
	"      --native         merge native (C) frames with Python frames\n"
	"      --no-demangle    C++ and Rust names as mangled in the binary\n"
	"      --blocking       pause the process while reading (consistent)\n"
	"      --nonblocking    never pause the process (default)\n"
	"      --threads        a root frame per thread\n"
	"      --tasks          asyncio: a root per task, with the await chain of\n"
	"                       each suspended task sampled too (mode wall unless\n"
	"                       --mode is given)\n"	"      --per-task       with --tasks: a root per task, not one per\n"
	"                       outermost coroutine with its task count\n"
	"      --subprocesses   also every descendant process (multiprocessing,\n"
	"                       worker pools): a root frame per process\n"
	"      --merge-processes  with --subprocesses: no root frame per process,\n"
	"                       so identical workers add up\n"
	"      --idle           keep idle samples in cpu mode\n"
	"      --no-lines       aggregate by function, not by line\n"
	"      --inverted       flamegraph: icicle (roots at the top)\n"
	"  -q, --quiet          no status line or summary on stderr\n"
	"\n"
	"Extensions: .txt/.folded collapsed, .svg flamegraph, .speedscope.json\n"
	"speedscope, .trace.json chrome, .pb.gz pprof, .prof pstats, .loupe raw.\n"
	"Durations take units: -d 30 (seconds), 30s, 500ms, 10m, 2h.\n"
	"py-spy's spellings work too: -f FMT (chrometrace; py-spy's raw is\n"
	"collapsed here, loupe's raw its own recording), -n, -s, -i,\n"
	"-F/--function and --nolineno (by function), --gil (--mode gil).\n";

static void set_meta(profile *p, const struct cli_opts *o, target *t,
		     sampler *s)
{
	session_set_meta(p, o, t, s);
	if (o->tasks)
		profile_set_meta(p, "tasks", sampler_tasks(s) ? "on" : "off");
	/* report --mode wall|cpu|gil of this file may take any view */
	if (o->keep_all)
		profile_set_meta(p, "samples", "all");
}

/* Without -o, as py-spy does: loupe-PID-YYYYmmdd-HHMMSS.EXT in the current
 * directory (the command's name for a program loupe starts, whose PID is
 * not known yet), a flame graph unless --format names another. */
static int default_output(struct cli_opts *o, char *buf, size_t len)
{
	if (o->format == FORMAT_NONE)
		o->format = FORMAT_FLAMEGRAPH;
	const struct format_info *fi = format_info(o->format);
	const char *ext = fi && fi->exts[0] ? fi->exts[0] : ".out";
	char who[64];
	if (o->pid) {
		snprintf(who, sizeof who, "%d", (int)o->pid);
	} else {
		const char *base = strrchr(o->cmd[0], '/');
		base = base ? base + 1 : o->cmd[0];
		size_t k = 0;
		/* a name fit for a file name, whatever the command is called */
		for (const char *c = base; *c && k + 1 < sizeof who; c++)
			who[k++] = (isalnum((unsigned char)*c) || *c == '.' ||
				    *c == '_' || *c == '-') ? *c : '_';
		who[k] = '\0';
		if (!k || who[0] == '.' || who[0] == '-')
			snprintf(who, sizeof who, "cmd");
	}
	time_t now = time(NULL);
	struct tm tm;
	char when[32];
	if (!localtime_r(&now, &tm) ||
	    !strftime(when, sizeof when, "%Y%m%d-%H%M%S", &tm)) {
		cli_error("cannot read the clock to name the output: give -o FILE");
		return 2;
	}
	snprintf(buf, len, "loupe-%s-%s%s", who, when, ext);
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct cli_opts o;
	int rc = cli_parse(argc, argv, OPT_TARGET | OPT_SAMPLING | OPT_OUTPUT |
			   OPT_SHAPE | OPT_TASKS | OPT_SUBPROC | OPT_PROCESSES,
			   usage, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!o.mode_set)
		o.mode = o.tasks ? MODE_WALL : MODE_CPU;
	if (o.memory)
		return record_memory(&o);
	char default_out[128];
	if (!o.output) {
		if (default_output(&o, default_out, sizeof default_out))
			return 2;
		o.output = default_out;
	}
	if (o.format == FORMAT_NONE)
		o.format = format_from_path(o.output);
	if (o.format == FORMAT_NONE) {
		cli_error("cannot tell the format of '%s' from its extension: give --format (see 'loupe record --help')", o.output);
		return 2;
	}

	/* .loupe keeps everything: wall and CPU from one recording */
	o.keep_all = o.format == FORMAT_RAW;
	if (session_check_output(&o))
		return 1;
	lp_error err = { 0 };

	session_catch_signals();
	target *t = NULL;
	profile *p = NULL;
	sampler *s = NULL;
	struct session_output dest = { 0 };
	int status = 1;
	if (session_open_target(&o, &t))
		goto out;
	if (o.output == default_out)	/* said once there is something to write */
		cli_error("no -o given: writing %s", default_out);
	p = profile_new();
	if (!p) {
		cli_error("out of memory");
		goto out;
	}
	/* the chrome trace is drawn from every sample; other formats only
	 * need the aggregates */
	if (format_needs_timeline(o.format))
		profile_keep_timeline(p, true);
	if (session_open_sampler(&o, t, p, &s))
		goto out;
	const char *oncpu_why = sampler_oncpu_fallback(s);
	if (oncpu_why && !o.quiet)
		cli_error("note: on-CPU detection uses /proc states (%s): a "
			  "thread waiting for a CPU may count as running",
			  oncpu_why);
	set_meta(p, &o, t, s);
	if (session_output_open(&dest, &o))
		goto out;

	struct sampler_status live = { 0 };
	sampler_status_start(&live, "loupe record", &o, s, t, p, dest.w);
	rc = sampler_run(s, &session_stop, dest.w ? raw_writer_sink : NULL, dest.w, &err);
	sampler_status_stop(&live);
	const struct sampler_stats *st = sampler_stats(s);
	session_warn(s);
	if (rc != LP_OK)
		cli_error("%s; writing what was sampled", err.msg);
	if (st->samples == 0 && sampler_target_exited(s) && st->ticks <= 1) {
		cli_error("PID %d exited before the first sample: nothing to write", (int)target_pid(t));
		goto out;
	}

	/* whether a gil view can be taken (a program loupe started is known
	 * to be Python only once it runs) */
	profile_set_meta(p, "gil", sampler_is_python(s) ? "yes" : "no");
	/* the viewers' titles and pprof's duration_nanos */
	char dur[32];
	snprintf(dur, sizeof dur, "%llu", (unsigned long long)st->elapsed_ns);
	profile_set_meta(p, "duration_ns", dur);
	/* per-coroutine task counts (report --tasks) are samples per period
	 * (a late tick's samples weigh the periods it stands for) */
	snprintf(dur, sizeof dur, "%llu",
		 (unsigned long long)(st->ticks + st->missed));
	profile_set_meta(p, "ticks", dur);
	/* Samples whose Python stack could not be read whole: not in the
	 * profile, but said in it (report shows metadata). */
	char failed[256] = "";
	if (st->failed[PY_WALK_OK]) {
		sampler_failed_text(st->failed, failed, sizeof failed);
		profile_set_meta(p, "failed_samples", failed);
	}
	struct output_opts oo = cli_output_opts(&o);
	if (session_output_write(&dest, p, &o, &oo, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	char procs[128] = "";
	if (o.subprocesses)
		snprintf(procs, sizeof procs, " and %zu subprocesses found "
			 "by %s", sampler_nprocs(s) - 1,
			 sampler_watch_method(s));
	if (!o.quiet) {
		/* what every output and 'loupe report' say: a late tick's
		 * stacks weigh the periods it stands for, a CPU sample the CPU
		 * time its thread used */
		struct profile_agg sum = profile_agg_sum(p);
		fprintf(stderr,
			"loupe: took %llu of %llu samples (%llu missed) of PID %d%s (%s, %zu threads), %llu stack samples%s%s%s; profile: wall samples %llu, CPU samples %llu, CPU time %.2f s; wrote %s\n",
			(unsigned long long)st->ticks,
			(unsigned long long)(st->ticks + st->missed),
			(unsigned long long)st->missed, (int)target_pid(t),
			procs, sampler_describe(s), st->max_threads,
			(unsigned long long)st->samples,
			failed[0] ? ", " : "", failed,
			sampler_target_exited(s) ? ", target exited" : "",
			(unsigned long long)sum.samples,
			(unsigned long long)sum.cpu_samples,
			sum.cpu_ns / 1e9, o.output);
	}
	status = rc == LP_OK ? 0 : 1;
	if (status == 0 && st->samples == 0 &&
	    (st->ticks > 0 || sampler_uses_perf(s))) {
		/* A run that saw nothing says why; an idle target in cpu
		 * mode is a true answer, anything else a failure. */
		if (o.mode == MODE_CPU && !o.idle && st->errors == 0) {
			fprintf(stderr, "loupe: no stack samples: no thread of "
				"PID %d ran on a CPU while it was sampled (cpu "
				"mode keeps on-CPU samples only: --mode wall "
				"keeps the others)\n", (int)target_pid(t));
		} else {
			cli_error("no stack samples of PID %d (%s): %s",
				  (int)target_pid(t), sampler_describe(s),
				  st->errors ? "every stack read failed" :
				  "none of its threads could be matched to a "
				  "stack");
			status = 1;
		}
	}
out:
	session_output_abort(&dest);
	sampler_free(s);
	profile_free(p);
	if (t)
		target_free(t, true);
	return status;
}
