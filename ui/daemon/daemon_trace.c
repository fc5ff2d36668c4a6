/* loupe ctl trace PID: loupe trace's event-loop tracer and summary (one
 * trace session, trace_session.h), run in a worker thread of the
 * daemon so that its loop goes on sampling the other targets and serving
 * other clients; the client's reply is deferred (ctl_server.h) until the
 * trace ends.  The target is never paused: its syscalls come from the perf
 * tracepoints only (the ptrace fallback stops it at every syscall, so it is
 * refused here), the stacks of its busy loops from Python frames read
 * without stopping a thread, and a native target's stalls come without
 * stacks.  The worker's CPU is the daemon's own, so it counts against
 * max_cpu.
 *
 * The traces are an object of their own (daemon_trace.h): the daemon
 * starts, polls, reaps and stops them; they tell it what happened through
 * its callbacks and never reach into it. */
#include "daemon_trace.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ctl_peer.h"
#include "daemon.h"
#include "target.h"
#include "trace_session.h"

/* As loupe trace: stack samples a second of a busy loop. */
#define TRACE_RATE_HZ 1000.0

struct trace_job {
	pthread_t th;
	struct daemon_trace_req req;
	const struct daemon_traces_ops *ops;
	int wake_fd;		/* written once the job is done */
	volatile sig_atomic_t stop;	/* the loop asks it to end early */
	/* The answer is published before the trace's resources are freed
	 * (daemon_trace_fn). */
	atomic_bool ready;	/* status and text are written */
	atomic_bool done;	/* the thread is about to end: join it */
	bool answered;		/* by the loop */
	uint32_t status;	/* loupe trace's exit status */
	char *text;		/* the summary, or the one-line error */
};

/* Room for as many again whose trace is being freed (answered, not yet
 * joined): they do not count against DAEMON_TRACE_MAX. */
#define SLOTS (2 * DAEMON_TRACE_MAX)

struct daemon_traces {
	struct daemon_traces_ops ops;
	int wake_fd;		/* eventfd */
	struct trace_job *jobs[SLOTS];
};

static void logf_(const daemon_traces *tc, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_(const daemon_traces *tc, int level, const char *fmt, ...)
{
	if (!tc->ops.log)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tc->ops.log(tc->ops.ctx, level, msg);
}

static char *text_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *text_of(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* The daemon's resources of one trace, freed after its answer. */
struct run_res {
	target *t;
	trace_session *ts;
};

void daemon_trace_cleanup(void *arg)
{
	struct run_res *rr = arg;
	if (!rr)
		return;
	trace_session_free(rr->ts);
	if (rr->t)
		target_free(rr->t, false);
	free(rr);
}

/* What loupe trace -p PID -d S does, with its summary and errors as the
 * reply's text instead of stdout and stderr. */
uint32_t daemon_trace_run(const struct daemon_trace_req *rq,
			  volatile sig_atomic_t *stop, char **text,
			  void **cleanup_arg)
{
	*text = NULL;
	struct run_res *rr = calloc(1, sizeof *rr);
	*cleanup_arg = rr;
	if (!rr)
		return 1;	/* NULL text: out of memory */
	int pid = (int)rq->pid;
	lp_error err = { 0 };
	if (target_attach(&rr->t, rq->pid, &err) != LP_OK) {
		*text = text_of("%s", err.msg[0] ? err.msg : lp_strerror(err.code));
		return 1;
	}
	/* the process attached must be the one the client was checked
	 * against, not another that got its PID since */
	struct ctl_peer self = { .pid = -1, .uid = 0, .gid = 0 };
	uint64_t started;
	char why[256];
	if (ctl_peer_check(&self, rq->pid, &started, why, sizeof why) != 0 ||
	    started != rq->start_time) {
		*text = text_of("no process %d: it exited", pid);
		return 1;
	}
	struct trace_session_opts tso = {
		.duration_s = rq->duration_s,
		.threshold_ms = rq->threshold_ms,
		.rate_hz = TRACE_RATE_HZ,
		.no_ptrace = true,
		.sampler = {
			.rate_hz = TRACE_RATE_HZ,
			.tasks = true,	/* a stall's stacks name the task,
					 * as in loupe trace */
			.never_pause = true,
		},
		.stacks_optional = true,
	};
	int rc = trace_session_new(&rr->ts, rr->t, &tso, &err);
	if (rc == LP_EUNSUPPORTED) {
		*text = text_of("tracepoints are not available here (%s): run loupe trace -p %d yourself, which can fall back to ptrace",
				err.msg, pid);
		return 1;
	}
	if (rc != LP_OK) {
		*text = text_of("%s", err.msg);
		return 1;
	}
	char note[1024] = "";
	enum trace_nostacks nostacks;
	if (trace_session_open_stacks(rr->ts, &nostacks, &err) != LP_OK) {
		*text = text_of("%s", err.msg);
		return 1;
	}
	if (nostacks == TRACE_NOSTACKS_FAILED)
		snprintf(note, sizeof note, "stalls are shown without their code path: %s", err.msg);
	else if (nostacks == TRACE_NOSTACKS_NATIVE)
		snprintf(note, sizeof note, "a native program's stacks cannot be sampled from the daemon (that pauses it): "
			 "stalls are shown without their code path; loupe trace -p %d shows them", pid);
	rc = trace_session_run(rr->ts, stop, NULL, NULL, &err);
	lp_error lerr = { 0 };
	if (trace_session_check_loop(rr->ts, &lerr) != LP_OK) {
		*text = text_of("%s", lerr.msg);
		return 1;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return 1;
	/* loupe trace says these on stderr; here they lead the summary */
	if (rc != LP_OK)
		fprintf(f, "warning: %s; reporting what was traced\n", err.msg);
	if (*stop)
		fprintf(f, "note: the trace was cut short after %.1f s (the daemon stops)\n",
			(double)tracer_stats(trace_session_tracer(rr->ts))->elapsed_ns / 1e9);
	if (note[0])
		fprintf(f, "note: %s\n", note);
	int wrc = trace_session_summary(rr->ts, f);
	if (fclose(f) != 0 || wrc != LP_OK || !buf) {
		free(buf);
		*text = text_of("cannot write the summary of the trace of PID %d: out of memory", pid);
		return 1;
	}
	*text = buf;
	return 0;
}

static void wake(struct trace_job *j)
{
	uint64_t one = 1;
	ssize_t w = write(j->wake_fd, &one, sizeof one);
	(void)w;	/* an eventfd takes it; the loop also looks each turn */
}

static void *job_main(void *arg)
{
	struct trace_job *j = arg;
	void *cleanup_arg = NULL;
	j->status = j->ops->run(&j->req, &j->stop, &j->text, &cleanup_arg);
	atomic_store(&j->ready, true);
	wake(j);
	if (j->ops->cleanup)
		j->ops->cleanup(cleanup_arg);
	atomic_store(&j->done, true);
	wake(j);
	return NULL;
}

int daemon_traces_new(daemon_traces **out, const struct daemon_traces_ops *ops,
		      lp_error *err)
{
	*out = NULL;
	daemon_traces *tc = calloc(1, sizeof *tc);
	if (!tc)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	tc->ops = *ops;
	tc->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (tc->wake_fd < 0) {
		int e = errno;
		free(tc);
		return lp_error_set(err, lp_from_errno(e), "cannot create an eventfd: %s", strerror(e));
	}
	*out = tc;
	return LP_OK;
}

int daemon_traces_start(daemon_traces *tc, const struct daemon_trace_req *rq,
			lp_error *err)
{
	int pid = (int)rq->pid;
	if (rq->pid == getpid())
		return lp_error_set(err, LP_EINVAL, "PID %d is this daemon: it does not trace itself", pid);
	size_t slot = SLOTS, running = 0;
	for (size_t i = 0; i < SLOTS; i++) {
		struct trace_job *o = tc->jobs[i];
		if (!o) {
			if (slot == SLOTS)
				slot = i;
			continue;
		}
		if (atomic_load(&o->ready))
			continue;	/* traced, being freed */
		running++;
		if (o->req.pid == rq->pid)
			return lp_error_set(err, LP_EINVAL, "PID %d is being traced already: try again in %.0f s",
					    pid, o->req.duration_s);
	}
	if (running >= DAEMON_TRACE_MAX || slot == SLOTS)
		return lp_error_set(err, LP_EINVAL, "busy: the daemon runs %d traces already; try again when one ends, or run loupe trace -p %d yourself",
				    DAEMON_TRACE_MAX, pid);
	struct trace_job *j = calloc(1, sizeof *j);
	if (!j)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	j->req = *rq;
	j->ops = &tc->ops;
	j->wake_fd = tc->wake_fd;
	atomic_init(&j->ready, false);
	atomic_init(&j->done, false);
	/* Signals go to the loop's thread: a SIGTERM taken by the worker
	 * would not end the loop's poll. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&j->th, NULL, job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		free(j);
		return lp_error_set(err, LP_ENOMEM, "cannot start a trace thread: %s", strerror(rc));
	}
	tc->jobs[slot] = j;
	logf_(tc, DAEMON_LOG_INFO, "tracing PID %d for %.4g s (threshold %.4g ms) for user %u",
	      pid, rq->duration_s, rq->threshold_ms, (unsigned)rq->uid);
	return LP_OK;
}

int daemon_traces_fd(const daemon_traces *tc)
{
	return tc->wake_fd;
}

/* Answers the client of a job whose answer is ready (when still there). */
static void job_answer(daemon_traces *tc, struct trace_job *j)
{
	j->answered = true;
	bool there = j->text ? tc->ops.complete(tc->ops.ctx, j->req.ticket, j->status, j->text)
			     : tc->ops.complete(tc->ops.ctx, j->req.ticket, 1, "out of memory");
	if (there)
		logf_(tc, DAEMON_LOG_INFO, "trace of PID %d for user %u ended (status %u)",
		      (int)j->req.pid, (unsigned)j->req.uid, (unsigned)j->status);
	else
		logf_(tc, DAEMON_LOG_INFO, "trace of PID %d ended; its client left, the result is dropped",
		      (int)j->req.pid);
	free(j->text);
	j->text = NULL;
}

/* Joins the job in slot i (done, or about to be), answers it if not yet,
 * frees it. */
static void job_finish(daemon_traces *tc, size_t i)
{
	struct trace_job *j = tc->jobs[i];
	pthread_join(j->th, NULL);
	if (!j->answered)
		job_answer(tc, j);
	free(j);
	tc->jobs[i] = NULL;
}

void daemon_traces_reap(daemon_traces *tc)
{
	uint64_t v;
	while (read(tc->wake_fd, &v, sizeof v) > 0)
		;	/* nonblocking: drained */
	for (size_t i = 0; i < SLOTS; i++) {
		struct trace_job *j = tc->jobs[i];
		if (!j)
			continue;
		if (atomic_load(&j->done)) {
			job_finish(tc, i);
		} else if (atomic_load(&j->ready)) {
			if (!j->answered)
				job_answer(tc, j);
		} else if (!j->stop && !tc->ops.waiting(tc->ops.ctx, j->req.ticket)) {
			/* nobody to tell: spare the CPU */
			logf_(tc, DAEMON_LOG_INFO, "trace of PID %d: its client left, stopping it",
			      (int)j->req.pid);
			j->stop = 1;
		}
	}
}

bool daemon_traces_any(const daemon_traces *tc)
{
	for (size_t i = 0; i < SLOTS; i++)
		if (tc->jobs[i])
			return true;
	return false;
}

size_t daemon_traces_running(const daemon_traces *tc)
{
	size_t n = 0;
	for (size_t i = 0; i < SLOTS; i++)
		n += tc->jobs[i] && !tc->jobs[i]->answered;
	return n;
}

void daemon_traces_free(daemon_traces *tc)
{
	if (!tc)
		return;
	for (size_t i = 0; i < SLOTS; i++)
		if (tc->jobs[i])
			tc->jobs[i]->stop = 1;
	/* Each ends within a turn of its loop (a millisecond) and publishes
	 * what it traced: answered first, then joined (freeing the tracer
	 * takes longer). */
	for (size_t i = 0; i < SLOTS; i++) {
		struct trace_job *j = tc->jobs[i];
		if (!j)
			continue;
		while (!atomic_load(&j->ready)) {
			struct pollfd p = { .fd = tc->wake_fd, .events = POLLIN };
			poll(&p, 1, 10);
		}
		if (!j->answered)
			job_answer(tc, j);
	}
	for (size_t i = 0; i < SLOTS; i++)
		if (tc->jobs[i])
			job_finish(tc, i);
	close(tc->wake_fd);
	free(tc);
}
