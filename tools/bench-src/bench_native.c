/* loupe-bench native [SAMPLES]: what one native sample costs.
 *
 * Starts loupe-bench-target (10 frames deep, no frame pointers) once
 * spinning and once sleeping in nanosleep(), and measures per sample:
 * pause + unwind + resume, unwind only (thread kept paused: registers,
 * stack read and the walk), pause + resume, the same with detach on
 * resume, and for reference a bare syscall and one process_vm_readv.
 * Warm: the first samples fill the caches and are not counted.  Nothing
 * is allocated per sample. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"
#include "error.h"
#include "target.h"
#include "unwind.h"

#define WARMUP 200

struct ctx {
	target *t;
	unwinder *u;
	struct target_thread *th;
	uint64_t ips[64];
	size_t n;
	bool truncated;
	uint64_t *ns;
	size_t samples;
	int failures;
};

static int start(struct ctx *c, const char *mode)
{
	char path[4200], fdarg[16];
	int p[2];
	lp_error err;
	if (bench_sibling("loupe-bench-target", path, sizeof path) < 0 ||
	    pipe(p) < 0)
		return -1;
	snprintf(fdarg, sizeof fdarg, "%d", p[1]);
	char *argv[] = { path, (char *)mode, fdarg, NULL };
	if (target_spawn(&c->t, argv, &err) != LP_OK) {
		fprintf(stderr, "loupe-bench: %s\n", err.msg);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	char ch;
	ssize_t r = read(p[0], &ch, 1);
	close(p[0]);
	if (r != 1 || target_refresh_maps(c->t) != LP_OK ||
	    target_refresh_threads(c->t) != LP_OK ||
	    unwinder_new(&c->u, c->t) != LP_OK) {
		fprintf(stderr, "loupe-bench: target did not start\n");
		target_free(c->t, true);
		return -1;
	}
	c->th = target_thread_at(c->t, 0);
	return 0;
}

static void stop(struct ctx *c)
{
	unwinder_free(c->u);
	target_free(c->t, true);
}

static int unwind_once(struct ctx *c)
{
	int rc = unwind_thread(c->u, c->th, c->ips, 64, &c->n, &c->truncated);
	if (rc != LP_OK || c->truncated)
		c->failures++;
	return rc;
}

static void run_pause_unwind_resume(struct ctx *c, const char *label)
{
	for (size_t i = 0; i < WARMUP + c->samples; i++) {
		uint64_t t0 = bench_now_ns();
		if (target_thread_pause(c->t, c->th) != LP_OK) {
			c->failures++;
			continue;
		}
		unwind_once(c);
		target_thread_resume(c->t, c->th);
		uint64_t t1 = bench_now_ns();
		if (i >= WARMUP)
			c->ns[i - WARMUP] = t1 - t0;
	}
	bench_report(label, c->ns, c->samples);
}

static void run_unwind_only(struct ctx *c, const char *label)
{
	if (target_thread_pause(c->t, c->th) != LP_OK)
		return;
	for (size_t i = 0; i < WARMUP + c->samples; i++) {
		uint64_t t0 = bench_now_ns();
		unwind_once(c);
		uint64_t t1 = bench_now_ns();
		if (i >= WARMUP)
			c->ns[i - WARMUP] = t1 - t0;
	}
	target_thread_resume(c->t, c->th);
	bench_report(label, c->ns, c->samples);
}

/* The first step of every unwind, alone: the registers of a paused
 * thread. */
static void run_getregs(struct ctx *c, const char *label)
{
	struct user_regs_struct regs;
	if (target_thread_pause(c->t, c->th) != LP_OK)
		return;
	for (size_t i = 0; i < WARMUP + c->samples; i++) {
		uint64_t t0 = bench_now_ns();
		if (ptrace(PTRACE_GETREGS, c->th->tid, 0, &regs) < 0)
			c->failures++;
		uint64_t t1 = bench_now_ns();
		if (i >= WARMUP)
			c->ns[i - WARMUP] = t1 - t0;
	}
	target_thread_resume(c->t, c->th);
	bench_report(label, c->ns, c->samples);
}

static void run_pause_resume(struct ctx *c, const char *label)
{
	for (size_t i = 0; i < WARMUP + c->samples; i++) {
		uint64_t t0 = bench_now_ns();
		if (target_thread_pause(c->t, c->th) != LP_OK)
			c->failures++;
		target_thread_resume(c->t, c->th);
		uint64_t t1 = bench_now_ns();
		if (i >= WARMUP)
			c->ns[i - WARMUP] = t1 - t0;
	}
	bench_report(label, c->ns, c->samples);
}

static void run_reference(struct ctx *c)
{
	char buf[32 * 1024];
	pid_t pid = target_pid(c->t);
	for (size_t i = 0; i < WARMUP + c->samples; i++) {
		uint64_t t0 = bench_now_ns();
		syscall(SYS_getppid);
		uint64_t t1 = bench_now_ns();
		if (i >= WARMUP)
			c->ns[i - WARMUP] = t1 - t0;
	}
	bench_report("native.syscall", c->ns, c->samples);
	/* An address surely mapped: the start of the first mapping. */
	const struct maps *m = target_maps(c->t);
	uint64_t addr = m->n ? m->v[0].start : 0;
	const struct map_entry *stack = NULL;
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].path, "[stack]"))
			stack = &m->v[i];
	static const size_t sizes[] = { 8, 4096, 32 * 1024 };
	static const char *const names[] = { "native.process_vm_readv_8b",
		"native.process_vm_readv_4k", "native.process_vm_readv_32k" };
	for (size_t k = 0; k < 3; k++) {
		uint64_t a = k && stack ? stack->end - sizes[k] : addr;
		for (size_t i = 0; i < WARMUP + c->samples; i++) {
			struct iovec l = { buf, sizes[k] };
			struct iovec r = { (void *)(uintptr_t)a, sizes[k] };
			uint64_t t0 = bench_now_ns();
			if (process_vm_readv(pid, &l, 1, &r, 1, 0) < 0)
				c->failures++;
			uint64_t t1 = bench_now_ns();
			if (i >= WARMUP)
				c->ns[i - WARMUP] = t1 - t0;
		}
		bench_report(names[k], c->ns, c->samples);
	}
}

static int run_mode(const char *mode, size_t samples, bool reference)
{
	struct ctx c = { .samples = samples };
	char label[64];
	c.ns = calloc(samples, sizeof *c.ns);
	if (!c.ns || start(&c, mode) < 0) {
		free(c.ns);
		return -1;
	}
	if (reference)
		run_reference(&c);
	/* One stack, to show what is being unwound. */
	target_thread_pause(c.t, c.th);
	unwind_once(&c);
	target_thread_resume(c.t, c.th);
	printf("native.%s.depth %zu frames, truncated %d\n", mode, c.n,
	       c.truncated);
	snprintf(label, sizeof label, "native.%s.pause_unwind_resume", mode);
	run_pause_unwind_resume(&c, label);
	snprintf(label, sizeof label, "native.%s.unwind_only", mode);
	run_unwind_only(&c, label);
	snprintf(label, sizeof label, "native.%s.getregs", mode);
	run_getregs(&c, label);
	snprintf(label, sizeof label, "native.%s.pause_resume", mode);
	run_pause_resume(&c, label);
	target_set_detach_on_resume(c.t, true);
	snprintf(label, sizeof label, "native.%s.pause_resume_detach", mode);
	run_pause_resume(&c, label);
	snprintf(label, sizeof label, "native.%s.pause_unwind_detach", mode);
	run_pause_unwind_resume(&c, label);
	target_set_detach_on_resume(c.t, false);
	uint64_t calls = target_reader(c.t)->calls;
	target_thread_pause(c.t, c.th);
	unwind_once(&c);
	target_thread_resume(c.t, c.th);
	printf("native.%s.reads_per_unwind %llu\n", mode,
	       (unsigned long long)(target_reader(c.t)->calls - calls));
	if (c.failures)
		printf("native.%s.failures %d\n", mode, c.failures);
	stop(&c);
	free(c.ns);
	return 0;
}

int bench_native(int argc, char **argv)
{
	size_t samples = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000;
	if (!samples)
		samples = 5000;
	int rc = run_mode("spin", samples, true);
	if (rc == 0)
		rc = run_mode("sleep", samples, false);
	return rc ? 1 : 0;
}
