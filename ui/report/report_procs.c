/* loupe report: the processes of a recording and the part of one. */
#include "report_procs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "formats/formats.h"
#include "text_escape.h"

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
	if (m > 1)
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

profile *report_select_pid(const profile *p, int32_t pid)
{
	profile *q = profile_new();
	if (q && profile_merge(q, p, pid) != LP_OK) {
		profile_free(q);
		return NULL;
	}
	return q;
}

void report_print_procs(const struct report_proc *procs, size_t n,
			uint64_t total_wall)
{
	printf("Processes: %zu\n", n);
	printf("  %8s  %-16s  %7s  %6s  %11s  %9s\n", "PID", "Command", "Threads",
	       "%Wall", "CPU samples", "CPU time");
	for (size_t i = 0; i < n; i++) {
		const struct report_proc *r = &procs[i];
		char comm[TEXT_ESCAPE_MAX];
		printf("  %8" PRId32 "  %-16s  %7zu  %6.1f  %11" PRIu64 "  %7.2f s\n",
		       r->pid, text_escape(r->comm ? r->comm : "?", comm, sizeof comm),
		       r->nthreads,
		       total_wall ? 100.0 * (double)r->samples / (double)total_wall : 0.0,
		       r->cpu_samples, (double)r->cpu_ns / 1e9);
	}
	printf("\n");
}
