#include "loop.h"

#include <stdlib.h>
#include <string.h>

#include "syscalls.h"

struct loop_tracker {
	uint64_t threshold_ns;
	loop_tick_fn fn;
	void *ctx;
	struct loop_thread *th;
	size_t nth;
	size_t hint;
};

loop_tracker *loop_tracker_new(uint64_t threshold_ns, loop_tick_fn fn,
			       void *ctx)
{
	loop_tracker *lt = calloc(1, sizeof *lt);
	if (!lt)
		return NULL;
	lt->th = calloc(LOOP_MAX_THREADS, sizeof *lt->th);
	if (!lt->th) {
		free(lt);
		return NULL;
	}
	lt->threshold_ns = threshold_ns;
	lt->fn = fn;
	lt->ctx = ctx;
	return lt;
}

void loop_tracker_free(loop_tracker *lt)
{
	if (!lt)
		return;
	for (size_t i = 0; i < lt->nth; i++)
		free(lt->th[i].kinds);
	free(lt->th);
	free(lt);
}

static struct loop_thread *thread_for(loop_tracker *lt, pid_t tid)
{
	if (lt->hint < lt->nth && lt->th[lt->hint].tid == tid)
		return &lt->th[lt->hint];
	for (size_t i = 0; i < lt->nth; i++) {
		if (lt->th[i].tid == tid) {
			lt->hint = i;
			return &lt->th[i];
		}
	}
	if (lt->nth >= LOOP_MAX_THREADS)
		return NULL;
	struct loop_thread *t = &lt->th[lt->nth];
	memset(t, 0, sizeof *t);
	t->tid = tid;
	lt->hint = lt->nth++;
	return t;
}

static void stat_add(struct syscall_stat *s, uint64_t ns)
{
	s->count++;
	s->total_ns += ns;
	if (ns > s->max_ns)
		s->max_ns = ns;
}

static void add_kind(struct loop_thread *t, long nr, uint64_t ns)
{
	for (size_t i = 0; i < t->nkinds; i++) {
		if (t->kinds[i].nr == nr) {
			stat_add(&t->kinds[i], ns);
			return;
		}
	}
	if (t->nkinds == t->kinds_cap) {
		size_t nc = t->kinds_cap ? 2 * t->kinds_cap : 16;
		struct syscall_stat *n = realloc(t->kinds, nc * sizeof *n);
		if (!n)
			return;	/* the by-kind table is a summary: skip */
		t->kinds = n;
		t->kinds_cap = nc;
	}
	t->kinds[t->nkinds] = (struct syscall_stat){ .nr = nr };
	stat_add(&t->kinds[t->nkinds++], ns);
}

static void add_period(struct loop_thread *t, long nr, uint64_t ns)
{
	for (size_t i = 0; i < t->nperiod; i++) {
		if (t->period[i].nr == nr) {
			stat_add(&t->period[i], ns);
			return;
		}
	}
	if (t->nperiod < LOOP_PERIOD_SYSCALLS) {
		t->period[t->nperiod] = (struct syscall_stat){ .nr = nr };
		stat_add(&t->period[t->nperiod++], ns);
		return;
	}
	/* Full: the slot of the least time gives way when nr took more. */
	size_t least = 0;
	for (size_t i = 1; i < t->nperiod; i++)
		if (t->period[i].total_ns < t->period[least].total_ns)
			least = i;
	if (ns > t->period[least].total_ns) {
		t->period[least] = (struct syscall_stat){ .nr = nr };
		stat_add(&t->period[least], ns);
	}
}

static int by_time(const void *a, const void *b)
{
	const struct syscall_stat *x = a, *y = b;
	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

static void end_busy(loop_tracker *lt, struct loop_thread *t, uint64_t now)
{
	uint64_t dur = now > t->busy_start ? now - t->busy_start : 0;
	t->busy_ns += dur;
	t->ticks++;
	hist_add(&t->tick_hist, dur);
	bool stall = dur > lt->threshold_ns;
	if (stall)
		t->stalls++;
	qsort(t->period, t->nperiod, sizeof t->period[0], by_time);
	struct loop_tick tick = { t->tid, t->busy_start, dur, stall, t->period,
				  t->nperiod };
	if (lt->fn)
		lt->fn(lt->ctx, &tick);
}

/* A call interrupted by our own sampling (ptrace stops) returns ERESTART*
 * and is re-entered, as the same call or as restart_syscall: it stays one
 * call, timed from its first entry. */
static void on_entry(loop_tracker *lt, struct loop_thread *t,
		     const struct sys_event *e)
{
	if (syscall_waits_for_fds(e->nr, e->args)) {
		if (t->in_poll)
			return;	/* restarted */
		if (t->known)
			end_busy(lt, t, e->time_ns);
		t->in_poll = true;
		t->in_call = false;
		t->poll_enter = e->time_ns;
		return;
	}
	t->last_seen = e->time_ns;
	if (syscall_is_restart(e->nr) && t->in_call)
		return;
	if (t->in_call && t->call_nr == e->nr)
		return;
	t->in_call = true;
	t->call_nr = e->nr;
	t->call_start = e->time_ns;
}

static void on_leave(struct loop_thread *t, const struct sys_event *e)
{
	if (syscall_ret_restarts(e->ret)) {
		/* Interrupted, to be restarted: still the same call (whose
		 * entry may not have been seen), whatever it is called when
		 * it goes on (restart_syscall). */
		if (t->known && !t->in_poll && !t->in_call && !syscall_is_poll(e->nr)) {
			t->in_call = true;
			t->call_nr = e->nr;
			t->call_start = t->last_seen;
		}
		return;
	}
	/* A poll's return, also the first one seen when tracing started
	 * while the thread was waiting (no entry seen: the arguments are not
	 * known, the call taken for a wait). */
	if ((t->in_poll && (syscall_is_poll(e->nr) || syscall_is_restart(e->nr))) ||
	    (!t->known && !t->in_call && syscall_is_poll(e->nr))) {
		if (t->in_poll && t->known)
			t->idle_ns += e->time_ns - t->poll_enter;
		t->in_poll = false;
		t->known = true;
		t->polls++;
		t->busy_start = t->last_seen = e->time_ns;
		t->nperiod = 0;
		return;
	}
	/* a poll call that did not wait for fds (a sleep) was entered as a
	 * call; any other poll exit here is one whose entry was missed */
	if (!t->known || t->in_poll ||
	    (syscall_is_poll(e->nr) && !(t->in_call && t->call_nr == e->nr)))
		return;
	/* An exit whose entry was not seen: the syscalls of a busy thread
	 * are followed only from some time into the busy period
	 * (perf_sys_detail), so the call was in progress then.  It started
	 * after the last event seen: timed from there, at most that long. */
	uint64_t start = t->in_call ? t->call_start : t->last_seen;
	long nr = t->in_call ? t->call_nr : e->nr;
	t->in_call = false;
	t->last_seen = e->time_ns;
	if (e->time_ns < start)
		return;
	uint64_t ns = e->time_ns - start;
	t->call_nr = nr;
	add_period(t, t->call_nr, ns);
	add_kind(t, t->call_nr, ns);
}

static void lost_all(loop_tracker *lt)
{
	for (size_t i = 0; i < lt->nth; i++) {
		struct loop_thread *t = &lt->th[i];
		t->known = t->in_poll = t->in_call = false;
		t->nperiod = 0;
	}
}

void loop_event(loop_tracker *lt, const struct sys_event *e)
{
	if (e->kind == SYS_LOST && e->tid == 0) {
		lost_all(lt);
		return;
	}
	struct loop_thread *t = thread_for(lt, e->tid);
	if (!t)
		return;
	if (e->time_ns < t->last_event)
		t->late++;
	else
		t->last_event = e->time_ns;
	switch (e->kind) {
	case SYS_ENTER:
		on_entry(lt, t, e);
		break;
	case SYS_EXIT:
		on_leave(t, e);
		break;
	case SYS_LOST:
		/* Start over at the next poll return. */
		t->known = t->in_poll = t->in_call = false;
		t->nperiod = 0;
		break;
	}
}

void loop_finish(loop_tracker *lt, uint64_t now_ns)
{
	for (size_t i = 0; i < lt->nth; i++) {
		struct loop_thread *t = &lt->th[i];
		if (!t->known)
			continue;
		if (t->in_poll && now_ns > t->poll_enter)
			t->idle_ns += now_ns - t->poll_enter;
		else if (!t->in_poll && now_ns > t->busy_start)
			t->busy_ns += now_ns - t->busy_start;
		t->known = false;
	}
}

size_t loop_nthreads(const loop_tracker *lt)
{
	return lt->nth;
}

const struct loop_thread *loop_thread_at(const loop_tracker *lt, size_t i)
{
	return i < lt->nth ? &lt->th[i] : NULL;
}

const struct loop_thread *loop_find(const loop_tracker *lt, pid_t tid)
{
	for (size_t i = 0; i < lt->nth; i++)
		if (lt->th[i].tid == tid)
			return &lt->th[i];
	return NULL;
}

bool loop_is_loop(const struct loop_thread *th)
{
	return th->polls >= LOOP_MIN_POLLS;
}

uint64_t loop_busy_for(const struct loop_thread *th, uint64_t now_ns)
{
	if (!th->known || th->in_poll || now_ns < th->busy_start)
		return 0;
	return now_ns - th->busy_start;
}
