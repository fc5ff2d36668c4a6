/* Writes a synthetic .loupe recording of a process tree, as
 * `loupe record --subprocesses` makes one: metadata "subprocesses" = "on"
 * and "process.PID" = command name, samples of several PIDs.  For the
 * functional tests of report -p, --merge-processes and the per-process
 * outputs (tests/functional/test_processes.py).
 *
 * usage: gen_tree_recording OUT.loupe WORKERS SAMPLES
 *
 * A parent (PID 4000, "parent", thread "MainThread") idle in
 * wait_results for SAMPLES samples; WORKERS children (PIDs 4001...,
 * "worker"; the last one named only by its main thread, "lastworker")
 * each on CPU in work_a 3 samples out of 4 and in work_b the fourth, with
 * a second thread (TID PID+500, "feeder") idle in feed for SAMPLES / 4.
 * Samples are 10 ms apart on each thread (rate 100). */
#include <stdio.h>
#include <stdlib.h>

#include "formats/formats.h"

#define PARENT 4000
#define PERIOD_NS 10000000ull

static uint32_t py_frame(profile *p, const char *func, const char *file,
			 int line)
{
	struct frame f = { .kind = FRAME_PYTHON,
			   .func = profile_intern_cstr(p, func),
			   .file = profile_intern_cstr(p, file),
			   .line = line };
	return profile_intern_frame(p, &f);
}

static int emit(raw_writer *w, profile *p, int32_t pid, int32_t tid,
		uint32_t stack, uint64_t t, bool cpu)
{
	struct sample s = { .time_ns = t, .pid = pid, .tid = tid,
			    .stack = stack,
			    .flags = cpu ? SAMPLE_ON_CPU | SAMPLE_GIL : SAMPLE_IDLE,
			    .cpu_ns = cpu ? PERIOD_NS : 0 };
	if (profile_add_sample(p, &s) != LP_OK ||
	    raw_writer_sample(w, p, &s) != LP_OK) {
		fprintf(stderr, "gen_tree_recording: cannot add a sample\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: gen_tree_recording OUT.loupe WORKERS SAMPLES\n");
		return 2;
	}
	int workers = atoi(argv[2]), samples = atoi(argv[3]);
	if (workers <= 0 || workers > 100 || samples <= 0 || samples > 1000000) {
		fprintf(stderr, "gen_tree_recording: bad arguments\n");
		return 2;
	}
	profile *p = profile_new();
	if (!p)
		return 1;
	uint32_t mainf = py_frame(p, "main", "/srv/pool.py", 30);
	uint32_t waitf = py_frame(p, "wait_results", "/srv/pool.py", 20);
	uint32_t workerf = py_frame(p, "worker", "/usr/lib/python3/multiprocessing/pool.py", 125);
	uint32_t af = py_frame(p, "work_a", "/srv/pool.py", 5);
	uint32_t bf = py_frame(p, "work_b", "/srv/pool.py", 10);
	uint32_t feedf = py_frame(p, "feed", "/usr/lib/python3/multiprocessing/queues.py", 230);
	uint32_t s_wait[] = { mainf, waitf }, s_a[] = { workerf, af },
		 s_b[] = { workerf, bf }, s_feed[] = { feedf };
	uint32_t wait = profile_intern_stack(p, s_wait, 2);
	uint32_t a = profile_intern_stack(p, s_a, 2);
	uint32_t b = profile_intern_stack(p, s_b, 2);
	uint32_t feed = profile_intern_stack(p, s_feed, 1);

	char key[32], val[32];
	profile_set_meta(p, "rate", "100");
	profile_set_meta(p, "mode", "cpu");
	/* every sample, on CPU or not, as loupe record writes .loupe */
	profile_set_meta(p, "samples", "all");
	profile_set_meta(p, "target.comm", "parent");
	snprintf(val, sizeof val, "%d", PARENT);
	profile_set_meta(p, "target.pid", val);
	profile_set_meta(p, "runtime", "CPython 3.11 (synthetic)");
	profile_set_meta(p, "subprocesses", "on");
	snprintf(key, sizeof key, "process.%d", PARENT);
	profile_set_meta(p, key, "parent");
	profile_set_thread(p, PARENT, PARENT, "MainThread");
	for (int k = 1; k <= workers; k++) {
		int pid = PARENT + k;
		if (k < workers) {
			snprintf(key, sizeof key, "process.%d", pid);
			profile_set_meta(p, key, "worker");
		}
		profile_set_thread(p, pid, pid, k < workers ? "MainThread" : "lastworker");
		profile_set_thread(p, pid, pid + 500, "feeder");
	}

	raw_writer *w;
	lp_error err = { 0 };
	if (raw_writer_open(&w, argv[1], &err) != LP_OK) {
		fprintf(stderr, "gen_tree_recording: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < samples; i++) {
		uint64_t t = (uint64_t)i * PERIOD_NS;
		if (emit(w, p, PARENT, PARENT, wait, t, false))
			goto fail;
		for (int k = 1; k <= workers; k++) {
			int pid = PARENT + k;
			if (emit(w, p, pid, pid, i % 4 == 3 ? b : a, t + 1000u * (unsigned)k, true) ||
			    (i % 4 == 0 && emit(w, p, pid, pid + 500, feed, t + 500, false)))
				goto fail;
		}
	}
	snprintf(val, sizeof val, "%llu", (unsigned long long)samples * PERIOD_NS);
	profile_set_meta(p, "duration_ns", val);
	if (raw_writer_close(w, p, &err) != LP_OK) {
		fprintf(stderr, "gen_tree_recording: %s\n", err.msg);
		return 1;
	}
	profile_free(p);
	return 0;
fail:
	raw_writer_abort(w);
	return 1;
}
