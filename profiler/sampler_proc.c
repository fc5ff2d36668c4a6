/* The work on one process: its readers (CPython, native unwinding, perf
 * events), frame caches, the stack merge, thread states and CPU time, and
 * one tick of every thread.  Knows nothing of the process tree or of the
 * timing loop, which drive it (sampler_tree.c, sampler.c). */
#include "clock.h"
#include "pages.h"
#include "sampler_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often the thread list and the maps are re-read: new threads show up
 * within this, and it keeps getdents off most ticks. */
#define THREAD_REFRESH_NS 100000000ull
/* The task directory is listed only when its link count says the number
 * of threads changed, and at least this often (a thread replaced by
 * another in between is seen within it): one fstat a refresh, not a
 * listing and a read of the process's stat. */
#define THREAD_FULL_NS 1000000000ull
/* With thread events (sampler_opts.thread_events), the thread list is
 * read when an event says it changed, and this often all the same: the
 * 100 ms fstat and the second's listing and stat read cost the daemon
 * 2.4 us of its 17 us a sample on 8 busy services. */
#define THREAD_EVENTS_FULL_NS 10000000000ull
/* Python's thread names are looked up again at least this often.  A
 * lookup reads sys.modules key by key to find threading (some 260 reads,
 * 0.7 ms): the daemon (never_pause), whose idle targets' stacks are read
 * once every few seconds, made one at nearly every such read, 0.5% of a
 * core for 64 services; it looks again when the thread set changes, and
 * otherwise once a minute (a thread renamed in place). */
#define NAMES_REFRESH_NS 5000000000ull
#define NAMES_REFRESH_DAEMON_NS 60000000000ull
#define MAPS_REFRESH_NS 1000000000ull
/* How old a thread's state and CPU time may be when the mode does not need
 * them fresh (wall, gil): reading them costs two system calls per thread,
 * more than the rest of a Python sample, so at high rates they are read at
 * this period, not every tick.  cpu mode reads them every tick. */
#define STATE_MAX_AGE_NS 10000000ull
/* States told by the process clock alone (infer_states): a /proc reading
 * at least this often all the same. */
#define INFER_MAX_AGE_NS 1000000000ull
/* How far the kernel's count of a running thread's CPU time may lag: it is
 * brought up to date at switches and at the scheduler's tick (CONFIG_HZ
 * 100 at the least), so two readings may differ by the time between them
 * plus this. */
#define SWITCH_LAG_NS 10000000ull
/* Time between the reading of the states and of the Python stacks past
 * which a thread charged CPU is checked for having gone to sleep in it
 * (slept_since_state): some 2% of a 2 ms burst's end. */
#define RECHECK_AFTER_NS 40000ull
/* A descendant found native is checked again for an interpreter for this
 * long after it appeared, every DETECT_RETRY_NS: caught between fork and
 * exec, or before the loader mapped libpython, it does not look like
 * CPython yet. */
#define DETECT_WINDOW_NS 2000000000ull
#define DETECT_RETRY_NS 100000000ull

static uint64_t mono_ns(void)
{
	return clock_mono_ns();
}

uint64_t sampler_mono_ns(void)
{
	return clock_mono_ns();
}

static size_t cache_slot(uint64_t addr, int32_t line)
{
	uint64_t h = (addr ^ ((uint64_t)(uint32_t)line << 32)) * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 52) & (FRAME_CACHE_SIZE - 1);
}

/* Names of the C functions that run Python frames: each is replaced by the
 * Python frames it was running when merging (py-spy does the same). */
static bool is_eval_function(const char *name)
{
	return name && (strcmp(name, "_PyEval_EvalFrameDefault") == 0 ||
			strcmp(name, "PyEval_EvalFrameEx") == 0);
}

static uint32_t python_frame_id(struct sproc *s, const struct py_frame *f)
{
	struct frame_cache_entry *e = &s->pycache[cache_slot(f->code_addr, f->line)];
	if (e->used && e->addr == f->code_addr && e->line == f->line &&
	    e->tag == f->func && e->file == f->file)
		return e->frame;
	struct frame fr = {
		.kind = FRAME_PYTHON,
		.func = profile_intern_cstr(s->p, f->func ? f->func : "<unknown>"),
		/* No file: a marker frame ("[N frames omitted]"). */
		.file = f->file ? profile_intern_cstr(s->p, f->file) : 0,
		.line = f->line,
	};
	if (fr.func == PROFILE_NOID || fr.file == PROFILE_NOID)
		return PROFILE_NOID;
	uint32_t id = profile_intern_frame(s->p, &fr);
	if (id != PROFILE_NOID)
		*e = (struct frame_cache_entry){ f->code_addr, f->func,
						 f->file, f->line, id, false,
						 true };
	return id;
}

static uint32_t native_frame_id(struct sproc *s, uint64_t ip, bool *is_eval)
{
	const void *gen = (const void *)s->maps_gen;
	struct frame_cache_entry *e = &s->ncache[cache_slot(ip, 0)];
	if (e->used && e->addr == ip && e->tag == gen) {
		*is_eval = e->is_eval;
		return e->frame;
	}
	struct symbol_info si;
	char buf[MAX_PATH_LEN + 32];
	const char *name;
	const char *module = "[unknown]";
	if (symbolizer_lookup(s->syms, target_maps(s->t), ip, &si) == LP_OK) {
		module = si.module ? si.module : "[unknown]";
		if (si.func) {
			name = si.func;
		} else {
			snprintf(buf, sizeof buf, "%s+0x%llx", module,
				 (unsigned long long)si.module_offset);
			name = buf;
		}
	} else {
		snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)ip);
		name = buf;
	}
	struct frame fr = {
		.kind = FRAME_NATIVE,
		.func = profile_intern_cstr(s->p, name),
		.module = profile_intern_cstr(s->p, module),
	};
	if (fr.func == PROFILE_NOID || fr.module == PROFILE_NOID)
		return PROFILE_NOID;
	uint32_t id = profile_intern_frame(s->p, &fr);
	*is_eval = is_eval_function(name) || (ip >= s->eval_lo && ip < s->eval_hi);
	if (id != PROFILE_NOID)
		*e = (struct frame_cache_entry){ ip, gen, NULL, 0, id, *is_eval, true };
	return id;
}

/* Native frames of a thread, leaf first, into s->nframes / s->neval.  The
 * thread is paused here unless the whole process already is. */
static size_t native_stack(struct sproc *s, struct target_thread *th, bool *trunc)
{
	size_t n = 0;
	bool paused_here = false;
	if (!th->stopped) {
		if (target_thread_pause(s->t, th) != LP_OK)
			return 0;
		paused_here = true;
	}
	int rc = unwind_thread(s->unw, th, s->ips, MAX_STACK_DEPTH, &n, trunc);
	if (paused_here)
		target_thread_resume(s->t, th);
	if (rc != LP_OK && n == 0)
		return 0;
	memcpy(s->sps, unwind_last_sps(s->unw), n * sizeof s->sps[0]);
	for (size_t i = 0; i < n; i++) {
		/* A return address points after the call: look up the call
		 * itself, or a call at a function's end names the next one. */
		uint64_t ip = i == 0 ? s->ips[i] : s->ips[i] - 1;
		s->nframes[i] = native_frame_id(s, ip, &s->neval[i]);
		if (s->nframes[i] == PROFILE_NOID)
			return 0;
	}
	return n;
}

static size_t python_stack(struct sproc *s, const struct py_thread *pt)
{
	size_t out = 0;
	for (size_t i = 0; i < pt->nframes && out < 2 * MAX_STACK_DEPTH; i++) {
		uint32_t id = python_frame_id(s, &pt->frames[i]);
		if (id == PROFILE_NOID)
			return 0;
		s->leaf_first[out++] = id;
	}
	return out;
}

/* The C-stack address that ties the Python group starting at index pi to
 * its eval-loop call (py_frame.cstack of the group's entry frame), or 0. */
static uint64_t group_cstack(const struct py_thread *pt, size_t pi)
{
	for (size_t k = pi; k < pt->nframes; k++)
		if (pt->frames[k].entry)
			return pt->frames[k].cstack;
	return 0;
}

/* Whether native frame j runs the next Python group: its stack frame holds
 * the group's C-stack shim when that is known (3.12+), else the frame is a
 * function known as the eval loop by name or address.  The last frame of
 * an unwind has no caller to bound its stack frame: every shim above its
 * sp would seem to be in it, so it must be the eval loop as well (else an
 * unwind that stopped short put the outer groups in place of whatever
 * frame it stopped at, as a whole stack). */
static bool runs_group(const struct sproc *s, size_t j, size_t nnat, uint64_t cst)
{
	if (!cst)
		return s->neval[j];
	if (j + 1 == nnat)
		return s->neval[j] && s->sps[j] <= cst;
	return s->sps[j] <= cst && cst < s->sps[j + 1];
}

/* Replaces each eval-loop native frame by the Python frames it ran: from
 * the leaf, a group ends at a frame marked entry.  Falls back to the Python
 * frames alone when the two stacks do not line up. */
size_t sproc_merge_stacks(struct sproc *s, size_t nnat,
			  const struct py_thread *pt, bool *trunc)
{
	size_t out = 0, pi = 0, evals = 0;
	for (size_t j = 0; j < nnat && out < 2 * MAX_STACK_DEPTH; j++) {
		if (!pt || pi >= pt->nframes ||
		    !runs_group(s, j, nnat, group_cstack(pt, pi))) {
			s->leaf_first[out++] = s->nframes[j];
			continue;
		}
		evals++;
		while (pi < pt->nframes && out < 2 * MAX_STACK_DEPTH) {
			uint32_t id = python_frame_id(s, &pt->frames[pi]);
			if (id == PROFILE_NOID)
				return 0;
			s->leaf_first[out++] = id;
			if (pt->frames[pi++].entry)
				break;
		}
	}
	if (pt && pt->nframes && (evals == 0 || pi < pt->nframes)) {
		/* Python frames left over: the native unwind stopped short
		 * of them.  The Python stack alone is the truer picture. */
		out = python_stack(s, pt);
		*trunc = true;
	}
	return out;
}

/* Python threads by OS tid, rebuilt every tick: an open-addressing table
 * whose slots carry the tick's generation, so it is never cleared. */
static size_t tid_hash(pid_t tid)
{
	return (size_t)(((uint32_t)tid * 0x9e3779b1u) >> (32 - TID_INDEX_BITS));
}

static void index_py_threads(struct sproc *s, const struct py_thread *pts, size_t n)
{
	if (++s->tid_gen == 0) {	/* wrapped: stale slots would match */
		memset(s->tid_index, 0, sizeof s->tid_index);
		s->tid_gen = 1;
	}
	for (size_t i = 0; i < n && i < MAX_THREADS; i++) {
		size_t h = tid_hash(pts[i].tid);
		while (s->tid_index[h].gen == s->tid_gen)
			h = (h + 1) & (TID_INDEX_SIZE - 1);
		s->tid_index[h] = (struct tid_slot){ s->tid_gen, pts[i].tid,
						     (uint32_t)i };
	}
}

static const struct py_thread *find_py_thread(const struct sproc *s,
					      const struct py_thread *pts,
					      pid_t tid)
{
	size_t h = tid_hash(tid);
	for (size_t k = 0; k < TID_INDEX_SIZE && s->tid_index[h].gen == s->tid_gen;
	     k++, h = (h + 1) & (TID_INDEX_SIZE - 1))
		if (s->tid_index[h].tid == tid)
			return &pts[s->tid_index[h].i];
	return NULL;
}

/* Python's name of thread tid (threading), NULL when not known. */
static const char *py_name_of(const struct sproc *s, pid_t tid)
{
	for (size_t i = 0; i < s->npynames; i++)
		if (s->pynames[i].tid == tid)
			return s->pynames[i].name;
	return NULL;
}

/* The thread's name for the profile (top's rows, --threads roots): the
 * Python name, with the OS name beside it where that is not the Python
 * name cut to 15 bytes ("MainThread [python3.12]"). */
static const char *thread_label(const struct sproc *s,
				const struct target_thread *th, char *buf,
				size_t len)
{
	const char *py = py_name_of(s, th->tid);
	if (!py || !*py)
		return th->name;
	if (strncmp(py, th->name, strlen(th->name)) == 0)
		return py;
	snprintf(buf, len, "%s [%s]", py, th->name);
	return buf;
}

static void label_threads(struct sproc *s)
{
	char buf[96];
	for (size_t i = 0; i < target_nthreads(s->t); i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		profile_set_thread(s->p, target_pid(s->t), th->tid,
				   thread_label(s, th, buf, sizeof buf));
	}
}

/* The names threading gives the threads pts (names_due): kept until the
 * next lookup; a lookup that fails keeps the OS names. */
static void lookup_names(struct sproc *s, const struct py_thread *pts,
			 size_t n, uint64_t now)
{
	s->names_due = false;
	s->names_next_ns = now + (s->o.never_pause ? NAMES_REFRESH_DAEMON_NS :
						   NAMES_REFRESH_NS);
	if (!s->pynames &&
	    !(s->pynames = pages_zalloc(MAX_PY_NAMED_THREADS * sizeof *s->pynames)))
		return;
	lp_error err = { 0 };
	size_t got = 0;
	if (py_proc_thread_names(s->py, pts, n, s->pynames, &got, &err) != LP_OK)
		got = 0;
	s->npynames = got;
	label_threads(s);
}

int sproc_refresh(struct sproc *s, uint64_t now, bool force)
{
	size_t ntask;
	bool by_events = s->o.thread_events;
	if (!force && !by_events && now >= s->next_threads_ns &&
	    now < s->threads_full_ns &&
	    target_task_count(s->t, &ntask) == LP_OK &&
	    ntask == target_nthreads(s->t)) {
		/* the same number of threads: nothing to list (an exited
		 * process reads 0, and its threads' reads fail) */
		s->next_threads_ns = now + THREAD_REFRESH_NS;
	} else if (force || now >= s->next_threads_ns) {
		s->threads_full_ns = now + THREAD_FULL_NS;
		if (!target_alive(s->t))
			return LP_ENOPROC;
		int rc = target_refresh_threads(s->t);
		if (rc != LP_OK)
			return rc;
		label_threads(s);
		/* the thread set, as a hash of its TIDs: a thread replaced
		 * by another is a change too */
		uint64_t set = target_nthreads(s->t);
		for (size_t i = 0; i < target_nthreads(s->t); i++)
			set = set * 0x100000001b3ull ^
			      (uint64_t)target_thread_at(s->t, i)->tid;
		if (s->py && (force || now >= s->names_next_ns ||
			      set != s->names_set)) {
			s->names_due = true;
			s->names_set = set;
		}
		if (s->oncpu)
			oncpu_sync(s->oncpu);
		if (target_nthreads(s->t) > s->st.max_threads)
			s->st.max_threads = target_nthreads(s->t);
		s->next_threads_ns = now + (by_events ? THREAD_EVENTS_FULL_NS :
							THREAD_REFRESH_NS);
	}
	if (s->unw && (force || now >= s->next_maps_ns)) {
		if (target_refresh_maps(s->t) == LP_OK) {
			symbolizer_maps_changed(s->syms);
			unwinder_maps_changed(s->unw);
			s->maps_gen++;
		}
		s->next_maps_ns = now + MAPS_REFRESH_NS;
	}
	return LP_OK;
}

/* A new reading of the thread's CPU time: returns what it used since the
 * last one.  Never backwards: an inferred advance (infer_states) may be
 * ahead of schedstat, which lags a running thread by up to a scheduler
 * tick; the lag is not counted twice. */
static uint64_t cpu_advance(struct target_thread *th, uint64_t cpu, uint64_t now)
{
	uint64_t d = th->cpu_at && cpu > th->cpu_ns ? cpu - th->cpu_ns : 0;
	if (!th->cpu_at || cpu > th->cpu_ns)
		th->cpu_ns = cpu;
	th->cpu_at = now;
	return d;
}

/* A thread read as ended.  With thread events, its exit event may have
 * come before the kernel took it out of task/: the list is read again
 * soon, not in THREAD_EVENTS_FULL_NS (a main thread left a zombie by
 * pthread_exit: at most every THREAD_REFRESH_NS). */
static void thread_gone(struct sproc *s, uint64_t now)
{
	if (s->o.thread_events && s->next_threads_ns > now + THREAD_REFRESH_NS)
		s->next_threads_ns = now + THREAD_REFRESH_NS;
}

/* Reads one thread's state and CPU time; false when it has ended. */
static bool read_state(struct sproc *s, struct target_thread *th, size_t i,
		       uint64_t now, bool cpu_now)
{
	uint64_t cpu = 0;
	/* The CPU time is a sum that a later reading still gets right:
	 * at most every STATE_MAX_AGE_NS, even when the state (cpu mode)
	 * is read every tick, unless the caller needs it now. */
	bool want_cpu = cpu_now || !th->cpu_at ||
			now - th->cpu_at >= STATE_MAX_AGE_NS;
	s->state[i] = 0;
	bool running;
	if (!want_cpu && th->state && s->o.skip_idle) {
		/* cpu mode between two full readings: only whether it
		 * runs, from wchan (1.1 us against 3.5 us for stat). */
		int rc = target_thread_running(s->t, th, &running);
		if (rc == LP_ENOPROC) {
			th->state = 0;
			thread_gone(s, now);
			return false;
		}
		if (rc == LP_OK) {
			th->state = running ? 'R' : th->state != 'R' ? th->state : 'S';
			s->state[i] = th->state;
			th->state_ns = now;
			return true;
		}
	}
	if (target_thread_state(s->t, th, &s->state[i],
				want_cpu ? &cpu : NULL) != LP_OK ||
	    s->state[i] == 'Z' || s->state[i] == 'X') {
		s->state[i] = th->state = 0;	/* ended since the refresh */
		thread_gone(s, now);
		return false;
	}
	th->state = s->state[i];
	th->state_ns = now;
	th->read_ns = now;
	if (want_cpu)
		s->cpu_delta[i] = cpu_advance(th, cpu, now);
	return true;
}

/* Whether the process clock alone tells every thread's state since the
 * last pass, which read or decided them all at s->pcpu_at: the threads
 * that were running used, between them, all the CPU the process used and
 * all the time that passed (each can use no more), so they ran throughout
 * and the others did not run.  To within the slack of the clocks: a
 * thread that stopped in the last 2% of the interval still reads as
 * running.  Then nothing is read from /proc (one to three reads a running
 * thread, 5-10 us each with cold caches at 100 Hz and below); a reading is
 * still taken once a second.  The running threads are credited the time
 * that passed. */
static bool infer_states(struct sproc *s, uint64_t now, uint64_t pcpu)
{
	size_t nth = target_nthreads(s->t), runners = 0;
	if (!s->pcpu_at || pcpu < s->pcpu_ns || now <= s->pcpu_at)
		return false;
	for (size_t i = 0; i < nth; i++) {
		const struct target_thread *th = target_thread_at(s->t, i);
		if (!th->state || th->state_ns != s->pcpu_at ||
		    now - th->read_ns >= INFER_MAX_AGE_NS)
			return false;
		runners += th->state == 'R';
	}
	uint64_t elapsed = now - s->pcpu_at, used = pcpu - s->pcpu_ns;
	uint64_t slack = 20000 + elapsed / 50, ran = runners * elapsed;
	if (!runners || used + slack < ran || used > ran + slack)
		return false;
	for (size_t i = 0; i < nth; i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		s->state[i] = th->state;
		th->state_ns = now;
		if (th->state == 'R') {
			s->cpu_delta[i] = elapsed;
			th->cpu_ns += elapsed;
			th->cpu_at = now;
		}
	}
	return true;
}

/* States told by the kernel's switch records (oncpu.h), read from memory:
 * a thread with no switch since the last pass has kept its state and, if
 * that is not running, used no CPU; when at most one thread ran since the
 * last pass, what the process clock says the process used meanwhile is
 * that thread's (the kernel's count schedstat gives too, one clock_gettime
 * where /proc costs a read of stat and schedstat a thread, 5-15 us each
 * with cold caches at 100 Hz).  Two or more that ran: /proc.  A /proc
 * reading is still taken at least every INFER_MAX_AGE_NS, and a process
 * that used more than one thread's worth (a thread not listed yet) is read
 * from /proc too.  Nothing ran: not even the clock is read. */
static bool switch_states(struct sproc *s, uint64_t now)
{
	size_t nth = target_nthreads(s->t), runners = 0, runner = 0;
	if (!s->pcpu_at || now <= s->pcpu_at || !nth)
		return false;
	oncpu_catch_up(s->oncpu, now);
	for (size_t i = 0; i < nth; i++) {
		const struct target_thread *th = target_thread_at(s->t, i);
		enum oncpu_state st;
		uint64_t since;
		if (!th->state || now - th->read_ns >= INFER_MAX_AGE_NS ||
		    !oncpu_last(s->oncpu, i, th->tid, &st, &since))
			return false;
		bool ran;
		if (st == ONCPU_UNKNOWN) {
			/* no switch since its event was opened: as /proc
			 * said after that */
			if (th->read_ns < since)
				return false;
			s->state[i] = th->state;
			ran = th->state == 'R';
		} else {
			s->state[i] = st != ONCPU_OFF ? 'R' :
				      th->state != 'R' ? th->state : 'S';
			ran = st != ONCPU_OFF || since > s->pcpu_at;
		}
		if (ran) {
			runners++;
			runner = i;
		}
	}
	uint64_t pcpu = s->pcpu_ns;
	if (runners > 1 ||
	    (runners && (target_cpu_ns(s->t, &pcpu) != LP_OK ||
			 pcpu < s->pcpu_ns ||
			 pcpu - s->pcpu_ns > now - s->pcpu_at + SWITCH_LAG_NS)))
		return false;
	for (size_t i = 0; i < nth; i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		th->state = s->state[i];
		th->state_ns = now;
		s->cpu_delta[i] = 0;
	}
	if (runners) {
		struct target_thread *th = target_thread_at(s->t, runner);
		s->cpu_delta[runner] = pcpu - s->pcpu_ns;
		th->cpu_ns += s->cpu_delta[runner];
		th->cpu_at = now;
		s->pcpu_ns = pcpu;
		s->pcpu_at = now;
	}
	return true;
}

/* The state and CPU time of every thread, into s->state / s->cpu_delta;
 * returns how many threads are alive.  A /proc read costs 1-3 us per
 * thread and file, the process's CPU clock 0.7 us for all of them: a
 * thread that was not running at the last reading is read again only when
 * the process used more CPU since then than the threads read now account
 * for; otherwise it has not run and its state stands.  fresh: read all. */
static size_t read_states(struct sproc *s, uint64_t now, bool fresh)
{
	size_t nth = target_nthreads(s->t), alive = 0;
	bool due = false;
	if (s->oncpu && !fresh && switch_states(s, now)) {
		for (size_t i = 0; i < nth; i++)
			alive += s->state[i] != 0;
		return alive;
	}
	for (size_t i = 0; i < nth; i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		s->cpu_delta[i] = 0;
		s->state[i] = th->state;
		if (!th->state || fresh || s->o.skip_idle ||
		    now - th->state_ns >= STATE_MAX_AGE_NS) {
			s->state[i] = 0;
			due = true;
		} else {
			alive++;
		}
	}
	if (!due)
		return alive;
	/* The process clock helps only when a thread may be left unread. */
	bool sleepers = false, runners = false;
	for (size_t i = 0; i < nth && !fresh; i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		sleepers |= !s->state[i] && th->state && th->state != 'R';
		runners |= !s->state[i] && th->state == 'R';
	}
	uint64_t pcpu = 0, accounted = 0;
	bool have_pcpu = (sleepers || runners) && target_cpu_ns(s->t, &pcpu) == LP_OK;
	if (have_pcpu && infer_states(s, now, pcpu)) {
		s->pcpu_ns = pcpu;
		s->pcpu_at = now;
		return nth;
	}
	/* Whether every thread's last reading was the last pass's. */
	bool in_step = have_pcpu && s->pcpu_at && pcpu >= s->pcpu_ns;
	size_t deferred = 0;
	for (size_t i = 0; i < nth; i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		if (s->state[i])
			continue;
		if (th->state_ns != s->pcpu_at)
			in_step = false;
		if (!fresh && th->state && th->state != 'R') {
			deferred++;	/* decided below */
			continue;
		}
		if (!read_state(s, th, i, now, have_pcpu))
			continue;
		alive++;
		accounted += s->cpu_delta[i];
	}
	if (deferred) {
		/* Slack for the clocks' granularity and the reads' skew. */
		uint64_t slack = 20000 + (now - s->pcpu_at) / 50;
		bool idle = in_step && pcpu - s->pcpu_ns <= accounted + slack;
		for (size_t i = 0; i < nth; i++) {
			struct target_thread *th = target_thread_at(s->t, i);
			if (s->state[i] || !th->state || th->state == 'R' ||
			    th->state_ns == now)
				continue;
			if (idle) {
				s->state[i] = th->state;
				th->state_ns = now;
				alive++;
			} else if (read_state(s, th, i, now, true)) {
				alive++;
			}
		}
	}
	s->pcpu_ns = have_pcpu ? pcpu : 0;
	s->pcpu_at = have_pcpu ? now : 0;
	return alive;
}

/* The CPU time of every thread that may have run since its last reading
 * (state R: running, or waiting for a CPU) and was not read or inferred
 * by read_states this tick: schedstat, one pread.  What each thread used
 * goes to its credit, which its samples are charged from (charge). */
static void read_cpu(struct sproc *s, uint64_t now)
{
	size_t nth = target_nthreads(s->t);
	for (size_t i = 0; i < nth; i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		if (!s->state[i])
			continue;
		uint64_t cpu;
		if (s->state[i] == 'R' && th->cpu_at != now &&
		    (s->o.cpu_each_tick || s->tasks ||
		     now - th->cpu_at >= STATE_MAX_AGE_NS) &&
		    target_thread_cpu_ns(s->t, th, &cpu) == LP_OK)
			s->cpu_delta[i] = cpu_advance(th, cpu, now);
		th->credit_ns += s->cpu_delta[i];
	}
}

/* A thread preempted and waiting for its CPU back sits where it was
 * preempted, and the kernel preempts at a system call's return far more
 * often than the time spent there (a spent time slice or a woken task is
 * acted on there): split.py beside three busy processes on its CPU had
 * 21-29% of its CPU samples in work()'s own clock calls, which take 2% of
 * its CPU.  So its charge waits for a tick that finds it on a CPU, unless
 * it was preempted at the wake-up of this tick (within
 * PREEMPTED_AT_TICK_NS of it): then the sampler took its CPU, at an
 * instant that owes nothing to its code, and on a CPU it shares with the
 * sampler that is the only way it is ever seen.  The window is narrow:
 * at 1 kHz, 500 us still let 13% of the samples land in those clock
 * calls; 50 us, 2.3%. */
#define PREEMPTED_AT_TICK_NS 50000ull
/* A daemon's wake-up takes many targets' ticks in turn: the window is
 * counted from the wake-up (sampler_note_wake) when it is this recent. */
#define WAKE_ROUND_NS 2000000ull
static _Thread_local uint64_t woken_ns;

void sampler_note_wake(uint64_t now_ns)
{
	woken_ns = now_ns;
}

/* Whether thread i's last switch was a preemption before the wake-up of
 * the tick at tick_ns (see above): it is waiting for its CPU where the
 * kernel preempted it. */
static bool preempted_before_wake(const struct sproc *s, size_t i, pid_t tid,
				  uint64_t tick_ns)
{
	enum oncpu_state last;
	uint64_t since;
	uint64_t woke = woken_ns && woken_ns <= tick_ns &&
					tick_ns - woken_ns <= WAKE_ROUND_NS ?
				woken_ns : tick_ns;
	return oncpu_last(s->oncpu, i, tid, &last, &since) &&
	       last == ONCPU_PREEMPTED && since + PREEMPTED_AT_TICK_NS < woke;
}

/* The states and CPU time of every thread (into s->state, s->cpu_delta,
 * and each thread's credit, as read_states and read_cpu give them) from
 * the switch records (sampler_opts.cpu_from_switches): what each thread
 * used since the last tick is the sum of its runs between its switches,
 * read from memory, and its state the last switch's; a thread that did
 * not switch since ran throughout or slept throughout, as it was.  Two
 * /proc reads (stat, schedstat) only for a thread they do not tell: new,
 * records lost, or not switched since it was first seen; its state then
 * seeds the records' (asleep: off; running without a switch: on).
 * Returns how many threads are alive. */
static size_t read_states_switches(struct sproc *s, uint64_t now)
{
	size_t nth = target_nthreads(s->t), alive = 0;
	oncpu_cut(s->oncpu, now);
	for (size_t i = 0; i < nth; i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		uint64_t used;
		enum oncpu_state on;
		s->cpu_delta[i] = 0;
		s->state[i] = 0;
		s->waiting[i] = false;
		if (th->state && oncpu_cut_of(s->oncpu, i, th->tid, &used, &on)) {
			s->waiting[i] = on == ONCPU_PREEMPTED &&
					preempted_before_wake(s, i, th->tid, now);
			/* asleep keeps the letter /proc gave (S, D, ...) */
			s->state[i] = on != ONCPU_OFF ? 'R' :
				      th->state != 'R' ? th->state : 'S';
			s->cpu_delta[i] = used;
			/* schedstat's base follows, should /proc be read
			 * again (records lost) */
			th->cpu_ns += used;
			th->cpu_at = now;
			th->state = s->state[i];
			th->state_ns = now;
		} else {
			bool known = th->cpu_at != 0;
			if (!read_state(s, th, i, now, true))
				continue;
			if (s->state[i] != 'R')
				oncpu_seed(s->oncpu, i, th->tid, ONCPU_OFF);
			else if (known && s->cpu_delta[i])
				oncpu_seed(s->oncpu, i, th->tid, ONCPU_ON);
		}
		th->credit_ns += s->cpu_delta[i];
		alive++;
	}
	return alive;
}

/* Whether a thread charged CPU went to sleep between the reading of its
 * state and the reading of its stack (Python stacks read without a pause:
 * the two are not one instant): the stack is then the call it sleeps in,
 * not code that ran.  The end of every burst of work risks it in
 * proportion to the time between the two reads, which is a few us unless
 * we were kept waiting for a CPU in between, as on a busy machine: only
 * then (check) is wchan read again, about 1 us a charged sample. */
static bool slept_since_state(struct sproc *s, struct target_thread *th,
			      bool check)
{
	bool running;
	return check &&
	       target_thread_running(s->t, th, &running) == LP_OK && !running;
}

/* Whether a thread charged CPU was not running code when its stack was
 * read: the kernel's switch records say so where they were had
 * (oncpu.h): asleep, or woken and waiting for a CPU inside the call it
 * slept in, or it went to sleep or woke up during the read, or preempted
 * before the tick's wake-up (preempted_before_wake).  Else
 * slept_since_state. */
static bool off_cpu(struct sproc *s, struct target_thread *th, size_t i,
		    uint64_t tick_ns, bool check)
{
	enum oncpu_state on = s->oncpu ? oncpu_state_of(s->oncpu, i, th->tid) :
					 ONCPU_UNKNOWN;
	if (on == ONCPU_PREEMPTED)
		return preempted_before_wake(s, i, th->tid, tick_ns);
	if (on != ONCPU_UNKNOWN)
		return on == ONCPU_OFF;
	return slept_since_state(s, th, check);
}

/* The CPU periods a sample of a thread seen in state R is charged: one
 * period of the CPU time it used since its last charge (the kernel's
 * count), the rest carried to its next samples, so that CPU samples over
 * a recording are rate x CPU seconds however the thread shares its CPU
 * (a thread preempted two thirds of the time is charged a third of the
 * ticks, where its state R would count all).  One a tick, because the
 * kernel's count of a running thread moves only at its scheduler tick
 * (4 ms at HZ=250): charged whole at the first tick after, every sample
 * stood at a fixed place after a scheduler tick, a stroboscope of the
 * thread's CPU time, and split.py beside busy processes read 0.94 for a
 * true 0.75 when its loop fitted the 4 ms (CI, fifteenth session).
 * Credit beyond CREDIT_LAG_NS is charged at once: a thread seldom seen
 * running still gets all its CPU.  A thread that ran and then slept keeps
 * its credit for a sample that finds it running again: its stack then is
 * the code that uses the CPU, not the wait.  Without the switch records
 * (which tell a thread kept waiting for a CPU, off_cpu) the lumps stay:
 * only a tick whose reading of its CPU time moved is charged, all of the
 * credit, since a thread kept waiting sits where it was preempted, which
 * is more often a system call (the kernel notices a spent time slice
 * there) than the code it spends its time in.  *cpu_ns: the CPU time
 * charged. */
#define CREDIT_LAG_NS 20000000ull
static uint64_t charge_periods(const struct sproc *s,
			       const struct target_thread *th, size_t i,
			       uint64_t now)
{
	if (th->credit_ns < s->period_ns)
		return 0;
	uint64_t n = th->credit_ns / s->period_ns;
	if (!s->oncpu)	/* only a tick it moved in: all of it then */
		return th->cpu_at == now && !s->cpu_delta[i] ? 0 : n;
	uint64_t lag = CREDIT_LAG_NS / s->period_ns;
	return n > lag + 1 ? n - lag : 1;
}

static uint32_t charge(struct sproc *s, struct target_thread *th, size_t i,
		       uint64_t now, uint64_t *cpu_ns)
{
	uint64_t n = charge_periods(s, th, i, now);
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	*cpu_ns = n * s->period_ns;
	th->credit_ns -= *cpu_ns;
	return (uint32_t)n;
}

/* Task mode's hook, once a tick: reads the tasks (all of them for a
 * snapshot).  Anything but a gone target turns task mode off with one
 * warning: plain thread stacks go on. */
static int tasks_tick(struct sproc *s, const struct py_thread *pts, size_t npts,
		      bool full)
{
	lp_error err = { 0 };
	tasks_watch_ready(s->tasks, s->o.watch_gc);
	int rc = tasks_update(s->tasks, pts, npts, full, &err);
	if (rc == LP_ENOPROC || rc == LP_EPERM)
		return rc;
	if (rc != LP_OK) {
		snprintf(s->warning, sizeof s->warning, "--tasks: %s; "
			 "showing plain thread stacks",
			 err.msg[0] ? err.msg : lp_strerror(rc));
		tasks_free(s->tasks);
		s->tasks = NULL;
	}
	return LP_OK;
}

/* Whether this tick can keep a sample at all: in cpu mode (skip_idle) a
 * thread's sample is kept only when charge() gives it a CPU period, so a
 * tick in which no thread is charged (a service between two requests:
 * every thread asleep, or running for less than a period since its last
 * sample) needs no stack read.  The same test as charge(), without
 * spending the credit (charge_periods).  Task mode and a dump (view)
 * want every tick. */
static bool any_charged(const struct sproc *s, uint64_t now)
{
	size_t nth = target_nthreads(s->t);
	for (size_t i = 0; i < nth; i++) {
		const struct target_thread *th = target_thread_at(s->t, i);
		if (s->state[i] == 'R' && !s->waiting[i] &&
		    charge_periods(s, th, i, now))
			return true;
	}
	return false;
}

static bool wanted(const struct sproc *s, pid_t tid)
{
	if (!s->only)
		return true;
	for (size_t i = 0; i < s->nonly; i++)
		if (s->only[i] == tid)
			return true;
	return false;
}

/* Whether a tick may serve its threads the stacks of the last tick that
 * read them: a process none of whose threads ran since then has the same
 * stacks, and a wall-mode profile of an idle service is mostly such ticks
 * (a cold read of its memory is most of a tick's cost at 19 Hz).  Only
 * where a tick is stacks and states alone: no pause, no native stacks,
 * no tasks, no states from switch records, no view.  (Switch records
 * kept for the on-CPU flags have none to give: a thread switched in
 * runs, and moves the clock.) */
static bool stacks_kept(const struct sproc *s, bool view)
{
	return s->py && !view && !s->unw && !s->tasks &&
	       !s->o.cpu_from_switches && !s->only && !s->o.blocking &&
	       !s->o.skip_idle;
}

/* Every thread read as asleep, each with its last tick's outcome known. */
static bool all_asleep(const struct sproc *s, size_t nth, bool known)
{
	for (size_t i = 0; i < nth; i++) {
		const struct target_thread *th = target_thread_at(s->t, i);
		if (s->state[i] == 'R' ||
		    (known && s->state[i] && th->last_kind == SPROC_LAST_UNKNOWN))
			return false;
	}
	return true;
}

/* The last stacks again, when the process used no CPU since they were
 * read (its clock: every thread's time, the running ones' included). */
static bool same_stacks(struct sproc *s, size_t nth, uint64_t rel_ns,
			sampler_sink sink, void *sink_ctx, int *rc)
{
	uint64_t pcpu;
	if (!s->idle_pcpu_ok || !all_asleep(s, nth, true) ||
	    target_cpu_ns(s->t, &pcpu) != LP_OK || pcpu != s->idle_pcpu)
		return false;
	/* The GC's flag and the GIL's waiters stay as the last read found
	 * them: nothing that could change them ran.  The rest is counted
	 * anew, the threads that ended left out. */
	s->st.tick_threads = s->st.tick_on_cpu = s->st.tick_gil =
		s->st.tick_idle = 0;
	*rc = LP_OK;
	for (size_t i = 0; i < nth; i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		if (!s->state[i])
			continue;
		if (th->last_kind != SPROC_LAST_STACK)
			continue;	/* not a Python thread */
		uint32_t flags = (th->last_flags & ~SAMPLE_ON_CPU) | SAMPLE_IDLE;
		s->st.tick_threads++;
		s->st.tick_gil += (flags & SAMPLE_GIL) != 0;
		s->st.tick_idle++;
		struct sample smp = {
			.time_ns = rel_ns,
			.pid = target_pid(s->t),
			.tid = th->tid,
			.stack = th->last_stack,
			.flags = flags,
			.weight = s->tick_weight,
		};
		if (profile_add_sample(s->p, &smp) != LP_OK) {
			*rc = LP_ENOMEM;
			return true;
		}
		s->st.samples++;
		if (flags & SAMPLE_TRUNCATED)
			s->st.truncated++;
		if (sink && (*rc = sink(sink_ctx, s->p, &smp)) != LP_OK)
			return true;
	}
	return true;
}

/* One tick: every thread once.  With view set, stacks go to it instead of
 * into the aggregates (dump). */
int sproc_tick(struct sproc *s, uint64_t now, uint64_t rel_ns,
	       sampler_sink sink, void *sink_ctx, view_fn view, void *view_ctx)
{
	int rc = sproc_refresh(s, now, view != NULL);
	if (rc != LP_OK)
		return rc;
	/* States first: a thread we pause reads as 't' afterwards. */
	size_t nth = target_nthreads(s->t);
	size_t alive;
	if (s->oncpu && s->o.cpu_from_switches && !view && !s->only) {
		alive = read_states_switches(s, now);
	} else {
		alive = read_states(s, now, view != NULL);
		read_cpu(s, now);
		memset(s->waiting, 0, nth * sizeof *s->waiting);
	}
	uint64_t states_at = mono_ns();
	if (s->only) {
		alive = 0;
		for (size_t i = 0; i < nth; i++) {
			if (!wanted(s, target_thread_at(s->t, i)->tid))
				s->state[i] = 0;
			else if (s->state[i])
				alive++;
		}
	}
	if (alive == 0 && !target_alive(s->t))
		return LP_ENOPROC;
	if (alive == 0 && s->only)
		return LP_OK;	/* the threads asked for are gone */
	if (s->o.skip_idle && !view && !s->tasks && !any_charged(s, now)) {
		/* nothing ran a period: no stack to read, and the states
		 * of the tick are those read (the GIL's holder unknown) */
		s->st.tick_threads = s->st.tick_on_cpu = s->st.tick_gil =
			s->st.tick_idle = s->st.tick_gc = 0;
		s->st.tick_gil_wait = 0;
		s->st.gc_known = s->st.gil_wait_known = false;
		for (size_t i = 0; i < nth; i++) {
			if (!s->state[i])
				continue;
			s->st.tick_threads++;
			s->st.tick_on_cpu += s->state[i] == 'R';
			s->st.tick_idle += s->state[i] != 'R';
		}
		return LP_OK;
	}
	bool keep = stacks_kept(s, view != NULL);
	if (keep && same_stacks(s, nth, rel_ns, sink, sink_ctx, &rc))
		return rc;
	/* read before the stacks: a thread that runs during their read
	 * moves the clock, and the next tick reads them again */
	s->idle_pcpu_ok = keep && all_asleep(s, nth, false) &&
			  target_cpu_ns(s->t, &s->idle_pcpu) == LP_OK;
	for (size_t i = 0; i < nth && keep; i++)
		target_thread_at(s->t, i)->last_kind = SPROC_LAST_UNKNOWN;
	bool pause_all = s->o.blocking || (s->unw && s->py);
	/* The stacks' window: a paused thread's is the pause's start (the
	 * states' reading: nothing but memory is read in between). */
	uint64_t stacks_from = states_at;
	if (pause_all && target_pause_all(s->t) == LP_ENOPROC)
		return LP_ENOPROC;

	struct py_thread *pts = NULL;
	size_t npts = 0;
	if (s->py) {
		rc = py_proc_sample(s->py, &pts, &npts);
		if (rc == LP_ENOPROC)
			goto out;
		if (rc != LP_OK) {
			s->st.errors++;
			pts = NULL;
			npts = 0;
		}
	}
	/* one reading of the clock for the stacks' end */
	uint64_t stacks_to = pause_all || (s->unw && !s->oncpu) ? stacks_from :
			     mono_ns();
	bool recheck = !pause_all && !s->unw &&
		       stacks_to - states_at > RECHECK_AFTER_NS;
	if (s->oncpu && !view)
		oncpu_read(s->oncpu, stacks_from, stacks_to);
	if (s->names_due && pts)
		lookup_names(s, pts, npts, now);
	if (s->tasks && (rc = tasks_tick(s, pts, npts, view != NULL)) != LP_OK)
		goto out;
	rc = LP_OK;
	index_py_threads(s, pts, npts);
	if (!view) {
		s->st.tick_threads = s->st.tick_on_cpu = s->st.tick_gil =
			s->st.tick_idle = s->st.tick_gc = 0;
		s->st.tick_gil_wait = 0;
		s->st.gc_known = s->st.gil_wait_known = false;
	}
	bool collecting = false;
	if (!view && s->o.watch_gc && s->py && pts &&
	    py_proc_sample_gc(s->py, &collecting) == LP_OK)
		s->st.gc_known = true;
	if (!view && s->o.watch_gc && s->py && pts &&
	    py_proc_gil_waiters(s->py, &s->st.tick_gil_wait) == LP_OK)
		s->st.gil_wait_known = true;
	for (size_t i = 0; i < nth; i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		char state = s->state[i];
		if (!state)
			continue;
		const struct py_thread *pt = s->py ? find_py_thread(s, pts, th->nstid) : NULL;
		if (s->py && !pt && !s->unw) {
			/* not a Python thread (or none read: pts NULL) */
			th->last_kind = pts ? SPROC_LAST_NONE : SPROC_LAST_UNKNOWN;
			continue;
		}
		uint64_t cpu_ns = 0;
		uint32_t cpu_w = 0;
		if (view)	/* dump: the state as it is */
			cpu_w = state == 'R';
		else if (state == 'R' && !s->waiting[i])
			cpu_w = charge(s, th, i, now, &cpu_ns);
		uint32_t flags = cpu_w ? SAMPLE_ON_CPU : SAMPLE_IDLE;
		if (pt && pt->gil)
			flags |= SAMPLE_GIL;
		if (!view) {
			s->st.tick_threads++;
			s->st.tick_on_cpu += state == 'R';
			s->st.tick_gil += (flags & SAMPLE_GIL) != 0;
			s->st.tick_gc += collecting && (flags & SAMPLE_GIL);
			s->st.tick_idle += state != 'R';
		}
		if (s->o.skip_idle && !(flags & SAMPLE_ON_CPU) && !view)
			continue;

		if (pt && pt->fail != PY_WALK_OK) {
			/* Never a partial stack shown as the truth: the
			 * sample is counted as failed, with its reason. */
			s->st.failed[0]++;
			s->st.failed[pt->fail]++;
			if (view) {
				/* stack 0: the empty stack */
				struct sampler_thread_view v = {
					target_pid(s->t), th->tid, th->name,
					state, flags, 0,
					py_walk_fail_str(pt->fail), NULL, NULL,
					py_name_of(s, th->tid) };
				view(view_ctx, &v);
			}
			continue;
		}
		bool trunc = pt && pt->truncated;
		size_t n;
		if (s->unw) {
			size_t nnat = native_stack(s, th, &trunc);
			n = sproc_merge_stacks(s, nnat, pt, &trunc);
		} else {
			n = python_stack(s, pt);
		}
		if (n == 0 && !pt) {
			s->st.errors++;
			continue;
		}
		if (trunc)
			flags |= SAMPLE_TRUNCATED;
		if (s->startup && !s->py && s->startup_frame != PROFILE_NOID &&
		    n < 2 * MAX_STACK_DEPTH)
			s->leaf_first[n++] = s->startup_frame;
		for (size_t k = 0; k < n; k++)
			s->root_first[k] = s->leaf_first[n - 1 - k];
		uint32_t task = 0;
		if (s->tasks && !view &&
		    (rc = tasks_thread_stack(s->tasks, th->tid, s->root_first,
					     &n, 2 * MAX_STACK_DEPTH, &task)) != LP_OK)
			goto out;
		uint32_t stack = profile_intern_stack(s->p, s->root_first, n);
		if (stack == PROFILE_NOID) {
			rc = LP_ENOMEM;
			goto out;
		}
		if (view) {
			struct sampler_thread_view v = {
				target_pid(s->t), th->tid, th->name, state,
				flags, stack, NULL, NULL, NULL, NULL };
			if (pt) {
				v.py = s->py;
				v.pyth = pt;
			}
			v.py_name = s->py ? py_name_of(s, th->tid) : NULL;
			view(view_ctx, &v);
			continue;
		}
		if (cpu_w && off_cpu(s, th, i, now, recheck)) {
			/* its charge waits for a sample of code that runs */
			th->credit_ns += cpu_ns;
			cpu_w = 0;
			cpu_ns = 0;
			flags = (flags & ~SAMPLE_ON_CPU) | SAMPLE_IDLE;
			if (s->o.skip_idle)
				continue;
		}
		struct sample smp = {
			.time_ns = rel_ns,
			.pid = target_pid(s->t),
			.tid = th->tid,
			.stack = stack,
			.flags = flags,
			.cpu_ns = cpu_ns,
			.task = task,
			.weight = s->tick_weight,
			.cpu_weight = cpu_w,
		};
		if (profile_add_sample(s->p, &smp) != LP_OK) {
			rc = LP_ENOMEM;
			goto out;
		}
		s->st.samples++;
		if (trunc)
			s->st.truncated++;
		th->last_kind = SPROC_LAST_STACK;
		th->last_stack = stack;
		th->last_flags = flags;
		if (sink && (rc = sink(sink_ctx, s->p, &smp)) != LP_OK)
			goto out;
	}
	/* A tick of chosen threads (trace) wants their stacks only, not the
	 * suspended tasks' samples. */
	if (s->tasks && !view && !s->only)
		rc = tasks_emit(s->tasks, target_pid(s->t), rel_ns,
				s->tick_weight, sink, sink_ctx, &s->st.samples);
out:
	if (pause_all)
		target_resume_all(s->t);
	return rc;
}

int sproc_init(struct sproc *s, target *t, profile *p,
	       const struct sampler_opts *o, lp_error *err)
{
	s->t = t;
	s->p = p;
	s->o = *o;
	s->period_ns = (uint64_t)(1e9 / (o->rate_hz > 0 ? o->rate_hz : 100));
	if (!s->period_ns)
		s->period_ns = 1;
	/* Nothing stays traced between samples: a signal sent to the target
	 * is never held up by us, for about 1 us more per pause. */
	target_set_detach_on_resume(t, true);
	return sproc_setup(s, err);
}

static void sproc_release(struct sproc *s);

void sproc_fini(struct sproc *s)
{
	sproc_release(s);
	if (s->own_target)
		target_free(s->t, false);
	s->t = NULL;
}

int sproc_new(struct sproc **out, target *t, profile *p,
	      const struct sampler_opts *o, lp_error *err)
{
	*out = NULL;
	struct sproc *s = pages_zalloc(sizeof *s);	/* frame caches: pages.h */
	if (!s)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	int rc = sproc_init(s, t, p, o, err);
	if (rc != LP_OK) {
		pages_free(s, sizeof *s);
		return rc;
	}
	*out = s;
	return LP_OK;
}

void sproc_free(struct sproc *s)
{
	if (!s)
		return;
	sproc_fini(s);
	pages_free(s, sizeof *s);
}

/* Switch records for every thread (oncpu.h) where CPU time is charged
 * every tick (cpu mode, a .loupe that keeps every sample's on-CPU flag),
 * unless perf events are refused or turned off (LOUPE_NO_PERF, the way
 * out should they misbehave): then the /proc states, and why in
 * s->oncpu_off.  Not in wall mode: each switch of the target costs it
 * some 0.3 us more with the records on (a pipe ping-pong of two threads
 * on one CPU, 720000 switches a second: 25% fewer round trips). */
static void open_oncpu(struct sproc *s)
{
	const char *env = getenv("LOUPE_NO_PERF");
	s->oncpu_off[0] = 0;
	if (!s->o.cpu_each_tick)
		return;
	if ((env && *env && strcmp(env, "0") != 0) || s->o.no_perf) {
		snprintf(s->oncpu_off, sizeof s->oncpu_off,
			 "perf events turned off%s", env && *env &&
			 strcmp(env, "0") != 0 ? " (LOUPE_NO_PERF)" : "");
		return;
	}
	lp_error err = { 0 };
	int rc = target_refresh_threads(s->t);
	if (rc == LP_OK)
		rc = oncpu_new(&s->oncpu, s->t, &err);
	if (rc != LP_OK) {
		s->oncpu = NULL;
		/* a target that is gone is not a refusal: nothing to say */
		if (rc != LP_ENOPROC)
			snprintf(s->oncpu_off, sizeof s->oncpu_off, "%.150s",
				 err.msg[0] ? err.msg : lp_strerror(rc));
	}
}

int sproc_setup(struct sproc *s, lp_error *err)
{
	target *t = s->t;
	profile *p = s->p;
	const struct sampler_opts *o = &s->o;
	bool native = o->native;
	int rc = target_refresh_maps(t);
	if (rc != LP_OK) {
		lp_error_set(err, rc, "cannot read the memory map of PID %d: %s",
			     (int)target_pid(t), lp_strerror(rc));
		goto fail;
	}
	rc = symbolizer_new_cached(&s->syms, target_pid(t), target_procfd(t),
				   o->elf_cache);
	if (rc != LP_OK) {
		lp_error_set(err, rc, "cannot read symbols of PID %d: %s",
			     (int)target_pid(t), lp_strerror(rc));
		goto fail;
	}
	symbolizer_set_demangle(s->syms, !o->no_demangle);
	rc = py_proc_attach(&s->py, t, s->syms, err);
	/* A program just started by loupe may be an interpreter that has not
	 * mapped libpython or set up its runtime yet: not CPython for now,
	 * looked at again (sproc_redetect) until it is. */
	bool young = target_spawned(t) && !s->setup_done;
	s->startup = false;
	if (rc != LP_OK && young) {
		const char *exe = target_exe(t) ? strrchr(target_exe(t), '/') : NULL;
		exe = exe ? exe + 1 : target_exe(t) ? target_exe(t) : "";
		s->startup = strncmp(exe, "python", 6) == 0;
		if (s->startup || rc == LP_ENOTFOUND) {
			s->detect_until = mono_ns() + DETECT_WINDOW_NS;
			s->next_detect_ns = 0;
		}
		if (s->startup && !s->startup_frame_set) {
			s->startup_frame_set = true;
			struct frame fr = {
				.kind = FRAME_NATIVE,
				.func = profile_intern_cstr(p, "[python start-up]"),
				.file = profile_intern_cstr(p, ""),
			};
			s->startup_frame = fr.func == PROFILE_NOID ? PROFILE_NOID :
					   profile_intern_frame(p, &fr);
		}
		if (s->startup)
			rc = LP_ENOTFOUND;
	}
	s->setup_done = true;
	if (rc == LP_OK) {
		const char *src = py_proc_layout_source(s->py);
		snprintf(s->describe, sizeof s->describe, "CPython %s%s%s%s",
			 py_proc_version(s->py), src[0] ? " [" : "", src,
			 src[0] ? "]" : "");
	} else if (rc == LP_ENOTFOUND) {
		s->py = NULL;
		native = true;	/* nothing else to show */
		snprintf(s->describe, sizeof s->describe,
			 s->startup ? "CPython, starting" : "native");
	} else {
		goto fail;
	}
	if (s->o.tasks && !s->py) {
		snprintf(s->warning, sizeof s->warning, "--tasks: PID %d is "
			 "not CPython; showing plain thread stacks",
			 (int)target_pid(t));
	} else if (s->o.tasks) {
		lp_error terr = { 0 };
		if (tasks_new(&s->tasks, s->py, p, &terr) != LP_OK)
			snprintf(s->warning, sizeof s->warning, "--tasks: %s; "
				 "showing plain thread stacks", terr.msg);
	}
	if (native && s->py && o->never_pause) {
		/* Merging needs both stacks at one instant: a pause. */
		native = false;
		snprintf(s->warning, sizeof s->warning, "PID %d: native frames "
			 "of a Python process need its threads paused; "
			 "showing Python frames only", (int)target_pid(t));
	}
	if (native) {
		rc = unwinder_new(&s->unw, t);
		if (rc != LP_OK) {
			lp_error_set(err, rc, "cannot set up native unwinding of PID %d: %s",
				     (int)target_pid(t), lp_strerror(rc));
			goto fail;
		}
		/* (not for an interpreter still starting: the ticks that
		 * look for it are the ptrace path's) */
		if (!s->py && !s->startup && ((s->o.skip_idle && !s->o.blocking &&
				!s->o.no_perf) || o->never_pause)) {
			/* A native profile of on-CPU time is what perf events
			 * give without stopping any thread: 5x less slowdown
			 * of the target than ptrace at 1 kHz (tools/bench
			 * native).  Python stacks still need the ptrace path
			 * for merging at one instant. */
			lp_error perr = { 0 };
			rc = target_refresh_threads(t);
			if (rc == LP_OK)
				rc = perf_native_open(&s->perf, t, s->unw,
					(unsigned)(o->rate_hz < 1 ? 1 :
						   o->rate_hz > 100000 ? 100000 :
						   o->rate_hz), 0, &perr);
			else
				lp_error_set(&perr, rc, "%s", lp_strerror(rc));
			if (rc != LP_OK)
				s->perf = NULL;
			else
				snprintf(s->describe, sizeof s->describe,
					 "native, perf events");
			if (!s->perf && o->never_pause) {
				rc = lp_error_set(err, LP_EUNSUPPORTED,
					"cannot sample native PID %d without "
					"pausing it: perf events unavailable "
					"(%s)", (int)target_pid(t), perr.msg);
				goto fail;
			}
		}
		/* A stripped interpreter names no eval function: find its
		 * bounds by address, checked to be a function's start. */
		uint64_t eval = s->py ? py_proc_eval_func(s->py) : 0, lo, hi;
		if (eval && unwind_proc_bounds(s->unw, eval, &lo, &hi) == LP_OK &&
		    lo == eval) {
			s->eval_lo = lo;
			s->eval_hi = hi;
		}
	}
	if (!s->perf)
		open_oncpu(s);
	return LP_OK;
fail:
	sproc_teardown(s);
	return rc;
}

/* What sproc_setup built, freed; sproc_fini needs no more: the caches go
 * with s, and zeroing them touched up to 320 KiB of pages no sample used
 * (a fault each) for a target that ended. */
static void sproc_release(struct sproc *s)
{
	tasks_free(s->tasks);
	s->tasks = NULL;
	oncpu_free(s->oncpu);
	s->oncpu = NULL;
	perf_native_free(s->perf);
	s->perf_lost = 0;
	s->perf = NULL;
	unwinder_free(s->unw);
	s->unw = NULL;
	py_proc_free(s->py);
	s->py = NULL;
	pages_free(s->pynames, MAX_PY_NAMED_THREADS * sizeof *s->pynames);
	s->pynames = NULL;
	s->npynames = 0;
	s->names_set = 0;
	symbolizer_free(s->syms);
	s->syms = NULL;
}

void sproc_teardown(struct sproc *s)
{
	sproc_release(s);
	/* The caches' tags are the old interpreter's string pointers. */
	memset(s->pycache, 0, sizeof s->pycache);
	memset(s->ncache, 0, sizeof s->ncache);
	s->eval_lo = s->eval_hi = 0;
	s->idle_pcpu_ok = false;
	s->maps_gen++;
}


/* One perf_event sample: a native on-CPU stack taken by the kernel. */
static void perf_sample(void *ctx, const struct perf_native_sample *ps)
{
	struct sproc *s = ctx;
	if (s->sink_rc != LP_OK)
		return;
	size_t n = ps->n < MAX_STACK_DEPTH ? ps->n : MAX_STACK_DEPTH;
	for (size_t i = 0; i < n; i++) {
		bool is_eval;
		uint64_t ip = i == 0 ? ps->ips[i] : ps->ips[i] - 1;
		uint32_t id = native_frame_id(s, ip, &is_eval);
		if (id == PROFILE_NOID) {
			s->sink_rc = LP_ENOMEM;
			return;
		}
		s->root_first[n - 1 - i] = id;
	}
	uint32_t stack = profile_intern_stack(s->p, s->root_first, n);
	if (stack == PROFILE_NOID) {
		s->sink_rc = LP_ENOMEM;
		return;
	}
	struct sample smp = {
		.time_ns = ps->time_ns > s->start_ns ? ps->time_ns - s->start_ns : 0,
		.pid = target_pid(s->t),
		.tid = ps->tid,
		.stack = stack,
		.flags = SAMPLE_ON_CPU | (ps->truncated ? SAMPLE_TRUNCATED : 0),
		.cpu_ns = ps->cpu_ns,
	};
	if (profile_add_sample(s->p, &smp) != LP_OK) {
		s->sink_rc = LP_ENOMEM;
		return;
	}
	s->st.samples++;
	if (!s->loop_ticks)	/* a tree's root counts its loop's ticks */
		s->st.ticks++;
	if (ps->truncated)
		s->st.truncated++;
	if (s->sink)
		s->sink_rc = s->sink(s->sink_ctx, s->p, &smp);
}

/* Reads the rings; the caller holds the front end's lock. */
int sproc_perf_drain(struct sproc *s)
{
	s->sink_rc = LP_OK;
	int rc = perf_native_drain(s->perf, perf_sample, s);
	if (perf_native_take_maps_changed(s->perf)) {
		symbolizer_maps_changed(s->syms);
		s->maps_gen++;
	}
	struct perf_native_stats ps;
	perf_native_get_stats(s->perf, &ps);
	/* Records the kernel dropped are samples missed, beside the
	 * deadlines a tree's tick loop missed (not replaced by them: the
	 * summary said "0 missed" after warning that 68% were). */
	s->st.missed += ps.lost - s->perf_lost;
	s->perf_lost = ps.lost;
	return rc != LP_OK ? rc : s->sink_rc;
}


/* A tick of the perf path from a front end's loop: new threads get their
 * events, then the rings are read. */
int sproc_perf_tick(struct sproc *s, uint64_t now, sampler_sink sink,
		    void *sink_ctx)
{
	s->sink = sink;
	s->sink_ctx = sink_ctx;
	if (now >= s->next_threads_ns) {
		int rc = sproc_refresh(s, now, false);
		if (rc != LP_OK) {
			sproc_perf_drain(s);	/* what the rings still hold */
			return rc;
		}
		lp_error e = { 0 };
		perf_native_sync_threads(s->perf, &e);
	}
	return sproc_perf_drain(s);
}

void sproc_detect_soon(struct sproc *s, uint64_t now)
{
	if (s->py)
		return;
	s->detect_until = now + DETECT_WINDOW_NS;
	s->next_detect_ns = now + DETECT_RETRY_NS;
}

/* A native descendant young enough, or a program loupe started, may turn
 * out to be CPython. */
void sproc_redetect(struct sproc *k, uint64_t now)
{
	if (k->py || !k->detect_until || now < k->next_detect_ns)
		return;
	if (now >= k->detect_until) {
		if (k->startup) {
			/* still no interpreter: say why, once */
			lp_error err = { 0 };
			py_proc *py = NULL;
			if (py_proc_attach(&py, k->t, k->syms, &err) == LP_OK)
				py_proc_free(py);
			else if (err.msg[0] && !k->warning[0])
				snprintf(k->warning, sizeof k->warning, "PID %d "
					 "never became readable as CPython (%s); "
					 "sampled as a native program",
					 (int)target_pid(k->t), err.msg);
			k->startup = false;
		}
		k->detect_until = 0;
		return;
	}
	/* the program loupe started: its first Python frames matter */
	k->next_detect_ns = now + (k->startup ? DETECT_RETRY_NS / 20 :
					       DETECT_RETRY_NS);
	lp_error err = { 0 };
	py_proc *py = NULL;
	if (target_refresh_maps(k->t) != LP_OK)
		return;
	symbolizer_maps_changed(k->syms);
	if (py_proc_attach(&py, k->t, k->syms, &err) != LP_OK)
		return;
	py_proc_free(py);
	sproc_teardown(k);
	if (sproc_setup(k, &err) == LP_OK) {
		k->detect_until = 0;
		k->startup = false;
	}
}

