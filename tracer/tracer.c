#include "tracer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "fold.h"
#include "perf_sys.h"
#include "ptrace_sys.h"
#include "syscalls.h"

/* How often the thread list is re-read (new threads get their events) and
 * the process checked for life. */
#define REFRESH_NS 100000000ull
/* How often the rings are read while no loop thread is busy for long: a
 * busy period is seen at most this late, and stack sampling of a stall
 * starts at most this late after sample_after. */
#define IDLE_POLL_NS 1000000ull
/* A loop thread busy for a tenth of the threshold (within these bounds)
 * gets every syscall followed (perf: raw_syscalls, which costs each call
 * about 2 us, and opening the events interrupts the thread, so not on the
 * short ticks of a busy server); the call in progress then is timed from
 * the last event before it. */
#define DETAIL_AFTER_MIN_NS 1000000ull
#define DETAIL_AFTER_MAX_NS 5000000ull
/* Stack samples waiting for their busy period to end; beyond this (a loop
 * busy for minutes) no more are taken until one ends. */
#define MAX_PENDING 200000
/* Turns of the tracer's loop late by more than this (loupe not scheduled,
 * a slow call) are remembered, the last BLIND_RING of them, to say why a
 * stall got no stack sample. */
#define BLIND_NS 3000000ull
#define BLIND_RING 64

struct pending {
	pid_t tid;
	uint64_t t0, t1;	/* monotonic ns around the read */
	uint32_t stack;
};

struct tracer {
	target *t;
	sampler *s;
	profile *p;
	struct tracer_opts o;
	perf_sys *perf;
	ptrace_sys *pt;
	char fallback[512];
	loop_tracker *loops;
	uint64_t start;		/* monotonic ns */
	uint64_t sample_after;	/* busy this long before stacks are taken */
	uint64_t detail_after;	/* and before every syscall is followed */
	bool exited;
	struct tracer_stats st;
	struct trace_stall *stalls;
	size_t nstalls, stall_cap;
	struct pending *pend;
	size_t npend, pend_cap;
	uint32_t *stack_buf;	/* one stall's stacks */
	size_t stack_cap;
	uint32_t str_tick, str_stall;	/* "tick", "stall" */
	int err;		/* first allocation failure in a callback */
	/* the sink a sample goes on to, and the time it was taken at */
	sampler_sink sink;
	void *sink_ctx;
	uint64_t cur_t0;
	pthread_mutex_t *lock;	/* held while tracer_run changes state */
	/* Why a stall may have no stack: when the tracer was blind (a turn
	 * late), the last failed stack read, samples across a stall's end,
	 * and the pending cap. */
	struct { uint64_t from, to; } blind[BLIND_RING];
	size_t nblind;
	uint64_t err_at;
	int err_rc;
	size_t straddled;
	uint64_t capped_at;
};

static uint64_t rel(const tracer *tr, uint64_t t)
{
	return t > tr->start ? t - tr->start : 0;
}

/* "clock_nanosleep 1x 200.1 ms, read 3x 0.2 ms" */
static void syscalls_text(const struct syscall_stat *sys, size_t n, char *buf,
			  size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && used + 64 < len; i++) {
		const char *name = syscall_name(sys[i].nr);
		char num[32];
		if (!name) {
			snprintf(num, sizeof num, "syscall_%ld", sys[i].nr);
			name = num;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s %llux %.1f ms",
					 i ? ", " : "", name,
					 (unsigned long long)sys[i].count,
					 (double)sys[i].total_ns / 1e6);
	}
}

/* The stacks of tid's samples inside [start, end], into tr->stack_buf;
 * drops every sample of tid taken before end. */
static size_t take_samples(tracer *tr, pid_t tid, uint64_t start,
			   uint64_t end)
{
	size_t n = 0, j = 0;
	for (size_t i = 0; i < tr->npend; i++) {
		struct pending *q = &tr->pend[i];
		if (q->tid != tid || q->t0 >= end) {
			tr->pend[j++] = *q;
			continue;
		}
		if (q->t0 < start || q->t1 > end) {
			tr->straddled += q->t0 >= start;
			continue;	/* taken outside the period */
		}
		if (n == tr->stack_cap) {
			size_t nc = tr->stack_cap ? 2 * tr->stack_cap : 256;
			uint32_t *b = realloc(tr->stack_buf, nc * sizeof *b);
			if (!b) {
				tr->err = LP_ENOMEM;
				continue;
			}
			tr->stack_buf = b;
			tr->stack_cap = nc;
		}
		tr->stack_buf[n++] = q->stack;
	}
	tr->npend = j;
	return n;
}

/* Why the stall [start, start + dur) of a sampled loop has no stack (the
 * samples, if any, are nstacks): the first cause that explains it. */
static void why_no_stack(tracer *tr, uint64_t start, uint64_t dur,
			 size_t nstacks, char *buf, size_t len)
{
	uint64_t from = start + tr->sample_after, to = start + dur;
	if (!tr->s) {
		snprintf(buf, len, "stacks not sampled (ptrace on a native "
			 "program)");
		return;
	}
	if (nstacks) {
		snprintf(buf, len, "its %zu stack samples hold no frame (every "
			 "read of the stack failed)", nstacks);
		return;
	}
	uint64_t blind = 0;
	for (size_t i = 0; i < tr->nblind && i < BLIND_RING; i++) {
		uint64_t a = tr->blind[i].from > from ? tr->blind[i].from : from;
		uint64_t b = tr->blind[i].to < to ? tr->blind[i].to : to;
		blind += b > a ? b - a : 0;
	}
	if (to > from && 2 * blind >= to - from)
		snprintf(buf, len, "loupe was not scheduled for %.1f ms of it "
			 "(a loaded machine)", (double)blind / 1e6);
	else if (tr->err_at >= from && tr->err_at < to)
		snprintf(buf, len, "its stack reads failed: %s",
			 lp_strerror(tr->err_rc));
	else if (tr->straddled)
		snprintf(buf, len, "its %zu stack samples were each taken "
			 "across its end", tr->straddled);
	else if (tr->capped_at >= from && tr->capped_at < to)
		snprintf(buf, len, "not sampled: %d stack samples already "
			 "waiting for other busy periods", MAX_PENDING);
	else
		snprintf(buf, len, "no stack sample fell in it (sampling starts "
			 "%.1f ms into a busy period)",
			 (double)tr->sample_after / 1e6);
}

static int add_stall(tracer *tr, pid_t tid, uint64_t start, uint64_t dur,
		     const struct syscall_stat *sys, size_t nsys, size_t nstacks,
		     bool open)
{
	if (tr->nstalls == tr->stall_cap) {
		size_t nc = tr->stall_cap ? 2 * tr->stall_cap : 64;
		struct trace_stall *n = realloc(tr->stalls, nc * sizeof *n);
		if (!n)
			return LP_ENOMEM;
		tr->stalls = n;
		tr->stall_cap = nc;
	}
	struct trace_stall *st = &tr->stalls[tr->nstalls];
	memset(st, 0, sizeof *st);
	st->tid = tid;
	st->start_ns = rel(tr, start);
	st->dur_ns = dur;
	st->open = open;
	st->nsys = nsys < LOOP_PERIOD_SYSCALLS ? nsys : LOOP_PERIOD_SYSCALLS;
	memcpy(st->sys, sys, st->nsys * sizeof *sys);
	st->samples = nstacks;
	int rc = fold_stall(tr->p, tr->stack_buf, nstacks, st->paths,
			    &st->npaths);
	if (rc != LP_OK)
		return rc;
	if (!st->npaths)
		why_no_stack(tr, start, dur, nstacks, st->why, sizeof st->why);
	tr->nstalls++;
	if (!tr->o.spans)
		return LP_OK;
	char name[64], detail[2048], sys_text[768];
	snprintf(name, sizeof name, "stall %.1f ms", (double)dur / 1e6);
	syscalls_text(st->sys, st->nsys, sys_text, sizeof sys_text);
	size_t used = st->npaths ? 0 :
		(size_t)snprintf(detail, sizeof detail, "(no stack: %s)", st->why);
	for (size_t i = 0; i < st->npaths && used < sizeof detail; i++)
		used += (size_t)snprintf(detail + used, sizeof detail - used,
					 "%s%s [%llu of %llu samples]",
					 i ? " | " : "",
					 profile_str(tr->p, st->paths[i].text),
					 (unsigned long long)st->paths[i].held,
					 (unsigned long long)st->samples);
	if (st->nsys && used < sizeof detail)
		snprintf(detail + used, sizeof detail - used, "; syscalls: %s",
			 sys_text);
	struct profile_span sp = {
		.start_ns = st->start_ns, .dur_ns = dur,
		.pid = target_pid(tr->t), .tid = tid, .cat = tr->str_stall,
		.name = profile_intern_cstr(tr->p, name),
		.detail = profile_intern_cstr(tr->p, detail),
	};
	if (sp.name == PROFILE_NOID || sp.detail == PROFILE_NOID)
		return LP_ENOMEM;
	return profile_add_span(tr->p, &sp);
}

static void on_tick(void *ctx, const struct loop_tick *tk)
{
	tracer *tr = ctx;
	tr->straddled = 0;
	size_t n = take_samples(tr, tk->tid, tk->start_ns, tk->start_ns + tk->dur_ns);
	int rc = LP_OK;
	if (tk->stall) {
		rc = add_stall(tr, tk->tid, tk->start_ns, tk->dur_ns, tk->sys,
			       tk->nsys, n, false);
	} else if (tr->o.spans) {
		struct profile_span sp = {
			.start_ns = rel(tr, tk->start_ns), .dur_ns = tk->dur_ns,
			.pid = target_pid(tr->t), .tid = tk->tid,
			.cat = tr->str_tick, .name = tr->str_tick,
		};
		rc = profile_add_span(tr->p, &sp);
	}
	if (rc != LP_OK && !tr->err)
		tr->err = rc;
}

static void on_event(void *ctx, const struct sys_event *e)
{
	tracer *tr = ctx;
	tr->st.events++;
	loop_event(tr->loops, e);
}

static int sample_sink(void *ctx, const profile *p, const struct sample *s)
{
	tracer *tr = ctx;
	if (tr->npend == tr->pend_cap) {
		size_t nc = tr->pend_cap ? 2 * tr->pend_cap : 1024;
		struct pending *n = realloc(tr->pend, nc * sizeof *n);
		if (!n)
			return LP_ENOMEM;
		tr->pend = n;
		tr->pend_cap = nc;
	}
	tr->pend[tr->npend++] = (struct pending){ s->tid, tr->cur_t0, 0, s->stack };
	tr->st.samples++;
	return tr->sink ? tr->sink(tr->sink_ctx, p, s) : LP_OK;
}

/* Starts the events of threads new since the last call, stops those of
 * threads gone. */
static int sync_threads(tracer *tr)
{
	pid_t tids[LOOP_MAX_THREADS];
	size_t k = 0;
	if (tr->o.subprocesses && tr->s && tr->perf) {
		/* --subprocesses: the tree's processes come and go; the
		 * sampler follows them. */
		int rc = sampler_list_threads(tr->s, tids, LOOP_MAX_THREADS, &k);
		return rc != LP_OK ? rc : perf_sys_set_threads(tr->perf, tids, k);
	}
	if (!target_alive(tr->t))
		return LP_ENOPROC;
	int rc = target_refresh_threads(tr->t);
	if (rc != LP_OK || !tr->perf)
		return rc;
	size_t n = target_nthreads(tr->t);
	for (size_t i = 0; i < n && k < LOOP_MAX_THREADS; i++)
		tids[k++] = target_thread_at(tr->t, i)->tid;
	return perf_sys_set_threads(tr->perf, tids, k);
}

int tracer_new(tracer **out, target *t, profile *p,
	       const struct tracer_opts *o, lp_error *err)
{
	tracer *tr = calloc(1, sizeof *tr);
	if (!tr)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	tr->t = t;
	tr->p = p;
	tr->o = *o;
	tr->start = clock_mono_ns();
	/* A fifth of the threshold: a stall gets stacks over most of its
	 * length, while short ticks of a busy server get none at all. */
	tr->sample_after = o->threshold_ns / 5;
	if (tr->sample_after < 1000000)
		tr->sample_after = 1000000;
	if (tr->sample_after > 20000000)
		tr->sample_after = 20000000;
	tr->detail_after = o->threshold_ns / 10;
	if (tr->detail_after < DETAIL_AFTER_MIN_NS)
		tr->detail_after = DETAIL_AFTER_MIN_NS;
	if (tr->detail_after > DETAIL_AFTER_MAX_NS)
		tr->detail_after = DETAIL_AFTER_MAX_NS;
	tr->loops = loop_tracker_new(o->threshold_ns, on_tick, tr);
	tr->str_tick = profile_intern_cstr(p, "tick");
	tr->str_stall = profile_intern_cstr(p, "stall");
	int rc;
	if (!tr->loops || tr->str_tick == PROFILE_NOID || tr->str_stall == PROFILE_NOID) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto fail;
	}
	lp_error perr = { 0 };
	rc = o->force_ptrace ? LP_EUNSUPPORTED
			     : perf_sys_new(&tr->perf, &perr);
	if (rc == LP_OK) {
		rc = sync_threads(tr);
		if (rc != LP_OK) {
			lp_error_set(err, rc, rc == LP_ENOPROC ? "PID %d exited"
				     : "cannot trace PID %d: out of memory",
				     (int)target_pid(t));
			goto fail;
		}
	} else if (o->no_ptrace) {
		rc = lp_error_set(err, LP_EUNSUPPORTED, "%s",
				  o->force_ptrace ? "--ptrace was given" : perr.msg);
		goto fail;
	} else {
		snprintf(tr->fallback, sizeof tr->fallback, "%s",
			 o->force_ptrace ? "--ptrace was given" : perr.msg);
		rc = ptrace_sys_new(&tr->pt, target_pid(t), err);
		if (rc != LP_OK)
			goto fail;
	}
	*out = tr;
	return LP_OK;
fail:
	tracer_free(tr);
	return rc;
}

void tracer_free(tracer *tr)
{
	if (!tr)
		return;
	perf_sys_free(tr->perf);
	ptrace_sys_free(tr->pt);
	loop_tracker_free(tr->loops);
	free(tr->stalls);
	free(tr->pend);
	free(tr->stack_buf);
	free(tr);
}

void tracer_set_sampler(tracer *tr, sampler *s)
{
	tr->s = s;
}

bool tracer_found_loop(const tracer *tr)
{
	for (size_t i = 0; i < loop_nthreads(tr->loops); i++)
		if (loop_is_loop(loop_thread_at(tr->loops, i)))
			return true;
	return false;
}

const char *tracer_source(const tracer *tr)
{
	return tr->perf ? "perf tracepoints" : "ptrace";
}

const char *tracer_fallback(const tracer *tr)
{
	return tr->perf ? NULL : tr->fallback;
}

bool tracer_uses_ptrace(const tracer *tr)
{
	return tr->pt != NULL;
}

/* Every syscall of a loop thread while it is busy for long, only its
 * polls otherwise. */
static void follow_busy(tracer *tr, uint64_t now)
{
	if (!tr->perf)
		return;	/* ptrace sees every call anyway */
	for (size_t i = 0; i < loop_nthreads(tr->loops); i++) {
		const struct loop_thread *th = loop_thread_at(tr->loops, i);
		if (loop_is_loop(th))
			perf_sys_detail(tr->perf, th->tid,
					loop_busy_for(th, now) >= tr->detail_after);
	}
}

uint64_t tracer_detail_after_ns(const tracer *tr)
{
	return tr->perf ? tr->detail_after : 0;
}

static void drain(tracer *tr, bool final)
{
	if (tr->perf)
		perf_sys_drain(tr->perf, final, on_event, tr);
	else
		ptrace_sys_drain(tr->pt, on_event, tr);
}

/* Samples every loop thread busy for sample_after or more. */
static int sample_busy(tracer *tr, uint64_t now, lp_error *err)
{
	pid_t tids[LOOP_MAX_THREADS];
	size_t n = 0;
	for (size_t i = 0; i < loop_nthreads(tr->loops); i++) {
		const struct loop_thread *th = loop_thread_at(tr->loops, i);
		if (loop_is_loop(th) && loop_busy_for(th, now) >= tr->sample_after)
			tids[n++] = th->tid;
	}
	if (n && tr->npend >= MAX_PENDING)
		tr->capped_at = now;
	if (n == 0 || tr->npend >= MAX_PENDING)
		return n ? LP_OK : LP_ENOTFOUND;
	size_t first = tr->npend;
	tr->cur_t0 = clock_mono_ns();
	int rc = sampler_sample_threads(tr->s, tids, n, rel(tr, tr->cur_t0),
					sample_sink, tr, err);
	uint64_t t1 = clock_mono_ns();
	for (size_t i = first; i < tr->npend; i++)
		tr->pend[i].t1 = t1;
	if (rc == LP_ENOPROC)
		return rc;
	if (rc != LP_OK) {
		tr->st.sample_errors++;
		tr->err_at = tr->cur_t0;
		tr->err_rc = rc;
		if (rc == LP_ENOMEM)
			return rc;
	}
	return LP_OK;
}

/* At the end: a loop still busy for longer than the threshold is a stall
 * that has not ended (a loop stuck for good is the worst stall of all). */
static void close_open_stalls(tracer *tr, uint64_t now)
{
	for (size_t i = 0; i < loop_nthreads(tr->loops); i++) {
		const struct loop_thread *th = loop_thread_at(tr->loops, i);
		uint64_t busy = loop_busy_for(th, now);
		if (!loop_is_loop(th) || busy <= tr->o.threshold_ns)
			continue;
		tr->straddled = 0;
		size_t n = take_samples(tr, th->tid, th->busy_start, now);
		if (add_stall(tr, th->tid, th->busy_start, busy, th->period,
			      th->nperiod, n, true) != LP_OK && !tr->err)
			tr->err = LP_ENOMEM;
	}
}

int tracer_run(tracer *tr, volatile sig_atomic_t *stop, sampler_sink sink,
	       void *sink_ctx, lp_error *err)
{
	tr->sink = sink;
	tr->sink_ctx = sink_ctx;
	uint64_t period = (uint64_t)(1e9 / (tr->o.rate_hz > 0 ? tr->o.rate_hz : 1000));
	uint64_t end = tr->o.duration_s > 0
			       ? tr->start + (uint64_t)(tr->o.duration_s * 1e9)
			       : UINT64_MAX;
	uint64_t give_up = tr->o.give_up_s > 0
				   ? tr->start + (uint64_t)(tr->o.give_up_s * 1e9)
				   : UINT64_MAX;
	uint64_t next_refresh = 0, next_sample = 0, last_turn = 0;
	int rc = LP_OK;
	/* A front end reading the figures from another thread (the status
	 * line) takes the same lock: held while a turn changes the state,
	 * never while sleeping, and to the end once the loop is left. */
	bool held = false;
	while (!*stop && !tr->err) {
		if (tr->lock) {
			pthread_mutex_lock(tr->lock);
			held = true;
		}
		uint64_t now = clock_mono_ns();
		if (now >= end)
			break;
		if (last_turn && now - last_turn > BLIND_NS) {
			size_t b = tr->nblind++ % BLIND_RING;
			tr->blind[b].from = last_turn;
			tr->blind[b].to = now;
		}
		last_turn = now;
		if (now >= give_up) {
			if (!tracer_found_loop(tr))
				break;
			give_up = UINT64_MAX;
		}
		if (now >= next_refresh) {
			if (tr->pt ? ptrace_sys_exited(tr->pt) : sync_threads(tr) != LP_OK) {
				tr->exited = true;
				break;
			}
			next_refresh = now + REFRESH_NS;
		}
		drain(tr, false);
		follow_busy(tr, clock_mono_ns());
		uint64_t wake = now + IDLE_POLL_NS;
		if (tr->s && now >= next_sample) {
			rc = sample_busy(tr, clock_mono_ns(), err);
			if (rc == LP_OK) {
				next_sample = now + period;
			} else if (rc == LP_ENOPROC) {
				tr->exited = true;
				rc = LP_OK;
				break;
			} else if (rc != LP_ENOTFOUND) {
				break;
			}
			rc = LP_OK;
		}
		if (next_sample > now && next_sample < wake)
			wake = next_sample;
		if (wake > end)
			wake = end;
		struct timespec ts = { (time_t)(wake / 1000000000ull),
				       (long)(wake % 1000000000ull) };
		if (held) {
			pthread_mutex_unlock(tr->lock);
			held = false;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	if (tr->lock && !held)
		pthread_mutex_lock(tr->lock);
	uint64_t now = clock_mono_ns();
	drain(tr, true);
	if (tr->perf)
		tr->st.lost = perf_sys_lost(tr->perf);
	else
		tr->st.lost = ptrace_sys_lost(tr->pt);
	/* Busy when the target exited is a loop that ended (interpreter
	 * shutdown), not one that is stuck. */
	if (!tr->exited)
		close_open_stalls(tr, now);
	loop_finish(tr->loops, now);
	tr->st.elapsed_ns = now - tr->start;
	if (tr->lock)
		pthread_mutex_unlock(tr->lock);
	if (tr->err && rc == LP_OK)
		rc = lp_error_set(err, tr->err, "tracing PID %d failed: %s",
				  (int)target_pid(tr->t), lp_strerror(tr->err));
	return rc;
}

void tracer_set_lock(tracer *tr, pthread_mutex_t *lock)
{
	tr->lock = lock;
}

bool tracer_target_exited(const tracer *tr)
{
	return tr->exited;
}

const loop_tracker *tracer_loops(const tracer *tr)
{
	return tr->loops;
}

const struct trace_stall *tracer_stalls(const tracer *tr, size_t *n)
{
	*n = tr->nstalls;
	return tr->stalls;
}

const struct tracer_stats *tracer_stats(const tracer *tr)
{
	return &tr->st;
}
