/* Writes a synthetic .loupe recording through the raw writer, to measure
 * how report and diff scale (DESIGN: a 1-hour recording at 100 Hz of a
 * 16-thread process converts in seconds, in memory that follows distinct
 * stacks, not samples).
 *
 * usage: gen_recording OUT.loupe SECONDS RATE THREADS STACKS [SEED [CPU_WEIGHT]]
 *
 * STACKS distinct Python stacks, 8 to 40 frames deep, over 2000 functions
 * in 50 files; each tick every thread takes one of them (skewed so that a
 * few are hot), on CPU 70% of the time.  CPU_WEIGHT: the CPU periods each
 * on-CPU sample carries (cpu mode's credit: a thread found running after
 * it waited for its CPU), 1 by default. */
#include <stdio.h>
#include <stdlib.h>

#include "formats/formats.h"

static uint64_t next(uint64_t *s)
{
	/* xorshift64*: deterministic, good enough to pick stacks */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: gen_recording OUT.loupe SECONDS RATE THREADS STACKS [SEED [CPU_WEIGHT]]\n");
		return 2;
	}
	double seconds = atof(argv[2]), rate = atof(argv[3]);
	int threads = atoi(argv[4]), nstacks = atoi(argv[5]);
	uint64_t seed = argc > 6 ? strtoull(argv[6], NULL, 10) : 42;
	int cpu_weight = argc > 7 ? atoi(argv[7]) : 1;
	if (seconds <= 0 || rate <= 0 || threads <= 0 || nstacks <= 0 || cpu_weight <= 0) {
		fprintf(stderr, "gen_recording: bad arguments\n");
		return 2;
	}
	seed |= 1;
	profile *p = profile_new();
	enum { NFUNCS = 2000, NFILES = 50, MAXDEPTH = 40 };
	uint32_t *funcs = malloc(NFUNCS * sizeof *funcs);
	uint32_t *stacks = malloc((size_t)nstacks * sizeof *stacks);
	if (!p || !funcs || !stacks)
		return 1;
	for (int i = 0; i < NFUNCS; i++) {
		char name[32], file[48];
		snprintf(name, sizeof name, "func_%d", i);
		snprintf(file, sizeof file, "/srv/app/module_%d.py", i % NFILES);
		struct frame f = { .kind = FRAME_PYTHON,
				   .func = profile_intern_cstr(p, name),
				   .file = profile_intern_cstr(p, file),
				   .line = 10 + (int)(next(&seed) % 500) };
		funcs[i] = profile_intern_frame(p, &f);
	}
	for (int i = 0; i < nstacks; i++) {
		uint32_t ids[MAXDEPTH];
		size_t depth = 8 + next(&seed) % (MAXDEPTH - 8);
		/* shared roots, as real programs have */
		ids[0] = funcs[0];
		ids[1] = funcs[1 + next(&seed) % 4];
		for (size_t j = 2; j < depth; j++)
			ids[j] = funcs[next(&seed) % NFUNCS];
		stacks[i] = profile_intern_stack(p, ids, depth);
	}
	for (int t = 0; t < threads; t++) {
		char name[32];
		snprintf(name, sizeof name, "worker-%d", t);
		profile_set_thread(p, 1000, 1000 + t, name);
	}
	char buf[32];
	snprintf(buf, sizeof buf, "%g", rate);
	profile_set_meta(p, "rate", buf);
	profile_set_meta(p, "mode", "cpu");
	/* every sample, on CPU or not, as loupe record writes .loupe */
	profile_set_meta(p, "samples", "all");
	profile_set_meta(p, "target.comm", "synthetic");
	profile_set_meta(p, "target.pid", "1000");
	profile_set_meta(p, "runtime", "CPython 3.11 (synthetic)");

	raw_writer *w;
	lp_error err = { 0 };
	if (raw_writer_open(&w, argv[1], &err) != LP_OK) {
		fprintf(stderr, "gen_recording: %s\n", err.msg);
		return 1;
	}
	uint64_t ticks = (uint64_t)(seconds * rate), n = 0;
	uint64_t period = (uint64_t)(1e9 / rate);
	for (uint64_t k = 0; k < ticks; k++) {
		for (int t = 0; t < threads; t++) {
			uint64_t r = next(&seed);
			/* squared: low indices (hot stacks) come more often */
			double u = (double)(r >> 11) / 9007199254740992.0;
			uint32_t st = stacks[(size_t)(u * u * nstacks)];
			bool cpu = (next(&seed) % 10) < 7;
			struct sample s = { .time_ns = k * period + (uint64_t)t * 1000,
					    .pid = 1000, .tid = 1000 + t,
					    .stack = st,
					    .flags = cpu ? SAMPLE_ON_CPU | SAMPLE_GIL : SAMPLE_IDLE,
					    .cpu_ns = cpu ? period * (uint64_t)cpu_weight : 0,
					    .weight = 1,
					    .cpu_weight = cpu ? (uint32_t)cpu_weight : 0 };
			if (profile_add_sample(p, &s) != LP_OK ||
			    raw_writer_sample(w, p, &s) != LP_OK) {
				fprintf(stderr, "gen_recording: cannot add a sample\n");
				raw_writer_abort(w);
				return 1;
			}
			if (++n % 65536 == 0 && raw_writer_flush(w, p) != LP_OK) {
				fprintf(stderr, "gen_recording: cannot write\n");
				raw_writer_abort(w);
				return 1;
			}
		}
	}
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)(ticks * period));
	profile_set_meta(p, "duration_ns", buf);
	if (raw_writer_close(w, p, &err) != LP_OK) {
		fprintf(stderr, "gen_recording: %s\n", err.msg);
		return 1;
	}
	printf("%llu samples, %zu stacks, %zu frames\n", (unsigned long long)n,
	       profile_nstacks(p), profile_nframes(p));
	free(stacks);
	free(funcs);
	profile_free(p);
	return 0;
}
