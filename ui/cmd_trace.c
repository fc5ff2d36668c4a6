/* loupe trace: find what blocks a process's event loop, from outside. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "formats/formats.h"
#include "options.h"
#include "profile.h"
#include "sampler.h"
#include "session.h"
#include "trace_status.h"
#include "trace_text.h"
#include "tracer.h"

static const char usage[] =
	"usage: loupe trace [OPTIONS] (-p PID | -- CMD [ARGS...])\n"
	"\n"
	"Finds the event-loop threads of a process (asyncio, uvloop, libuv, any\n"
	"epoll/poll/select loop) from their system calls, measures every loop\n"
	"iteration, and reports each stall: an iteration busy for longer than the\n"
	"threshold, with the code path that held the loop (stacks sampled while\n"
	"it was busy) and the system calls made inside it.  Prints a summary at\n"
	"the end (Ctrl-C, -d, or when the target exits).\n"
	"\n"
	"  -p, --pid PID        attach to a running process\n"
	"  -d, --duration S     stop after S seconds, at most a year (default:\n"
	"                       Ctrl-C or exit)\n"
	"      --threshold T    a busy period longer than T is a stall (default\n"
	"                       50ms; 0.2s, 500us also accepted; at most 1 hour)\n"
	"  -r, --rate HZ        stack samples per second of a busy loop (default\n"
	"                       1000)\n"
	"      --native         merge native (C) frames with Python frames\n"
	"      --no-demangle    C++ and Rust names as mangled in the binary\n"
	"      --subprocesses   also the event loops of every descendant process\n"
	"  -o, --output FILE    also write the trace: .trace.json (Chrome/Perfetto\n"
	"                       timeline: ticks, stalls, samples), .loupe (raw,\n"
	"                       for 'loupe report'), or any 'loupe record' format\n"
	"                       (the stall samples)\n"
	"      --follow         -o may be a symbolic link: write to its target\n"
	"                       (refused without it)\n"
	"      --format F       the format of FILE, when not from its extension\n"
	"      --ptrace         use ptrace, not the perf tracepoints (slower)\n"
	"  -q, --quiet          no status line or warnings on stderr\n"
	"\n"
	"Syscalls are read from the raw_syscalls tracepoints through\n"
	"perf_event_open, without stopping the target (as root, tracefs is\n"
	"mounted when it is not); where those are not allowed loupe falls back\n"
	"to ptrace, which slows every syscall of the target down.\n"
	"Exit status: 0 done, 1 runtime failure (or no event loop found), 2 usage\n"
	"error.\n";

/* Without -d, how long to look for an event loop before saying there is
 * none. */
#define GIVE_UP_S 5.0
/* Stalls listed one by one per loop thread. */
#define MAX_STALLS_LISTED 20

struct raw_sink {
	raw_writer *w;
	uint64_t since_flush;
};

static int raw_sink_fn(void *ctx, const profile *p, const struct sample *s)
{
	struct raw_sink *rs = ctx;
	int rc = raw_writer_sample(rs->w, p, s);
	/* Flush now and then (ticks and stalls too) so that a killed loupe
	 * leaves a readable file. */
	if (rc == LP_OK && ++rs->since_flush >= 4096) {
		rs->since_flush = 0;
		rc = raw_writer_flush(rs->w, p);
	}
	return rc;
}

static void set_meta(profile *p, const struct cli_opts *o, target *t,
		     sampler *s, double rate)
{
	char buf[64];
	profile_set_meta(p, "target.exe", target_exe(t));
	profile_set_meta(p, "target.comm", target_comm(t));
	snprintf(buf, sizeof buf, "%d", (int)target_pid(t));
	profile_set_meta(p, "target.pid", buf);
	profile_set_meta(p, "runtime", s ? sampler_describe(s) : "native");
	snprintf(buf, sizeof buf, "%g", rate);
	profile_set_meta(p, "rate", buf);
	profile_set_meta(p, "mode", "wall");
	profile_set_meta(p, "command", "trace");
	snprintf(buf, sizeof buf, "%g", o->threshold);
	profile_set_meta(p, "trace.threshold_ms", buf);
}

/* The sampler for the stacks of busy loops.  With ptrace as the syscall
 * source nothing else may ptrace the threads: Python frames only, read
 * without pausing; a native target gets no stacks then. */
static int open_sampler(struct cli_opts *o, target *t, profile *p,
			tracer *tr, sampler **out)
{
	*out = NULL;
	bool pt = tracer_uses_ptrace(tr);
	struct cli_opts so = *o;
	/* A stall's stacks name the asyncio task that held the loop, where
	 * loupe can read the tasks (profiler/tasks.h). */
	so.tasks_auto = true;
	if (pt) {
		so.native = false;
		so.blocking = false;
	}
	if (session_open_sampler(&so, t, p, out))
		return 1;
	if (pt && !sampler_is_python(*out)) {
		sampler_free(*out);
		*out = NULL;
		if (!o->quiet)
			cli_error("warning: with ptrace a native program's stacks cannot be sampled: stalls are shown without their code path");
	}
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	struct cli_opts o;
	int rc = cli_parse(argc, argv, OPT_TARGET | OPT_SAMPLING | OPT_OUTPUT | OPT_TRACE |
			   OPT_SUBPROC, usage, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (!o.threshold_set)
		o.threshold = 50;
	double rate = o.rate_set ? o.rate : 1000;
	if (o.output && o.format == FORMAT_NONE)
		o.format = format_from_path(o.output);
	if (o.output && o.format == FORMAT_NONE) {
		cli_error("cannot tell the format of '%s' from its extension: give --format (see 'loupe trace --help')", o.output);
		return 2;
	}
	if (!o.output && o.format != FORMAT_NONE) {
		cli_error("--format needs -o FILE (see 'loupe trace --help')");
		return 2;
	}

	lp_error err = { 0 };
	if (o.output && session_check_output(&o))
		return 1;

	session_catch_signals();
	target *t = NULL;
	profile *p = NULL;
	sampler *s = NULL;
	tracer *tr = NULL;
	struct raw_sink rs = { 0 };
	int status = 1;
	if (session_open_target(&o, &t))
		goto out;
	p = profile_new();
	if (!p) {
		cli_error("out of memory");
		goto out;
	}
	if (o.output && format_needs_timeline(o.format))
		profile_keep_timeline(p, true);
	struct tracer_opts to = {
		.duration_s = o.duration,
		.threshold_ns = (uint64_t)(o.threshold * 1e6),
		.rate_hz = rate,
		.force_ptrace = o.ptrace,
		.spans = o.output != NULL,
		.give_up_s = o.duration > 0 ? 0 : GIVE_UP_S,
		.subprocesses = o.subprocesses,
	};
	if (tracer_new(&tr, t, p, &to, &err) != LP_OK) {
		cli_error("%s", err.msg[0] ? err.msg : lp_strerror(err.code));
		goto out;
	}
	if (o.subprocesses && tracer_uses_ptrace(tr)) {
		cli_error("--subprocesses needs the syscall tracepoints (%s): "
			  "run as root with tracefs, without --ptrace",
			  tracer_fallback(tr));
		goto out;
	}
	if (tracer_fallback(tr) && !o.quiet)
		cli_error("warning: syscall tracepoints unavailable (%s): tracing with ptrace, which stops the target at every syscall and slows it down", tracer_fallback(tr));
	if (open_sampler(&o, t, p, tr, &s))
		goto out;
	tracer_set_sampler(tr, s);
	set_meta(p, &o, t, s, rate);
	if (o.format == FORMAT_RAW &&
	    raw_writer_open_flags(&rs.w, o.output,
				  o.follow ? OUTPUT_FOLLOW : 0, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}

	struct trace_status live = { 0 };
	trace_status_start(&live, &o, tr, t, p, rs.w);
	rc = tracer_run(tr, &session_stop, rs.w ? raw_sink_fn : NULL, &rs, &err);
	trace_status_stop(&live);
	if (rc != LP_OK)
		cli_error("%s; reporting what was traced", err.msg);
	const struct tracer_stats *st = tracer_stats(tr);
	status = rc == LP_OK ? 0 : 1;

	char title[256];
	snprintf(title, sizeof title, "PID %d (%s), %s", (int)target_pid(t),
		 target_comm(t), s ? sampler_describe(s) : "no stacks");
	if (!tracer_found_loop(tr)) {
		cli_error("no event loop in PID %d: no thread called epoll_wait, poll or select repeatedly in %.1f s%s",
			  (int)target_pid(t), (double)st->elapsed_ns / 1e9,
			  tracer_target_exited(tr) ? " (the target exited)" : "");
		status = 1;
	} else {
		struct trace_text_opts tto = { title, o.threshold, MAX_STALLS_LISTED };
		if (trace_text_write(stdout, tr, p, t, &tto) != LP_OK) {
			cli_error("cannot write the summary");
			status = 1;
		}
		fflush(stdout);
	}

	if (o.output) {
		char dur[32];
		snprintf(dur, sizeof dur, "%llu", (unsigned long long)st->elapsed_ns);
		profile_set_meta(p, "duration_ns", dur);
		struct output_opts oo = cli_output_opts(&o);
		oo.mode = MODE_WALL;
		int wrc = rs.w ? raw_writer_close(rs.w, p, &err)
			       : format_write_file(p, o.format, o.output, &oo, &err);
		rs.w = NULL;
		if (wrc != LP_OK) {
			cli_error("%s", err.msg);
			status = 1;
		} else if (!o.quiet) {
			fprintf(stderr, "loupe: wrote %s\n", o.output);
		}
	}
out:
	if (rs.w)
		raw_writer_abort(rs.w);
	/* The tracer first: with ptrace it detaches from every thread. */
	tracer_free(tr);
	sampler_free(s);
	profile_free(p);
	if (t)
		target_free(t, true);
	return status;
}
