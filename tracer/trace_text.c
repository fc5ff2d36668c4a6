#include "trace_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syscalls.h"

/* Edges of the histogram shown, in ns (the tick histogram itself is
 * finer: hist.h). */
static const uint64_t edges[] = { 100000, 1000000, 10000000, 50000000,
				  100000000, 500000000 };
static const char *const edge_names[] = { "< 0.1 ms", "0.1-1 ms", "1-10 ms",
					   "10-50 ms", "50-100 ms",
					   "100-500 ms", ">= 500 ms" };
#define NEDGES (sizeof edges / sizeof edges[0])
#define BAR_WIDTH 40

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static const char *sys_name(long nr, char *buf, size_t len)
{
	const char *n = syscall_name(nr);
	if (n)
		return n;
	snprintf(buf, len, "syscall_%ld", nr);
	return buf;
}

/* Coarse counts from the fine histogram: a bucket goes by its middle. */
static void coarse(const struct hist *h, uint64_t *out)
{
	memset(out, 0, (NEDGES + 1) * sizeof *out);
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		if (!h->b[i])
			continue;
		double mid = exp2(((double)i + 0.5) / HIST_SUB);
		size_t k = 0;
		while (k < NEDGES && mid >= (double)edges[k])
			k++;
		out[k] += h->b[i];
	}
}

static void write_hist(FILE *fp, const struct hist *h)
{
	uint64_t c[NEDGES + 1], most = 0;
	coarse(h, c);
	for (size_t k = 0; k <= NEDGES; k++)
		if (c[k] > most)
			most = c[k];
	fputs("  tick histogram\n", fp);
	for (size_t k = 0; k <= NEDGES; k++) {
		size_t bar = most ? (size_t)((c[k] * BAR_WIDTH + most - 1) / most) : 0;
		fprintf(fp, "    %-11s %9llu ", edge_names[k], (unsigned long long)c[k]);
		for (size_t b = 0; b < bar; b++)
			fputc('#', fp);
		fputc('\n', fp);
	}
}

static void write_stall(FILE *fp, const profile *p, const struct trace_stall *s)
{
	fprintf(fp, "    stall at %.3f s lasting %.1f ms%s on thread %d: ",
		(double)s->start_ns / 1e9, ms(s->dur_ns),
		s->open ? " (still running at the end)" : "", (int)s->tid);
	for (size_t i = 0; i < s->npaths; i++)
		fprintf(fp, "%s%s [%llu of %llu samples]", i ? " | " : "",
			profile_str(p, s->paths[i].text),
			(unsigned long long)s->paths[i].held,
			(unsigned long long)s->samples);
	if (!s->npaths)
		fprintf(fp, "(no stack: %s)", s->why[0] ? s->why : "not sampled");
	for (size_t i = 0; i < s->nsys; i++) {
		char buf[32];
		fprintf(fp, "%s%s %llux %.1f ms", i ? ", " : "; syscalls: ",
			sys_name(s->sys[i].nr, buf, sizeof buf),
			(unsigned long long)s->sys[i].count, ms(s->sys[i].total_ns));
	}
	fputc('\n', fp);
}

#define GROUP_KEY 512

struct group {
	char key[GROUP_KEY];	/* the folded path, "" without a stack */
	uint64_t count, total_ns, max_ns;
};

/* A stall's code path as stalls are grouped: without the task's name (a
 * thousand request tasks stalling in one call are one path) and with the
 * lines folded to their function ("f (app.py:12)" -> "f (app.py)"). */
static void fold_text(const char *in, char *out, size_t len)
{
	static const char arrow[] = " \xe2\x86\x92 ";
	if (strncmp(in, "task ", 5) == 0) {
		const char *a = strstr(in, arrow);
		if (a)
			in = a + sizeof arrow - 1;
	}
	size_t o = 0;
	for (const char *c = in; *c && o + 1 < len; c++) {
		if (*c == ':') {
			const char *d = c + 1;
			while (*d >= '0' && *d <= '9')
				d++;
			if (d > c + 1 && *d == ')') {
				c = d - 1;
				continue;
			}
		}
		out[o++] = *c;
	}
	out[o] = '\0';
}

static int by_total(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

static int stall_by_dur(const void *a, const void *b)
{
	const struct trace_stall *x = *(const struct trace_stall *const *)a;
	const struct trace_stall *y = *(const struct trace_stall *const *)b;
	return x->dur_ns < y->dur_ns ? 1 : x->dur_ns > y->dur_ns ? -1 : 0;
}

static int stall_by_time(const void *a, const void *b)
{
	const struct trace_stall *x = *(const struct trace_stall *const *)a;
	const struct trace_stall *y = *(const struct trace_stall *const *)b;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns ? 1 : 0;
}

static int write_stalls(FILE *fp, const tracer *tr, const profile *p,
			pid_t tid, const struct trace_text_opts *o)
{
	size_t n;
	const struct trace_stall *all = tracer_stalls(tr, &n);
	const struct trace_stall **mine = malloc((n ? n : 1) * sizeof *mine);
	struct group *g = malloc((n ? n : 1) * sizeof *g);
	if (!mine || !g) {
		free(mine);
		free(g);
		return LP_ENOMEM;
	}
	size_t k = 0, ng = 0;
	uint64_t total = 0, max = 0;
	for (size_t i = 0; i < n; i++) {
		if (all[i].tid != tid)
			continue;
		mine[k++] = &all[i];
		total += all[i].dur_ns;
		if (all[i].dur_ns > max)
			max = all[i].dur_ns;
		size_t j = 0;
		/* grouped by the dominant path, folded */
		char key[GROUP_KEY] = "";
		if (all[i].npaths)
			fold_text(profile_str(p, all[i].paths[0].text), key,
				  sizeof key);
		while (j < ng && strcmp(g[j].key, key) != 0)
			j++;
		if (j == ng) {
			memset(&g[ng], 0, sizeof g[ng]);
			memcpy(g[ng++].key, key, sizeof key);
		}
		g[j].count++;
		g[j].total_ns += all[i].dur_ns;
		if (all[i].dur_ns > g[j].max_ns)
			g[j].max_ns = all[i].dur_ns;
	}
	fprintf(fp, "  stalls          %zu over %.0f ms", k, o->threshold_ms);
	if (k)
		fprintf(fp, ", %.1f ms in all, max %.1f ms", ms(total), ms(max));
	fputc('\n', fp);
	if (k) {
		/* the longest, shown in time order */
		size_t show = k;
		if (o->max_stalls && show > o->max_stalls) {
			qsort(mine, k, sizeof *mine, stall_by_dur);
			show = o->max_stalls;
		}
		qsort(mine, show, sizeof *mine, stall_by_time);
		for (size_t i = 0; i < show; i++)
			write_stall(fp, p, mine[i]);
		if (show < k)
			fprintf(fp, "    ... and %zu shorter stalls\n", k - show);
		qsort(g, ng, sizeof *g, by_total);
		fputs("  stalls by code path\n"
		      "    count   total ms     max ms  path\n", fp);
		for (size_t i = 0; i < ng; i++)
			fprintf(fp, "    %5llu %10.1f %10.1f  %s\n",
				(unsigned long long)g[i].count, ms(g[i].total_ns),
				ms(g[i].max_ns),
				g[i].key[0] ? g[i].key : "(no stack samples)");
	}
	free(mine);
	free(g);
	return LP_OK;
}

static int kind_by_time(const void *a, const void *b)
{
	const struct syscall_stat *x = a, *y = b;
	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

/* Syscalls made while the loop was busy: what blocked it, by kind. */
static int write_kinds(FILE *fp, const struct loop_thread *th,
		       uint64_t after_ns)
{
	if (!th->nkinds)
		return LP_OK;
	struct syscall_stat *k = malloc(th->nkinds * sizeof *k);
	if (!k)
		return LP_ENOMEM;
	memcpy(k, th->kinds, th->nkinds * sizeof *k);
	qsort(k, th->nkinds, sizeof *k, kind_by_time);
	if (after_ns)
		fprintf(fp, "  syscalls while busy for over %.0f ms (by total time)\n",
			ms(after_ns));
	else
		fputs("  syscalls while busy (by total time)\n", fp);
	fputs("    syscall                count   total ms     max ms\n", fp);
	for (size_t i = 0; i < th->nkinds && i < 15; i++) {
		char buf[32];
		fprintf(fp, "    %-20s %7llu %10.2f %10.2f\n",
			sys_name(k[i].nr, buf, sizeof buf),
			(unsigned long long)k[i].count, ms(k[i].total_ns),
			ms(k[i].max_ns));
	}
	free(k);
	return LP_OK;
}

static const char *thread_name(const target *t, pid_t tid)
{
	for (size_t i = 0; i < target_nthreads(t); i++) {
		const struct target_thread *th = target_thread_at((target *)t, i);
		if (th->tid == tid)
			return th->name;
	}
	return "?";
}

int trace_text_write(FILE *fp, const tracer *tr, const profile *p,
		     const target *t, const struct trace_text_opts *o)
{
	const struct tracer_stats *st = tracer_stats(tr);
	const loop_tracker *lt = tracer_loops(tr);
	fprintf(fp, "loupe trace: %s, %.2f s, %s, %llu syscall events",
		o->title, (double)st->elapsed_ns / 1e9, tracer_source(tr),
		(unsigned long long)st->events);
	if (st->lost)
		fprintf(fp, " (%llu lost)", (unsigned long long)st->lost);
	fprintf(fp, ", %llu stack samples%s\n", (unsigned long long)st->samples,
		tracer_target_exited(tr) ? "; the target exited" : "");
	for (size_t i = 0; i < loop_nthreads(lt); i++) {
		const struct loop_thread *th = loop_thread_at(lt, i);
		if (!loop_is_loop(th))
			continue;
		uint64_t seen = th->busy_ns + th->idle_ns;
		fprintf(fp, "\nEvent loop on thread %d (%s)\n", (int)th->tid,
			thread_name(t, th->tid));
		if (th->late)
			fprintf(fp, "  warning: %llu events came late (out of time order): ticks may have merged\n",
				(unsigned long long)th->late);
		fprintf(fp, "  utilization     %.1f%% busy (%.3f s of %.3f s)\n",
			seen ? 100.0 * (double)th->busy_ns / (double)seen : 0.0,
			(double)th->busy_ns / 1e9, (double)seen / 1e9);
		const struct hist *h = &th->tick_hist;
		fprintf(fp, "  ticks           %llu; duration p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
			(unsigned long long)h->n, ms(hist_quantile(h, 0.5)),
			ms(hist_quantile(h, 0.9)), ms(hist_quantile(h, 0.99)),
			ms(h->max));
		write_hist(fp, h);
		if (write_stalls(fp, tr, p, th->tid, o) != LP_OK ||
		    write_kinds(fp, th, tracer_detail_after_ns(tr)) != LP_OK)
			return LP_ENOMEM;
	}
	return ferror(fp) ? LP_EIO : LP_OK;
}
