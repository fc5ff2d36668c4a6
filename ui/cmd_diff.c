/* loupe diff: compare two recordings, for people and for CI.
 *
 * Functions are matched by name and file, never by line (lines move
 * between two versions of a program); a function's share is its total
 * weight (samples with it anywhere on the stack, once per stack) over all
 * samples of its recording, under the mode.  The inclusive share is what
 * the threshold looks at: a function that got slower, or that calls
 * something that got slower, takes a larger part of the time.
 *
 * A growth beyond the threshold that sampling alone could give (within
 * three standard errors of the difference of two shares, from the two
 * recordings' sample counts) is said and does not fail: a CI gate on a
 * short recording must not fail at random.
 *
 * Exit status: 0 no function grew by more than the threshold; 1 one did
 * (a regression, named on stderr as "loupe: regression: ...") or a
 * recording could not be read (any other "loupe: ..." message); 2 usage
 * error.  CI that must tell the two kinds of 1 apart reads the message. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "formats/formats.h"
#include "formats/writer_util.h"
#include "options.h"
#include "profile.h"
#include "progress.h"
#include "text_escape.h"

#define DEFAULT_THRESHOLD 5.0
#define SHOW 10
/* standard errors a growth must pass to be told from sampling noise */
#define NOISE_SIGMAS 3.0

static const char usage[] =
	"usage: loupe diff BASE.loupe NEW.loupe [--threshold PCT] [-o DIFF.svg] [OPTIONS]\n"
	"\n"
	"Compares two recordings: prints the functions whose share of the samples\n"
	"(CPU or wall) grew or shrank most, and fails when one grew by more than\n"
	"the threshold, for CI.  A function's share counts the samples with it\n"
	"anywhere on the stack; functions are matched by name and file.  Shares\n"
	"add up: when one function gets faster, the others' shares grow.\n"
	"\n"
	"      --threshold PCT  fail when a share grew by more than PCT percentage\n"
	"                       points (default 5)\n"
	"  -o, --output OUT     write a differential flame graph (.svg): widths\n"
	"                       from NEW, red where a frame's share grew, blue\n"
	"                       where it shrank\n"
	"      --follow         -o may be a symbolic link: write to its target\n"
	"                       (refused without it)\n"
	"      --mode M         wall, cpu or gil (default: BASE's recording mode)\n"
	"      --idle           keep idle samples in cpu mode\n"
	"      --threads        flame graph: a root frame per thread\n"
	"      --no-lines       flame graph: by function, not by line\n"
	"      --inverted       flame graph: icicle (roots at the top)\n"
	"  -q, --quiet          no progress bar on stderr\n"
	"\n"
	"A growth past the threshold that is within three standard errors of\n"
	"sampling noise (short recordings) is said, and does not fail.\n"
	"\n"
	"Exit status: 0 no regression; 1 a share grew by more than the threshold\n"
	"(stderr: \"loupe: regression: ...\") or a recording could not be read\n"
	"(any other \"loupe: ...\" message); 2 usage error.\n";

/* Per function text id: weights in one recording. */
struct fweights {
	uint64_t *own, *total, *seen;
	size_t cap;
	uint64_t sum;
	/* the sum of the squares of the samples' weights, each stack's
	 * weight taken as spread evenly over the samples it was seen in: a
	 * cpu-mode sample carries every period its thread used since its
	 * last one, so 1000 periods may be 300 looks at the stack */
	double sq;
};

/* How many samples of weight 1 would measure a share as precisely as
 * these (sum^2 / sum of squares): the weight sum itself when every
 * sample weighs 1. */
static double effective_samples(const struct fweights *w)
{
	return w->sq > 0 ? (double)w->sum * (double)w->sum / w->sq : (double)w->sum;
}

static int fw_grow(struct fweights *w, size_t need)
{
	if (need <= w->cap)
		return 0;
	size_t nc = w->cap ? w->cap : 256;
	while (nc < need)
		nc *= 2;
	uint64_t **arrs[] = { &w->own, &w->total, &w->seen };
	for (size_t i = 0; i < 3; i++) {
		uint64_t *n = realloc(*arrs[i], nc * sizeof *n);
		if (!n)
			return -1;
		memset(n + w->cap, 0, (nc - w->cap) * sizeof *n);
		*arrs[i] = n;
	}
	w->cap = nc;
	return 0;
}

static void fw_free(struct fweights *w)
{
	free(w->own);
	free(w->total);
	free(w->seen);
}

static int weigh(const profile *p, profile *texts,
		 const struct output_opts *o, struct fweights *w)
{
	struct ftext ft;
	if (ftext_init(&ft, p, texts, false))
		return -1;
	int rc = -1;
	size_t na;
	const struct profile_agg *a = profile_aggs(p, &na);
	for (size_t i = 0; i < na; i++) {
		uint64_t x = output_weight(&a[i], o);
		if (!x)
			continue;
		w->sum += x;
		/* the looks at this stack: its samples (in cpu mode those
		 * found running), at least one, at most one per period */
		uint64_t looks = a[i].samples;
		if (o->mode == MODE_CPU && !o->idle)
			looks = a[i].samples > a[i].idle_samples ?
					a[i].samples - a[i].idle_samples : 1;
		if (looks == 0)
			looks = 1;
		if (looks > x)
			looks = x;
		w->sq += (double)x * (double)x / (double)looks;
		size_t n;
		const uint32_t *ids = profile_stack(p, a[i].stack, &n);
		for (size_t j = 0; j < n; j++) {
			uint32_t t = ftext_get(&ft, ids[j]);
			if (t == PROFILE_NOID || fw_grow(w, (size_t)t + 1))
				goto out;
			/* once per stack, even under recursion */
			if (w->seen[t] != i + 1) {
				w->seen[t] = i + 1;
				w->total[t] += x;
			}
			if (j == n - 1)
				w->own[t] += x;
		}
	}
	rc = 0;
out:
	ftext_fini(&ft);
	return rc;
}

struct row {
	uint32_t text;
	double base, now, delta, own_delta;
};

static int row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	if (a->delta != b->delta)
		return a->delta > b->delta ? -1 : 1;
	return a->text < b->text ? -1 : a->text > b->text;
}

static double share(uint64_t n, uint64_t total)
{
	return total ? 100.0 * (double)n / (double)total : 0.0;
}

/* One share's variance, Agresti-Caffo's way (a sample more on either
 * side), so that a share of 0% or 100% on a few samples is not certain. */
static double share_var(double pct, double n)
{
	double m = n + 2, p = (pct / 100.0 * n + 1) / m;
	return p * (1 - p) / m;
}

/* Three standard errors, in points, of the difference of two shares
 * (in percent) measured on nb and nn samples (effective_samples): what
 * sampling alone gives. */
static double noise_points(double base, double now, double nb, double nn)
{
	return NOISE_SIGMAS * 100.0 * sqrt(share_var(base, nb) + share_var(now, nn));
}

static uint64_t at(const uint64_t *v, size_t cap, uint32_t i)
{
	return i < cap ? v[i] : 0;
}

static void print_row(const struct row *r, const profile *texts)
{
	char name[TEXT_ESCAPE_MAX];
	printf("  %+7.2f  %6.2f%% -> %6.2f%%  (own %+.2f)  %s\n", r->delta,
	       r->base, r->now, r->own_delta,
	       text_escape(profile_str(texts, r->text), name, sizeof name));
}

static int load(const char *path, profile **out, struct progress *pg)
{
	lp_error err = { 0 };
	struct raw_read_info info = { 0 };
	profile *p = profile_new();
	*out = NULL;
	if (!p) {
		cli_error("out of memory");
		return 1;
	}
	int rc = raw_read_file_progress(path, p, &info, progress_update, pg, &err);
	progress_next(pg, progress_file_size(path));
	if (rc != LP_OK) {
		progress_end(pg);
		cli_error("%s", err.msg);
		profile_free(p);
		return 1;
	}
	if (info.truncated) {
		progress_end(pg);
		cli_error("warning: %s ends inside a record (cut off while written); comparing what precedes it", path);
	}
	*out = p;
	return 0;
}

static int write_svg(const profile *base, const profile *cur,
		     const char *path, const struct output_opts *oo)
{
	lp_error err = { 0 };
	atomic_file af;
	if (atomic_file_open_flags(&af, path, oo->follow ? OUTPUT_FOLLOW : 0,
				   &err) != LP_OK) {
		cli_error("%s", err.msg);
		return 1;
	}
	int rc = flamegraph_write_diff(base, cur, af.fp, oo);
	if (rc != LP_OK) {
		atomic_file_abort(&af);
		cli_error("cannot write %s: %s", path, lp_strerror(rc));
		return 1;
	}
	if (atomic_file_commit(&af, &err) != LP_OK) {
		cli_error("%s", err.msg);
		return 1;
	}
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	struct cli_opts o;
	int rc = cli_parse(argc, argv, OPT_OUTPUT | OPT_SHAPE | OPT_DIFF, usage, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.nargs != 2) {
		cli_error("give two recordings, BASE and NEW (see 'loupe diff --help')");
		return 2;
	}
	if (o.output) {
		enum output_format f = o.format != FORMAT_NONE ? o.format
							       : format_from_path(o.output);
		if (f != FORMAT_FLAMEGRAPH) {
			cli_error("diff writes a differential flame graph: give -o FILE.svg (see 'loupe diff --help')");
			return 2;
		}
	} else if (o.format != FORMAT_NONE) {
		cli_error("--format needs -o FILE.svg (see 'loupe diff --help')");
		return 2;
	}
	double threshold = o.threshold_set ? o.threshold : DEFAULT_THRESHOLD;

	profile *base = NULL, *cur = NULL, *texts = NULL;
	struct fweights wb = { 0 }, wn = { 0 };
	struct row *rows = NULL;
	int status = 1;
	struct progress pg;
	progress_init(&pg, "loupe diff: reading",
		      progress_file_size(o.args[0]) + progress_file_size(o.args[1]), o.quiet);
	rc = load(o.args[0], &base, &pg) || load(o.args[1], &cur, &pg);
	progress_end(&pg);
	if (rc)
		goto out;
	if (!o.mode_set) {
		const char *m = profile_meta(base, "mode");
		if (!m || format_mode_from_name(m, &o.mode) != 0)
			o.mode = MODE_CPU;
	}
	struct output_opts oo = cli_output_opts(&o);
	/* two runs of a process tree never have the same PIDs: their
	 * functions are compared over every process */
	oo.merge_processes = true;
	const char *mode = writer_mode_name(o.mode);
	texts = profile_new();
	if (!texts || weigh(base, texts, &oo, &wb) || weigh(cur, texts, &oo, &wn)) {
		cli_error("out of memory");
		goto out;
	}
	for (int k = 0; k < 2; k++) {
		if (!(k ? wn.sum : wb.sum)) {
			cli_error("%s has no samples in %s mode: nothing to compare (try --mode wall)",
				  o.args[k], mode);
			goto out;
		}
	}
	size_t nt = profile_nstrs(texts), nr = 0;
	rows = malloc((nt ? nt : 1) * sizeof *rows);
	if (!rows) {
		cli_error("out of memory");
		goto out;
	}
	for (uint32_t t = 1; t < nt; t++) {
		uint64_t tb = at(wb.total, wb.cap, t), tn = at(wn.total, wn.cap, t);
		if (!tb && !tn)
			continue;
		struct row r = { .text = t, .base = share(tb, wb.sum),
				 .now = share(tn, wn.sum) };
		r.delta = r.now - r.base;
		r.own_delta = share(at(wn.own, wn.cap, t), wn.sum) -
			      share(at(wb.own, wb.cap, t), wb.sum);
		rows[nr++] = r;
	}
	qsort(rows, nr, sizeof *rows, row_cmp);

	printf("%s samples: base %llu (%s), new %llu (%s)\n", mode,
	       (unsigned long long)wb.sum, o.args[0],
	       (unsigned long long)wn.sum, o.args[1]);
	printf("share of samples with the function on the stack, base -> new, in points:\n");
	printf("\nGrew most:\n");
	size_t shown = 0;
	for (size_t i = 0; i < nr && shown < SHOW && rows[i].delta >= 0.005; i++, shown++)
		print_row(&rows[i], texts);
	if (!shown)
		printf("  (none)\n");
	printf("\nShrank most:\n");
	shown = 0;
	for (size_t i = nr; i-- > 0 && shown < SHOW && rows[i].delta <= -0.005; shown++)
		print_row(&rows[i], texts);
	if (!shown)
		printf("  (none)\n");
	fflush(stdout);

	if (o.output && write_svg(base, cur, o.output, &oo))
		goto out;

	size_t grew = 0, noisy = 0, first = 0;
	/* the noisy growth that grew most, and the noise bound it stayed in */
	const struct row *most_noisy = NULL;
	double most_noisy_bound = 0;
	for (size_t i = 0; i < nr && rows[i].delta > threshold; i++) {
		double noise = noise_points(rows[i].base, rows[i].now,
					    effective_samples(&wb), effective_samples(&wn));
		if (rows[i].delta > noise) {
			if (!grew++)
				first = i;
		} else if (!noisy++) {
			most_noisy = &rows[i];
			most_noisy_bound = noise;
		}
	}
	char name[TEXT_ESCAPE_MAX];
	if (most_noisy)
		printf("\n%zu function%s grew by more than %.1f points within "
		       "sampling noise, not counted: most %s (%+.1f points; "
		       "with %.0f and %.0f independent samples, noise reaches %.1f): record "
		       "longer or faster to tell\n",
		       noisy, noisy == 1 ? "" : "s", threshold,
		       text_escape(profile_str(texts, most_noisy->text), name, sizeof name),
		       most_noisy->delta, effective_samples(&wb),
		       effective_samples(&wn), most_noisy_bound);
	if (grew) {
		fprintf(stderr, "loupe: regression: %zu function%s grew by more than %.1f points of %s samples; most: %s (%.1f%% -> %.1f%%, %+.1f points)\n",
			grew, grew == 1 ? "" : "s", threshold, mode,
			text_escape(profile_str(texts, rows[first].text), name, sizeof name),
			rows[first].base,
			rows[first].now, rows[first].delta);
		status = 1;
	} else {
		printf("\nno function grew by more than %.1f points%s\n", threshold,
		       noisy ? " beyond sampling noise" : "");
		status = 0;
	}
out:
	free(rows);
	fw_free(&wb);
	fw_free(&wn);
	profile_free(texts);
	profile_free(cur);
	profile_free(base);
	return status;
}
