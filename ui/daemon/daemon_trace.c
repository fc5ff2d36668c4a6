/* loupe ctl trace PID: loupe trace's event-loop tracer and summary, run in
 * a worker thread of the daemon so that its loop goes on sampling the
 * other targets and serving other clients; the client's reply is deferred
 * (ctl_server.h) until the trace ends.  The target is never paused: its
 * syscalls come from the perf tracepoints only (the ptrace fallback stops
 * it at every syscall, so it is refused here), the stacks of its busy
 * loops from Python frames read without stopping a thread, and a native
 * target's stalls come without stacks.  The worker's CPU is the daemon's
 * own, so it counts against max_cpu. */
#include "daemon_priv.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sampler.h"
#include "target.h"
#include "trace_text.h"
#include "tracer.h"

/* As loupe trace: stack samples a second of a busy loop, stalls listed
 * one by one per loop thread. */
#define TRACE_RATE_HZ 1000.0
#define TRACE_MAX_STALLS_LISTED 20
/* The client waits this much beyond the duration: attaching, reading the
 * interpreter's symbols, the summary.  loupe ctl itself waits 30 s more
 * (CTL_CLIENT_TIMEOUT_S), so the daemon's error comes first. */
#define TRACE_REPLY_MARGIN_MS 20000

struct trace_job {
	pthread_t th;
	uint64_t ticket;	/* the deferred request */
	pid_t pid;
	uint64_t start_time;	/* of the process checked for the peer */
	uid_t uid;		/* who asked (the log) */
	double duration_s, threshold_ms;
	int wake_fd;		/* written once the job is done */
	volatile sig_atomic_t stop;	/* the loop asks it to end early */
	/* The answer is published before the tracer is freed: closing its
	 * perf events takes ~35 ms each (the kernel waits for an RCU grace
	 * period per event), half a second for a dozen threads. */
	atomic_bool ready;	/* status and text are written */
	atomic_bool done;	/* the thread is about to end: join it */
	bool answered;		/* by the loop */
	uint32_t status;	/* loupe trace's exit status */
	char *text;		/* the summary, or the one-line error */
};

/* Room for as many again whose tracer is being freed (answered, not yet
 * joined): they do not count against DAEMON_TRACE_MAX. */
#define SLOTS (2 * DAEMON_TRACE_MAX)

struct daemon_traces {
	int wake_fd;		/* eventfd */
	struct trace_job *jobs[SLOTS];
};

static void job_text(struct trace_job *j, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void wake(struct trace_job *j)
{
	uint64_t one = 1;
	ssize_t w = write(j->wake_fd, &one, sizeof one);
	(void)w;	/* an eventfd takes it; the loop also looks each turn */
}

static void job_text(struct trace_job *j, uint32_t status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(j->text);
	j->text = s;
	j->status = status;
}

/* The stacks of busy loops: Python frames, read without pausing; none for
 * a native target (its stacks need a pause).  *note says why there are
 * none. */
static sampler *open_sampler(target *t, profile *p, char *note, size_t len)
{
	struct sampler_opts so = {
		.rate_hz = TRACE_RATE_HZ,
		.tasks = true,	/* a stall's stacks name the task, as in loupe trace */
		.never_pause = true,
	};
	sampler *s = NULL;
	lp_error err = { 0 };
	if (sampler_new(&s, t, p, &so, &err) != LP_OK) {
		snprintf(note, len, "stalls are shown without their code path: %s", err.msg);
		return NULL;
	}
	if (!sampler_is_python(s)) {
		sampler_free(s);
		snprintf(note, len, "a native program's stacks cannot be sampled from the daemon (that pauses it): "
			 "stalls are shown without their code path; loupe trace -p %d shows them",
			 (int)target_pid(t));
		return NULL;
	}
	return s;
}

/* What loupe trace -p PID -d S does, with its summary and errors as the
 * reply's text instead of stdout and stderr. */
static void run_trace(struct trace_job *j)
{
	target *t = NULL;
	profile *p = NULL;
	sampler *s = NULL;
	tracer *tr = NULL;
	char *buf = NULL;
	size_t len = 0;
	char note[1024] = "";
	lp_error err = { 0 };
	if (target_attach(&t, j->pid, &err) != LP_OK) {
		job_text(j, 1, "%s", err.msg[0] ? err.msg : lp_strerror(err.code));
		goto out;
	}
	/* the process attached must be the one the client was checked
	 * against, not another that got its PID since */
	struct ctl_peer self = { .pid = -1, .uid = 0, .gid = 0 };
	uint64_t started;
	char why[256];
	if (ctl_peer_check(&self, j->pid, &started, why, sizeof why) != 0 || started != j->start_time) {
		job_text(j, 1, "no process %d: it exited", (int)j->pid);
		goto out;
	}
	p = profile_new();
	if (!p) {
		job_text(j, 1, "out of memory");
		goto out;
	}
	struct tracer_opts to = {
		.duration_s = j->duration_s,
		.threshold_ns = (uint64_t)(j->threshold_ms * 1e6),
		.rate_hz = TRACE_RATE_HZ,
		.no_ptrace = true,
	};
	int rc = tracer_new(&tr, t, p, &to, &err);
	if (rc == LP_EUNSUPPORTED) {
		job_text(j, 1, "tracepoints are not available here (%s): run loupe trace -p %d yourself, which can fall back to ptrace",
			 err.msg, (int)j->pid);
		goto out;
	}
	if (rc != LP_OK) {
		job_text(j, 1, "%s", err.msg[0] ? err.msg : lp_strerror(rc));
		goto out;
	}
	s = open_sampler(t, p, note, sizeof note);
	if (!s && !target_alive(t)) {
		job_text(j, 1, "PID %d exited before the first sample", (int)j->pid);
		goto out;
	}
	tracer_set_sampler(tr, s);
	rc = tracer_run(tr, &j->stop, NULL, NULL, &err);
	const struct tracer_stats *st = tracer_stats(tr);
	if (!tracer_found_loop(tr)) {
		job_text(j, 1, "no event loop in PID %d: no thread called epoll_wait, poll or select repeatedly in %.1f s%s",
			 (int)j->pid, (double)st->elapsed_ns / 1e9,
			 tracer_target_exited(tr) ? " (the target exited)" : "");
		goto out;
	}
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		job_text(j, 1, "out of memory");
		goto out;
	}
	/* loupe trace says these on stderr; here they lead the summary */
	if (rc != LP_OK)
		fprintf(f, "warning: %s; reporting what was traced\n", err.msg);
	if (j->stop)
		fprintf(f, "note: the trace was cut short after %.1f s (the daemon stops)\n",
			(double)st->elapsed_ns / 1e9);
	if (note[0])
		fprintf(f, "note: %s\n", note);
	char title[256];
	snprintf(title, sizeof title, "PID %d (%s), %s", (int)j->pid, target_comm(t),
		 s ? sampler_describe(s) : "no stacks");
	struct trace_text_opts tto = { title, j->threshold_ms, TRACE_MAX_STALLS_LISTED };
	int wrc = trace_text_write(f, tr, p, t, &tto);
	if (fclose(f) != 0 || wrc != LP_OK || !buf) {
		job_text(j, 1, "cannot write the summary of the trace of PID %d: out of memory", (int)j->pid);
		goto out;
	}
	free(j->text);
	j->text = buf;
	buf = NULL;
	j->status = 0;
out:
	atomic_store(&j->ready, true);
	wake(j);
	free(buf);
	tracer_free(tr);
	sampler_free(s);
	profile_free(p);
	if (t)
		target_free(t, false);
}

static void *job_main(void *arg)
{
	struct trace_job *j = arg;
	run_trace(j);
	atomic_store(&j->done, true);
	wake(j);
	return NULL;
}

static int traces_init(struct daemon_state *d, lp_error *err)
{
	if (d->traces)
		return LP_OK;
	struct daemon_traces *tc = calloc(1, sizeof *tc);
	if (!tc)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	tc->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (tc->wake_fd < 0) {
		int e = errno;
		free(tc);
		return lp_error_set(err, lp_from_errno(e), "cannot create an eventfd: %s", strerror(e));
	}
	d->traces = tc;
	return LP_OK;
}

void daemon_trace_start(struct daemon_state *d, const struct ctl_peer *peer,
			pid_t pid, uint64_t start_time, double duration_s,
			double threshold_ms, struct ctl_reply *r)
{
	if (pid == getpid()) {
		ctl_reply_text(r, 1, "PID %d is this daemon: it does not trace itself", (int)pid);
		return;
	}
	lp_error err = { 0 };
	if (traces_init(d, &err)) {
		ctl_reply_text(r, 1, "cannot trace PID %d: %s", (int)pid, err.msg);
		return;
	}
	struct daemon_traces *tc = d->traces;
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
		if (o->pid == pid) {
			ctl_reply_text(r, 1, "PID %d is being traced already: try again in %.0f s",
				       (int)pid, o->duration_s);
			return;
		}
	}
	if (running >= DAEMON_TRACE_MAX || slot == SLOTS) {
		ctl_reply_text(r, 1, "busy: the daemon runs %d traces already; try again when one ends, or run loupe trace -p %d yourself",
			       DAEMON_TRACE_MAX, (int)pid);
		return;
	}
	struct trace_job *j = calloc(1, sizeof *j);
	if (!j) {
		ctl_reply_text(r, 1, "out of memory");
		return;
	}
	j->pid = pid;
	j->start_time = start_time;
	j->uid = peer->uid;
	j->duration_s = duration_s;
	j->threshold_ms = threshold_ms;
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
		ctl_reply_text(r, 1, "cannot start a trace thread: %s", strerror(rc));
		free(j);
		return;
	}
	tc->jobs[slot] = j;
	j->ticket = ctl_reply_defer(r, (unsigned)(duration_s * 1000) + TRACE_REPLY_MARGIN_MS);
	daemon_log(LOG_INFO_, "tracing PID %d for %.4g s (threshold %.4g ms) for user %u",
		   (int)pid, duration_s, threshold_ms, (unsigned)peer->uid);
}

int daemon_trace_fd(const struct daemon_state *d)
{
	return d->traces ? d->traces->wake_fd : -1;
}

/* Answers the client of a job whose answer is ready (when still there). */
static void job_answer(struct daemon_state *d, struct trace_job *j)
{
	j->answered = true;
	struct ctl_reply rep = { 0 };
	if (j->text)
		ctl_reply_text(&rep, j->status, "%s", j->text);
	else
		ctl_reply_text(&rep, 1, "out of memory");
	if (ctl_server_complete(d->ctl, j->ticket, &rep) == LP_OK)
		daemon_log(LOG_INFO_, "trace of PID %d for user %u ended (status %u)",
			   (int)j->pid, (unsigned)j->uid, (unsigned)j->status);
	else
		daemon_log(LOG_INFO_, "trace of PID %d ended; its client left, the result is dropped",
			   (int)j->pid);
	free(j->text);
	j->text = NULL;
}

/* Joins the job in slot i (done, or about to be), answers it if not yet,
 * frees it. */
static void job_finish(struct daemon_state *d, size_t i)
{
	struct trace_job *j = d->traces->jobs[i];
	pthread_join(j->th, NULL);
	if (!j->answered)
		job_answer(d, j);
	free(j);
	d->traces->jobs[i] = NULL;
}

void daemon_trace_reap(struct daemon_state *d)
{
	struct daemon_traces *tc = d->traces;
	if (!tc)
		return;
	uint64_t v;
	while (read(tc->wake_fd, &v, sizeof v) > 0)
		;	/* nonblocking: drained */
	for (size_t i = 0; i < SLOTS; i++) {
		struct trace_job *j = tc->jobs[i];
		if (!j)
			continue;
		if (atomic_load(&j->done)) {
			job_finish(d, i);
		} else if (atomic_load(&j->ready)) {
			if (!j->answered)
				job_answer(d, j);
		} else if (!j->stop && !ctl_server_waiting(d->ctl, j->ticket)) {
			/* nobody to tell: spare the CPU */
			daemon_log(LOG_INFO_, "trace of PID %d: its client left, stopping it", (int)j->pid);
			j->stop = 1;
		}
	}
}

void daemon_trace_stop_all(struct daemon_state *d)
{
	struct daemon_traces *tc = d->traces;
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
			job_answer(d, j);
	}
	for (size_t i = 0; i < SLOTS; i++)
		if (tc->jobs[i])
			job_finish(d, i);
	close(tc->wake_fd);
	free(tc);
	d->traces = NULL;
}
