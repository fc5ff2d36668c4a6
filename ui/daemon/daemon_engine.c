/* loupe daemon's sampling backend: the engine's sampler, one per target,
 * all driven from the daemon's own loop (no thread, no child process).
 * Targets at the same rate share one clock: one jittered grid of
 * deadlines (schedule.h), so that one wake-up a tick serves all of them
 * (64 services at 19 Hz cost 19 wake-ups a second, not 64 x 19, nor the
 * 40-80 that separate grids merged within a quarter period cost); clocks
 * of other rates due within a quarter of their period are taken in the
 * same wake-up.
 * Samplers never pause a thread (sampler_opts.never_pause) and share one
 * parsed-ELF cache: sixteen Python services parse libpython once.
 *
 * A target's current window is its profile's aggregates since the last
 * cut; a cut copies them into a fresh profile (only the stacks the window
 * used), writes that atomically and empties the aggregates, keeping the
 * interned frames the sampler's caches point at. */
#include "daemon_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "daemon.h"
#include "daemon_match.h"
#include "dump_output.h"
#include "formats/formats.h"
#include "sampler.h"
#include "schedule.h"
#include "symbols.h"
#include "target.h"

struct eng_target {
	pid_t pid;
	target *t;
	profile *p;
	sampler *s;
	struct daemon_target_spec spec;	/* name and dir not kept */
	size_t clock;		/* its ticks: the engine's clock of its rate */
	bool gone;
	/* ticks still counted as attach CPU: the first, and until its
	 * first sample (the first walk reads the code objects and interns
	 * their names) within the first second or so */
	unsigned warm_ticks;
	bool warm;
	/* the window: sampler figures when it began */
	uint64_t win_samples, win_missed, win_ticks;
	uint64_t win_mono_ns;
	char cmdline[DAEMON_MATCH_MAX_CMDLINE];
};

/* The ticks of every target at one rate: the grid and its jitter. */
struct eng_clock {
	struct schedule sched;
	size_t users;		/* targets on it; 0: a free slot */
	uint64_t late;		/* this wake-up: it fires, periods missed */
	bool fires;
};

struct engine {
	elf_cache *elf;
	struct eng_target **v;	/* every target, for the loop's turns */
	size_t n, cap;
	struct eng_clock *clocks;	/* by index (eng_target.clock) */
	size_t nclocks;
	uint64_t seed;
	uint64_t attach_cpu_ns;	/* new targets' first ticks */
	/* what a window's file is written from, emptied for the next: a
	 * profile made and freed for each cost a twentieth of the daemon's
	 * CPU (its blocks mapped, faulted in and unmapped) */
	profile *scratch;
};

/* A new target's ticks that still count as attaching. */
#define WARM_TICKS 20

/* The clock of a period, made when none has it (or -1: out of memory).
 * A new clock's first tick is a period away. */
static ssize_t clock_take(struct engine *e, uint64_t period, uint64_t now)
{
	ssize_t free_slot = -1;
	for (size_t i = 0; i < e->nclocks; i++) {
		if (e->clocks[i].users && e->clocks[i].sched.period_ns == period) {
			e->clocks[i].users++;
			return (ssize_t)i;
		}
		if (!e->clocks[i].users && free_slot < 0)
			free_slot = (ssize_t)i;
	}
	if (free_slot < 0) {
		struct eng_clock *v = realloc(e->clocks, (e->nclocks + 1) * sizeof *v);
		if (!v)
			return -1;
		e->clocks = v;
		free_slot = (ssize_t)e->nclocks++;
	}
	struct eng_clock *c = &e->clocks[free_slot];
	memset(c, 0, sizeof *c);
	schedule_init(&c->sched, period, now + period, e->seed ^ period);
	c->users = 1;
	return free_slot;
}

static void clock_drop(struct engine *e, size_t i)
{
	if (i < e->nclocks && e->clocks[i].users)
		e->clocks[i].users--;
}


static void set_period(struct engine *e, struct eng_target *et, double hz)
{
	uint64_t period = schedule_period_ns(hz);
	et->spec.rate = hz;
	if (e->clocks[et->clock].sched.period_ns == period)
		return;
	ssize_t c = clock_take(e, period, daemon_now_ns());
	if (c < 0)	/* out of memory: keeps its rate */
		return;
	clock_drop(e, et->clock);
	et->clock = (size_t)c;
}

static void notice(void *ctx, const char *msg)
{
	struct eng_target *et = ctx;
	daemon_log(DAEMON_LOG_WARN, "PID %d: %s", (int)et->pid, msg);
}

static void begin_window(struct eng_target *et)
{
	const struct sampler_stats *st = sampler_stats(et->s);
	et->win_samples = st->samples;
	et->win_missed = st->missed;
	et->win_ticks = st->ticks;
	et->win_mono_ns = daemon_now_ns();
	profile_reset_samples(et->p);
	profile_set_start_ns(et->p, clock_ns(CLOCK_REALTIME));
	sampler_restart_clock(et->s);
}

static void free_target(struct eng_target *et)
{
	sampler_free(et->s);
	profile_free(et->p);
	if (et->t)
		target_free(et->t, false);
	free(et);
}

static int eng_start(void *ctx, const struct daemon_target_spec *spec,
		     void **handle, lp_error *err)
{
	struct engine *e = ctx;
	struct eng_target *et = calloc(1, sizeof *et);
	if (!et)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	et->pid = spec->pid;
	et->spec = *spec;
	et->spec.name = et->spec.dir = NULL;
	int rc = target_attach(&et->t, spec->pid, err);
	if (rc) {
		free(et);
		return rc;
	}
	/* the process the daemon saw, not one that took its PID since: the
	 * window directory is named by its start time */
	uint64_t st;
	if (spec->start_time && (daemon_read_start_time(target_procfd(et->t), &st) != 0 ||
				 st != spec->start_time)) {
		free_target(et);
		return lp_error_set(err, LP_ENOPROC, "PID %d exited (its PID now names another process)",
				    (int)spec->pid);
	}
	et->p = profile_new();
	if (!et->p) {
		free_target(et);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	struct sampler_opts so = {
		.rate_hz = spec->rate,
		.native = spec->native,
		.skip_idle = spec->mode == MODE_CPU,
		.cpu_each_tick = spec->mode == MODE_CPU,
		.cpu_from_switches = spec->mode == MODE_CPU,
		.tasks = spec->tasks,
		.subprocesses = spec->subprocesses,
		.never_pause = true,
		.thread_events = spec->thread_events,
		.elf_cache = e->elf,
		.notice = notice,
		.notice_ctx = et,
	};
	rc = sampler_new(&et->s, et->t, et->p, &so, err);
	if (rc) {
		free_target(et);
		return rc;
	}
	if (daemon_read_cmdline(target_procfd(et->t), et->cmdline, sizeof et->cmdline) < 0)
		et->cmdline[0] = '\0';
	ssize_t c = clock_take(e, schedule_period_ns(spec->rate), daemon_now_ns());
	if (c < 0) {
		free_target(et);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	et->clock = (size_t)c;
	begin_window(et);
	*handle = et;
	return LP_OK;
}

static void set_meta_u64(profile *p, const char *key, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	profile_set_meta(p, key, buf);
}

/* What a window file says of its target and of the daemon's sampling,
 * besides the samples. */
static void window_meta(struct eng_target *et, profile *q)
{
	const struct sampler_stats *st = sampler_stats(et->s);
	char buf[64];
	profile_set_meta(q, "target.exe", target_exe(et->t));
	profile_set_meta(q, "target.comm", target_comm(et->t));
	profile_set_meta(q, "target.cmdline", et->cmdline);
	snprintf(buf, sizeof buf, "%d", (int)et->pid);
	profile_set_meta(q, "target.pid", buf);
	/* with the PID, names the process (loupe report tells a reused PID
	 * apart in an older loupe's directory) */
	set_meta_u64(q, "target.start_time", et->spec.start_time);
	profile_set_meta(q, "runtime", sampler_describe(et->s));
	snprintf(buf, sizeof buf, "%g", et->spec.rate);
	profile_set_meta(q, "rate", buf);
	profile_set_meta(q, "mode", et->spec.mode == MODE_WALL ? "wall" :
				    et->spec.mode == MODE_GIL ? "gil" : "cpu");
	if (et->spec.tasks)
		profile_set_meta(q, "tasks", sampler_tasks(et->s) ? "on" : "off");
	profile_set_meta(q, "command", "daemon");
	set_meta_u64(q, "samples", st->samples - et->win_samples);
	set_meta_u64(q, "missed", st->missed - et->win_missed);
	set_meta_u64(q, "duration_ns", daemon_now_ns() - et->win_mono_ns);
	/* per-coroutine task counts are samples per period */
	set_meta_u64(q, "ticks", st->ticks - et->win_ticks + st->missed - et->win_missed);
}

static int eng_flush(void *ctx, void *handle, FILE *out, lp_error *err)
{
	struct eng_target *et = handle;
	if (profile_total_samples(et->p) == 0) {
		begin_window(et);
		return LP_ENOTFOUND;
	}
	if (!out) {
		begin_window(et);
		return LP_OK;
	}
	struct engine *e = ctx;
	if (e->scratch && profile_clear(e->scratch) != LP_OK) {
		profile_free(e->scratch);
		e->scratch = NULL;
	}
	if (!e->scratch)
		e->scratch = profile_new();
	profile *q = e->scratch;
	if (!q || profile_merge(q, et->p, -1) != LP_OK) {
		begin_window(et);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	window_meta(et, q);
	int rc = raw_write_profile(q, out);
	if (rc != LP_OK)
		rc = lp_error_set(err, rc, "%s", lp_strerror(rc));
	begin_window(et);
	return rc;
}

static int eng_snapshot(void *ctx, void *handle, profile *p, lp_error *err)
{
	struct eng_target *et = handle;
	if (profile_total_samples(et->p) != 0 && profile_merge(p, et->p, -1) != LP_OK)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	window_meta(et, p);
	return LP_OK;
}

static bool eng_alive(void *ctx, void *handle)
{
	struct eng_target *et = handle;
	return !et->gone;
}

static void eng_figures(void *ctx, void *handle, struct daemon_target_figures *f)
{
	struct eng_target *et = handle;
	const struct sampler_stats *st = sampler_stats(et->s);
	f->samples = st->samples;
	f->missed = st->missed;
	snprintf(f->runtime, sizeof f->runtime, "%s", sampler_describe(et->s));
	snprintf(f->command, sizeof f->command, "%s", target_comm(et->t));
}

static bool eng_covers(void *ctx, void *handle, pid_t pid)
{
	struct eng_target *et = handle;
	if (!et->spec.subprocesses || et->gone)
		return false;
	for (size_t i = 1; i < sampler_nprocs(et->s); i++) {
		struct sampler_proc_view v;
		sampler_proc_at(et->s, i, &v);
		if (v.pid == pid && v.state != 'X')
			return true;
	}
	return false;
}

static void eng_threads_changed(void *ctx, void *handle)
{
	struct eng_target *et = handle;
	sampler_threads_changed(et->s);
}

static void eng_set_rate(void *ctx, void *handle, double hz)
{
	set_period(ctx, handle, hz);
}

static void eng_stop(void *ctx, void *handle)
{
	struct engine *e = ctx;
	struct eng_target *et = handle;
	clock_drop(e, et->clock);
	free_target(et);
}

static int64_t eng_run(void *ctx, uint64_t now)
{
	struct engine *e = ctx;
	int64_t next = -1;
	bool any = false;
	sampler_note_wake(now);
	/* a wake-up takes every clock due within a quarter of its period:
	 * early by no more than the jitter already moves a tick, and the
	 * grid keeps the mean rate */
	for (size_t i = 0; i < e->nclocks; i++) {
		struct eng_clock *c = &e->clocks[i];
		c->fires = c->users && schedule_due(&c->sched, now, c->sched.period_ns / 4);
		if (c->fires) {
			c->late = schedule_late(&c->sched, now);
			any = true;
		}
	}
	for (size_t i = 0; any && i < e->n; i++) {
		struct eng_target *et = e->v[i];
		if (et->gone || !e->clocks[et->clock].fires)
			continue;
		lp_error err = { 0 };
		uint64_t cpu0 = et->warm ? 0 : clock_ns(CLOCK_THREAD_CPUTIME_ID);
		uint64_t samples0 = et->warm ? 0 : sampler_stats(et->s)->samples;
		int rc = sampler_tick(et->s, e->clocks[et->clock].late, NULL, NULL, &err);
		if (!et->warm) {
			e->attach_cpu_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
			et->warm = ++et->warm_ticks >= WARM_TICKS ||
				   sampler_stats(et->s)->samples > samples0;
		}
		if (rc == LP_ENOPROC)
			et->gone = true;
		else if (rc != LP_OK)
			daemon_log(DAEMON_LOG_WARN, "%s", err.msg);
	}
	if (any)
		now = daemon_now_ns();
	for (size_t i = 0; i < e->nclocks; i++) {
		struct eng_clock *c = &e->clocks[i];
		if (!c->users)
			continue;
		if (c->fires)
			schedule_step(&c->sched, now);
		c->fires = false;
		int64_t left = c->sched.wake_ns > now ? (int64_t)(c->sched.wake_ns - now) : 0;
		if (next < 0 || left < next)
			next = left;
	}
	return next;
}

static uint64_t eng_attach_cpu(void *ctx)
{
	struct engine *e = ctx;
	return e->attach_cpu_ns;
}

static char *eng_dump(void *ctx, void *handle, bool tasks, lp_error *err)
{
	struct engine *e = ctx;
	struct eng_target *et = handle;
	/* a sampler of its own: task mode whatever the target's, and a
	 * snapshot that leaves the window's figures alone */
	target *t = NULL;
	profile *p = NULL;
	sampler *s = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *out = NULL;
	if (target_attach(&t, et->pid, err) != LP_OK)
		return NULL;
	struct sampler_opts so = {
		.rate_hz = 1, .tasks = tasks, .never_pause = true,
		.subprocesses = et->spec.subprocesses, .elf_cache = e->elf,
	};
	if (!(p = profile_new())) {
		lp_error_set(err, LP_ENOMEM, "out of memory");
		goto out;
	}
	if (sampler_new(&s, t, p, &so, err) != LP_OK)
		goto out;
	if (!(out = open_memstream(&text, &len))) {
		lp_error_set(err, LP_ENOMEM, "out of memory");
		goto out;
	}
	int rc = dump_write(out, s, t, p, tasks, false, err);
	if (rc == LP_OK && tasks && sampler_warning(s))
		fprintf(out, "\nwarning: %s\n", sampler_warning(s));
	fclose(out);
	if (rc != LP_OK) {
		free(text);
		text = NULL;
	}
out:
	sampler_free(s);
	profile_free(p);
	target_free(t, false);
	return text;
}

/* ---- the backend ---- */

static int list_start(void *ctx, const struct daemon_target_spec *spec,
		      void **handle, lp_error *err)
{
	struct engine *e = ctx;
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 16;
		struct eng_target **v = realloc(e->v, cap * sizeof *v);
		if (!v)
			return lp_error_set(err, LP_ENOMEM, "out of memory");
		e->v = v;
		e->cap = cap;
	}
	int rc = eng_start(ctx, spec, handle, err);
	if (rc == LP_OK)
		e->v[e->n++] = *handle;
	return rc;
}

static void list_stop(void *ctx, void *handle)
{
	struct engine *e = ctx;
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i] == handle) {
			e->v[i] = e->v[--e->n];
			break;
		}
	eng_stop(ctx, handle);
}

int daemon_engine_backend(struct daemon_backend *be, lp_error *err)
{
	struct engine *e = calloc(1, sizeof *e);
	if (!e)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if (elf_cache_new(&e->elf) != LP_OK) {
		free(e);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	memset(be, 0, sizeof *be);
	e->seed = daemon_now_ns() | 1;
	be->ctx = e;
	be->start = list_start;
	be->flush = eng_flush;
	be->snapshot = eng_snapshot;
	be->alive = eng_alive;
	be->figures = eng_figures;
	be->set_rate = eng_set_rate;
	be->stop = list_stop;
	be->run = eng_run;
	be->dump = eng_dump;
	be->covers = eng_covers;
	be->attach_cpu = eng_attach_cpu;
	be->threads_changed = eng_threads_changed;
	return LP_OK;
}

void daemon_engine_free(struct daemon_backend *be)
{
	struct engine *e = be->ctx;
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		eng_stop(e, e->v[i]);
	profile_free(e->scratch);
	free(e->v);
	free(e->clocks);
	elf_cache_free(e->elf);
	free(e);
	be->ctx = NULL;
}
