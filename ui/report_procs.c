/* loupe report: the processes of a recording and the part of one. */
#include "report_procs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "formats/formats.h"

static int cmp_proc(const void *x, const void *y)
{
	const struct report_proc *a = x, *b = y;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

struct pt {
	int32_t pid, tid;
};

static int cmp_pt(const void *x, const void *y)
{
	const struct pt *a = x, *b = y;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

int report_procs(const profile *p, struct report_proc **out, size_t *n)
{
	size_t na, nt, ns;
	const struct profile_agg *a = profile_aggs(p, &na);
	const struct profile_thread *th = profile_threads(p, &nt);
	const struct profile_span *sp = profile_spans(p, &ns);
	size_t cap = na + nt + ns;
	struct pt *pts = malloc((cap ? cap : 1) * sizeof *pts);
	struct report_proc *r = malloc((cap ? cap : 1) * sizeof *r);
	*out = NULL;
	*n = 0;
	if (!pts || !r) {
		free(pts);
		free(r);
		return LP_ENOMEM;
	}
	/* (pid, tid) of everything, sorted: a process per pid, a thread per
	 * distinct pair of the aggregates */
	size_t k = 0;
	for (size_t i = 0; i < na; i++)
		pts[k++] = (struct pt){ a[i].pid, a[i].tid };
	qsort(pts, k, sizeof *pts, cmp_pt);
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (m && r[m - 1].pid == pts[i].pid) {
			if (pts[i].tid != pts[i - 1].tid)
				r[m - 1].nthreads++;
			continue;
		}
		r[m++] = (struct report_proc){ .pid = pts[i].pid, .nthreads = 1 };
	}
	/* processes known only by a thread name or a span: no samples */
	for (size_t i = 0; i < nt + ns; i++) {
		int32_t pid = i < nt ? th[i].pid : sp[i - nt].pid;
		if (!report_has_pid(r, m, pid))
			r[m++] = (struct report_proc){ .pid = pid };
	}
	qsort(r, m, sizeof *r, cmp_proc);
	for (size_t i = 0; i < na; i++) {
		struct report_proc key = { .pid = a[i].pid };
		struct report_proc *e = bsearch(&key, r, m, sizeof *r, cmp_proc);
		e->samples += a[i].samples;
		e->cpu_samples += a[i].cpu_samples;
		e->cpu_ns += a[i].cpu_ns;
	}
	for (size_t i = 0; i < m; i++)
		r[i].comm = output_process_comm(p, r[i].pid);
	free(pts);
	*out = r;
	*n = m;
	return LP_OK;
}

int report_has_pid(const struct report_proc *procs, size_t n, int32_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (procs[i].pid == pid)
			return 1;
	return 0;
}

void report_pid_list(const struct report_proc *procs, size_t n, char *buf,
		     size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char one[24];
		snprintf(one, sizeof one, "%s%" PRId32, i ? ", " : "",
			 procs[i].pid);
		if (at + strlen(one) + 5 > len) {
			snprintf(buf + at, len - at, ", ...");
			return;
		}
		at += (size_t)snprintf(buf + at, len - at, "%s", one);
	}
}

/* Copying between two profiles: ids of p translated to ids of q, each
 * interned once. */
struct copier {
	const profile *p;
	profile *q;
	uint32_t *str, *frame, *stack;	/* p id -> q id, PROFILE_NOID: not yet */
	size_t nstr, nframe, nstack;
};

static uint32_t copy_str(struct copier *c, uint32_t id)
{
	if (id >= c->nstr)
		return PROFILE_NOID;
	if (c->str[id] == PROFILE_NOID)
		c->str[id] = profile_intern_str(c->q, profile_str(c->p, id),
						profile_str_len(c->p, id));
	return c->str[id];
}

static uint32_t copy_frame(struct copier *c, uint32_t id)
{
	if (id >= c->nframe)
		return PROFILE_NOID;
	if (c->frame[id] != PROFILE_NOID)
		return c->frame[id];
	struct frame f = *profile_frame(c->p, id);
	f.func = copy_str(c, f.func);
	f.file = copy_str(c, f.file);
	f.module = copy_str(c, f.module);
	if (f.func == PROFILE_NOID || f.file == PROFILE_NOID ||
	    f.module == PROFILE_NOID)
		return PROFILE_NOID;
	return c->frame[id] = profile_intern_frame(c->q, &f);
}

static uint32_t copy_stack(struct copier *c, uint32_t id)
{
	if (id >= c->nstack)
		return PROFILE_NOID;
	if (c->stack[id] != PROFILE_NOID)
		return c->stack[id];
	size_t n;
	const uint32_t *ids = profile_stack(c->p, id, &n);
	uint32_t *fr = malloc((n ? n : 1) * sizeof *fr);
	if (!fr)
		return PROFILE_NOID;
	for (size_t j = 0; j < n; j++) {
		/* p's frames stay put while q grows: they are p's */
		fr[j] = copy_frame(c, ids[j]);
		if (fr[j] == PROFILE_NOID) {
			free(fr);
			return PROFILE_NOID;
		}
	}
	c->stack[id] = profile_intern_stack(c->q, fr, n);
	free(fr);
	return c->stack[id];
}

static uint32_t *id_map(size_t n)
{
	uint32_t *m = malloc((n ? n : 1) * sizeof *m);
	if (m)
		memset(m, 0xff, (n ? n : 1) * sizeof *m);
	return m;
}

static int copy_pid(struct copier *c, int32_t pid)
{
	const profile *p = c->p;
	profile *q = c->q;
	for (size_t i = 0; i < profile_nmeta(p); i++) {
		const char *k, *v;
		profile_meta_at(p, i, &k, &v);
		if (profile_set_meta(q, k, v))
			return LP_ENOMEM;
	}
	profile_set_start_ns(q, profile_start_ns(p));
	size_t n;
	const struct profile_thread *th = profile_threads(p, &n);
	for (size_t i = 0; i < n; i++)
		if (th[i].pid == pid && th[i].name &&
		    profile_set_thread(q, pid, th[i].tid, profile_str(p, th[i].name)))
			return LP_ENOMEM;
	const struct sample *tl = profile_timeline(p, &n);
	if (n) {
		profile_keep_timeline(q, true);
		for (size_t i = 0; i < n; i++) {
			if (tl[i].pid != pid)
				continue;
			struct sample s = tl[i];
			s.stack = copy_stack(c, s.stack);
			s.task = copy_str(c, s.task);
			if (s.stack == PROFILE_NOID || s.task == PROFILE_NOID ||
			    profile_add_sample(q, &s))
				return LP_ENOMEM;
		}
	} else {
		const struct profile_agg *a = profile_aggs(p, &n);
		for (size_t i = 0; i < n; i++) {
			if (a[i].pid != pid)
				continue;
			struct profile_agg g = a[i];
			g.stack = copy_stack(c, g.stack);
			g.task = copy_str(c, g.task);
			if (g.stack == PROFILE_NOID || g.task == PROFILE_NOID ||
			    profile_add_agg(q, &g))
				return LP_ENOMEM;
		}
	}
	const struct profile_span *sp = profile_spans(p, &n);
	for (size_t i = 0; i < n; i++) {
		if (sp[i].pid != pid)
			continue;
		struct profile_span s = sp[i];
		s.cat = copy_str(c, s.cat);
		s.name = copy_str(c, s.name);
		s.detail = copy_str(c, s.detail);
		if (s.cat == PROFILE_NOID || s.name == PROFILE_NOID ||
		    s.detail == PROFILE_NOID || profile_add_span(q, &s))
			return LP_ENOMEM;
	}
	return LP_OK;
}

profile *report_select_pid(const profile *p, int32_t pid)
{
	struct copier c = {
		.p = p, .q = profile_new(),
		.nstr = profile_nstrs(p), .nframe = profile_nframes(p),
		.nstack = profile_nstacks(p),
	};
	c.str = id_map(c.nstr);
	c.frame = id_map(c.nframe);
	c.stack = id_map(c.nstack);
	int rc = c.q && c.str && c.frame && c.stack ? copy_pid(&c, pid)
						    : LP_ENOMEM;
	free(c.str);
	free(c.frame);
	free(c.stack);
	if (rc) {
		profile_free(c.q);
		return NULL;
	}
	return c.q;
}

void report_print_procs(const struct report_proc *procs, size_t n,
			uint64_t total_wall)
{
	printf("Processes: %zu\n", n);
	printf("  %8s  %-16s  %7s  %6s  %11s  %9s\n", "PID", "Command", "Threads",
	       "%Wall", "CPU samples", "CPU time");
	for (size_t i = 0; i < n; i++) {
		const struct report_proc *r = &procs[i];
		printf("  %8" PRId32 "  %-16s  %7zu  %6.1f  %11" PRIu64 "  %7.2f s\n",
		       r->pid, r->comm ? r->comm : "?", r->nthreads,
		       total_wall ? 100.0 * (double)r->samples / (double)total_wall : 0.0,
		       r->cpu_samples, (double)r->cpu_ns / 1e9);
	}
	printf("\n");
}
