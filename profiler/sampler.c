/* The sampler a front end holds: made on a target (with --subprocesses
 * on its tree, sampler_tree.c), driven by its own timing loop
 * (sampler_run, on the schedule of schedule.h) or by a front end's
 * (sampler_tick).  The work on each process is sampler_proc.c's. */
#include "sampler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>

#include "clock.h"
#include "pages.h"
#include "sampler_int.h"
#include "schedule.h"

/* A deadline closer than this is waited for by spinning on the clock, not
 * by sleeping: waking from a sleep costs tens of microseconds on a virtual
 * machine (measured here: a sleep-only loop at 1 kHz burns 31 us per wake
 * and wakes 50-80 us late), longer than the whole period at high rates. */
#define SPIN_NS 40000ull

int sampler_new(sampler **out, target *t, profile *p,
		const struct sampler_opts *o, lp_error *err)
{
	*out = NULL;
	sampler *s = pages_zalloc(sizeof *s);	/* its frame caches: pages.h */
	if (!s)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	struct sampler_opts so = *o;
	/* The caller is told of the root's threads only, not of those of
	 * the descendants it finds itself: each lists its own. */
	if (so.subprocesses)
		so.thread_events = false;
	if (so.subprocesses && !so.elf_cache) {
		/* Workers forked from one parent map the same files: each
		 * is parsed once for the whole tree. */
		if (elf_cache_new(&s->own_elf_cache) != LP_OK) {
			pages_free(s, sizeof *s);
			return lp_error_set(err, LP_ENOMEM, "out of memory");
		}
		so.elf_cache = s->own_elf_cache;
	}
	int rc = sproc_init(&s->root, t, p, &so, err);
	if (rc != LP_OK) {
		elf_cache_free(s->own_elf_cache);
		pages_free(s, sizeof *s);
		return rc;
	}
	if (so.subprocesses && (rc = tree_start(s, err)) != LP_OK) {
		sampler_free(s);
		return rc;
	}
	*out = s;
	return LP_OK;
}

void sampler_free(sampler *s)
{
	if (!s)
		return;
	tree_free(s);
	sproc_fini(&s->root);
	elf_cache_free(s->own_elf_cache);
	pages_free(s, sizeof *s);
}

const char *sampler_describe(const sampler *s)
{
	return s->root.describe;
}

bool sampler_uses_perf(const sampler *s)
{
	return s->root.perf != NULL;
}

const char *sampler_oncpu_fallback(const sampler *s)
{
	return s->root.oncpu || s->root.perf || !s->root.oncpu_off[0] ?
	       NULL : s->root.oncpu_off;
}

bool sampler_is_python(const sampler *s)
{
	return s->root.py != NULL;
}

bool sampler_target_exited(const sampler *s)
{
	return s->exited;
}

void sampler_set_lock(sampler *s, pthread_mutex_t *lock)
{
	s->lock = lock;
}

const aio_reader *sampler_tasks(const sampler *s)
{
	return s->root.tasks ? tasks_reader(s->root.tasks) : NULL;
}

const char *sampler_warning(sampler *s)
{
	if (!s->root.warning[0] || s->root.warned)
		return NULL;
	s->root.warned = true;
	return s->root.warning;
}

void sampler_watch_gc(sampler *s, bool on)
{
	/* children of a tree copy the root's options as they are found */
	s->root.o.watch_gc = on;
	tree_watch_gc(s, on);
}

void sampler_threads_changed(sampler *s)
{
	s->root.next_threads_ns = 0;
}

const struct sampler_stats *sampler_stats(const sampler *s)
{
	return s->watch ? &s->tot : &s->root.st;
}

static int perf_drain(sampler *s)
{
	if (s->lock)
		pthread_mutex_lock(s->lock);
	int rc = sproc_perf_drain(&s->root);
	if (s->lock)
		pthread_mutex_unlock(s->lock);
	return rc;
}

/* The perf_event loop: the kernel samples the threads on their own CPU
 * time; here we only wake when a ring fills or every 100 ms to drain, and
 * to pick up new threads. */
static int run_perf(sampler *s, volatile sig_atomic_t *stop, uint64_t end,
		    lp_error *err)
{
	struct sproc *r = &s->root;
	int rc = LP_OK;
	while (!*stop) {
		uint64_t now = sampler_mono_ns();
		if (now >= end)
			break;
		uint64_t left = (end - now) / 1000000;
		int timeout = left < 100 ? (int)left + 1 : 100;
		struct epoll_event ev;
		epoll_wait(perf_native_fd(r->perf), &ev, 1, timeout);
		now = sampler_mono_ns();
		if (now >= r->next_threads_ns) {
			rc = sproc_refresh(r, now, false);
			if (rc == LP_ENOPROC)
				break;
			if (rc == LP_OK) {
				lp_error e = { 0 };
				perf_native_sync_threads(r->perf, &e);
			}
			rc = LP_OK;
		}
		rc = perf_drain(s);
		if (rc != LP_OK)
			break;
	}
	if (rc == LP_OK || rc == LP_ENOPROC) {
		int r2 = perf_drain(s);	/* what the rings still hold */
		if (rc == LP_OK && r2 != LP_OK && r2 != LP_ENOPROC)
			rc = r2;
	}
	if (rc == LP_ENOPROC || rc == LP_EPERM) {
		s->exited = true;
		rc = LP_OK;
	}
	if (rc != LP_OK)
		lp_error_set(err, rc, "sampling PID %d failed: %s",
			     (int)target_pid(r->t), lp_strerror(rc));
	return rc;
}

/* Says once, through the front end's notice callback, that the asked rate
 * is not being kept (more than 5% of a second's deadlines missed). */
static void overload_check(sampler *s)
{
	const struct sampler_opts *o = &s->root.o;
	uint64_t all = s->win_ticks + s->win_missed;
	if (s->overload_said || !o->notice || !all ||
	    s->win_missed * 20 <= all)
		return;
	char msg[256];
	snprintf(msg, sizeof msg,
		 "cannot keep %.0f samples/s on %zu threads (%.0f%% of the "
		 "last second's deadlines missed); each late sample counts for "
		 "the periods it stands for",
		 o->rate_hz, tree_nthreads(s),
		 100.0 * (double)s->win_missed / (double)all);
	o->notice(o->notice_ctx, msg);
	s->overload_said = true;
}

/* Deadlines that passed without a tick: counted against every process,
 * and this tick's samples stand for the time they cover, so that shares
 * stay right when the rate cannot be kept. */
static void add_missed(sampler *s, uint64_t late)
{
	s->root.st.missed += late;
	tree_add_missed(s, late);
	s->root.tick_weight = late + 1 > UINT32_MAX ? UINT32_MAX :
			      (uint32_t)(late + 1);
}

int sampler_run(sampler *s, volatile sig_atomic_t *stop, sampler_sink sink,
		void *sink_ctx, lp_error *err)
{
	struct sproc *r = &s->root;
	uint64_t start = sampler_mono_ns();
	uint64_t end = r->o.duration_s > 0
			       ? start + (uint64_t)(r->o.duration_s * 1e9)
			       : UINT64_MAX;
	r->start_ns = start;
	s->win_start = start;
	r->sink = sink;
	r->sink_ctx = sink_ctx;
	if (r->perf && !s->watch) {
		/* The perf loop: nothing to tick.  In a tree, the tick loop
		 * below reads the perf members' rings (tree_tick). */
		int rc = run_perf(s, stop, end, err);
		r->st.elapsed_ns = sampler_mono_ns() - start;
		return rc;
	}
	struct schedule sc;
	schedule_init(&sc, schedule_period_ns(r->o.rate_hz), start,
		      start ^ ((uint64_t)target_pid(r->t) << 32));
	/* The kernel may defer a timer by the thread's slack (50 us by
	 * default) to batch wake-ups: fine at 100 Hz, a tenth of the period
	 * above that.  Per thread: top's sampler thread sets its own. */
	uint64_t slack = sc.period_ns / 10 < 50000 ? sc.period_ns / 10 : 50000;
	prctl(PR_SET_TIMERSLACK, (unsigned long)(slack ? slack : 1), 0, 0, 0);
	int rc = LP_OK;
	while (!*stop) {
		uint64_t now = sampler_mono_ns();
		if (now >= end)
			break;
		if (!schedule_due(&sc, now, 0)) {
			uint64_t wake = sc.wake_ns < end ? sc.wake_ns : end;
			if (wake - now < SPIN_NS)
				continue;
			struct timespec ts = { (time_t)(wake / 1000000000ull),
					       (long)(wake % 1000000000ull) };
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			continue;
		}
		/* Stats are read by the front end under the same lock. */
		if (s->lock)
			pthread_mutex_lock(s->lock);
		uint64_t late = schedule_step(&sc, now);
		add_missed(s, late);
		s->win_missed += late;
		s->win_ticks++;
		if (now - s->win_start >= 1000000000ull) {
			overload_check(s);
			s->win_start = now;
			s->win_ticks = s->win_missed = 0;
		}
		rc = tree_tick(s, now, now - start, sink, sink_ctx, NULL, NULL);
		r->st.ticks++;
		s->tot.ticks = r->st.ticks;
		if (s->attached) {
			/* Reading a new process's ELF files and interpreter
			 * takes milliseconds once: the deadlines it costs
			 * are counted, but say nothing of the rate. */
			s->attached = false;
			s->win_start = sampler_mono_ns();
			s->win_ticks = s->win_missed = 0;
		}
		if (s->lock)
			pthread_mutex_unlock(s->lock);
		if (rc == LP_ENOPROC || rc == LP_EPERM) {
			s->exited = true;
			rc = LP_OK;
			break;
		}
		if (rc != LP_OK) {
			lp_error_set(err, rc, "sampling PID %d failed: %s",
				     (int)target_pid(r->t), lp_strerror(rc));
			break;
		}
	}
	r->st.elapsed_ns = sampler_mono_ns() - start;
	s->tot.elapsed_ns = r->st.elapsed_ns;
	return rc;
}

/* A tick's outcome for a front end's own loop: a gone process (or one
 * that can no longer be read) is LP_ENOPROC and marks the sampler exited;
 * anything else failed with a message. */
static int tick_result(sampler *s, int rc, lp_error *err)
{
	if (rc == LP_ENOPROC || rc == LP_EPERM) {
		s->exited = true;
		return lp_error_set(err, LP_ENOPROC, "PID %d exited",
				    (int)target_pid(s->root.t));
	}
	if (rc != LP_OK)
		return lp_error_set(err, rc, "sampling PID %d failed: %s",
				    (int)target_pid(s->root.t), lp_strerror(rc));
	return LP_OK;
}

int sampler_tick(sampler *s, uint64_t late, sampler_sink sink, void *sink_ctx,
		 lp_error *err)
{
	struct sproc *r = &s->root;
	uint64_t now = sampler_mono_ns();
	if (!r->start_ns)
		r->start_ns = now;
	if (s->lock)
		pthread_mutex_lock(s->lock);
	int rc;
	if (r->perf && !s->watch) {
		/* The kernel took the samples: read them out. */
		rc = sproc_perf_tick(r, now, sink, sink_ctx);
	} else {
		add_missed(s, late);
		rc = tree_tick(s, now, now - r->start_ns, sink, sink_ctx,
			       NULL, NULL);
	}
	r->st.ticks++;
	s->tot.ticks = r->st.ticks;
	r->st.elapsed_ns = s->tot.elapsed_ns = now - r->start_ns;
	if (s->lock)
		pthread_mutex_unlock(s->lock);
	return tick_result(s, rc, err);
}

void sampler_restart_clock(sampler *s)
{
	s->root.start_ns = sampler_mono_ns();
}

int sampler_sample_threads(sampler *s, const pid_t *tids, size_t n,
			   uint64_t rel_ns, sampler_sink sink, void *sink_ctx,
			   lp_error *err)
{
	if (n == 0)
		return LP_OK;
	s->root.only = tids;
	s->root.nonly = n;
	s->root.tick_weight = 1;
	int rc = tree_tick(s, sampler_mono_ns(), rel_ns, sink, sink_ctx,
			   NULL, NULL);
	s->root.only = NULL;
	s->root.nonly = 0;
	rc = tick_result(s, rc, err);
	if (rc == LP_OK)
		s->root.st.ticks++;
	return rc;
}

int sampler_snapshot(sampler *s, view_fn fn, void *ctx, lp_error *err)
{
	const struct sproc *r = &s->root;
	if (r->o.never_pause && r->unw && !s->watch)
		return lp_error_set(err, LP_EUNSUPPORTED, "cannot take the "
				    "stacks of native PID %d now without "
				    "pausing it", (int)target_pid(r->t));
	int rc = tree_tick(s, sampler_mono_ns(), 0, NULL, NULL, fn, ctx);
	if (rc == LP_ENOPROC)
		return lp_error_set(err, rc, "PID %d exited", (int)target_pid(r->t));
	if (rc != LP_OK)
		return lp_error_set(err, rc, "cannot sample PID %d: %s",
				    (int)target_pid(r->t), lp_strerror(rc));
	return LP_OK;
}
