/* loupe heap: the live heap of a Python process by type (issue #25),
 * counted from outside by the engine's census (profiler/python/
 * heap_census.c); with --interval, what grew and shrank between censuses,
 * as objgraph's show_growth does from inside. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "formats/formats.h"
#include "formats/writer_util.h"
#include "heap_traces.h"
#include "options.h"
#include "python/heap.h"
#include "python/py.h"
#include "session.h"
#include "symbols.h"
#include "target.h"
#include "text_escape.h"
#include "units.h"

static const char usage[] =
	"usage: loupe heap [OPTIONS] -p PID\n"
	"\n"
	"Counts the live objects of a Python process by type, from outside:\n"
	"objects and bytes per type, largest first, with totals and the share\n"
	"of the process's RSS they explain.\n"
	"\n"
	"  -p, --pid PID        the process\n"
	"      --top N          the N largest types (default 20; 0: all)\n"
	"      --json           one JSON object per census\n"
	"  -o, --output FILE    the (last) census as a pprof profile\n"
	"                       (heap.pb.gz: inuse_objects, inuse_space by\n"
	"                       type, for go tool pprof and Pyroscope)\n"
	"      --interval DUR   two censuses DUR apart: what grew and shrank\n"
	"      --count N        with --interval: N censuses, a line per type\n"
	"      --blocking       pause the process during each census and say\n"
	"                       for how long (consistent counts)\n"
	"      --nonblocking    never pause it (default): objects that change\n"
	"                       under the census are counted as changed\n"
	"      --traces         instead: where the live memory was allocated,\n"
	"                       from the target's tracemalloc (top sites by\n"
	"                       file:line; with --interval, the sites that\n"
	"                       grew; -o FILE.svg|.pb.gz|.txt the tracebacks\n"
	"                       weighted by bytes)\n"
	"      --traceback      with --traces, whole tracebacks\n";

struct heap_opts {
	pid_t pid;
	long top;
	bool top_set, json, blocking, blocking_set, traces, traceback;
	const char *output;
	double interval;
	long count;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rss_bytes(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
	FILE *f = fopen(path, "r");
	unsigned long long size = 0, res = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void human(char *buf, size_t len, double b)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	while ((b >= 1024 || b <= -1024) && i < 4) {
		b /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

/* One census, the target paused around it with --blocking; the pause in
 * *paused_ms (-1 without). */
static int take(py_proc *py, symbolizer *syms, target *t,
		const struct heap_opts *ho, struct py_heap_census *c,
		double *paused_ms, lp_error *err)
{
	*paused_ms = -1;
	if (!ho->blocking)
		return py_heap_census(py, syms, c, err);
	/* Paused inside a collection, or between the two stores that link
	 * an object into a list, the GC's lists do not close: resumed, and
	 * tried again (a heap that churns is there often). */
	int rc = LP_OK;
	for (int tries = 0; tries < 20; tries++) {
		if (tries) {
			py_heap_census_fini(c);
			struct timespec ts = { 0, 5 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		double t0 = now_s();
		rc = target_pause_all(t);
		if (rc != LP_OK)
			return lp_error_set(err, rc,
					    "cannot pause the process: %s",
					    lp_strerror(rc));
		rc = py_heap_census(py, syms, c, err);
		/* resumed on every path, before anything else is done */
		target_resume_all(t);
		*paused_ms = (now_s() - t0) * 1e3;
		if (rc != LP_OK || !c->lists_cut || session_stop)
			break;
	}
	return rc;
}

static void print_census(const struct py_heap_census *c,
			 const struct heap_opts *ho, const char *version,
			 uint64_t rss, double wall_ms, double paused_ms)
{
	size_t n = c->ntypes;
	if (ho->top > 0 && (size_t)ho->top < n)
		n = (size_t)ho->top;
	if (ho->json) {
		printf("{\"pid\": %d, \"python\": ", (int)ho->pid);
		json_string(stdout, version);
		printf(", \"objects\": %llu, \"bytes\": %llu, \"rss\": %llu, "
		       "\"changed\": %llu, \"lists_cut\": %llu, "
		       "\"census_ms\": %.1f",
		       (unsigned long long)c->objects,
		       (unsigned long long)c->bytes, (unsigned long long)rss,
		       (unsigned long long)c->changed,
		       (unsigned long long)c->lists_cut, wall_ms);
		if (paused_ms >= 0)
			printf(", \"paused_ms\": %.1f", paused_ms);
		printf(", \"small_objects\": %llu, \"large_objects\": %llu",
		       (unsigned long long)c->small_objects,
		       (unsigned long long)c->large_objects);
		printf(", \"pools\": ");
		json_string(stdout, c->pools);
		printf(", \"unseen\": ");
		json_string(stdout, c->unseen);
		printf(", \"types\": [");
		for (size_t i = 0; i < n; i++) {
			printf("%s{\"type\": ", i ? ", " : "");
			json_string(stdout, c->types[i].name);
			printf(", \"count\": %llu, \"bytes\": %llu}",
			       (unsigned long long)c->types[i].count,
			       (unsigned long long)c->types[i].bytes);
		}
		printf("]}\n");
		return;
	}
	char b1[32], b2[32], name[41];
	printf("%-40s %12s %12s\n", "TYPE", "OBJECTS", "BYTES");
	for (size_t i = 0; i < n; i++) {
		human(b1, sizeof b1, (double)c->types[i].bytes);
		printf("%-40s %12llu %12s\n",
		       text_escape(c->types[i].name, name, 41),
		       (unsigned long long)c->types[i].count, b1);
	}
	if (n < c->ntypes)
		printf("(%zu more types)\n", c->ntypes - n);
	human(b1, sizeof b1, (double)c->bytes);
	human(b2, sizeof b2, (double)rss);
	printf("total: %llu objects, %s in %zu types (Python %s); %.1f%% of "
	       "RSS %s\n", (unsigned long long)c->objects, b1, c->ntypes,
	       version, rss ? 100.0 * (double)c->bytes / (double)rss : 0.0,
	       b2);
	printf("changed during the census: %llu objects%s\n",
	       (unsigned long long)c->changed,
	       c->lists_cut ? " (some GC lists left before their end)" : "");
	if (c->pools[0])
		printf("small objects: %llu, in pymalloc's pools %s\n",
		       (unsigned long long)c->small_objects, c->pools);
	printf("not seen: %s\n", c->unseen);
	if (paused_ms >= 0)
		printf("paused: %.1f ms\n", paused_ms);
	printf("census: %.1f ms\n", wall_ms);
}

static const struct py_heap_type *find(const struct py_heap_census *c,
				       const struct py_heap_type *t)
{
	for (size_t i = 0; i < c->ntypes; i++)
		if (c->types[i].addr == t->addr &&
		    !strcmp(c->types[i].name, t->name))
			return &c->types[i];
	return NULL;
}

struct delta {
	const char *name;
	long long dcount, dbytes;
	uint64_t count;
};

static int by_growth(const void *a, const void *b)
{
	const struct delta *x = a, *y = b;
	long long ax = x->dbytes < 0 ? -x->dbytes : x->dbytes;
	long long ay = y->dbytes < 0 ? -y->dbytes : y->dbytes;
	if (x->dcount != y->dcount) {
		long long cx = x->dcount < 0 ? -x->dcount : x->dcount;
		long long cy = y->dcount < 0 ? -y->dcount : y->dcount;
		if (cx != cy)
			return cx < cy ? 1 : -1;
	}
	return ax < ay ? 1 : ax > ay ? -1 : 0;
}

/* What grew and shrank from a to b, objgraph's show_growth by type: by the
 * change in count, largest first. */
static int print_growth(const struct py_heap_census *a,
			const struct py_heap_census *b,
			const struct heap_opts *ho)
{
	struct delta *d = calloc(a->ntypes + b->ntypes + 1, sizeof *d);
	size_t n = 0;
	if (!d)
		return 1;
	for (size_t i = 0; i < b->ntypes; i++) {
		const struct py_heap_type *o = find(a, &b->types[i]);
		long long dc = (long long)b->types[i].count -
			       (long long)(o ? o->count : 0);
		long long db = (long long)b->types[i].bytes -
			       (long long)(o ? o->bytes : 0);
		if (dc || db)
			d[n++] = (struct delta){ b->types[i].name, dc, db,
						 b->types[i].count };
	}
	for (size_t i = 0; i < a->ntypes; i++)
		if (!find(b, &a->types[i]))
			d[n++] = (struct delta){ a->types[i].name,
				-(long long)a->types[i].count,
				-(long long)a->types[i].bytes, 0 };
	qsort(d, n, sizeof *d, by_growth);
	size_t m = n;
	if (ho->top > 0 && (size_t)ho->top < m)
		m = (size_t)ho->top;
	if (ho->json) {
		printf("{\"growth\": [");
		for (size_t i = 0; i < m; i++) {
			printf("%s{\"type\": ", i ? ", " : "");
			json_string(stdout, d[i].name);
			printf(", \"count\": %llu, \"delta_count\": %lld, "
			       "\"delta_bytes\": %lld}",
			       (unsigned long long)d[i].count, d[i].dcount,
			       d[i].dbytes);
		}
		printf("]}\n");
	} else {
		char name[41];
		printf("\n%-40s %12s %12s %14s\n", "TYPE (grew/shrank)",
		       "OBJECTS", "CHANGE", "BYTES CHANGE");
		for (size_t i = 0; i < m; i++)
			printf("%-40s %12llu %+12lld %+14lld\n",
			       text_escape(d[i].name, name, 41),
			       (unsigned long long)d[i].count, d[i].dcount,
			       d[i].dbytes);
		if (!n)
			printf("(no type changed)\n");
	}
	free(d);
	return 0;
}

/* --count N: a line per type (the largest of the last census), a column
 * per census. */
static void print_series(const struct py_heap_census *cs, long n,
			 const struct heap_opts *ho)
{
	const struct py_heap_census *last = &cs[n - 1];
	size_t m = last->ntypes;
	if (ho->top > 0 && (size_t)ho->top < m)
		m = (size_t)ho->top;
	if (ho->json) {
		printf("{\"series\": [");
		for (size_t i = 0; i < m; i++) {
			printf("%s{\"type\": ", i ? ", " : "");
			json_string(stdout, last->types[i].name);
			printf(", \"counts\": [");
			for (long k = 0; k < n; k++) {
				const struct py_heap_type *t =
					find(&cs[k], &last->types[i]);
				printf("%s%llu", k ? ", " : "",
				       (unsigned long long)(t ? t->count : 0));
			}
			printf("]}");
		}
		printf("]}\n");
		return;
	}
	char name[33];
	printf("\n%-32s", "TYPE (objects per census)");
	for (long k = 0; k < n; k++)
		printf(" %10ld", k);
	printf("\n");
	for (size_t i = 0; i < m; i++) {
		printf("%-32s", text_escape(last->types[i].name, name, 33));
		for (long k = 0; k < n; k++) {
			const struct py_heap_type *t =
				find(&cs[k], &last->types[i]);
			printf(" %10llu", (unsigned long long)(t ? t->count : 0));
		}
		printf("\n");
	}
}

/* -o FILE: the census as a pprof of a sample per type. */
static int write_pprof(const struct py_heap_census *c, const char *path)
{
	static const char *const types[] = { "inuse_objects", "inuse_space" };
	static const char *const units[] = { "count", "bytes" };
	const char **names = calloc(c->ntypes + 1, sizeof *names);
	uint64_t *v = calloc(2 * c->ntypes + 2, sizeof *v);
	lp_error err = { 0 };
	atomic_file af;
	int rc = 1;
	if (!names || !v) {
		cli_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->ntypes; i++) {
		names[i] = c->types[i].name;
		v[2 * i] = c->types[i].count;
		v[2 * i + 1] = c->types[i].bytes;
	}
	if (atomic_file_open(&af, path, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	if (pprof_write_table(af.fp, types, units, 2, names, v,
			      c->ntypes) != LP_OK) {
		atomic_file_abort(&af);
		cli_error("cannot write %s", path);
		goto out;
	}
	if (atomic_file_commit(&af, &err) != LP_OK) {
		cli_error("%s", err.msg);
		goto out;
	}
	rc = 0;
out:
	free(names);
	free(v);
	return rc;
}

static int parse(int argc, char **argv, struct heap_opts *ho)
{
	enum { O_TOP = 256, O_JSON, O_INTERVAL, O_COUNT, O_BLOCKING,
	       O_NONBLOCKING, O_TRACES, O_TRACEBACK };
	static const struct option lo[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "top", required_argument, NULL, O_TOP },
		{ "json", no_argument, NULL, O_JSON },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "count", required_argument, NULL, O_COUNT },
		{ "blocking", no_argument, NULL, O_BLOCKING },
		{ "nonblocking", no_argument, NULL, O_NONBLOCKING },
		{ "traces", no_argument, NULL, O_TRACES },
		{ "traceback", no_argument, NULL, O_TRACEBACK },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	*ho = (struct heap_opts){ .top = 20, .count = 0 };
	int c, intervals = 0;
	char *end;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			long p = strtol(optarg, &end, 10);
			if (errno || *end || p <= 0 || p > 0x3fffffff) {
				cli_error("heap: bad PID '%s'", optarg);
				return 2;
			}
			ho->pid = (pid_t)p;
			break;
		case O_TOP:
		case O_COUNT: {
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > 1000000) {
				cli_error("heap: bad number '%s' for --%s",
					  optarg, c == O_TOP ? "top" : "count");
				return 2;
			}
			if (c == O_TOP) {
				ho->top = v;
				ho->top_set = true;
			}
			else
				ho->count = v;
			break;
		}
		case O_JSON: ho->json = true; break;
		case 'o': ho->output = optarg; break;
		case O_INTERVAL:
			if (units_duration(optarg, &ho->interval) ||
			    ho->interval <= 0) {
				cli_error("heap: bad duration '%s' for "
					  "--interval", optarg);
				return 2;
			}
			intervals++;
			break;
		case O_BLOCKING: ho->blocking = ho->blocking_set = true; break;
		case O_NONBLOCKING:
			ho->blocking = false;
			ho->blocking_set = true;
			break;
		case O_TRACES: ho->traces = true; break;
		case O_TRACEBACK: ho->traceback = ho->traces = true; break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			cli_error("heap: unknown or incomplete option '%s'",
				  argv[optind - 1]);
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc || !ho->pid) {
		cli_error("heap: give the process with -p PID");
		return 2;
	}
	if (ho->traces) {
		/* tracemalloc's table is read as it is: one read, or two
		 * --interval apart */
		if (ho->json || ho->blocking_set || ho->count || intervals > 1) {
			cli_error("heap --traces: --json, --blocking, "
				  "--nonblocking, --count and a repeated "
				  "--interval are the census's options");
			return 2;
		}
		return 0;
	}
	/* --interval repeated: a census per repetition, plus the first */
	if (intervals > 1 && !ho->count)
		ho->count = intervals + 1;
	if (ho->count && !ho->interval) {
		cli_error("heap: --count takes --interval");
		return 2;
	}
	if (ho->interval && !ho->count)
		ho->count = 2;
	if (ho->count == 1)
		ho->count = 2;
	return 0;
}

int cmd_heap(int argc, char **argv)
{
	struct heap_opts ho;
	int rc = parse(argc, argv, &ho);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (ho.traces) {
		struct heap_traces_opts to = {
			.pid = ho.pid,
			.traceback = ho.traceback,
			.interval = ho.interval,
			.top = ho.top_set ? (int)(ho.top ? ho.top : 1000000) : 0,
			.output = ho.output,
		};
		session_catch_signals();
		return heap_traces_run(&to);
	}
	session_catch_signals();
	struct cli_opts o = { .pid = ho.pid };
	target *t = NULL;
	symbolizer *syms = NULL;
	py_proc *py = NULL;
	long n = ho.count ? ho.count : 1;
	struct py_heap_census *cs = calloc((size_t)n, sizeof *cs);
	int status = 1;
	lp_error err = { 0 };
	if (!cs)
		goto out;
	if (session_open_target(&o, &t))
		goto out;
	if (symbolizer_new(&syms, ho.pid, target_procfd(t)) != LP_OK) {
		cli_error("cannot read the symbols of PID %d", (int)ho.pid);
		goto out;
	}
	if (py_proc_attach(&py, t, syms, &err) != LP_OK) {
		if (err.msg[0])
			cli_error("%s", err.msg);
		else
			cli_error("PID %d: not a Python process", (int)ho.pid);
		goto out;
	}
	long done = 0;
	for (long k = 0; k < n && !session_stop; k++) {
		if (k) {
			/* wait out the interval, a signal ends it early */
			double until = now_s() + ho.interval;
			while (!session_stop && now_s() < until) {
				double left = until - now_s();
				if (left > 0.2)
					left = 0.2;
				if (left > 0) {
					struct timespec ts = {
						(time_t)left,
						(long)((left - (time_t)left) * 1e9)
					};
					nanosleep(&ts, NULL);
				}
			}
			if (session_stop)
				break;
		}
		double paused = -1, t0 = now_s();
		if (take(py, syms, t, &ho, &cs[k], &paused, &err) != LP_OK) {
			cli_error("PID %d: %s", (int)ho.pid, err.msg);
			goto out;
		}
		double wall = (now_s() - t0) * 1e3;
		done++;
		if (k == 0 || (ho.blocking && !ho.json))
			print_census(&cs[k], &ho, py_proc_version(py),
				     rss_bytes(ho.pid), wall, paused);
		fflush(stdout);
	}
	if (ho.output && done && write_pprof(&cs[done - 1], ho.output))
		goto out;
	if (done >= 2) {
		print_growth(&cs[0], &cs[done - 1], &ho);
		if (done > 2)
			print_series(cs, done, &ho);
	}
	status = 0;
out:
	fflush(stdout);
	if (cs)
		for (long k = 0; k < n; k++)
			py_heap_census_fini(&cs[k]);
	free(cs);
	py_proc_free(py);
	symbolizer_free(syms);
	if (t)
		target_free(t, false);
	return status;
}
