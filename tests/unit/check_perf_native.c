/* Native stacks without stopping the target: unwind_from_snapshot on a
 * copy of registers and stack, and profiler/perf_native's kernel-taken
 * samples, on unwind_child_nofp (built without frame pointers), whose
 * stack must read unwind_leaf, unwind_mid, unwind_top, main.  Plus thread
 * pick-up and close, new mappings, lost records and ring wraparound, bad
 * input. */
#include <check.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "error.h"
#include "perf_native.h"
#include "symbols.h"
#include "target.h"
#include "unwind.h"
#include "unit.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Starts tests/unit/unwind_child_nofp MODE next to this program and waits
 * for its "R" (it is then in its leaf). */
static target *spawn_child(const char *mode)
{
	char self[PATH_MAX], path[PATH_MAX + 32], fdarg[16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(path, sizeof path, "%s/unwind_child_nofp", self);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	snprintf(fdarg, sizeof fdarg, "%d", p[1]);
	char *argv[] = { path, (char *)mode, fdarg, NULL };
	target *t;
	lp_error err;
	ck_assert_msg(target_spawn(&t, argv, &err) == LP_OK, "%s", err.msg);
	close(p[1]);
	char c;
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	ck_assert_int_eq(target_refresh_maps(t), LP_OK);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	return t;
}

/* True when the stack reads unwind_leaf, unwind_mid, unwind_top, main from
 * the leaf and goes on past main (libc's start code). */
static bool reaches_main(symbolizer *sym, target *t, const uint64_t *ips,
			 size_t n)
{
	static const char *const want[] = { "unwind_leaf", "unwind_mid",
					    "unwind_top", "main" };
	if (n < 5)
		return false;
	for (size_t i = 0; i < 4; i++) {
		struct symbol_info si;
		uint64_t a = i ? ips[i] - 1 : ips[i];
		if (symbolizer_lookup(sym, target_maps(t), a, &si) != LP_OK ||
		    !si.func || strcmp(si.func, want[i]))
			return false;
	}
	return true;
}

static void print_stack(symbolizer *sym, target *t, const uint64_t *ips,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct symbol_info si = { 0 };
		symbolizer_lookup(sym, target_maps(t), i ? ips[i] - 1 : ips[i],
				  &si);
		fprintf(stderr, "  #%zu %#llx %s\n", i,
			(unsigned long long)ips[i], si.func ? si.func : "?");
	}
}

/* ---- unwind_from_snapshot ---------------------------------------------- */

/* The paused child's registers and its stack copied from SP: the
 * snapshot unwind equals unwind_thread's, with a full copy and with a copy
 * too short for the walk (the rest is read live). */
START_TEST(snapshot_equals_thread)
{
	target *t = spawn_child("spin");
	symbolizer *sym;
	unwinder *u;
	ck_assert_int_eq(symbolizer_new(&sym, target_pid(t),
					target_procfd(t)), LP_OK);
	ck_assert_int_eq(unwinder_new(&u, t), LP_OK);
	struct target_thread *th = target_thread_at(t, 0);
	static unsigned char stack[16384];
	uint64_t a[64], b[64];
	size_t na = 0, nb = 0;
	bool ta = true, tb = true;
	bool ok = false;
	for (int tries = 0; tries < 200 && !ok; tries++) {
		ck_assert_int_eq(target_thread_pause(t, th), LP_OK);
		ck_assert_int_eq(unwind_thread(u, th, a, 64, &na, &ta), LP_OK);
		struct user_regs_struct r;
		ck_assert_int_eq(ptrace(PTRACE_GETREGS, th->tid, 0, &r), 0);
		struct unwind_regs ur = {
			.ax = r.rax, .bx = r.rbx, .cx = r.rcx, .dx = r.rdx,
			.si = r.rsi, .di = r.rdi, .bp = r.rbp, .sp = r.rsp,
			.ip = r.rip, .r8 = r.r8, .r9 = r.r9, .r10 = r.r10,
			.r11 = r.r11, .r12 = r.r12, .r13 = r.r13,
			.r14 = r.r14, .r15 = r.r15,
		};
		/* The main thread's stack may end less than 16 KiB above SP. */
		const struct map_entry *e = maps_find(target_maps(t), r.rsp);
		ck_assert_ptr_nonnull(e);
		size_t len = e->end - r.rsp < sizeof stack ?
			     (size_t)(e->end - r.rsp) : sizeof stack;
		ck_assert_int_eq(mem_read(target_reader(t), r.rsp, stack, len),
				 LP_OK);
		ck_assert_int_eq(unwind_from_snapshot(u, &ur, stack, len, b,
						      64, &nb, &tb), LP_OK);
		ok = !ta && reaches_main(sym, t, a, na) && na == nb &&
		     ta == tb && !memcmp(a, b, na * sizeof *a);
		if (ok) {
			/* 16 bytes of copy: every other word is read live
			 * (the thread is still paused, so it is the same). */
			ck_assert_int_eq(unwind_from_snapshot(u, &ur, stack,
							      16, b, 64, &nb,
							      &tb), LP_OK);
			ok = na == nb && !tb && !memcmp(a, b, na * sizeof *a);
		}
		ck_assert_int_eq(target_thread_resume(t, th), LP_OK);
		if (!ok)
			sleep_ms(1);
	}
	if (!ok) {
		fprintf(stderr, "unwind_thread (truncated %d):\n", ta);
		print_stack(sym, t, a, na);
		fprintf(stderr, "unwind_from_snapshot (truncated %d):\n", tb);
		print_stack(sym, t, b, nb);
	}
	ck_assert_msg(ok, "snapshot and ptrace unwinds differ");
	unwinder_free(u);
	symbolizer_free(sym);
	target_free(t, true);
}
END_TEST

/* ---- perf_native ------------------------------------------------------- */

struct seen {
	symbolizer *sym;
	target *t;
	pid_t want_tid;		/* 0: any */
	size_t samples, at_main, of_tid, truncated;
	uint64_t cpu_ns, first_ns, last_ns;
	bool ordered;
	bool printed;
};

static void on_sample(void *ctx, const struct perf_native_sample *s)
{
	struct seen *v = ctx;
	if (!v->samples)
		v->first_ns = s->time_ns;
	if (v->samples && s->time_ns < v->last_ns && s->tid == v->want_tid)
		v->ordered = false;
	v->last_ns = s->time_ns;
	v->samples++;
	v->cpu_ns += s->cpu_ns;
	v->truncated += s->truncated;
	if (v->want_tid && s->tid == v->want_tid)
		v->of_tid++;
	if (v->sym) {
		if (reaches_main(v->sym, v->t, s->ips, s->n) && !s->truncated)
			v->at_main++;
		else if (!v->printed) {
			v->printed = true;
			fprintf(stderr, "a perf sample not reaching main "
				"(truncated %d):\n", s->truncated);
			print_stack(v->sym, v->t, s->ips, s->n);
		}
	}
}

/* A spinning child sampled at 1 kHz of its CPU time: every sample is of
 * its thread, reaches main, stands for 1 ms, and the child never stops. */
START_TEST(perf_reaches_main)
{
	target *t = spawn_child("spin");
	struct seen v = { .t = t, .ordered = true };
	unwinder *u;
	perf_native *pn;
	lp_error err;
	ck_assert_int_eq(symbolizer_new(&v.sym, target_pid(t),
					target_procfd(t)), LP_OK);
	ck_assert_int_eq(unwinder_new(&u, t), LP_OK);
	v.want_tid = target_thread_at(t, 0)->tid;
	uint64_t t0 = now_ns();
	ck_assert_msg(perf_native_open(&pn, t, u, 1000, 0, &err) == LP_OK,
		      "%s", err.msg);
	/* Within a deadline, at least 100 samples (0.1 s of its CPU). */
	while (v.samples < 100 && now_ns() - t0 < 5000000000ull) {
		sleep_ms(20);
		ck_assert_int_eq(perf_native_drain(pn, on_sample, &v), LP_OK);
	}
	struct perf_native_stats st;
	perf_native_get_stats(pn, &st);
	ck_assert_uint_ge(v.samples, 100);
	ck_assert_uint_eq(v.of_tid, v.samples);
	ck_assert_uint_eq(st.samples, v.samples);
	ck_assert_uint_eq(st.threads, 1);
	ck_assert_uint_eq(st.bad, 0);
	/* Each sample is 1 ms of CPU (the hrtimer may fire a little late). */
	ck_assert_uint_ge(v.cpu_ns / v.samples, 950000);
	ck_assert_uint_le(v.cpu_ns / v.samples, 1200000);
	/* CLOCK_MONOTONIC, in order, within the test's span. */
	ck_assert(v.ordered);
	ck_assert_uint_ge(v.first_ns, t0);
	ck_assert_uint_le(v.last_ns, now_ns());
	/* Every stack reaches main: unwinding a copy loses nothing here. */
	ck_assert_uint_eq(v.at_main, v.samples);
	/* The child was never stopped: still running and spinning. */
	char state;
	uint64_t cpu;
	ck_assert_int_eq(target_thread_state(t, target_thread_at(t, 0),
					     &state, &cpu), LP_OK);
	ck_assert(state == 'R');
	ck_assert(!target_thread_at(t, 0)->seized);
	perf_native_free(pn);
	unwinder_free(u);
	symbolizer_free(v.sym);
	target_free(t, true);
}
END_TEST

static atomic_bool spin_stop;
static atomic_int spin_tid;

static void *spinner(void *arg)
{
	atomic_store(&spin_tid, (int)gettid());
	volatile unsigned long x = 0;
	while (!atomic_load(&spin_stop))
		x = x * 31 + 7;
	return arg;
}

/* This process as the target: a thread started after open is picked up by
 * sync_threads and sampled; once it exited it is closed. */
START_TEST(perf_threads_follow)
{
	target *t;
	lp_error err;
	ck_assert_int_eq(target_attach(&t, getpid(), &err), LP_OK);
	ck_assert_int_eq(target_refresh_maps(t), LP_OK);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	unwinder *u;
	perf_native *pn;
	ck_assert_int_eq(unwinder_new(&u, t), LP_OK);
	ck_assert_msg(perf_native_open(&pn, t, u, 1000, 0, &err) == LP_OK,
		      "%s", err.msg);
	struct perf_native_stats st;
	perf_native_get_stats(pn, &st);
	size_t before = st.threads;

	/* A library mapped after open: its mapping is recorded in the ring
	 * of the thread that mapped it, and the next drain re-reads the maps
	 * (libresolv: in glibc, linked by nothing here). */
	ck_assert_ptr_null(maps_find_file(target_maps(t), "libresolv"));
	void *lib = dlopen("libresolv.so.2", RTLD_NOW);
	ck_assert_ptr_nonnull(lib);
	ck_assert(!perf_native_take_maps_changed(pn));
	struct seen none = { .ordered = true };
	perf_native_drain(pn, on_sample, &none);
	ck_assert(perf_native_take_maps_changed(pn));
	ck_assert(!perf_native_take_maps_changed(pn));
	ck_assert_ptr_nonnull(maps_find_file(target_maps(t), "libresolv"));
	perf_native_get_stats(pn, &st);
	ck_assert_uint_gt(st.maps_changed, 0);

	atomic_store(&spin_stop, false);
	atomic_store(&spin_tid, 0);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, spinner, NULL), 0);
	while (!atomic_load(&spin_tid))
		sleep_ms(1);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	ck_assert_int_eq(perf_native_sync_threads(pn, &err), LP_OK);
	perf_native_get_stats(pn, &st);
	ck_assert_uint_eq(st.threads, before + 1);
	struct seen v = { .want_tid = atomic_load(&spin_tid), .ordered = true };
	uint64_t t0 = now_ns();
	while (v.of_tid < 20 && now_ns() - t0 < 5000000000ull) {
		sleep_ms(20);
		perf_native_drain(pn, on_sample, &v);
	}
	ck_assert_uint_ge(v.of_tid, 20);

	atomic_store(&spin_stop, true);
	pthread_join(th, NULL);
	/* Exited: closed at the next drain, whether or not the thread list
	 * was re-read (its event hangs up). */
	perf_native_drain(pn, on_sample, &v);
	perf_native_get_stats(pn, &st);
	ck_assert_uint_eq(st.threads, before);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	ck_assert_int_eq(perf_native_sync_threads(pn, &err), LP_OK);
	perf_native_drain(pn, on_sample, &v);
	perf_native_get_stats(pn, &st);
	ck_assert_uint_eq(st.threads, before);
	perf_native_free(pn);
	unwinder_free(u);
	target_free(t, false);
	dlclose(lib);
}
END_TEST

/* 10 kHz with the largest stack copy fills the (2 MiB) ring in ~3 ms: not
 * draining for 200 ms loses records, which are counted; records cut by
 * the ring's end are joined, so what is kept still unwinds to main. */
START_TEST(perf_lost_and_wrap)
{
	target *t = spawn_child("spin");
	struct seen v = { .t = t, .ordered = true };
	unwinder *u;
	perf_native *pn;
	lp_error err;
	ck_assert_int_eq(symbolizer_new(&v.sym, target_pid(t),
					target_procfd(t)), LP_OK);
	ck_assert_int_eq(unwinder_new(&u, t), LP_OK);
	ck_assert_msg(perf_native_open(&pn, t, u, 10000,
				       PERF_NATIVE_STACK_MAX, &err) == LP_OK,
		      "%s", err.msg);
	struct perf_native_stats st;
	for (int round = 0; round < 4; round++) {
		sleep_ms(50);
		ck_assert_int_eq(perf_native_drain(pn, on_sample, &v), LP_OK);
	}
	perf_native_get_stats(pn, &st);
	fprintf(stderr, "perf_lost_and_wrap: %llu samples, %llu lost, "
		"%llu joined\n", (unsigned long long)st.samples,
		(unsigned long long)st.lost, (unsigned long long)st.joined);
	ck_assert_uint_gt(st.lost, 0);
	ck_assert_uint_gt(st.joined, 0);
	ck_assert_uint_eq(st.bad, 0);
	ck_assert_uint_ge(v.samples, 60);	/* about 30 per drain */
	ck_assert_uint_eq(v.at_main, v.samples);
	perf_native_free(pn);
	unwinder_free(u);
	symbolizer_free(v.sym);
	target_free(t, true);
}
END_TEST

/* A thread whose SP points at unmapped memory: the kernel copies nothing,
 * the unwind stops at once, truncated; no crash, no error. */
START_TEST(perf_bad_stack)
{
	target *t = spawn_child("badstack");
	struct seen v = { .ordered = true };
	unwinder *u;
	perf_native *pn;
	lp_error err;
	ck_assert_int_eq(unwinder_new(&u, t), LP_OK);
	ck_assert_msg(perf_native_open(&pn, t, u, 1000, 0, &err) == LP_OK,
		      "%s", err.msg);
	uint64_t t0 = now_ns();
	while (v.samples < 50 && now_ns() - t0 < 5000000000ull) {
		sleep_ms(20);
		ck_assert_int_eq(perf_native_drain(pn, on_sample, &v), LP_OK);
	}
	ck_assert_uint_ge(v.samples, 50);
	/* The first few may predate the jump to the bad stack. */
	ck_assert_uint_ge(v.truncated, v.samples - 5);
	perf_native_free(pn);
	unwinder_free(u);
	target_free(t, true);
}
END_TEST

START_TEST(perf_bad_args)
{
	target *t = spawn_child("block");
	unwinder *u;
	perf_native *pn = (perf_native *)1;
	lp_error err;
	ck_assert_int_eq(unwinder_new(&u, t), LP_OK);
	ck_assert_int_eq(perf_native_open(&pn, t, u, 0, 0, &err), LP_EINVAL);
	ck_assert_ptr_null(pn);
	ck_assert_int_eq(perf_native_open(&pn, t, u, 100001, 0, &err),
			 LP_EINVAL);
	ck_assert_int_eq(perf_native_open(&pn, t, u, 100, 7, &err),
			 LP_EINVAL);
	ck_assert_int_eq(perf_native_open(&pn, t, u, 100,
					  PERF_NATIVE_STACK_MAX + 8, &err),
			 LP_EINVAL);
	ck_assert(strstr(err.msg, "multiple of 8"));
	/* A blocked thread is opened but gives no samples. */
	ck_assert_int_eq(perf_native_open(&pn, t, u, 1000, 0, &err), LP_OK);
	sleep_ms(50);
	struct seen v = { .ordered = true };
	ck_assert_int_eq(perf_native_drain(pn, on_sample, &v), LP_OK);
	ck_assert_uint_le(v.samples, 1);
	perf_native_free(pn);
	unwinder_free(u);
	target_free(t, true);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("perf_native");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, snapshot_equals_thread);
	tcase_add_test(tc, perf_reaches_main);
	tcase_add_test(tc, perf_threads_follow);
	tcase_add_test(tc, perf_lost_and_wrap);
	tcase_add_test(tc, perf_bad_stack);
	tcase_add_test(tc, perf_bad_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
