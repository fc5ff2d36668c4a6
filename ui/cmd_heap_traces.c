/* loupe heap --traces: where the live memory was allocated, from the
 * target's own tracemalloc (profiler/python/tracemalloc.c), printed as
 * tracemalloc.Snapshot.statistics('lineno' or 'traceback') would, and with
 * --interval what grew, as Snapshot.compare_to does; -o writes the
 * tracebacks weighted by bytes as a flame graph or pprof profile. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "commands.h"
#include "formats/formats.h"
#include "heap_traces.h"
#include "options.h"
#include "profile.h"
#include "python/py.h"
#include "python/tracemalloc.h"
#include "session.h"
#include "symbols.h"
#include "target.h"
#include "units.h"

/* One group of traces: a line or a whole traceback. */
struct group {
	char *key;		/* "file:line", or frames joined by '\n' */
	int64_t size, count;	/* now */
	int64_t size0, count0;	/* at the first snapshot (--interval) */
};

/* tracemalloc's _format_size (Lib/tracemalloc.py) */
static void fmt_size(char *buf, size_t len, double size, bool sign)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	for (int i = 0; i < 5; i++) {
		if (fabs(size) < 100 && i) {
			snprintf(buf, len, sign ? "%+.1f %s" : "%.1f %s", size,
				 units[i]);
			return;
		}
		if (fabs(size) < 10 * 1024 || i == 4) {
			snprintf(buf, len, sign ? "%+.0f %s" : "%.0f %s", size,
				 units[i]);
			return;
		}
		size /= 1024;
	}
}

static char *site_key(const struct py_tm_site *s, bool traceback)
{
	size_t n = traceback ? s->nframes : 1, len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(s->frames[i].file) + 16;
	char *k = malloc(len), *p = k;
	if (!k)
		return NULL;
	*p = '\0';
	/* the most recent call first, as tracemalloc keeps them */
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s:%u", i ? "\n" : "", s->frames[i].file,
			     s->frames[i].line);
	return k;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct group *)a)->key,
		      ((const struct group *)b)->key);
}

/* Adds a snapshot's sites to g[*n..] (first: into size0/count0), then
 * merges equal keys.  *n stays within cap (the caller sized it). */
static int add_groups(struct group **g, size_t *n, size_t *cap,
		      const struct py_tm_snapshot *s, bool traceback, bool first)
{
	if (*n + s->nsites > *cap) {
		size_t nc = *n + s->nsites + 16;
		struct group *ng = realloc(*g, nc * sizeof *ng);
		if (!ng)
			return -1;
		*g = ng;
		*cap = nc;
	}
	for (size_t i = 0; i < s->nsites; i++) {
		struct group *x = &(*g)[(*n)++];
		memset(x, 0, sizeof *x);
		if (!(x->key = site_key(&s->sites[i], traceback)))
			return -1;
		int64_t sz = (int64_t)s->sites[i].size;
		int64_t ct = (int64_t)s->sites[i].count;
		if (first) {
			x->size0 = sz;
			x->count0 = ct;
		} else {
			x->size = sz;
			x->count = ct;
		}
	}
	qsort(*g, *n, sizeof **g, cmp_key);
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		if (k && strcmp((*g)[k - 1].key, (*g)[i].key) == 0) {
			struct group *d = &(*g)[k - 1], *x = &(*g)[i];
			d->size += x->size;
			d->count += x->count;
			d->size0 += x->size0;
			d->count0 += x->count0;
			free(x->key);
		} else {
			(*g)[k++] = (*g)[i];
		}
	}
	*n = k;
	return 0;
}

static bool g_diff;	/* sort by growth (set before qsort) */

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* statistics(): by size, then count; compare_to(): by |size diff|, size,
 * |count diff|, count (Lib/tracemalloc.py StatisticDiff._sort_key) */
static int cmp_stat(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	int64_t kx[4] = { x->size, x->count, 0, 0 };
	int64_t ky[4] = { y->size, y->count, 0, 0 };
	if (g_diff) {
		int64_t dx[4] = { abs64(x->size - x->size0), x->size,
				  abs64(x->count - x->count0), x->count };
		int64_t dy[4] = { abs64(y->size - y->size0), y->size,
				  abs64(y->count - y->count0), y->count };
		memcpy(kx, dx, sizeof kx);
		memcpy(ky, dy, sizeof ky);
	}
	for (int i = 0; i < 4; i++)
		if (kx[i] != ky[i])
			return kx[i] > ky[i] ? -1 : 1;
	return strcmp(x->key, y->key);
}

static void print_group(const struct group *x, int rank, bool traceback,
			bool diff)
{
	char sz[32], dsz[32], avg[32];
	fmt_size(sz, sizeof sz, (double)x->size, false);
	fmt_size(dsz, sizeof dsz, (double)(x->size - x->size0), true);
	fmt_size(avg, sizeof avg, x->count ? (double)x->size / (double)x->count
					   : 0, false);
	if (!traceback) {
		if (diff)
			printf("%s: size=%s (%s), count=%lld (%+lld), "
			       "average=%s\n", x->key, sz, dsz,
			       (long long)x->count,
			       (long long)(x->count - x->count0), avg);
		else
			printf("%s: size=%s, count=%lld, average=%s\n", x->key,
			       sz, (long long)x->count, avg);
		return;
	}
	if (diff)
		printf("#%d: %lld memory blocks (%+lld): %s (%s)\n", rank,
		       (long long)x->count, (long long)(x->count - x->count0),
		       sz, dsz);
	else
		printf("#%d: %lld memory blocks: %s\n", rank,
		       (long long)x->count, sz);
	/* oldest call first, as Traceback.format() prints */
	const char *end = x->key + strlen(x->key);
	while (end > x->key) {
		const char *start = end;
		while (start > x->key && start[-1] != '\n')
			start--;
		const char *colon = memrchr(start, ':', (size_t)(end - start));
		if (colon)
			printf("  File \"%.*s\", line %.*s\n",
			       (int)(colon - start), start,
			       (int)(end - colon - 1), colon + 1);
		end = start > x->key ? start - 1 : start;
	}
}

/* The tracebacks as stacks weighted by bytes, for the profile writers. */
static int write_profile(const struct py_tm_snapshot *s, const char *path,
			 pid_t pid, lp_error *err)
{
	profile *p = profile_new();
	if (!p)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	int rc = LP_OK;
	uint32_t ids[MAX_TM_FRAMES];
	for (size_t i = 0; i < s->nsites && rc == LP_OK; i++) {
		const struct py_tm_site *site = &s->sites[i];
		size_t n = site->nframes;
		for (size_t k = 0; k < n; k++) {
			const struct py_tm_frame *f = &site->frames[n - 1 - k];
			char name[MAX_PATH_LEN + 16];
			snprintf(name, sizeof name, "%s:%u", f->file, f->line);
			struct frame fr = {
				.kind = FRAME_PYTHON,
				.func = profile_intern_cstr(p, name),
				.file = profile_intern_cstr(p, f->file),
				.line = (int32_t)f->line,
			};
			ids[k] = profile_intern_frame(p, &fr);
		}
		struct profile_agg a = {
			.stack = profile_intern_stack(p, ids, n),
			.pid = (int32_t)pid, .tid = (int32_t)pid,
			.samples = site->size,
		};
		if (a.stack == PROFILE_NOID)
			rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		else
			rc = profile_add_agg(p, &a);
	}
	profile_set_meta(p, "bytes", "inuse_space");
	/* a snapshot, not a span of time (else writers guess one from the
	 * weights) */
	profile_set_meta(p, "duration_ns", "1");
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	profile_set_start_ns(p, (uint64_t)now.tv_sec * 1000000000u +
			     (uint64_t)now.tv_nsec);
	if (rc == LP_OK) {
		struct output_opts o = { .mode = MODE_WALL, .lines = true,
					 .title = "tracemalloc: live bytes by "
						  "traceback" };
		enum output_format f = format_from_path(path);
		if (f != FORMAT_FLAMEGRAPH && f != FORMAT_PPROF &&
		    f != FORMAT_COLLAPSED)
			rc = lp_error_set(err, LP_EINVAL, "%s: --traces writes "
					  ".svg, .pb.gz or .txt", path);
		else
			rc = format_write_file(p, f, path, &o, err);
	}
	profile_free(p);
	return rc;
}

static bool wait_interval(double s)
{
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)s;
	end.tv_nsec += (long)((s - floor(s)) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (!session_stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return true;
		struct timespec d = { 0, 50 * 1000000L };
		nanosleep(&d, NULL);
	}
	return false;
}

int heap_traces_run(const struct heap_traces_opts *o)
{
	target *t = NULL;
	symbolizer *syms = NULL;
	py_proc *py = NULL;
	struct py_tm_snapshot s0 = { 0 }, s1 = { 0 };
	struct group *g = NULL;
	size_t n = 0, cap = 0;
	int status = 1;
	lp_error err = { 0 };
	struct cli_opts co = { .pid = o->pid };
	if (session_open_target(&co, &t))
		goto out;
	if (symbolizer_new(&syms, o->pid, target_procfd(t)) != LP_OK) {
		cli_error("out of memory");
		goto out;
	}
	if (py_proc_attach(&py, t, syms, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	bool diff = o->interval > 0;
	if (py_tracemalloc_snapshot(py, syms, diff ? &s0 : &s1, &err) != LP_OK) {
		cli_error("PID %d: %s", (int)o->pid, err.msg);
		goto out;
	}
	if (diff) {
		if (!wait_interval(o->interval))
			goto out;
		if (py_tracemalloc_snapshot(py, syms, &s1, &err) != LP_OK) {
			cli_error("PID %d: %s", (int)o->pid, err.msg);
			goto out;
		}
		if (add_groups(&g, &n, &cap, &s0, o->traceback, true))
			goto oom;
	}
	if (add_groups(&g, &n, &cap, &s1, o->traceback, false))
		goto oom;
	g_diff = diff;
	qsort(g, n, sizeof *g, cmp_stat);
	int top = o->top > 0 ? o->top : 20;
	char tot[32];
	fmt_size(tot, sizeof tot, (double)s1.total_size, false);
	printf("tracemalloc in PID %d (CPython %s): %s in %llu blocks",
	       (int)o->pid, py_proc_version(py), tot,
	       (unsigned long long)s1.total_count);
	if (s1.unreadable)
		printf(", %llu unreadable or changed during the read",
		       (unsigned long long)s1.unreadable);
	if (diff) {
		char d[32];
		fmt_size(d, sizeof d,
			 (double)s1.total_size - (double)s0.total_size, true);
		printf(", %s in %gs", d, o->interval);
	}
	printf("\nTop %d %s%s:\n", top < (int)n ? top : (int)n,
	       o->traceback ? "tracebacks" : "lines",
	       diff ? " by growth" : "");
	for (size_t i = 0; i < n && (int)i < top; i++)
		print_group(&g[i], (int)i + 1, o->traceback, diff);
	if (o->output &&
	    write_profile(&s1, o->output, o->pid, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	status = 0;
	goto out;
oom:
	cli_error("out of memory");
out:
	fflush(stdout);
	for (size_t i = 0; i < n; i++)
		free(g[i].key);
	free(g);
	py_tm_snapshot_fini(&s0);
	py_tm_snapshot_fini(&s1);
	py_proc_free(py);
	symbolizer_free(syms);
	if (t)
		target_free(t, false);
	return status;
}
