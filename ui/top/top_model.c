#include "top_model.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>
#include <wctype.h>

#include "error.h"

/* An open-addressing table from a 64-bit key to an index, rebuilt per
 * computation (the model keeps nothing of the profile between refreshes:
 * a reset or a new profile must not leave stale ids behind). */
struct idx_tab {
	uint64_t *keys;
	uint32_t *vals;		/* UINT32_MAX: empty */
	size_t cap;		/* power of two */
	size_t n;
};

static uint64_t mix64(uint64_t x)
{
	/* splitmix64's finalizer: spreads small ids over the table */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static int idx_tab_init(struct idx_tab *t, size_t want)
{
	size_t cap = 64;
	while (cap < want * 2)
		cap *= 2;
	t->keys = malloc(cap * sizeof *t->keys);
	t->vals = malloc(cap * sizeof *t->vals);
	if (!t->keys || !t->vals) {
		free(t->keys);
		free(t->vals);
		t->keys = NULL;
		t->vals = NULL;
		return LP_ENOMEM;
	}
	memset(t->vals, 0xff, cap * sizeof *t->vals);
	t->cap = cap;
	t->n = 0;
	return LP_OK;
}

static void idx_tab_fini(struct idx_tab *t)
{
	free(t->keys);
	free(t->vals);
}

/* Slot of key: where it is, or the empty slot where it goes. */
static size_t idx_tab_slot(const struct idx_tab *t, uint64_t key)
{
	size_t i = (size_t)mix64(key) & (t->cap - 1);
	while (t->vals[i] != UINT32_MAX && t->keys[i] != key)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int idx_tab_grow(struct idx_tab *t)
{
	struct idx_tab bigger;
	if (idx_tab_init(&bigger, t->cap))
		return LP_ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->vals[i] == UINT32_MAX)
			continue;
		size_t s = idx_tab_slot(&bigger, t->keys[i]);
		bigger.keys[s] = t->keys[i];
		bigger.vals[s] = t->vals[i];
	}
	bigger.n = t->n;
	idx_tab_fini(t);
	*t = bigger;
	return LP_OK;
}

/* Index stored under key, or UINT32_MAX after storing val there (the caller
 * then knows it is new).  Returns LP_ENOMEM through *rc. */
static uint32_t idx_tab_get_or_put(struct idx_tab *t, uint64_t key,
				   uint32_t val, int *rc)
{
	*rc = LP_OK;
	if ((t->n + 1) * 2 > t->cap && idx_tab_grow(t)) {
		*rc = LP_ENOMEM;
		return UINT32_MAX;
	}
	size_t s = idx_tab_slot(t, key);
	if (t->vals[s] != UINT32_MAX)
		return t->vals[s];
	t->keys[s] = key;
	t->vals[s] = val;
	t->n++;
	return UINT32_MAX;
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return LP_OK;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *a = realloc(*arr, c * size);
	if (!a)
		return LP_ENOMEM;
	*arr = a;
	*cap = c;
	return LP_OK;
}

void top_model_init(struct top_model *m)
{
	memset(m, 0, sizeof *m);
}

void top_model_fini(struct top_model *m)
{
	free(m->rows);
	free(m->threads);
	free(m->procs);
	free(m->view);
	memset(m, 0, sizeof *m);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The row text: file and module as base names, since a terminal row has no
 * room for a site-packages path and the name is what a reader scans for;
 * the whole path is kept apart (where) for a layout with room for it. */
static void row_name(const profile *p, uint32_t id, bool by_line,
		     struct top_row *row)
{
	const struct frame *f = profile_frame(p, id);
	char *buf = row->name;
	size_t len = sizeof row->name;
	row->where[0] = '\0';
	row->line = 0;
	if (!f) {
		snprintf(buf, len, "[invalid]");
		row->func_len = strlen(buf);
		return;
	}
	const char *func = profile_str(p, f->func);
	const char *path = profile_str(p, f->file);
	const char *file = base_name(path);
	const char *mpath = profile_str(p, f->module);
	const char *module = base_name(mpath);
	switch (f->kind) {
	case FRAME_PYTHON:
		if (!f->func)
			func = "<unknown>";
		if (!f->file)
			snprintf(buf, len, "%s", func);
		else if (by_line && f->line > 0)
			snprintf(buf, len, "%s (%s:%" PRId32 ")", func, file,
				 f->line);
		else
			snprintf(buf, len, "%s (%s)", func, file);
		if (f->file) {
			snprintf(row->where, sizeof row->where, "%s", path);
			row->line = by_line && f->line > 0 ? f->line : 0;
		}
		break;
	case FRAME_NATIVE:
		/* a symbolizer may name an unknown address "module+0x..."
		 * already: no need to name the module twice */
		if (f->func && f->module &&
		    strncmp(func, module, strlen(module)) != 0) {
			snprintf(buf, len, "%s (%s)", func, module);
			snprintf(row->where, sizeof row->where, "%s", mpath);
		} else if (f->func)
			snprintf(buf, len, "%s", func);
		else if (f->module)
			snprintf(buf, len, "%s+0x%" PRIx64, module, f->offset);
		else
			snprintf(buf, len, "0x%" PRIx64, f->offset);
		break;
	default:
		format_frame(p, id, by_line, buf, len);
		break;
	}
	size_t fl = row->where[0] ? strlen(func) : strlen(buf);
	row->func_len = fl < strlen(buf) ? fl : strlen(buf);
}

/* Whether a frame is a function row at all: the synthetic thread and
 * process roots of --threads recordings are not. */
static bool is_function(const struct frame *f, bool hide_native)
{
	if (f->kind == FRAME_THREAD || f->kind == FRAME_PROCESS ||
	    f->kind == FRAME_TASK)
		return false;
	return !(hide_native && f->kind == FRAME_NATIVE);
}

/* Function ids: with lines, the frame id itself (frames are interned by
 * line); without, frames that differ only by line share the id of the
 * first one met. */
static int function_ids(const profile *p, bool by_line, uint32_t *fn_of,
			size_t nf)
{
	if (by_line) {
		for (size_t i = 0; i < nf; i++)
			fn_of[i] = (uint32_t)i;
		return LP_OK;
	}
	struct idx_tab tab;
	if (idx_tab_init(&tab, nf))
		return LP_ENOMEM;
	/* The key cannot hold every field, so equal keys are checked against
	 * the frame they name and probing goes on past a collision. */
	int rc = LP_OK;
	for (size_t i = 0; i < nf && rc == LP_OK; i++) {
		const struct frame *f = profile_frame(p, (uint32_t)i);
		uint64_t h = mix64(((uint64_t)f->kind << 32) ^ f->func);
		h = mix64(h ^ ((uint64_t)f->file << 32) ^ f->module);
		if (!f->func)
			h = mix64(h ^ f->offset);
		for (;;) {
			uint32_t got = idx_tab_get_or_put(&tab, h, (uint32_t)i, &rc);
			if (rc)
				break;
			if (got == UINT32_MAX) {
				fn_of[i] = (uint32_t)i;
				break;
			}
			const struct frame *g = profile_frame(p, got);
			if (g->kind == f->kind && g->func == f->func &&
			    g->file == f->file && g->module == f->module &&
			    (f->func || g->offset == f->offset)) {
				fn_of[i] = fn_of[got];
				break;
			}
			h = mix64(h + 1);
		}
	}
	idx_tab_fini(&tab);
	return rc;
}

static int add_thread(struct top_model *m, const profile *p,
		      const struct profile_agg *a, struct idx_tab *tids)
{
	int rc;
	uint64_t key = (uint64_t)(uint32_t)a->pid << 32 | (uint32_t)a->tid;
	uint32_t i = idx_tab_get_or_put(tids, key, (uint32_t)m->nthreads, &rc);
	if (rc)
		return rc;
	if (i == UINT32_MAX) {
		if (grow((void **)&m->threads, &m->threads_cap,
			 m->nthreads + 1, sizeof *m->threads))
			return LP_ENOMEM;
		i = (uint32_t)m->nthreads++;
		struct top_thread *t = &m->threads[i];
		memset(t, 0, sizeof *t);
		t->pid = a->pid;
		t->tid = a->tid;
		const char *name = profile_str(p, profile_thread_name(p, a->pid, a->tid));
		snprintf(t->name, sizeof t->name, "%s", name ? name : "");
	}
	m->threads[i].samples += a->samples;
	m->threads[i].cpu_samples += a->cpu_samples;
	return LP_OK;
}

static int cmp_thread(const void *x, const void *y)
{
	const struct top_thread *a = x, *b = y;
	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

static void add_weights(uint64_t *dst, const struct profile_agg *a)
{
	dst[MODE_WALL] += a->samples;
	dst[MODE_CPU] += a->cpu_samples;
	dst[MODE_GIL] += a->gil_samples;
}

/* The process entry of pid, appended when new; NULL on ENOMEM. */
static struct top_proc *proc_of(struct top_model *m, int32_t pid)
{
	int i = top_proc_index(m, pid);
	if (i >= 0)
		return &m->procs[i];
	if (grow((void **)&m->procs, &m->procs_cap, m->nprocs + 1,
		 sizeof *m->procs))
		return NULL;
	struct top_proc *e = &m->procs[m->nprocs++];
	memset(e, 0, sizeof *e);
	e->pid = pid;
	return e;
}

int top_proc_index(const struct top_model *m, int32_t pid)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].pid == pid)
			return (int)i;
	return -1;
}

/* Each process's figures from the profile (the whole of it: the thread
 * filter does not apply to the process view); threads from m->threads,
 * which add_thread filled. */
static int count_procs(struct top_model *m, const profile *p,
		       const struct profile_agg *aggs, size_t naggs)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		struct top_proc *e = &m->procs[i];
		e->samples = e->cpu_samples = e->cpu_ns = 0;
		e->in_profile = false;
		if (e->state == 0)
			e->nthreads = 0;
	}
	m->procs_in_profile = 0;
	/* aggregates come grouped by nothing in particular: remember the
	 * last process met, most runs are of one process */
	struct top_proc *last = NULL;
	for (size_t i = 0; i < naggs; i++) {
		const struct profile_agg *a = &aggs[i];
		if (!last || last->pid != a->pid) {
			last = proc_of(m, a->pid);
			if (!last)
				return LP_ENOMEM;
		}
		if (!last->in_profile) {
			last->in_profile = true;
			m->procs_in_profile++;
		}
		last->samples += a->samples;
		last->cpu_samples += a->cpu_samples;
		last->cpu_ns += a->cpu_ns;
	}
	for (size_t i = 0; i < m->nprocs; i++) {
		struct top_proc *e = &m->procs[i];
		if (!e->comm[0]) {
			const char *c = output_process_comm(p, e->pid);
			snprintf(e->comm, sizeof e->comm, "%s", c ? c : "");
		}
	}
	/* without the sampler's view, the threads are those with samples */
	for (size_t i = 0; i < m->nthreads; i++) {
		int k = top_proc_index(m, m->threads[i].pid);
		if (k >= 0 && m->procs[k].state == 0)
			m->procs[k].nthreads++;
	}
	return LP_OK;
}

/* A server that forks a worker per request would grow the list without
 * end: past TOP_MAX_EXITED exited processes, the oldest exited ones with
 * no samples left in the profile go (those with samples stay: their
 * figures are still in the table). */
static void drop_old_exited(struct top_model *m)
{
	size_t exited = 0;
	for (size_t i = 0; i < m->nprocs; i++)
		exited += m->procs[i].state == 'X';
	size_t out = 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct top_proc *e = &m->procs[i];
		if (exited > TOP_MAX_EXITED && e->state == 'X' && !e->in_profile) {
			exited--;
			continue;
		}
		m->procs[out++] = *e;
	}
	m->nprocs = out;
}

int top_model_procs(struct top_model *m, const struct sampler_proc_view *v,
		    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct top_proc *e = proc_of(m, v[i].pid);
		if (!e)
			return LP_ENOMEM;
		e->ppid = v[i].ppid;
		if (v[i].comm && *v[i].comm)
			snprintf(e->comm, sizeof e->comm, "%s", v[i].comm);
		e->state = v[i].state ? v[i].state : '?';
		e->nthreads = v[i].state == 'X' ? 0 : v[i].nthreads;
	}
	/* gone from the sampler's list (it keeps only the last exited
	 * ones): exited all the same */
	for (size_t k = 0; k < m->nprocs && n; k++) {
		bool listed = false;
		for (size_t i = 0; i < n && !listed; i++)
			listed = v[i].pid == m->procs[k].pid;
		if (!listed) {
			m->procs[k].state = 'X';
			m->procs[k].nthreads = 0;
		}
	}
	drop_old_exited(m);
	return LP_OK;
}

void top_model_cpu_rate(struct top_model *m, uint64_t now_ns, uint64_t min_ns)
{
	if (m->rate_prev_ns && now_ns - m->rate_prev_ns < min_ns)
		return;
	uint64_t span = m->rate_prev_ns ? now_ns - m->rate_prev_ns : 0;
	for (size_t i = 0; i < m->nprocs; i++) {
		struct top_proc *e = &m->procs[i];
		uint64_t prev = e->prev_cpu_ns <= e->cpu_ns ? e->prev_cpu_ns : 0;
		e->cpu_pct = span ? 100.0 * (double)(e->cpu_ns - prev) / (double)span
				  : 0.0;
		e->prev_cpu_ns = e->cpu_ns;
	}
	m->rate_prev_ns = now_ns;
}

const char *top_state_name(char state)
{
	switch (state) {
	case 'R': return "running";
	case 'S': case 'I': return "sleeping";
	case 'D': return "waiting";	/* uninterruptible (disk, ...) */
	case 'T': case 't': return "stopped";
	case 'Z': return "zombie";
	case 'X': case 'x': return "exited";
	case 0: return "unknown";
	default: return "other";
	}
}

void top_procs_text(const struct top_model *m, char *buf, size_t len)
{
	static const char *const order[] = { "running", "sleeping", "waiting",
					     "stopped", "zombie", "other",
					     "exited" };
	size_t counts[sizeof order / sizeof order[0]] = { 0 };
	for (size_t i = 0; i < m->nprocs; i++) {
		const char *name = top_state_name(m->procs[i].state);
		for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
			if (strcmp(name, order[k]) == 0)
				counts[k]++;
	}
	int n = snprintf(buf, len, "%zu process%s", m->nprocs,
			 m->nprocs == 1 ? "" : "es");
	const char *sep = ": ";
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
		if (!counts[k] || n < 0 || (size_t)n >= len)
			continue;
		n += snprintf(buf + n, len - (size_t)n, "%s%zu %s", sep,
			      counts[k], order[k]);
		sep = ", ";
	}
}

int top_model_compute(struct top_model *m, const profile *p,
		      const struct top_agg_opts *o)
{
	size_t nf = profile_nframes(p), naggs;
	const struct profile_agg *aggs = profile_aggs(p, &naggs);
	uint32_t *fn_of = malloc((nf ? nf : 1) * sizeof *fn_of);
	uint32_t *eff = NULL;	/* one stack's function ids, kept frames */
	size_t eff_cap = 0;
	/* seen[fn] = 1 + the aggregate that last counted fn's total */
	size_t *seen = calloc(nf ? nf : 1, sizeof *seen);
	struct idx_tab rows = { 0 }, tids = { 0 }, pairs = { 0 };
	/* the memory column: each stack's CPU time over its aggregates,
	 * which share the stack's charge */
	size_t nst = o->mem ? profile_nstacks(p) : 0;
	double *stack_cpu = nst ? calloc(nst, sizeof *stack_cpu) : NULL;
	int rc = LP_ENOMEM;

	m->nrows = m->nthreads = m->nview = 0;
	memset(m->totals, 0, sizeof m->totals);
	m->idle = m->no_function = 0;
	m->mem_grown = m->mem_released = 0.0;
	if (!fn_of || !seen || idx_tab_init(&rows, 256) ||
	    idx_tab_init(&tids, 16) || idx_tab_init(&pairs, 256) ||
	    (nst && !stack_cpu))
		goto out;
	if (function_ids(p, o->by_line, fn_of, nf))
		goto out;
	for (size_t ai = 0; stack_cpu && ai < naggs; ai++)
		if (aggs[ai].stack < nst)
			stack_cpu[aggs[ai].stack] += (double)aggs[ai].cpu_ns;
	for (size_t ai = 0; ai < naggs; ai++) {
		const struct profile_agg *a = &aggs[ai];
		if (add_thread(m, p, a, &tids))
			goto out;
		if (o->tid && a->tid != o->tid)
			continue;
		if (o->tasks && !a->task)
			continue;
		add_weights(m->totals, a);
		m->idle += a->idle_samples;
		double grown = 0.0, released = 0.0;
		if (stack_cpu && a->stack < nst && a->cpu_ns &&
		    stack_cpu[a->stack] > 0.0) {
			double share = (double)a->cpu_ns / stack_cpu[a->stack];
			memcharge_stack(o->mem, a->stack, &grown, &released);
			grown *= share;
			released *= share;
			m->mem_grown += grown;
			m->mem_released += released;
		}

		size_t len, n = 0;
		const uint32_t *ids = profile_stack(p, a->stack, &len);
		if (grow((void **)&eff, &eff_cap, len + 1, sizeof *eff))
			goto out;
		for (size_t j = 0; j < len; j++) {
			const struct frame *f = profile_frame(p, ids[j]);
			if (ids[j] == 0 || !f || !is_function(f, o->hide_native))
				continue;
			eff[n++] = ids[j];
		}
		if (n == 0) {
			m->no_function += a->samples;
			continue;
		}
		int32_t tid = o->per_thread && !o->tasks ? a->tid : 0;
		int32_t pid = tid || (o->per_process && !o->tasks) ? a->pid : 0;
		/* tids are unique among the live threads of the system, so a
		 * tid alone keeps threads (and their processes) apart */
		uint32_t sub = tid ? (uint32_t)tid : (uint32_t)pid;
		for (size_t j = 0; j < n; j++) {
			uint32_t fn = fn_of[eff[j]];
			if (seen[fn] == ai + 1)
				continue;
			seen[fn] = ai + 1;
			uint64_t key = (uint64_t)fn << 32 | sub;
			uint32_t r = idx_tab_get_or_put(&rows, key,
							(uint32_t)m->nrows, &rc);
			if (rc)
				goto out;
			rc = LP_ENOMEM;
			if (r == UINT32_MAX) {
				if (grow((void **)&m->rows, &m->rows_cap,
					 m->nrows + 1, sizeof *m->rows))
					goto out;
				r = (uint32_t)m->nrows++;
				struct top_row *row = &m->rows[r];
				memset(row->own, 0, sizeof row->own);
				memset(row->total, 0, sizeof row->total);
				memset(row->change, 0, sizeof row->change);
				row->trend_slot = -1;
				row->ntasks = 0;
				row->grown = row->released = 0.0;
				row->frame = eff[j];
				row->tid = tid;
				row->pid = pid;
				row_name(p, eff[j], o->by_line, row);
			}
			add_weights(m->rows[r].total, a);
			m->rows[r].grown += grown;
			m->rows[r].released += released;
			if (j == n - 1)
				add_weights(m->rows[r].own, a);
			if (o->tasks) {
				/* a (row, task) pair met for the first time */
				uint64_t pk = (uint64_t)r << 32 | a->task;
				uint32_t had = idx_tab_get_or_put(&pairs, pk, 1, &rc);
				if (rc)
					goto out;
				rc = LP_ENOMEM;
				if (had == UINT32_MAX)
					m->rows[r].ntasks++;
			}
		}
		/* The leaf may repeat an ancestor (recursion): its own share
		 * still counts once, above, only when it was first seen at
		 * the leaf; handle the other case here. */
		uint32_t leaf_fn = fn_of[eff[n - 1]];
		size_t first = 0;
		while (fn_of[eff[first]] != leaf_fn)
			first++;
		if (first != n - 1) {
			uint64_t key = (uint64_t)leaf_fn << 32 | sub;
			uint32_t r = idx_tab_get_or_put(&rows, key, 0, &rc);
			if (rc || r == UINT32_MAX) {
				rc = rc ? rc : LP_EINVAL; /* seen above */
				goto out;
			}
			add_weights(m->rows[r].own, a);
		}
	}
	qsort(m->threads, m->nthreads, sizeof *m->threads, cmp_thread);
	if (count_procs(m, p, aggs, naggs))
		goto out;
	rc = LP_OK;
out:
	if (rc) {
		m->nrows = m->nthreads = 0;
		memset(m->totals, 0, sizeof m->totals);
	}
	idx_tab_fini(&rows);
	idx_tab_fini(&tids);
	idx_tab_fini(&pairs);
	free(stack_cpu);
	free(seen);
	free(eff);
	free(fn_of);
	return rc;
}

static bool name_matches(const char *name, const char *filter)
{
	size_t n = strlen(filter);
	for (const char *s = name; *s; s++)
		if (strncasecmp(s, filter, n) == 0)
			return true;
	return false;
}

/* qsort has no context argument: the view sorts an array of (key, index)
 * pairs built from the options instead. */
struct sort_item {
	uint64_t key, other;
	size_t idx;
	const char *name;
	int32_t tid, pid;
};

static int cmp_item(const void *x, const void *y)
{
	const struct sort_item *a = x, *b = y;
	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	if (a->other != b->other)
		return a->other > b->other ? -1 : 1;
	int c = strcmp(a->name, b->name);
	if (c)
		return c;
	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

int top_model_view(struct top_model *m, const struct top_view_opts *o)
{
	m->nview = 0;
	if (grow((void **)&m->view, &m->view_cap, m->nrows ? m->nrows : 1,
		 sizeof *m->view))
		return LP_ENOMEM;
	struct sort_item *items = malloc((m->nrows ? m->nrows : 1) * sizeof *items);
	if (!items)
		return LP_ENOMEM;
	unsigned k = (unsigned)o->sort_metric < TOP_NMETRICS ? (unsigned)o->sort_metric : MODE_CPU;
	size_t n = 0;
	for (size_t i = 0; i < m->nrows; i++) {
		const struct top_row *r = &m->rows[i];
		if (o->filter && *o->filter && !name_matches(r->name, o->filter))
			continue;
		items[n].key = o->sort_total ? r->total[k] : r->own[k];
		items[n].other = o->sort_total ? r->own[k] : r->total[k];
		if (o->sort_memory && !o->sort_change) {
			double x = o->sort_memory == 2 ? r->released : r->grown;
			double y = o->sort_memory == 2 ? r->grown : r->released;
			items[n].key = x > 0.0 ? (uint64_t)x : 0;
			items[n].other = y > 0.0 ? (uint64_t)y : 0;
		}
		if (o->sort_change) {
			/* signed change as an unsigned key: rising first */
			items[n].other = items[n].key;
			items[n].key = (uint64_t)r->change[k] + (UINT64_C(1) << 63);
		}
		items[n].idx = i;
		items[n].name = r->name;
		items[n].tid = r->tid;
		items[n].pid = r->pid;
		n++;
	}
	qsort(items, n, sizeof *items, cmp_item);
	for (size_t i = 0; i < n; i++)
		m->view[i] = items[i].idx;
	m->nview = n;
	free(items);
	return LP_OK;
}

double top_pct(const struct top_model *m, uint64_t samples,
	       enum sample_mode metric)
{
	uint64_t all = m->totals[metric];
	return all ? 100.0 * (double)samples / (double)all : 0.0;
}

/* The metric shown beside the mode's: CPU beside wall and GIL, wall beside
 * CPU, so that on- and off-CPU time are always both on screen. */
static enum sample_mode other_metric(enum sample_mode mode)
{
	return mode == MODE_CPU ? MODE_WALL : MODE_CPU;
}

void top_columns(enum sample_mode mode, struct top_column out[TOP_NCOLS])
{
	static const char *own_title[TOP_NMETRICS] = { "%OwnWall", "%OwnCPU", "%OwnGIL" };
	static const char *tot_title[TOP_NMETRICS] = { "%TotWall", "%TotCPU", "%TotGIL" };
	enum sample_mode other = other_metric(mode);
	out[0] = (struct top_column){ mode, false, false, own_title[mode] };
	out[1] = (struct top_column){ mode, true, false, tot_title[mode] };
	out[2] = (struct top_column){ other, false, false, own_title[other] };
	out[3] = (struct top_column){ other, true, false, tot_title[other] };
	out[4] = (struct top_column){ mode, false, true, "OwnSecs" };
	out[5] = (struct top_column){ mode, true, true, "TotSecs" };
}

int top_sort_column(const struct top_view_opts *o)
{
	struct top_column c[TOP_NCOLS];
	if (o->sort_memory)
		return -1;	/* the memory column's */
	top_columns(o->mode, c);
	for (int i = 0; i < TOP_NCOLS; i++)
		if (c[i].metric == o->sort_metric && c[i].total == o->sort_total)
			return i;
	return -1;
}

void top_sort_by_column(struct top_view_opts *o, int col)
{
	struct top_column c[TOP_NCOLS];
	if (col < 0 || col >= TOP_NCOLS)
		return;
	top_columns(o->mode, c);
	o->sort_metric = c[col].metric;
	o->sort_total = c[col].total;
	o->sort_follows = false;	/* the user's choice stays */
	o->sort_change = false;		/* a column, not the trend (x) */
	o->sort_memory = 0;
}

int top_sort_by_name(struct top_view_opts *o, const char *name)
{
	static const struct {
		const char *name;
		int metric;	/* -1: the mode's */
		bool total;
	} cols[] = {
		{ "ownwall", MODE_WALL, false }, { "totwall", MODE_WALL, true },
		{ "owncpu", MODE_CPU, false }, { "totcpu", MODE_CPU, true },
		{ "owngil", MODE_GIL, false }, { "totgil", MODE_GIL, true },
		{ "ownsecs", -1, false }, { "totsecs", -1, true },
	};
	if (name[0] == '%')
		name++;
	if (strcasecmp(name, TOP_MEM_GROWN) == 0 ||
	    strcasecmp(name, TOP_MEM_RELEASED) == 0) {
		o->sort_memory = strcasecmp(name, TOP_MEM_GROWN) == 0 ? 1 : 2;
		return 0;
	}
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		if (strcasecmp(name, cols[i].name) != 0)
			continue;
		o->sort_total = cols[i].total;
		o->sort_follows = cols[i].metric < 0;	/* the mode's secs */
		o->sort_metric = cols[i].metric < 0 ? o->mode :
			(enum sample_mode)cols[i].metric;
		o->sort_memory = 0;
		return 0;
	}
	return -1;
}

void top_set_mode(struct top_view_opts *o, enum sample_mode mode)
{
	o->mode = mode;
	if (o->sort_follows)
		o->sort_metric = mode;
}

double top_cell(const struct top_model *m, const struct top_row *r,
		const struct top_column *c, double rate_hz)
{
	uint64_t v = c->total ? r->total[c->metric] : r->own[c->metric];
	if (c->seconds)
		return rate_hz > 0 ? (double)v / rate_hz : 0.0;
	return top_pct(m, v, c->metric);
}

int top_thread_index(const struct top_model *m, int32_t tid)
{
	for (size_t i = 0; i < m->nthreads; i++)
		if (m->threads[i].tid == tid)
			return (int)i;
	return -1;
}

const char *top_mode_name(enum sample_mode mode)
{
	switch (mode) {
	case MODE_CPU: return "cpu";
	case MODE_GIL: return "gil";
	case MODE_WALL:
	default: return "wall";
	}
}

/* One character of s at p: its width and length in bytes; what is not a
 * printable character comes out as '?' (*bad), since names come from
 * another process's memory and must not reach the terminal as control
 * sequences. */
static int next_char(const char *p, mbstate_t *st, size_t *n, bool *bad)
{
	wchar_t wc;
	*n = mbrtowc(&wc, p, strlen(p), st);
	*bad = false;
	if (*n == (size_t)-1 || *n == (size_t)-2 || *n == 0) {
		memset(st, 0, sizeof *st);
		*n = 1;
		*bad = true;
		return 1;
	}
	int w = wcwidth(wc);
	if (w < 0 || !iswprint((wint_t)wc)) {
		*bad = true;
		return 1;
	}
	return w;
}

void top_fit_text(const char *s, int width, bool utf8, char *out, size_t len)
{
	mbstate_t st;
	size_t n, at = 0;
	bool bad;
	int cols = 0;
	const char *ell = utf8 ? "\xe2\x80\xa6" : "...";
	const int ell_w = utf8 ? 1 : 3;

	out[0] = '\0';
	if (width <= 0 || len == 0)
		return;
	memset(&st, 0, sizeof st);
	for (const char *p = s; *p; p += n)
		cols += next_char(p, &st, &n, &bad);
	int room = cols <= width ? width : width - ell_w;
	if (room < 0) {		/* no room for more than dots */
		snprintf(out, len, "%.*s", width, "...");
		return;
	}
	memset(&st, 0, sizeof st);
	cols = 0;
	for (const char *p = s; *p; p += n) {
		int w = next_char(p, &st, &n, &bad);
		if (cols + w > room || at + n + 1 > len)
			break;
		if (bad)
			out[at++] = '?';
		else {
			memcpy(out + at, p, n);
			at += n;
		}
		cols += w;
	}
	out[at] = '\0';
	if (room < width && at + strlen(ell) + 1 <= len)
		strcat(out, ell);
}

int top_text_width(const char *s)
{
	mbstate_t st;
	size_t n;
	bool bad;
	int cols = 0;
	memset(&st, 0, sizeof st);
	for (const char *p = s; *p; p += n)
		cols += next_char(p, &st, &n, &bad);
	return cols;
}

/* s in at most width columns, its middle cut: the end keeps tail_w
 * columns (less if that leaves no head). */
static void fit_middle(const char *s, int width, int tail_w, bool utf8,
		       char *out, size_t len)
{
	char clean[2 * TOP_NAME_MAX];
	const char *ell = utf8 ? "\xe2\x80\xa6" : "...";
	const int ell_w = utf8 ? 1 : 3;
	mbstate_t st;
	size_t n;
	bool bad;

	/* unprintable characters become '?' first: the rest counts widths */
	top_fit_text(s, INT_MAX, utf8, clean, sizeof clean);
	int total = top_text_width(clean);
	if (total <= width) {
		snprintf(out, len, "%s", clean);
		return;
	}
	if (width - ell_w < 2) {
		top_fit_text(clean, width, utf8, out, len);
		return;
	}
	if (tail_w > width - ell_w - 1)
		tail_w = (width - ell_w) / 2;
	int head_w = width - ell_w - tail_w, cols = 0;
	const char *p = clean;
	memset(&st, 0, sizeof st);
	while (*p) {
		int w = next_char(p, &st, &n, &bad);
		if (cols + w > head_w)
			break;
		cols += w;
		p += n;
	}
	int head_b = (int)(p - clean);
	p = clean;
	cols = 0;
	memset(&st, 0, sizeof st);
	while (*p && total - cols > tail_w) {
		cols += next_char(p, &st, &n, &bad);
		p += n;
	}
	snprintf(out, len, "%.*s%s%s", head_b, clean, ell, p);
}

/* A qualified name's middle cut: the last part ("<listcomp>" of
 * "crunch_report.<locals>.<listcomp>") stays when it can. */
static void fit_qualified(const char *func, int width, bool utf8, char *out,
			  size_t len)
{
	/* the head keeps a few columns (the outer name starts), the tail the
	 * rest up to the whole last part; no dot: half and half */
	const int ell_w = utf8 ? 1 : 3, head_min = 6;
	const char *dot = strrchr(func, '.');
	int tail_w = (width - ell_w) / 2;
	if (dot && dot[1]) {
		tail_w = top_text_width(dot + 1);
		if (tail_w > width - ell_w - head_min)
			tail_w = width - ell_w - head_min;
	}
	fit_middle(func, width, tail_w, utf8, out, len);
}

void top_fit_path(const char *path, int32_t line, int width, bool utf8,
		  char *out, size_t len)
{
	char ln[16] = "";
	const char *ell = utf8 ? "\xe2\x80\xa6/" : ".../";
	const int ell_w = utf8 ? 2 : 4;
	if (line > 0)
		snprintf(ln, sizeof ln, ":%" PRId32, line);
	int line_w = (int)strlen(ln);
	const char *c = path;
	bool cut = false;
	for (;;) {
		const char *slash = strchr(c + (*c == '/'), '/');
		int w = top_text_width(c) + line_w + (cut ? ell_w : 0);
		/* "\u2026/base" when it fits, else the base alone */
		if (w <= width || (!slash && cut && w - ell_w <= width)) {
			char tmp[2 * TOP_NAME_MAX];
			top_fit_text(c, INT_MAX, utf8, tmp, sizeof tmp);
			snprintf(out, len, "%s%s%s",
				 cut && w <= width ? ell : "", tmp, ln);
			return;
		}
		if (!slash)
			break;
		c = slash + 1;
		cut = true;
	}
	/* the base name's middle; the line stays */
	if (width - line_w >= 4) {
		const char *ext = strrchr(c, '.');
		fit_middle(c, width - line_w, ext ? top_text_width(ext) + 2 : 4,
			   utf8, out, len);
		if (strlen(out) + strlen(ln) < len)
			strcat(out, ln);
	} else {
		top_fit_text(ln[0] ? ln : c, width, utf8, out, len);
	}
}

/* The function part of r's name. */
static void func_of(const struct top_row *r, char *out, size_t len)
{
	size_t n = r->func_len < len ? r->func_len : len - 1;
	memcpy(out, r->name, n);
	out[n] = '\0';
}

void top_fit_function(const char *prefix, const struct top_row *r, int width,
		      bool utf8, char *out, size_t len)
{
	char func[TOP_NAME_MAX], cut[2 * TOP_NAME_MAX];
	if (!r->where[0]) {
		char all[TOP_NAME_MAX + 64];
		snprintf(all, sizeof all, "%s%s", prefix, r->name);
		top_fit_text(all, width, utf8, out, len);
		return;
	}
	func_of(r, func, sizeof func);
	int pw = top_text_width(prefix);
	if (width - pw < 6) {
		char all[TOP_NAME_MAX + 64];
		snprintf(all, sizeof all, "%s%s", prefix, func);
		top_fit_text(all, width, utf8, out, len);
		return;
	}
	fit_qualified(func, width - pw, utf8, cut, sizeof cut);
	snprintf(out, len, "%s%s", prefix, cut);
}

/* A function keeps at least this many columns before the file's name is
 * cut. */
#define FUNC_MIN_W 12

void top_fit_located(const char *prefix, const struct top_row *r, int width,
		     bool utf8, char *out, size_t len)
{
	char func[TOP_NAME_MAX], fcut[2 * TOP_NAME_MAX], loc[2 * TOP_NAME_MAX];
	char all[TOP_NAME_MAX + 64];
	snprintf(all, sizeof all, "%s%s", prefix, r->name);
	if (!r->where[0] || top_text_width(all) <= width) {
		top_fit_text(all, width, utf8, out, len);
		return;
	}
	func_of(r, func, sizeof func);
	int pw = top_text_width(prefix), fw = top_text_width(func);
	char ln[16] = "";
	if (r->line > 0)
		snprintf(ln, sizeof ln, ":%" PRId32, r->line);
	int lw = top_text_width(base_name(r->where)) + (int)strlen(ln);
	int room = width - pw - 3;	/* " (" and ")" */
	int func_w = room - lw;
	if (func_w < FUNC_MIN_W)
		func_w = fw < FUNC_MIN_W ? fw : FUNC_MIN_W;
	if (room - func_w < (int)strlen(ln) + 4) {
		top_fit_text(all, width, utf8, out, len);
		return;
	}
	fit_qualified(func, func_w, utf8, fcut, sizeof fcut);
	top_fit_path(base_name(r->where), r->line, room - top_text_width(fcut),
		     utf8, loc, sizeof loc);
	snprintf(out, len, "%s%s (%s)", prefix, fcut, loc);
}
