/* The perf_event native path against the ptrace one.
 *
 *   loupe-bench native-perf [-p PID] [-r HZ] [-d S] [-s STACK_BYTES]
 *     samples a process (default: loupe-bench-target spinning 10 frames
 *     deep) through profiler/perf_native for S seconds, resolves the stacks
 *     with profiler/symbols and prints the hottest ones, loupe's CPU per
 *     sample, the share of stacks reaching main, lost and truncated counts.
 *
 *   loupe-bench native-slowdown [ROUNDS] [WORK_MS] [STACK_BYTES]
 *     loupe-bench-target does a fixed work 10 frames deep; each round runs
 *     it, for each rate (100 Hz, 1 kHz, 10 kHz), unprofiled, sampled by
 *     ptrace (pause, unwind, resume at absolute deadlines) and sampled by
 *     perf (drained on wake-up), in an order that turns every round.  Both
 *     processes are pinned to CPU 0, so loupe's CPU slows the target as it
 *     would on a busy host.  Prints per rate and path the median slowdown,
 *     loupe's CPU per sample and the share of stacks reaching main. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bounds.h"
#include "error.h"
#include "perf_native.h"
#include "symbols.h"
#include "target.h"
#include "unwind.h"

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What both paths count per sample. */
struct tally {
	uint64_t main_lo, main_hi;	/* [lo, hi) of main in the target */
	uint64_t samples, reached_main, truncated;
};

static void tally_stack(struct tally *ty, const uint64_t *ips, size_t n,
			bool truncated)
{
	ty->samples++;
	ty->truncated += truncated;
	/* Callers' return addresses point after the call: look up ip - 1. */
	for (size_t i = 1; i < n; i++)
		if (ips[i] - 1 >= ty->main_lo && ips[i] - 1 < ty->main_hi) {
			ty->reached_main++;
			return;
		}
}

/* ---- native-perf: the driver ------------------------------------------- */

#define FOLD_SLOTS 4096
#define FOLD_LEN 2048

struct fold {
	char *key;
	uint64_t count;
};

struct driver {
	target *t;
	symbolizer *sym;
	struct tally ty;
	struct fold *folds;	/* open addressing over folded stacks */
	size_t nfolds;
	char line[FOLD_LEN];
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void fold_add(struct driver *d, const char *line)
{
	size_t i = (size_t)(hash_str(line) % FOLD_SLOTS);
	for (size_t k = 0; k < FOLD_SLOTS; k++, i = (i + 1) % FOLD_SLOTS) {
		struct fold *f = &d->folds[i];
		if (!f->key) {
			if (d->nfolds >= FOLD_SLOTS / 2)
				return;	/* bench table full: not counted */
			f->key = strdup(line);
			d->nfolds++;
		}
		if (f->key && !strcmp(f->key, line)) {
			f->count++;
			return;
		}
	}
}

static void on_driver_sample(void *ctx, const struct perf_native_sample *s)
{
	struct driver *d = ctx;
	tally_stack(&d->ty, s->ips, s->n, s->truncated);
	/* Root first, as collapsed stacks are written. */
	size_t len = 0;
	d->line[0] = '\0';
	for (size_t k = s->n; k-- > 0;) {
		struct symbol_info si;
		uint64_t a = k ? s->ips[k] - 1 : s->ips[k];
		const char *name = "?";
		char hex[32];
		if (symbolizer_lookup(d->sym, target_maps(d->t), a, &si) ==
		    LP_OK && si.func) {
			name = si.func;
		} else {
			snprintf(hex, sizeof hex, "%#llx",
				 (unsigned long long)a);
			name = hex;
		}
		int w = snprintf(d->line + len, FOLD_LEN - len, "%s%s",
				 len ? ";" : "", name);
		if (w < 0 || (size_t)w >= FOLD_LEN - len)
			break;
		len += (size_t)w;
	}
	if (s->truncated && len + 12 < FOLD_LEN)
		strcat(d->line, ";[truncated]");
	fold_add(d, d->line);
}

static int cmp_fold(const void *a, const void *b)
{
	const struct fold *x = a, *y = b;
	return (y->count > x->count) - (y->count < x->count);
}

static int spawn_bench_target(target **t, const char *mode, int *out_fd,
			      int *in_fd, const char *iterations)
{
	char path[4200], outarg[16], inarg[16];
	int out[2], in[2] = { -1, -1 };
	lp_error err;
	if (bench_sibling("loupe-bench-target", path, sizeof path) < 0 ||
	    pipe(out) < 0)
		return -1;
	if (in_fd && pipe(in) < 0)
		return -1;
	snprintf(outarg, sizeof outarg, "%d", out[1]);
	snprintf(inarg, sizeof inarg, "%d", in[0]);
	char *argv[] = { path, (char *)mode, outarg, inarg,
			 (char *)iterations, NULL };
	if (!in_fd)
		argv[3] = NULL;
	int rc = target_spawn(t, argv, &err);
	close(out[1]);
	if (in_fd)
		close(in[0]);
	if (rc != LP_OK) {
		fprintf(stderr, "loupe-bench: %s\n", err.msg);
		return -1;
	}
	char ch;
	if (read(out[0], &ch, 1) != 1 || target_refresh_maps(*t) != LP_OK ||
	    target_refresh_threads(*t) != LP_OK) {
		fprintf(stderr, "loupe-bench: target did not start\n");
		target_free(*t, true);
		return -1;
	}
	*out_fd = out[0];
	if (in_fd)
		*in_fd = in[1];
	return 0;
}

static void find_main(symbolizer *sym, target *t, struct tally *ty)
{
	uint64_t addr = 0, size = 0;
	if (symbolizer_find(sym, target_maps(t), "", "main", &addr, &size) ==
	    LP_OK) {
		ty->main_lo = addr;
		ty->main_hi = addr + size;
	}
}

int bench_native_perf(int argc, char **argv)
{
	pid_t pid = 0;
	unsigned rate = 1000;
	double seconds = 3;
	size_t stack = 0;
	int opt;
	while ((opt = getopt(argc, argv, "p:r:d:s:")) != -1) {
		switch (opt) {
		case 'p': pid = atoi(optarg); break;
		case 'r': rate = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': seconds = atof(optarg); break;
		case 's': stack = strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: loupe-bench native-perf "
				"[-p PID] [-r HZ] [-d S] [-s STACK_BYTES]\n");
			return 2;
		}
	}
	struct driver d = { 0 };
	lp_error err;
	int out_fd = -1;
	if (pid) {
		if (target_attach(&d.t, pid, &err) != LP_OK ||
		    target_refresh_maps(d.t) != LP_OK ||
		    target_refresh_threads(d.t) != LP_OK) {
			fprintf(stderr, "loupe-bench: %s\n", err.msg);
			return 1;
		}
	} else if (spawn_bench_target(&d.t, "spin", &out_fd, NULL, NULL) < 0) {
		return 1;
	}
	unwinder *u = NULL;
	perf_native *pn = NULL;
	int rc = 1;
	d.folds = calloc(FOLD_SLOTS, sizeof *d.folds);
	if (!d.folds || unwinder_new(&u, d.t) != LP_OK ||
	    symbolizer_new(&d.sym, target_pid(d.t), target_procfd(d.t)) !=
	    LP_OK) {
		fprintf(stderr, "loupe-bench: out of memory\n");
		goto out;
	}
	find_main(d.sym, d.t, &d.ty);
	if (perf_native_open(&pn, d.t, u, rate, stack, &err) != LP_OK) {
		fprintf(stderr, "loupe: %s\n", err.msg);
		goto out;
	}
	uint64_t t0 = bench_now_ns(), c0 = thread_cpu_ns();
	uint64_t end = t0 + (uint64_t)(seconds * 1e9), next_refresh = t0;
	while (bench_now_ns() < end) {
		struct pollfd p = { perf_native_fd(pn), POLLIN, 0 };
		poll(&p, 1, 10);
		uint64_t now = bench_now_ns();
		/* New and exited threads, as the sampler's refresh does. */
		if (now >= next_refresh) {
			if (target_refresh_threads(d.t) != LP_OK)
				break;
			if (perf_native_sync_threads(pn, &err) != LP_OK)
				fprintf(stderr, "loupe-bench: %s\n", err.msg);
			next_refresh = now + 200000000u;
		}
		perf_native_drain(pn, on_driver_sample, &d);
		if (perf_native_take_maps_changed(pn))
			symbolizer_maps_changed(d.sym);
	}
	perf_native_drain(pn, on_driver_sample, &d);
	double wall = (double)(bench_now_ns() - t0) / 1e9;
	double cpu = (double)(thread_cpu_ns() - c0) / 1e3;
	struct perf_native_stats st;
	perf_native_get_stats(pn, &st);
	printf("native.perf.rate %u Hz, stack copy %zu bytes, %.1f s, "
	       "%zu threads\n", rate, stack ? stack : PERF_NATIVE_STACK_DEFAULT,
	       wall, st.threads);
	printf("native.perf.samples %llu (%.0f/s)  lost %llu  throttled %llu  "
	       "truncated %llu  no_user %llu  bad %llu\n",
	       (unsigned long long)st.samples, (double)st.samples / wall,
	       (unsigned long long)st.lost, (unsigned long long)st.throttled,
	       (unsigned long long)st.truncated,
	       (unsigned long long)st.no_user, (unsigned long long)st.bad);
	printf("native.perf.cpu_per_sample %.2f us (drain + unwind + "
	       "symbols + folding)\n", st.samples ? cpu / (double)st.samples
						  : 0.0);
	printf("native.perf.complete %.1f%% of stacks end at the outermost "
	       "frame\n", st.samples ? 100.0 * (double)(st.samples -
						       st.truncated) /
					(double)st.samples : 0.0);
	if (!pid && d.ty.main_hi)
		printf("native.perf.reach_main %.1f%%\n",
		       d.ty.samples ? 100.0 * (double)d.ty.reached_main /
					      (double)d.ty.samples : 0.0);
	struct fold *top = calloc(d.nfolds ? d.nfolds : 1, sizeof *top);
	size_t k = 0;
	for (size_t i = 0; top && i < FOLD_SLOTS; i++)
		if (d.folds[i].key)
			top[k++] = d.folds[i];
	if (top)
		qsort(top, k, sizeof *top, cmp_fold);
	for (size_t i = 0; top && i < k && i < 5; i++)
		printf("  %6llu  %s\n", (unsigned long long)top[i].count,
		       top[i].key);
	free(top);
	rc = 0;
out:
	perf_native_free(pn);
	if (d.folds)
		for (size_t i = 0; i < FOLD_SLOTS; i++)
			free(d.folds[i].key);
	free(d.folds);
	symbolizer_free(d.sym);
	unwinder_free(u);
	if (out_fd >= 0)
		close(out_fd);
	target_free(d.t, !pid);
	return rc;
}

/* ---- native-slowdown --------------------------------------------------- */

enum path { PATH_OFF, PATH_PTRACE, PATH_PERF, NPATHS };
static const char *const path_names[NPATHS] = { "off", "ptrace", "perf" };
static const unsigned rates[] = { 100, 1000, 10000 };
#define NRATES (sizeof rates / sizeof rates[0])
#define MAX_ROUNDS 64

struct slow {
	target *t;
	unwinder *u;
	struct target_thread *th;
	int out_fd, in_fd;
	uint64_t ips[MAX_STACK_DEPTH];
	/* Per rate and path: work ns per round, and the totals. */
	uint64_t took[NRATES][NPATHS][MAX_ROUNDS];
	uint64_t cpu_ns[NRATES][NPATHS];
	struct tally ty[NRATES][NPATHS];
	uint64_t lost[NRATES];
	size_t stack;		/* perf stack copy bytes (0: default) */
};

static void on_slow_sample(void *ctx, const struct perf_native_sample *s)
{
	tally_stack(ctx, s->ips, s->n, s->truncated);
}

/* Waits for the work's result while sampling by ptrace at absolute
 * deadlines.  Returns the work's ns, or 0 on failure. */
static uint64_t round_ptrace(struct slow *w, unsigned rate, struct tally *ty)
{
	uint64_t period = 1000000000u / rate, next = bench_now_ns() + period;
	for (;;) {
		uint64_t now = bench_now_ns();
		uint64_t wait = next > now ? next - now : 0;
		struct timespec ts = { (time_t)(wait / 1000000000u),
				       (long)(wait % 1000000000u) };
		struct pollfd p = { w->out_fd, POLLIN, 0 };
		int r = ppoll(&p, 1, &ts, NULL);
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR)
			return 0;
		if (r == 0) {
			size_t n = 0;
			bool truncated = true;
			if (target_thread_pause(w->t, w->th) == LP_OK) {
				unwind_thread(w->u, w->th, w->ips,
					      MAX_STACK_DEPTH, &n, &truncated);
				target_thread_resume(w->t, w->th);
			}
			tally_stack(ty, w->ips, n, truncated);
			/* A late tick is skipped, not made up. */
			next += period;
			now = bench_now_ns();
			if (next < now)
				next = now + period - (now - next) % period;
		}
	}
	uint64_t took = 0;
	if (read(w->out_fd, &took, sizeof took) != sizeof took)
		return 0;
	return took;
}

/* Waits for the work's result while draining the perf rings on wake-up
 * (a ring a quarter full: every 4 samples at 100 Hz, 16 at 1 kHz, 30 at
 * 10 kHz), or at the latest every 100 ms. */
static uint64_t round_perf(struct slow *w, perf_native *pn, struct tally *ty)
{
	for (;;) {
		struct pollfd p[2] = { { w->out_fd, POLLIN, 0 },
				       { perf_native_fd(pn), POLLIN, 0 } };
		int r = poll(p, 2, 100);
		if (r < 0 && errno != EINTR)
			return 0;
		perf_native_drain(pn, on_slow_sample, ty);
		if (p[0].revents)
			break;
	}
	uint64_t took = 0;
	if (read(w->out_fd, &took, sizeof took) != sizeof took)
		return 0;
	return took;
}

static uint64_t run_round(struct slow *w, enum path path, size_t ri,
			  lp_error *err)
{
	perf_native *pn = NULL;
	struct tally *ty = &w->ty[ri][path];
	/* Opening and closing the events is not per-sample cost. */
	if (path == PATH_PERF &&
	    perf_native_open(&pn, w->t, w->u, rates[ri], w->stack, err) !=
	    LP_OK)
		return 0;
	uint64_t c0 = thread_cpu_ns(), took = 0;
	if (write(w->in_fd, "g", 1) == 1) {
		if (path == PATH_OFF) {
			if (read(w->out_fd, &took, sizeof took) != sizeof took)
				took = 0;
		} else if (path == PATH_PTRACE) {
			took = round_ptrace(w, rates[ri], ty);
		} else {
			took = round_perf(w, pn, ty);
		}
	}
	if (pn)	/* what is still in the rings */
		perf_native_drain(pn, on_slow_sample, ty);
	w->cpu_ns[ri][path] += thread_cpu_ns() - c0;
	if (pn) {
		struct perf_native_stats st;
		perf_native_get_stats(pn, &st);
		w->lost[ri] += st.lost;
		perf_native_free(pn);
	}
	return took;
}

/* The median of n values, and their minimum in *min. */
static uint64_t median(const uint64_t *v, size_t n, uint64_t *min)
{
	uint64_t tmp[MAX_ROUNDS];
	memcpy(tmp, v, n * sizeof *v);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && tmp[j - 1] > tmp[j]; j--) {
			uint64_t x = tmp[j];
			tmp[j] = tmp[j - 1];
			tmp[j - 1] = x;
		}
	*min = tmp[0];
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

int bench_native_slowdown(int argc, char **argv)
{
	size_t rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 7;
	double work_ms = argc > 2 ? atof(argv[2]) : 300;
	size_t stack = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	if (rounds < 1 || rounds > MAX_ROUNDS || work_ms <= 0) {
		fprintf(stderr, "usage: loupe-bench native-slowdown "
			"[ROUNDS<=%d] [WORK_MS] [STACK_BYTES]\n", MAX_ROUNDS);
		return 2;
	}
	struct slow *w = calloc(1, sizeof *w);
	if (!w)
		return 1;
	w->stack = stack;
	/* Calibrate: 1e8 steps once, unprofiled, then the count for
	 * WORK_MS. */
	char iters[32] = "100000000";
	lp_error err;
	int rc = 1;
	for (int pass = 0; pass < 2; pass++) {
		if (spawn_bench_target(&w->t, "work", &w->out_fd, &w->in_fd,
				       iters) < 0)
			goto out_free;
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		sched_setaffinity(0, sizeof one, &one);
		sched_setaffinity(target_pid(w->t), sizeof one, &one);
		if (pass == 1)
			break;
		uint64_t took = 0;
		if (write(w->in_fd, "g", 1) != 1 ||
		    read(w->out_fd, &took, sizeof took) != sizeof took ||
		    !took) {
			fprintf(stderr, "loupe-bench: calibration failed\n");
			goto out;
		}
		snprintf(iters, sizeof iters, "%llu",
			 (unsigned long long)(1e8 * work_ms * 1e6 /
					      (double)took));
		close(w->in_fd);
		close(w->out_fd);
		target_free(w->t, true);
		w->t = NULL;
	}
	w->th = target_thread_at(w->t, 0);
	symbolizer *sym = NULL;
	if (unwinder_new(&w->u, w->t) != LP_OK ||
	    symbolizer_new(&sym, target_pid(w->t), target_procfd(w->t)) !=
	    LP_OK)
		goto out;
	struct tally proto = { 0 };
	find_main(sym, w->t, &proto);
	symbolizer_free(sym);
	for (size_t ri = 0; ri < NRATES; ri++)
		for (int p = 0; p < NPATHS; p++)
			w->ty[ri][p] = proto;
	printf("native.slowdown: %zu rounds of %.0f ms work 10 frames deep, "
	       "perf stack copy %zu bytes, loupe and target pinned to CPU 0; "
	       "shared noisy machine\n", rounds, work_ms,
	       stack ? stack : (size_t)PERF_NATIVE_STACK_DEFAULT);
	fflush(stdout);
	for (size_t r = 0; r < rounds; r++)
		for (size_t ri = 0; ri < NRATES; ri++)
			for (int k = 0; k < NPATHS; k++) {
				/* Turn the order every round. */
				enum path p = (enum path)((k + r + ri) %
							  NPATHS);
				uint64_t took = run_round(w, p, ri, &err);
				if (!took) {
					fprintf(stderr, "loupe-bench: %s round "
						"failed%s%s\n", path_names[p],
						p == PATH_PERF ? ": " : "",
						p == PATH_PERF ? err.msg : "");
					goto out;
				}
				w->took[ri][p][r] = took;
			}
	/* Other processes only ever add time to a round: the minimum is the
	 * least noisy figure, the median the one asked for; both shown. */
	for (size_t ri = 0; ri < NRATES; ri++) {
		uint64_t bmin, base = median(w->took[ri][PATH_OFF], rounds,
					     &bmin);
		printf("native.slowdown.%uhz base %.1f ms", rates[ri],
		       (double)base / 1e6);
		for (int p = PATH_PTRACE; p < NPATHS; p++) {
			struct tally *ty = &w->ty[ri][p];
			uint64_t total = 0, mmin, m = median(w->took[ri][p],
							     rounds, &mmin);
			for (size_t r = 0; r < rounds; r++)
				total += w->took[ri][p][r];
			printf("  %s %+.2f%% (min %+.2f%%) %.1f us/sample "
			       "cpu %.2f%% main %.1f%% (n=%llu)",
			       path_names[p],
			       100.0 * ((double)m - (double)base) /
				       (double)base,
			       100.0 * ((double)mmin - (double)bmin) /
				       (double)bmin,
			       ty->samples ? (double)w->cpu_ns[ri][p] / 1e3 /
						     (double)ty->samples : 0.0,
			       100.0 * (double)w->cpu_ns[ri][p] /
				       (double)total,
			       ty->samples ? 100.0 * (double)ty->reached_main /
						     (double)ty->samples : 0.0,
			       (unsigned long long)ty->samples);
		}
		printf("  perf lost %llu\n", (unsigned long long)w->lost[ri]);
	}
	rc = 0;
out:
	unwinder_free(w->u);
	if (w->t) {
		close(w->in_fd);
		close(w->out_fd);
		target_free(w->t, true);
	}
out_free:
	free(w);
	return rc;
}
