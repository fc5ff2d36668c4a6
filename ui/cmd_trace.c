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
#include "trace_session.h"
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
	trace_session *ts = NULL;
	struct session_output dest = { 0 };
	int status = 1;
	if (session_open_target(&o, &t))
		goto out;
	struct trace_session_opts tso = {
		.duration_s = o.duration,
		.threshold_ms = o.threshold,
		.rate_hz = rate,
		.give_up_s = o.duration > 0 ? 0 : GIVE_UP_S,
		.force_ptrace = o.ptrace,
		.subprocesses = o.subprocesses,
		.spans = o.output != NULL,
		.timeline = o.output && format_needs_timeline(o.format),
	};
	/* A stall's stacks name the asyncio task that held the loop, where
	 * loupe can read the tasks (profiler/tasks.h). */
	struct cli_opts so = o;
	so.tasks_auto = true;
	session_sampler_opts(&so, &tso.sampler);
	if (trace_session_new(&ts, t, &tso, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	tracer *tr = trace_session_tracer(ts);
	profile *p = trace_session_profile(ts);
	if (o.subprocesses && tracer_uses_ptrace(tr)) {
		cli_error("--subprocesses needs the syscall tracepoints (%s): "
			  "run as root with tracefs, without --ptrace",
			  tracer_fallback(tr));
		goto out;
	}
	if (tracer_fallback(tr) && !o.quiet)
		cli_error("warning: syscall tracepoints unavailable (%s): tracing with ptrace, which stops the target at every syscall and slows it down", tracer_fallback(tr));
	enum trace_nostacks nostacks;
	if (trace_session_open_stacks(ts, &nostacks, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	if (nostacks == TRACE_NOSTACKS_NATIVE && !o.quiet)
		cli_error("warning: with ptrace a native program's stacks cannot be sampled: stalls are shown without their code path");
	if (o.output && session_output_open(&dest, &o))
		goto out;

	struct trace_status live = { 0 };
	trace_status_start(&live, &o, tr, t, p, dest.w);
	rc = trace_session_run(ts, &session_stop, dest.w ? raw_writer_sink : NULL,
			       dest.w, &err);
	trace_status_stop(&live);
	if (rc != LP_OK)
		cli_error("%s; reporting what was traced", err.msg);
	status = rc == LP_OK ? 0 : 1;

	if (trace_session_check_loop(ts, &err) != LP_OK) {
		cli_error("%s", err.msg);
		status = 1;
	} else {
		if (trace_session_summary(ts, stdout) != LP_OK) {
			cli_error("cannot write the summary");
			status = 1;
		}
		fflush(stdout);
	}

	if (o.output) {
		struct output_opts oo = cli_output_opts(&o);
		oo.mode = MODE_WALL;
		if (session_output_write(&dest, p, &o, &oo, &err) != LP_OK) {
			cli_error("%s", err.msg);
			status = 1;
		} else if (!o.quiet) {
			fprintf(stderr, "loupe: wrote %s\n", o.output);
		}
	}
out:
	session_output_abort(&dest);
	trace_session_free(ts);
	if (t)
		target_free(t, true);
	return status;
}
