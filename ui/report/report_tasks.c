#include "report_tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "options.h"
#include "text_escape.h"

struct acc {
	struct coro_stats *v;
	size_t n, cap;
};

static long find_or_add(struct acc *a, uint32_t func, uint32_t file)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].func == func && a->v[i].file == file)
			return (long)i;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct coro_stats *v = realloc(a->v, cap * sizeof *v);
		if (!v)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n] = (struct coro_stats){ .func = func, .file = file };
	return (long)a->n++;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

static int cmp_wall(const void *x, const void *y)
{
	const struct coro_stats *a = x, *b = y;
	return a->samples < b->samples ? 1 : a->samples > b->samples ? -1 : 0;
}

int coro_stats(const profile *p, struct coro_stats **out, size_t *n,
	       uint64_t *task_samples)
{
	struct acc a = { 0 };
	size_t na;
	const struct profile_agg *ag = profile_aggs(p, &na);
	*task_samples = 0;
	/* task ids per coroutine, as (coroutine, task) pairs, deduplicated
	 * at the end */
	uint64_t *pairs = NULL;
	size_t npairs = 0, pcap = 0;
	int rc = LP_OK;
	for (size_t i = 0; i < na && rc == LP_OK; i++) {
		if (!ag[i].task)
			continue;
		*task_samples += ag[i].samples;
		size_t sn;
		const uint32_t *fr = profile_stack(p, ag[i].stack, &sn);
		for (size_t k = 0; k < sn; k++) {
			const struct frame *f = profile_frame(p, fr[k]);
			if (!f || f->kind != FRAME_PYTHON)
				continue;
			bool dup = false;	/* recursion: once per stack */
			for (size_t j = 0; j < k && !dup; j++) {
				const struct frame *g = profile_frame(p, fr[j]);
				dup = g->kind == FRAME_PYTHON && g->func == f->func &&
				      g->file == f->file;
			}
			if (dup)
				continue;
			long c = find_or_add(&a, f->func, f->file);
			if (c < 0) {
				rc = LP_ENOMEM;
				break;
			}
			a.v[c].samples += ag[i].samples;
			a.v[c].cpu_samples += ag[i].cpu_samples;
			a.v[c].cpu_ns += ag[i].cpu_ns;
			if (npairs == pcap) {
				pcap = pcap ? 2 * pcap : 256;
				uint64_t *np = realloc(pairs, pcap * sizeof *np);
				if (!np) {
					rc = LP_ENOMEM;
					break;
				}
				pairs = np;
			}
			pairs[npairs++] = (uint64_t)c << 32 | ag[i].task;
		}
	}
	if (rc == LP_OK && npairs) {
		qsort(pairs, npairs, sizeof *pairs, cmp_u64);
		for (size_t i = 0; i < npairs; i++)
			if (i == 0 || pairs[i] != pairs[i - 1])
				a.v[pairs[i] >> 32].ntasks++;
	}
	free(pairs);
	if (rc != LP_OK) {
		free(a.v);
		return rc;
	}
	if (a.n > 1)
		qsort(a.v, a.n, sizeof *a.v, cmp_wall);
	*out = a.v;
	*n = a.n;
	return LP_OK;
}

int report_tasks(const profile *p)
{
	struct coro_stats *cs;
	size_t n;
	uint64_t total;
	if (coro_stats(p, &cs, &n, &total) != LP_OK) {
		cli_error("out of memory");
		return 1;
	}
	const char *r = profile_meta(p, "rate");
	const char *t = profile_meta(p, "ticks");
	double rate = r ? strtod(r, NULL) : 0;
	double ticks = t ? strtod(t, NULL) : 0;
	if (!total) {
		printf("no task samples: record with --tasks an asyncio program\n");
		free(cs);
		return 0;
	}
	printf("Per coroutine, over %llu task samples%s%s%s: wall = running or\n"
	       "suspended in it (as yappi's wall clock), summed over its tasks\n"
	       "(%% of the recording: 200 = two tasks all along), CPU = on CPU\n"
	       "in it, tasks = distinct tasks seen in it, avg = tasks in it at a\n"
	       "time.\n\n",
	       (unsigned long long)total, rate > 0 ? " at " : "",
	       r && rate > 0 ? r : "", rate > 0 ? " Hz" : "");
	printf("  %10s %7s %10s %7s %7s %9s  %s\n", "wall s", "wall %",
	       "CPU s", "CPU %", "tasks", "avg", "coroutine");
	for (size_t i = 0; i < n && i < 50; i++) {
		double wall_s = rate > 0 ? (double)cs[i].samples / rate : 0;
		/* wall %: of the task's own life is not known here; share of
		 * the recording's ticks (one sample per task per tick) */
		double wall_pct = ticks > 0 ? 100.0 * (double)cs[i].samples / ticks : 0;
		double avg = ticks > 0 ? (double)cs[i].samples / ticks : 0;
		char func[TEXT_ESCAPE_MAX], file[TEXT_ESCAPE_MAX];
		printf("  %10.3f %7.1f %10.3f %7.1f %7llu %9.2f  %s (%s)\n",
		       wall_s, wall_pct, cs[i].cpu_ns / 1e9,
		       ticks > 0 ? 100.0 * (double)cs[i].cpu_samples / ticks : 0,
		       (unsigned long long)cs[i].ntasks, avg,
		       text_escape(profile_str(p, cs[i].func), func, sizeof func),
		       text_escape(profile_str(p, cs[i].file), file, sizeof file));
	}
	free(cs);
	return 0;
}
