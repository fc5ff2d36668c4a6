/* One trace of one target, as loupe trace and the daemon's ctl trace both
 * run it: the profile, the tracer, the sampler of busy loops with the rules
 * that tie it to the syscall source, the run, the check that an event loop
 * was found and the summary.  The caller attaches (or spawns) the target
 * and frees it after the session.  Never prints: errors come back in an
 * lp_error, the lack of stacks as a code the front end words. */
#ifndef LOUPE_TRACE_SESSION_H
#define LOUPE_TRACE_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "profile.h"
#include "sampler.h"
#include "target.h"
#include "tracer.h"

/* Stalls listed one by one per loop thread in the summary. */
#define TRACE_SESSION_STALLS_LISTED 20

struct trace_session_opts {
	double duration_s;	/* 0: until stopped or the target exits */
	double threshold_ms;	/* a busy period longer than this stalls */
	double rate_hz;		/* stack samples a second of a busy loop */
	double give_up_s;	/* no event loop after this long: stop (0:
				 * never) */
	bool force_ptrace;	/* tracer_opts */
	bool no_ptrace;		/* tracer_opts: the daemon */
	bool subprocesses;	/* tracer_opts */
	bool spans;		/* every tick into the profile (for -o) */
	bool timeline;		/* keep every sample (-o chrome) */
	/* The sampler of busy loops.  Where nothing may pause a thread (the
	 * ptrace source: a thread has one tracer; or never_pause) its native
	 * and blocking are turned off and a native target gets none. */
	struct sampler_opts sampler;
	/* A sampler that cannot be opened leaves the stalls without stacks
	 * (TRACE_NOSTACKS_FAILED) instead of failing the trace; and then a
	 * target without stacks that exited fails it (the daemon). */
	bool stacks_optional;
};

/* Why the stalls of a session come without the code path that held the
 * loop. */
enum trace_nostacks {
	TRACE_STACKS = 0,	/* they come with it */
	TRACE_NOSTACKS_NATIVE,	/* a native target, and nothing may pause it */
	TRACE_NOSTACKS_FAILED,	/* no sampler (stacks_optional): the message
				 * says why */
};

typedef struct trace_session trace_session;

/* The profile and the tracer (tracer_new: with no_ptrace and no
 * tracepoints, LP_EUNSUPPORTED with the reason only).  t stays the
 * caller's and must outlive the session. */
int trace_session_new(trace_session **out, target *t,
		      const struct trace_session_opts *o, lp_error *err);
/* Opens the sampler of busy loops (see trace_session_opts.sampler) and
 * gives it to the tracer, then sets the profile's metadata (target,
 * runtime, rate, threshold).  *why says whether stalls have stacks; on
 * LP_OK with TRACE_NOSTACKS_FAILED, err holds the sampler's error.  A
 * target that exited before: LP_EXITED "PID N exited before the first
 * sample". */
int trace_session_open_stacks(trace_session *ts, enum trace_nostacks *why,
			      lp_error *err);
/* tracer_run, then the metadata duration_ns.  LP_OK when stopped, at the
 * duration's end or the target's exit; else the error, and what was
 * traced is still there. */
int trace_session_run(trace_session *ts, volatile sig_atomic_t *stop,
		      sampler_sink sink, void *sink_ctx, lp_error *err);
/* LP_OK when an event loop was found; else LP_ENOTFOUND "no event loop in
 * PID N: ...". */
int trace_session_check_loop(const trace_session *ts, lp_error *err);
/* The summary (trace_text.h) under the title "PID N (comm), runtime":
 * LP_OK, LP_ENOMEM or LP_EIO. */
int trace_session_summary(const trace_session *ts, FILE *fp);
/* Frees the tracer (with ptrace it detaches from every thread), the
 * sampler and the profile; not the target. */
void trace_session_free(trace_session *ts);

tracer *trace_session_tracer(const trace_session *ts);
profile *trace_session_profile(const trace_session *ts);
/* NULL when stalls come without stacks. */
sampler *trace_session_sampler(const trace_session *ts);
target *trace_session_target(const trace_session *ts);

#endif
