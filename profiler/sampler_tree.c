/* --subprocesses: one sampling loop over a process and its descendants.
 *
 * The sampler (the one a front end made) watches the tree through
 * proc_watch and keeps one process state (struct sproc, sampler_proc.c)
 * per process, its root's first.  Every process has its own interpreter
 * detection, offset and frame caches (each has its own memory), and all of
 * them intern into the one profile, so a function seen in sixteen workers
 * is one frame, and samples keep their pid.  A tick of the sampler is a
 * tick of every process, at one rate. */
#include "sampler_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The watch is read at most this often: netlink costs one system call a
 * read, which at 200 kHz would be a third of the budget; a fork is still
 * seen within a millisecond. */
#define WATCH_POLL_NS 1000000ull
static struct tree_proc *find_live(sampler *s, pid_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid && s->procs[i].s)
			return &s->procs[i];
	return NULL;
}

/* A new record at the end; the oldest finalized one makes room once more
 * than SAMPLER_MAX_GONE are kept. */
static struct tree_proc *add_rec(sampler *s)
{
	if (s->ngone > SAMPLER_MAX_GONE) {
		for (size_t i = 1; i < s->nprocs; i++) {
			if (s->procs[i].s)
				continue;
			memmove(&s->procs[i], &s->procs[i + 1],
				(s->nprocs - i - 1) * sizeof *s->procs);
			s->nprocs--;
			s->ngone--;
			break;
		}
	}
	if (s->nprocs == s->procs_cap) {
		size_t cap = s->procs_cap ? 2 * s->procs_cap : 16;
		struct tree_proc *p = realloc(s->procs, cap * sizeof *p);
		if (!p)
			return NULL;
		s->procs = p;
		s->procs_cap = cap;
	}
	struct tree_proc *r = &s->procs[s->nprocs++];
	memset(r, 0, sizeof *r);
	return r;
}

/* The recording names each process: "process.PID" = comm (formats draw
 * the "process PID (comm)" roots from it). */
static void name_proc(struct tree_proc *r, const struct sproc *k)
{
	snprintf(r->comm, sizeof r->comm, "%s", target_comm(k->t));
	snprintf(r->describe, sizeof r->describe, "%s", k->describe);
	char key[32];
	snprintf(key, sizeof key, "process.%d", (int)r->pid);
	profile_set_meta(k->p, key, r->comm);
}

static void say(sampler *root, const char *msg)
{
	if (root->root.o.notice)
		root->root.o.notice(root->root.o.notice_ctx, msg);
}

/* A process state of its own for a descendant.  A process gone already is no
 * error; one that cannot be read is listed as gone, said once. */
static int attach_kid(sampler *root, struct tree_proc *r, uint64_t now)
{
	target *t = NULL;
	lp_error err = { 0 };
	int rc = target_attach(&t, r->pid, &err);
	struct sproc *k = NULL;
	if (rc == LP_OK) {
		struct sampler_opts o = root->root.o;
		o.subprocesses = false;
		o.notice = NULL;
		rc = sproc_new(&k, t, root->root.p, &o, &err);
		if (rc != LP_OK)
			target_free(t, false);
	}
	if (rc == LP_ENOMEM)
		return rc;
	if (rc != LP_OK) {
		r->state = 'X';
		root->ngone++;
		if (rc != LP_ENOPROC) {
			snprintf(r->describe, sizeof r->describe, "not sampled");
			char msg[sizeof err.msg + 64];
			snprintf(msg, sizeof msg, "not sampling subprocess %d: %s",
				 (int)r->pid, err.msg);
			say(root, msg);
		}
		return LP_OK;
	}
	k->own_target = true;
	k->start_ns = root->root.start_ns;
	root->attached = true;
	sproc_detect_soon(k, now);
	r->s = k;
	name_proc(r, k);
	return LP_OK;
}

/* Its figures stay with the record; the process state goes. */
static void finalize(sampler *root, struct tree_proc *r)
{
	struct sproc *k = r->s;
	if (!k)
		return;
	r->samples += k->st.samples;
	r->missed += k->st.missed;
	root->gone_st.samples += k->st.samples;
	root->gone_st.truncated += k->st.truncated;
	root->gone_st.errors += k->st.errors;
	for (size_t j = 0; j < PY_WALK_NFAILS; j++)
		root->gone_st.failed[j] += k->st.failed[j];
	sproc_free(k);
	r->s = NULL;
	r->state = 'X';
	r->nthreads = 0;
	root->ngone++;
}

/* The root replaced its image: what was built on the old one goes. */
static int reexec_root(sampler *root)
{
	lp_error err = { 0 };
	int rc = target_reexec(root->root.t, &err);
	if (rc == LP_OK) {
		sproc_teardown(&root->root);
		rc = sproc_setup(&root->root, &err);
	}
	if (rc == LP_ENOMEM)
		return rc;
	if (rc != LP_OK) {
		root->root_gone = true;
		root->procs[0].state = 'X';
		char msg[sizeof err.msg + 64];
		snprintf(msg, sizeof msg, "not sampling PID %d after its exec: %s",
			 (int)target_pid(root->root.t), err.msg);
		say(root, msg);
		return LP_OK;
	}
	name_proc(&root->procs[0], &root->root);
	return LP_OK;
}

struct poll_ctx {
	sampler *root;
	uint64_t now;
	int rc;
};

static void on_event(void *ctx, const struct proc_event *ev)
{
	struct poll_ctx *pc = ctx;
	sampler *root = pc->root;
	if (pc->rc != LP_OK)
		return;
	bool is_root = ev->pid == target_pid(root->root.t);
	struct tree_proc *r = find_live(root, ev->pid);
	switch (ev->kind) {
	case PROC_EV_NEW:
		/* loupe run from the process it follows (record -p $$ from a
		 * shell) is one of its children: never sampled */
		if (r || is_root || target_pid_is_self(ev->pid))
			return;
		r = add_rec(root);
		if (!r) {
			pc->rc = LP_ENOMEM;
			return;
		}
		r->pid = ev->pid;
		r->ppid = ev->ppid;
		pc->rc = attach_kid(root, r, pc->now);
		return;
	case PROC_EV_EXEC:
		if (is_root) {
			if (!root->root_gone)
				pc->rc = reexec_root(root);
			return;
		}
		if (!r)
			return;
		finalize(root, r);
		root->ngone--;
		r->state = 0;
		pc->rc = attach_kid(root, r, pc->now);
		return;
	case PROC_EV_EXIT:
		if (is_root) {
			root->root_gone = true;
			root->procs[0].state = 'X';
		} else if (r) {
			finalize(root, r);
		}
		return;
	}
}

static int poll_watch(sampler *root, uint64_t now)
{
	struct poll_ctx pc = { root, now, LP_OK };
	root->next_watch_ns = now + WATCH_POLL_NS;
	int rc = proc_watch_poll(root->watch, now, on_event, &pc);
	return rc != LP_OK ? rc : pc.rc;
}

int tree_start(sampler *s, lp_error *err)
{
	/* LOUPE_NO_NETLINK: the /proc scan even as root (tests, and a way
	 * out should the connector misbehave). */
	const char *nonl = getenv("LOUPE_NO_NETLINK");
	bool netlink = !nonl || !*nonl || strcmp(nonl, "0") == 0;
	struct sproc *rp = &s->root;
	int rc = proc_watch_new(&s->watch, target_pid(rp->t), netlink, err);
	if (rc != LP_OK)
		return rc;
	rp->loop_ticks = true;
	struct tree_proc *r = add_rec(s);
	if (!r)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	r->pid = target_pid(rp->t);
	r->s = rp;
	name_proc(r, rp);
	profile_set_meta(rp->p, "subprocesses", "on");
	rc = poll_watch(s, sampler_mono_ns());
	if (rc != LP_OK)
		return lp_error_set(err, rc, "cannot follow the subprocesses "
				    "of PID %d: %s", (int)target_pid(rp->t),
				    lp_strerror(rc));
	return LP_OK;
}

void tree_watch_gc(sampler *s, bool on)
{
	for (size_t i = 1; i < s->nprocs; i++)
		if (s->procs[i].s)
			s->procs[i].s->o.watch_gc = on;
}

void tree_free(sampler *s)
{
	for (size_t i = 1; i < s->nprocs; i++)
		sproc_free(s->procs[i].s);
	free(s->procs);
	s->procs = NULL;
	s->nprocs = s->procs_cap = 0;
	proc_watch_free(s->watch);
	s->watch = NULL;
}

static void sum_stats(sampler *s)
{
	struct sampler_stats *t = &s->tot;
	const struct sampler_stats *rs = &s->root.st;
	t->samples = rs->samples + s->gone_st.samples;
	t->truncated = rs->truncated + s->gone_st.truncated;
	t->errors = rs->errors + s->gone_st.errors;
	for (size_t j = 0; j < PY_WALK_NFAILS; j++)
		t->failed[j] = rs->failed[j] + s->gone_st.failed[j];
	t->missed = rs->missed;
	t->tick_threads = rs->tick_threads;
	t->tick_on_cpu = rs->tick_on_cpu;
	t->tick_gil = rs->tick_gil;
	t->tick_idle = rs->tick_idle;
	t->tick_gc = rs->tick_gc;
	t->gc_known = rs->gc_known;
	t->tick_gil_wait = rs->tick_gil_wait;
	t->gil_wait_known = rs->gil_wait_known;
	size_t threads = tree_nthreads(s);
	for (size_t i = 1; i < s->nprocs; i++) {
		const struct sproc *k = s->procs[i].s;
		if (!k)
			continue;
		t->samples += k->st.samples;
		t->truncated += k->st.truncated;
		t->errors += k->st.errors;
		for (size_t j = 0; j < PY_WALK_NFAILS; j++)
			t->failed[j] += k->st.failed[j];
		t->tick_threads += k->st.tick_threads;
		t->tick_on_cpu += k->st.tick_on_cpu;
		t->tick_gil += k->st.tick_gil;
		t->tick_idle += k->st.tick_idle;
		t->tick_gc += k->st.tick_gc;
		t->gc_known |= k->st.gc_known;
		t->tick_gil_wait += k->st.tick_gil_wait;
		t->gil_wait_known |= k->st.gil_wait_known;
	}
	if (threads > t->max_threads)
		t->max_threads = threads;
}

int tree_tick(sampler *s, uint64_t now, uint64_t rel_ns, sampler_sink sink,
	      void *sink_ctx, view_fn view, void *view_ctx)
{
	struct sproc *rp = &s->root;
	sproc_redetect(rp, now);
	if (!s->watch)
		return sproc_tick(rp, now, rel_ns, sink, sink_ctx, view,
				  view_ctx);
	int rc;
	if ((view || now >= s->next_watch_ns) &&
	    (rc = poll_watch(s, now)) != LP_OK)
		return rc;
	if (!s->root_gone) {
		rc = rp->perf && !view && !rp->only ?
			     sproc_perf_tick(rp, now, sink, sink_ctx) :
			     sproc_tick(rp, now, rel_ns, sink, sink_ctx, view,
					view_ctx);
		if (rc == LP_ENOPROC || rc == LP_EPERM) {
			s->root_gone = true;
			s->procs[0].state = 'X';
		} else if (rc != LP_OK) {
			return rc;
		}
	}
	size_t live = 0;
	for (size_t i = 1; i < s->nprocs; i++) {
		struct sproc *k = s->procs[i].s;
		if (!k)
			continue;
		sproc_redetect(k, now);
		k->tick_weight = rp->tick_weight;
		k->only = rp->only;
		k->nonly = rp->nonly;
		if (view && k->o.never_pause && k->unw)
			rc = LP_OK;	/* no dump of it without a pause */
		else if (k->perf && !view && !k->only)
			rc = sproc_perf_tick(k, now, sink, sink_ctx);
		else
			rc = sproc_tick(k, now, rel_ns, sink, sink_ctx, view,
					view_ctx);
		k->only = NULL;
		k->nonly = 0;
		if (rc == LP_ENOPROC || rc == LP_EPERM) {
			finalize(s, &s->procs[i]);
			continue;
		}
		if (rc != LP_OK)
			return rc;
		live++;
	}
	sum_stats(s);
	return s->root_gone && !live ? LP_ENOPROC : LP_OK;
}

void tree_add_missed(sampler *s, uint64_t late)
{
	for (size_t i = 1; i < s->nprocs; i++)
		if (s->procs[i].s)
			s->procs[i].s->st.missed += late;
}

size_t tree_nthreads(const sampler *s)
{
	if (!s->watch)
		return target_nthreads(s->root.t);
	size_t n = s->root_gone ? 0 : target_nthreads(s->root.t);
	for (size_t i = 1; i < s->nprocs; i++)
		if (s->procs[i].s)
			n += target_nthreads(s->procs[i].s->t);
	return n;
}

size_t sampler_nprocs(const sampler *s)
{
	return s->watch ? s->nprocs : 1;
}

void sampler_proc_at(const sampler *s, size_t i, struct sampler_proc_view *v)
{
	memset(v, 0, sizeof *v);
	if (!s->watch) {
		if (i != 0)
			return;
		const struct sproc *rp = &s->root;
		v->pid = target_pid(rp->t);
		v->comm = target_comm(rp->t);
		v->describe = rp->describe;
		struct target_thread *th = target_thread_find(rp->t, v->pid);
		v->state = s->exited ? 'X' : th && th->state ? th->state : 'S';
		v->nthreads = target_nthreads(rp->t);
		v->samples = rp->st.samples;
		v->missed = rp->st.missed;
		return;
	}
	if (i >= s->nprocs)
		return;
	const struct tree_proc *r = &s->procs[i];
	const struct sproc *k = r->s;
	bool gone = !k || (i == 0 && s->root_gone);
	v->pid = r->pid;
	v->ppid = r->ppid;
	v->comm = r->comm;
	v->describe = r->describe;
	v->samples = r->samples + (k ? k->st.samples : 0);
	v->missed = r->missed + (k ? k->st.missed : 0);
	if (gone) {
		v->state = 'X';
		return;
	}
	struct target_thread *th = target_thread_find(k->t, r->pid);
	v->state = th && th->state ? th->state : 'S';
	v->nthreads = target_nthreads(k->t);
}

const char *sampler_watch_method(const sampler *s)
{
	return s->watch ? proc_watch_method(s->watch) : NULL;
}

int sampler_list_threads(sampler *s, pid_t *tids, size_t cap, size_t *n)
{
	*n = 0;
	uint64_t now = sampler_mono_ns();
	int rc;
	if (s->watch && (rc = poll_watch(s, now)) != LP_OK)
		return rc;
	size_t nproc = s->watch ? s->nprocs : 1;
	size_t live = 0;
	for (size_t i = 0; i < nproc; i++) {
		struct sproc *k = s->watch ? s->procs[i].s : &s->root;
		if (!k || (i == 0 && s->root_gone))
			continue;
		rc = target_alive(k->t) ? target_refresh_threads(k->t) :
					  LP_ENOPROC;
		if (rc == LP_ENOPROC || rc == LP_EPERM) {
			if (k == &s->root)
				s->root_gone = true;
			else
				finalize(s, &s->procs[i]);
			continue;
		}
		if (rc != LP_OK)
			return rc;
		live++;
		for (size_t j = 0; j < target_nthreads(k->t) && *n < cap; j++)
			tids[(*n)++] = target_thread_at(k->t, j)->tid;
	}
	return live ? LP_OK : LP_ENOPROC;
}
