/* One trace session (trace_session.h): what loupe trace and the daemon's
 * ctl trace both did on their own before, in one place below ui/ so that
 * the command and the daemon run the same trace and word only its
 * messages. */
#include "trace_session.h"

#include <stdlib.h>

#include "trace_text.h"

struct trace_session {
	struct trace_session_opts o;
	target *t;
	profile *p;
	tracer *tr;
	sampler *s;
};

int trace_session_new(trace_session **out, target *t,
		      const struct trace_session_opts *o, lp_error *err)
{
	*out = NULL;
	trace_session *ts = calloc(1, sizeof *ts);
	if (!ts)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	ts->o = *o;
	ts->t = t;
	ts->p = profile_new();
	if (!ts->p) {
		free(ts);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	if (o->timeline)
		profile_keep_timeline(ts->p, true);
	struct tracer_opts to = {
		.duration_s = o->duration_s,
		.threshold_ns = (uint64_t)(o->threshold_ms * 1e6),
		.rate_hz = o->rate_hz,
		.force_ptrace = o->force_ptrace,
		.no_ptrace = o->no_ptrace,
		.spans = o->spans,
		.give_up_s = o->give_up_s,
		.subprocesses = o->subprocesses,
	};
	int rc = tracer_new(&ts->tr, t, ts->p, &to, err);
	if (rc != LP_OK) {
		if (!err->msg[0])
			lp_error_set(err, rc, "%s", lp_strerror(rc));
		profile_free(ts->p);
		free(ts);
		return rc;
	}
	*out = ts;
	return LP_OK;
}

static void set_meta(trace_session *ts)
{
	char buf[64];
	profile *p = ts->p;
	target *t = ts->t;
	profile_set_meta(p, "target.exe", target_exe(t));
	profile_set_meta(p, "target.comm", target_comm(t));
	snprintf(buf, sizeof buf, "%d", (int)target_pid(t));
	profile_set_meta(p, "target.pid", buf);
	profile_set_meta(p, "runtime", ts->s ? sampler_describe(ts->s) : "native");
	snprintf(buf, sizeof buf, "%g", ts->o.rate_hz);
	profile_set_meta(p, "rate", buf);
	profile_set_meta(p, "mode", "wall");
	profile_set_meta(p, "command", "trace");
	snprintf(buf, sizeof buf, "%g", ts->o.threshold_ms);
	profile_set_meta(p, "trace.threshold_ms", buf);
}

int trace_session_open_stacks(trace_session *ts, enum trace_nostacks *why,
			      lp_error *err)
{
	*why = TRACE_STACKS;
	struct sampler_opts so = ts->o.sampler;
	/* Nothing may pause a thread: with ptrace as the source a thread
	 * has one tracer; never_pause is the daemon's promise. */
	bool no_pause = tracer_uses_ptrace(ts->tr) || so.never_pause;
	if (no_pause) {
		so.native = false;
		so.blocking = false;
	}
	int pid = (int)target_pid(ts->t);
	int rc = sampler_new(&ts->s, ts->t, ts->p, &so, err);
	if (rc != LP_OK) {
		ts->s = NULL;
		if (!target_alive(ts->t))
			return lp_error_set(err, LP_EEXITED, "PID %d exited before the first sample", pid);
		if (!err->msg[0])
			lp_error_set(err, rc, "%s", lp_strerror(rc));
		if (!ts->o.stacks_optional)
			return rc;
		*why = TRACE_NOSTACKS_FAILED;
	} else if (no_pause && !sampler_is_python(ts->s)) {
		/* a native program's stacks need a pause */
		sampler_free(ts->s);
		ts->s = NULL;
		*why = TRACE_NOSTACKS_NATIVE;
	}
	if (!ts->s && ts->o.stacks_optional && !target_alive(ts->t))
		return lp_error_set(err, LP_EEXITED, "PID %d exited before the first sample", pid);
	tracer_set_sampler(ts->tr, ts->s);
	set_meta(ts);
	return LP_OK;
}

int trace_session_run(trace_session *ts, volatile sig_atomic_t *stop,
		      sampler_sink sink, void *sink_ctx, lp_error *err)
{
	int rc = tracer_run(ts->tr, stop, sink, sink_ctx, err);
	char dur[32];
	snprintf(dur, sizeof dur, "%llu",
		 (unsigned long long)tracer_stats(ts->tr)->elapsed_ns);
	profile_set_meta(ts->p, "duration_ns", dur);
	return rc;
}

int trace_session_check_loop(const trace_session *ts, lp_error *err)
{
	if (tracer_found_loop(ts->tr))
		return LP_OK;
	return lp_error_set(err, LP_ENOTFOUND,
			    "no event loop in PID %d: no thread called epoll_wait, poll or select repeatedly in %.1f s%s",
			    (int)target_pid(ts->t),
			    (double)tracer_stats(ts->tr)->elapsed_ns / 1e9,
			    tracer_target_exited(ts->tr) ? " (the target exited)" : "");
}

int trace_session_summary(const trace_session *ts, FILE *fp)
{
	char title[256];
	snprintf(title, sizeof title, "PID %d (%s), %s", (int)target_pid(ts->t),
		 target_comm(ts->t), ts->s ? sampler_describe(ts->s) : "no stacks");
	struct trace_text_opts tto = { title, ts->o.threshold_ms,
				       TRACE_SESSION_STALLS_LISTED };
	return trace_text_write(fp, ts->tr, ts->p, ts->t, &tto);
}

void trace_session_free(trace_session *ts)
{
	if (!ts)
		return;
	/* The tracer first: with ptrace it detaches from every thread. */
	tracer_free(ts->tr);
	sampler_free(ts->s);
	profile_free(ts->p);
	free(ts);
}

tracer *trace_session_tracer(const trace_session *ts)
{
	return ts->tr;
}

profile *trace_session_profile(const trace_session *ts)
{
	return ts->p;
}

sampler *trace_session_sampler(const trace_session *ts)
{
	return ts->s;
}

target *trace_session_target(const trace_session *ts)
{
	return ts->t;
}
