#include "sampler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>

#include "sampler_int.h"

/* How often the thread list and the maps are re-read: new threads show up
 * within this, and it keeps getdents off most ticks. */
#define THREAD_REFRESH_NS 100000000ull
/* Python's thread names are looked up again at least this often. */
#define NAMES_REFRESH_NS 5000000000ull
#define MAPS_REFRESH_NS 1000000000ull
/* How old a thread's state and CPU time may be when the mode does not need
 * them fresh (wall, gil): reading them costs two system calls per thread,
 * more than the rest of a Python sample, so at high rates they are read at
 * this period, not every tick.  cpu mode reads them every tick. */
#define STATE_MAX_AGE_NS 10000000ull
/* States told by the process clock alone (infer_states): a /proc reading
 * at least this often all the same. */
#define INFER_MAX_AGE_NS 1000000000ull
/* A deadline closer than this is waited for by spinning on the clock, not
 * by sleeping: waking from a sleep costs tens of microseconds on a virtual
 * machine (measured here: a sleep-only loop at 1 kHz burns 31 us per wake
 * and wakes 50-80 us late), longer than the whole period at high rates. */
#define SPIN_NS 40000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sampler_mono_ns(void)
{
	return mono_ns();
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

static uint32_t python_frame_id(sampler *s, const struct py_frame *f)
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

static uint32_t native_frame_id(sampler *s, uint64_t ip, bool *is_eval)
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
static size_t native_stack(sampler *s, struct target_thread *th, bool *trunc)
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

static size_t python_stack(sampler *s, const struct py_thread *pt)
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
 * function known as the eval loop by name or address. */
static bool runs_group(const sampler *s, size_t j, size_t nnat, uint64_t cst)
{
	if (!cst)
		return s->neval[j];
	uint64_t hi = j + 1 < nnat ? s->sps[j + 1] : UINT64_MAX;
	return s->sps[j] <= cst && cst < hi;
}

/* Replaces each eval-loop native frame by the Python frames it ran: from
 * the leaf, a group ends at a frame marked entry.  Falls back to the Python
 * frames alone when the two stacks do not line up. */
static size_t merge_stacks(sampler *s, size_t nnat, const struct py_thread *pt,
			   bool *trunc)
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

static void index_py_threads(sampler *s, const struct py_thread *pts, size_t n)
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

static const struct py_thread *find_py_thread(const sampler *s,
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
static const char *py_name_of(const sampler *s, pid_t tid)
{
	for (size_t i = 0; i < s->npynames; i++)
		if (s->pynames[i].tid == tid)
			return s->pynames[i].name;
	return NULL;
}

/* The thread's name for the profile (top's rows, --threads roots): the
 * Python name, with the OS name beside it where that is not the Python
 * name cut to 15 bytes ("MainThread [python3.12]"). */
static const char *thread_label(const sampler *s, const struct target_thread *th,
				char *buf, size_t len)
{
	const char *py = py_name_of(s, th->tid);
	if (!py || !*py)
		return th->name;
	if (strncmp(py, th->name, strlen(th->name)) == 0)
		return py;
	snprintf(buf, len, "%s [%s]", py, th->name);
	return buf;
}

static void label_threads(sampler *s)
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
static void lookup_names(sampler *s, const struct py_thread *pts, size_t n,
			 uint64_t now)
{
	s->names_due = false;
	s->names_next_ns = now + NAMES_REFRESH_NS;
	if (!s->pynames &&
	    !(s->pynames = malloc(MAX_PY_NAMED_THREADS * sizeof *s->pynames)))
		return;
	lp_error err = { 0 };
	size_t got = 0;
	if (py_proc_thread_names(s->py, pts, n, s->pynames, &got, &err) != LP_OK)
		got = 0;
	s->npynames = got;
	label_threads(s);
}

static int refresh(sampler *s, uint64_t now, bool force)
{
	if (force || now >= s->next_threads_ns) {
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
		if (target_nthreads(s->t) > s->st.max_threads)
			s->st.max_threads = target_nthreads(s->t);
		s->next_threads_ns = now + THREAD_REFRESH_NS;
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

/* Reads one thread's state and CPU time; false when it has ended. */
static bool read_state(sampler *s, struct target_thread *th, size_t i,
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
static bool infer_states(sampler *s, uint64_t now, uint64_t pcpu)
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

/* The state and CPU time of every thread, into s->state / s->cpu_delta;
 * returns how many threads are alive.  A /proc read costs 1-3 us per
 * thread and file, the process's CPU clock 0.7 us for all of them: a
 * thread that was not running at the last reading is read again only when
 * the process used more CPU since then than the threads read now account
 * for; otherwise it has not run and its state stands.  fresh: read all. */
static size_t read_states(sampler *s, uint64_t now, bool fresh)
{
	size_t nth = target_nthreads(s->t), alive = 0;
	bool due = false;
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
static void read_cpu(sampler *s, uint64_t now)
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

/* The CPU periods a sample of a thread seen in state R is charged: the
 * whole periods of CPU time it used since its last charge (the kernel's
 * count), the rest carried to its next sample, so that CPU samples over
 * a recording are rate x CPU seconds however the thread shares its CPU
 * (a thread preempted two thirds of the time is charged a third of the
 * ticks, where its state R would count all).  A thread that ran and then
 * slept keeps its credit for a sample that finds it running again: its
 * stack then is the code that uses the CPU, not the wait.  When its CPU
 * time was read this tick, only a tick it ran in is charged: a thread
 * kept waiting for a CPU sits where it was preempted, which is more often
 * a system call (the kernel notices a spent time slice there) than the
 * code it spends its time in.  *cpu_ns: the CPU time charged. */
static uint32_t charge(sampler *s, struct target_thread *th, size_t i,
		       uint64_t now, uint64_t *cpu_ns)
{
	*cpu_ns = 0;
	if (th->credit_ns < s->period_ns ||
	    (th->cpu_at == now && !s->cpu_delta[i]))
		return 0;
	uint64_t n = th->credit_ns / s->period_ns;
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	*cpu_ns = n * s->period_ns;
	th->credit_ns -= *cpu_ns;
	return (uint32_t)n;
}

/* Task mode's hook, once a tick: reads the tasks (all of them for a
 * snapshot).  Anything but a gone target turns task mode off with one
 * warning: plain thread stacks go on. */
static int tasks_tick(sampler *s, const struct py_thread *pts, size_t npts,
		      bool full)
{
	lp_error err = { 0 };
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

static bool wanted(const sampler *s, pid_t tid)
{
	if (!s->only)
		return true;
	for (size_t i = 0; i < s->nonly; i++)
		if (s->only[i] == tid)
			return true;
	return false;
}

/* One tick: every thread once.  With view set, stacks go to it instead of
 * into the aggregates (dump). */
int sampler_tick_proc(sampler *s, uint64_t now, uint64_t rel_ns,
		      sampler_sink sink, void *sink_ctx, view_fn view,
		      void *view_ctx)
{
	int rc = refresh(s, now, view != NULL);
	if (rc != LP_OK)
		return rc;
	/* States first: a thread we pause reads as 't' afterwards. */
	size_t nth = target_nthreads(s->t);
	size_t alive = read_states(s, now, view != NULL);
	read_cpu(s, now);
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
	bool pause_all = s->o.blocking || (s->unw && s->py);
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
	if (s->names_due && pts)
		lookup_names(s, pts, npts, now);
	if (s->tasks && (rc = tasks_tick(s, pts, npts, view != NULL)) != LP_OK)
		goto out;
	rc = LP_OK;
	index_py_threads(s, pts, npts);
	for (size_t i = 0; i < nth; i++) {
		struct target_thread *th = target_thread_at(s->t, i);
		char state = s->state[i];
		if (!state)
			continue;
		const struct py_thread *pt = s->py ? find_py_thread(s, pts, th->nstid) : NULL;
		if (s->py && !pt && !s->unw)
			continue;	/* not a Python thread */
		uint64_t cpu_ns = 0;
		uint32_t cpu_w = 0;
		if (view)	/* dump: the state as it is */
			cpu_w = state == 'R';
		else if (state == 'R')
			cpu_w = charge(s, th, i, now, &cpu_ns);
		uint32_t flags = cpu_w ? SAMPLE_ON_CPU : SAMPLE_IDLE;
		if (pt && pt->gil)
			flags |= SAMPLE_GIL;
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
			n = merge_stacks(s, nnat, pt, &trunc);
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

int sampler_new(sampler **out, target *t, profile *p,
		const struct sampler_opts *o, lp_error *err)
{
	*out = NULL;
	sampler *s = calloc(1, sizeof *s);
	if (!s)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	s->t = t;
	s->p = p;
	s->o = *o;
	s->period_ns = (uint64_t)(1e9 / (o->rate_hz > 0 ? o->rate_hz : 100));
	if (!s->period_ns)
		s->period_ns = 1;
	if (s->o.subprocesses) {
		/* Workers forked from one parent map the same files: each
		 * is parsed once for the whole tree. */
		if (!s->o.elf_cache) {
			if (elf_cache_new(&s->own_elf_cache) != LP_OK) {
				free(s);
				return lp_error_set(err, LP_ENOMEM,
						    "out of memory");
			}
			s->o.elf_cache = s->own_elf_cache;
		}
	}
	/* Nothing stays traced between samples: a signal sent to the target
	 * is never held up by us, for about 1 us more per pause. */
	target_set_detach_on_resume(t, true);
	int rc = sampler_setup(s, err);
	if (rc == LP_OK && s->o.subprocesses)
		rc = tree_start(s, err);
	if (rc != LP_OK) {
		sampler_free(s);
		return rc;
	}
	*out = s;
	return LP_OK;
}

int sampler_setup(sampler *s, lp_error *err)
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
	 * looked at again (sampler_tree.c, redetect) until it is. */
	bool young = target_spawned(t) && !s->setup_done;
	s->startup = false;
	if (rc != LP_OK && young) {
		const char *exe = target_exe(t) ? strrchr(target_exe(t), '/') : NULL;
		exe = exe ? exe + 1 : target_exe(t) ? target_exe(t) : "";
		s->startup = strncmp(exe, "python", 6) == 0;
		if (s->startup || rc == LP_ENOTFOUND) {
			s->detect_until = sampler_mono_ns() + 2000000000ull;
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
	return LP_OK;
fail:
	sampler_teardown(s);
	return rc;
}

void sampler_teardown(sampler *s)
{
	tasks_free(s->tasks);
	s->tasks = NULL;
	perf_native_free(s->perf);
	s->perf_lost = 0;
	s->perf = NULL;
	unwinder_free(s->unw);
	s->unw = NULL;
	py_proc_free(s->py);
	s->py = NULL;
	free(s->pynames);
	s->pynames = NULL;
	s->npynames = 0;
	s->names_set = 0;
	symbolizer_free(s->syms);
	s->syms = NULL;
	/* The caches' tags are the old interpreter's string pointers. */
	memset(s->pycache, 0, sizeof s->pycache);
	memset(s->ncache, 0, sizeof s->ncache);
	s->eval_lo = s->eval_hi = 0;
	s->maps_gen++;
}


void sampler_free(sampler *s)
{
	if (!s)
		return;
	tree_free(s);
	sampler_teardown(s);
	elf_cache_free(s->own_elf_cache);
	if (s->own_target)
		target_free(s->t, false);
	free(s);
}

const char *sampler_describe(const sampler *s)
{
	return s->describe;
}

bool sampler_uses_perf(const sampler *s)
{
	return s->perf != NULL;
}

bool sampler_is_python(const sampler *s)
{
	return s->py != NULL;
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
	return s->tasks ? tasks_reader(s->tasks) : NULL;
}

const char *sampler_warning(sampler *s)
{
	if (!s->warning[0] || s->warned)
		return NULL;
	s->warned = true;
	return s->warning;
}

const struct sampler_stats *sampler_stats(const sampler *s)
{
	return s->watch ? &s->tot : &s->st;
}

/* One perf_event sample: a native on-CPU stack taken by the kernel. */
static void perf_sample(void *ctx, const struct perf_native_sample *ps)
{
	sampler *s = ctx;
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
	if (!s->watch)	/* a tree's root counts its loop's ticks */
		s->st.ticks++;
	if (ps->truncated)
		s->st.truncated++;
	if (s->sink)
		s->sink_rc = s->sink(s->sink_ctx, s->p, &smp);
}

/* Reads the rings; the caller holds the front end's lock. */
static int perf_drain_locked(sampler *s)
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

static int perf_drain(sampler *s)
{
	if (s->lock)
		pthread_mutex_lock(s->lock);
	int rc = perf_drain_locked(s);
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
	int rc = LP_OK;
	while (!*stop) {
		uint64_t now = mono_ns();
		if (now >= end)
			break;
		uint64_t left = (end - now) / 1000000;
		int timeout = left < 100 ? (int)left + 1 : 100;
		struct epoll_event ev;
		epoll_wait(perf_native_fd(s->perf), &ev, 1, timeout);
		now = mono_ns();
		if (now >= s->next_threads_ns) {
			rc = refresh(s, now, false);
			if (rc == LP_ENOPROC)
				break;
			if (rc == LP_OK) {
				lp_error e = { 0 };
				perf_native_sync_threads(s->perf, &e);
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
			     (int)target_pid(s->t), lp_strerror(rc));
	return rc;
}

/* Says once, through the front end's notice callback, that the asked rate
 * is not being kept (more than 5% of a second's deadlines missed). */
static void overload_check(sampler *s)
{
	uint64_t all = s->win_ticks + s->win_missed;
	if (s->overload_said || !s->o.notice || !all ||
	    s->win_missed * 20 <= all)
		return;
	char msg[256];
	snprintf(msg, sizeof msg,
		 "cannot keep %.0f samples/s on %zu threads (%.0f%% of the "
		 "last second's deadlines missed); each late sample counts for "
		 "the periods it stands for",
		 s->o.rate_hz, tree_nthreads(s),
		 100.0 * (double)s->win_missed / (double)all);
	s->o.notice(s->o.notice_ctx, msg);
	s->overload_said = true;
}

int sampler_run(sampler *s, volatile sig_atomic_t *stop, sampler_sink sink,
		void *sink_ctx, lp_error *err)
{
	uint64_t period = (uint64_t)(1e9 / s->o.rate_hz);
	if (period == 0)
		period = 1;
	uint64_t start = mono_ns();
	uint64_t end = s->o.duration_s > 0
			       ? start + (uint64_t)(s->o.duration_s * 1e9)
			       : UINT64_MAX;
	s->start_ns = start;
	s->win_start = start;
	s->sink = sink;
	s->sink_ctx = sink_ctx;
	if (s->perf && !s->watch) {
		/* The perf loop: nothing to tick.  In a tree, the tick loop
		 * below reads the perf members' rings (tree_tick). */
		int rc = run_perf(s, stop, end, err);
		s->st.elapsed_ns = mono_ns() - start;
		return rc;
	}
	uint64_t deadline = start;
	/* The kernel may defer a timer by the thread's slack (50 us by
	 * default) to batch wake-ups: fine at 100 Hz, a tenth of the period
	 * above that.  Per thread: top's sampler thread sets its own. */
	uint64_t slack = period / 10 < 50000 ? period / 10 : 50000;
	prctl(PR_SET_TIMERSLACK, (unsigned long)(slack ? slack : 1), 0, 0, 0);
	uint64_t rng = start ^ ((uint64_t)target_pid(s->t) << 32) ^ 0x9e3779b97f4a7c15ull;
	int rc = LP_OK;
	while (!*stop) {
		uint64_t now = mono_ns();
		if (now >= end)
			break;
		if (now < deadline) {
			uint64_t wake = deadline < end ? deadline : end;
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
		s->tick_weight = 1;
		if (now - deadline >= period) {
			/* Woke too late for some ticks: count them, do not
			 * make them up in a burst, and let this tick's
			 * samples stand for the time they cover, so that
			 * shares stay right when the rate cannot be kept. */
			uint64_t late = (now - deadline) / period;
			s->st.missed += late;
			tree_add_missed(s, late);
			s->win_missed += late;
			deadline += late * period;
			s->tick_weight = late + 1 > UINT32_MAX ? UINT32_MAX :
				(uint32_t)(late + 1);
		}
		s->win_ticks++;
		if (now - s->win_start >= 1000000000ull) {
			overload_check(s);
			s->win_start = now;
			s->win_ticks = s->win_missed = 0;
		}
		rc = tree_tick(s, now, now - start, sink, sink_ctx, NULL, NULL);
		s->st.ticks++;
		s->tot.ticks = s->st.ticks;
		if (s->attached) {
			/* Reading a new process's ELF files and interpreter
			 * takes milliseconds once: the deadlines it costs
			 * are counted, but say nothing of the rate. */
			s->attached = false;
			s->win_start = mono_ns();
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
				     (int)target_pid(s->t), lp_strerror(rc));
			break;
		}
		/* Jitter of up to a quarter period either way, so that work
		 * in the target with a period near ours is not aliased (a
		 * fixed grid can land on the same phase of a loop again and
		 * again); the mean rate stays the one asked for. */
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		deadline += period - period / 4 + rng % (period / 2 + 1);
	}
	s->st.elapsed_ns = mono_ns() - start;
	s->tot.elapsed_ns = s->st.elapsed_ns;
	return rc;
}

/* A tick of the perf path from a front end's loop: new threads get their
 * events, then the rings are read. */
int sampler_perf_tick(sampler *s, uint64_t now, sampler_sink sink,
		      void *sink_ctx)
{
	s->sink = sink;
	s->sink_ctx = sink_ctx;
	if (now >= s->next_threads_ns) {
		int rc = refresh(s, now, false);
		if (rc != LP_OK) {
			perf_drain_locked(s);	/* what the rings still hold */
			return rc;
		}
		lp_error e = { 0 };
		perf_native_sync_threads(s->perf, &e);
	}
	return perf_drain_locked(s);
}

/* A tick's outcome for a front end's own loop: a gone process (or one
 * that can no longer be read) is LP_ENOPROC and marks the sampler exited;
 * anything else failed with a message. */
static int tick_result(sampler *s, int rc, lp_error *err)
{
	if (rc == LP_ENOPROC || rc == LP_EPERM) {
		s->exited = true;
		return lp_error_set(err, LP_ENOPROC, "PID %d exited",
				    (int)target_pid(s->t));
	}
	if (rc != LP_OK)
		return lp_error_set(err, rc, "sampling PID %d failed: %s",
				    (int)target_pid(s->t), lp_strerror(rc));
	return LP_OK;
}

int sampler_tick(sampler *s, uint64_t late, sampler_sink sink, void *sink_ctx,
		 lp_error *err)
{
	uint64_t now = mono_ns();
	if (!s->start_ns)
		s->start_ns = now;
	if (s->lock)
		pthread_mutex_lock(s->lock);
	int rc;
	if (s->perf && !s->watch) {
		/* The kernel took the samples: read them out. */
		rc = sampler_perf_tick(s, now, sink, sink_ctx);
		goto done;
	}
	s->st.missed += late;
	tree_add_missed(s, late);
	s->tick_weight = late + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(late + 1);
	rc = tree_tick(s, now, now - s->start_ns, sink, sink_ctx, NULL, NULL);
done:
	s->st.ticks++;
	s->tot.ticks = s->st.ticks;
	s->st.elapsed_ns = s->tot.elapsed_ns = now - s->start_ns;
	if (s->lock)
		pthread_mutex_unlock(s->lock);
	return tick_result(s, rc, err);
}

void sampler_restart_clock(sampler *s)
{
	s->start_ns = mono_ns();
}

int sampler_sample_threads(sampler *s, const pid_t *tids, size_t n,
			   uint64_t rel_ns, sampler_sink sink, void *sink_ctx,
			   lp_error *err)
{
	if (n == 0)
		return LP_OK;
	s->only = tids;
	s->nonly = n;
	s->tick_weight = 1;
	int rc = tree_tick(s, mono_ns(), rel_ns, sink, sink_ctx, NULL, NULL);
	s->only = NULL;
	s->nonly = 0;
	rc = tick_result(s, rc, err);
	if (rc == LP_OK)
		s->st.ticks++;
	return rc;
}

int sampler_snapshot(sampler *s, view_fn fn, void *ctx, lp_error *err)
{
	if (s->o.never_pause && s->unw && !s->watch)
		return lp_error_set(err, LP_EUNSUPPORTED, "cannot take the "
				    "stacks of native PID %d now without "
				    "pausing it", (int)target_pid(s->t));
	int rc = tree_tick(s, mono_ns(), 0, NULL, NULL, fn, ctx);
	if (rc == LP_ENOPROC)
		return lp_error_set(err, rc, "PID %d exited", (int)target_pid(s->t));
	if (rc != LP_OK)
		return lp_error_set(err, rc, "cannot sample PID %d: %s",
				    (int)target_pid(s->t), lp_strerror(rc));
	return LP_OK;
}
