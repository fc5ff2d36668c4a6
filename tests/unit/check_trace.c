/* The tracer's pure parts: loop ticks from syscall events (loop.c), the
 * tick histogram (hist.c), the folding of a stall's stacks (fold.c), and
 * the spans the tracer leaves in a profile through the .loupe format and
 * the Chrome writer; and that no_ptrace (the daemon) never falls back to
 * ptrace. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fold.h"
#include "formats/formats.h"
#include "hist.h"
#include "loop.h"
#include "syscalls.h"
#include "tracer.h"
#include "unit.h"

#define MS 1000000ull

struct ticks {
	struct loop_tick t[64];
	struct syscall_stat sys[64][LOOP_PERIOD_SYSCALLS];
	size_t n;
};

static void on_tick(void *ctx, const struct loop_tick *t)
{
	struct ticks *tk = ctx;
	ck_assert_uint_lt(tk->n, 64);
	tk->t[tk->n] = *t;
	memcpy(tk->sys[tk->n], t->sys, t->nsys * sizeof *t->sys);
	tk->t[tk->n].sys = tk->sys[tk->n];
	tk->n++;
}

static void ev(loop_tracker *lt, pid_t tid, enum sys_event_kind k, long nr,
	       uint64_t ms, long ret, unsigned long a0, unsigned long a1)
{
	struct sys_event e = { .time_ns = ms * MS, .tid = tid, .kind = k,
			       .nr = nr, .ret = ret, .args = { a0, a1 } };
	loop_event(lt, &e);
}

/* An epoll_wait that waits from..to ms. */
static void wait_ms(loop_tracker *lt, pid_t tid, uint64_t from, uint64_t to)
{
	ev(lt, tid, SYS_ENTER, SYS_epoll_wait, from, 0, 3, 0);
	ev(lt, tid, SYS_EXIT, SYS_epoll_wait, to, 1, 0, 0);
}

START_TEST(test_ticks_and_stalls)
{
	struct ticks tk = { .n = 0 };
	loop_tracker *lt = loop_tracker_new(50 * MS, on_tick, &tk);
	/* Tracing starts while the thread waits: the first event is an
	 * exit. */
	ev(lt, 7, SYS_EXIT, SYS_epoll_wait, 10, 1, 0, 0);
	/* busy 10..12, wait 12..20, busy 20..120 with a 90 ms read */
	wait_ms(lt, 7, 12, 20);
	ev(lt, 7, SYS_ENTER, SYS_read, 25, 0, 5, 0);
	ev(lt, 7, SYS_EXIT, SYS_read, 115, 10, 0, 0);
	ev(lt, 7, SYS_ENTER, SYS_getpid, 116, 0, 0, 0);
	ev(lt, 7, SYS_EXIT, SYS_getpid, 116, 7, 0, 0);
	wait_ms(lt, 7, 120, 130);
	ck_assert_uint_eq(tk.n, 2);
	ck_assert_uint_eq(tk.t[0].start_ns, 10 * MS);
	ck_assert_uint_eq(tk.t[0].dur_ns, 2 * MS);
	ck_assert(!tk.t[0].stall);
	ck_assert_uint_eq(tk.t[1].dur_ns, 100 * MS);
	ck_assert(tk.t[1].stall);
	ck_assert_uint_eq(tk.t[1].nsys, 2);
	ck_assert_int_eq(tk.t[1].sys[0].nr, SYS_read);	/* most time first */
	ck_assert_uint_eq(tk.t[1].sys[0].total_ns, 90 * MS);
	const struct loop_thread *th = loop_find(lt, 7);
	ck_assert(loop_is_loop(th));
	ck_assert_uint_eq(th->ticks, 2);
	ck_assert_uint_eq(th->stalls, 1);
	ck_assert_uint_eq(loop_busy_for(th, 140 * MS), 10 * MS);
	loop_finish(lt, 150 * MS);
	/* busy 2 + 100 + 20 (130..150), idle 8 + 10 */
	ck_assert_uint_eq(th->busy_ns, 122 * MS);
	ck_assert_uint_eq(th->idle_ns, 18 * MS);
	ck_assert_uint_eq(th->tick_hist.n, 2);
	ck_assert_uint_eq(th->tick_hist.max, 100 * MS);
	loop_tracker_free(lt);
}
END_TEST

START_TEST(test_not_a_loop)
{
	struct ticks tk = { .n = 0 };
	loop_tracker *lt = loop_tracker_new(50 * MS, on_tick, &tk);
	/* select on no descriptor is a sleep (CPython <= 3.10), a poll with
	 * descriptors one return only: neither makes a loop */
	ev(lt, 9, SYS_ENTER, SYS_select, 0, 0, 0, 0);
	ev(lt, 9, SYS_EXIT, SYS_select, 200, 0, 0, 0);
	ev(lt, 9, SYS_ENTER, SYS_poll, 300, 0, 0x1000, 1);
	ev(lt, 9, SYS_EXIT, SYS_poll, 400, 1, 0, 0);
	const struct loop_thread *th = loop_find(lt, 9);
	ck_assert_ptr_nonnull(th);
	ck_assert(!loop_is_loop(th));
	ck_assert_uint_eq(tk.n, 0);
	loop_tracker_free(lt);
}
END_TEST

START_TEST(test_sleep_inside_a_tick)
{
	struct ticks tk = { .n = 0 };
	loop_tracker *lt = loop_tracker_new(50 * MS, on_tick, &tk);
	wait_ms(lt, 3, 0, 10);
	/* time.sleep(0.2) of CPython 3.8: select(0, NULL, NULL, NULL, tv) */
	ev(lt, 3, SYS_ENTER, SYS_select, 11, 0, 0, 0);
	ev(lt, 3, SYS_EXIT, SYS_select, 211, 0, 0, 0);
	wait_ms(lt, 3, 212, 220);
	ck_assert_uint_eq(tk.n, 1);
	ck_assert_uint_eq(tk.t[0].dur_ns, 202 * MS);
	ck_assert(tk.t[0].stall);
	ck_assert_int_eq(tk.t[0].sys[0].nr, SYS_select);
	ck_assert_uint_eq(tk.t[0].sys[0].total_ns, 200 * MS);
	loop_tracker_free(lt);
}
END_TEST

START_TEST(test_restarts_and_missed_entries)
{
	struct ticks tk = { .n = 0 };
	loop_tracker *lt = loop_tracker_new(50 * MS, on_tick, &tk);
	wait_ms(lt, 4, 0, 10);
	/* a sleep interrupted by our ptrace pause and restarted: one call */
	ev(lt, 4, SYS_ENTER, SYS_nanosleep, 10, 0, 0, 0);
	ev(lt, 4, SYS_EXIT, SYS_nanosleep, 40, -516, 0, 0);
	ev(lt, 4, SYS_ENTER, SYS_restart_syscall, 40, 0, 0, 0);
	ev(lt, 4, SYS_EXIT, SYS_restart_syscall, 110, 0, 0, 0);
	/* an epoll_wait interrupted (ERESTARTNOHAND) and re-entered is
	 * still the same wait */
	ev(lt, 4, SYS_ENTER, SYS_epoll_wait, 111, 0, 3, 0);
	ev(lt, 4, SYS_EXIT, SYS_epoll_wait, 115, -514, 0, 0);
	ev(lt, 4, SYS_ENTER, SYS_epoll_wait, 115, 0, 3, 0);
	ev(lt, 4, SYS_EXIT, SYS_epoll_wait, 130, 1, 0, 0);
	/* a restart seen without the entry of the call it restarts: the
	 * call's name, timed from the last event */
	ev(lt, 4, SYS_EXIT, SYS_nanosleep, 140, -516, 0, 0);
	ev(lt, 4, SYS_ENTER, SYS_restart_syscall, 141, 0, 0, 0);
	ev(lt, 4, SYS_EXIT, SYS_restart_syscall, 150, 0, 0, 0);
	/* every call followed only from some time into the period: an exit
	 * without its entry is timed from the last event */
	ev(lt, 4, SYS_EXIT, SYS_connect, 190, 0, 0, 0);
	wait_ms(lt, 4, 191, 200);
	ck_assert_uint_eq(tk.n, 2);
	ck_assert_uint_eq(tk.t[0].dur_ns, 101 * MS);
	ck_assert_int_eq(tk.t[0].sys[0].nr, SYS_nanosleep);
	ck_assert_uint_eq(tk.t[0].sys[0].count, 1);
	ck_assert_uint_eq(tk.t[0].sys[0].total_ns, 100 * MS);
	ck_assert_uint_eq(tk.t[1].start_ns, 130 * MS);
	ck_assert_uint_eq(tk.t[1].nsys, 2);
	ck_assert_int_eq(tk.t[1].sys[0].nr, SYS_connect);
	ck_assert_uint_eq(tk.t[1].sys[0].total_ns, 40 * MS);
	ck_assert_int_eq(tk.t[1].sys[1].nr, SYS_nanosleep);
	ck_assert_uint_eq(tk.t[1].sys[1].total_ns, 20 * MS);
	/* lost events: the next poll return starts over */
	struct sys_event lost = { .tid = 0, .kind = SYS_LOST };
	loop_event(lt, &lost);
	ck_assert_uint_eq(loop_busy_for(loop_find(lt, 4), 300 * MS), 0);
	ev(lt, 4, SYS_ENTER, SYS_epoll_wait, 300, 0, 3, 0);	/* no tick */
	ck_assert_uint_eq(tk.n, 2);
	loop_tracker_free(lt);
}
END_TEST

START_TEST(test_threads_apart)
{
	struct ticks tk = { .n = 0 };
	loop_tracker *lt = loop_tracker_new(50 * MS, on_tick, &tk);
	for (uint64_t t = 0; t < 100; t += 10) {
		wait_ms(lt, 1, t, t + 5);
		wait_ms(lt, 2, t + 1, t + 2);
	}
	ck_assert_uint_eq(loop_nthreads(lt), 2);
	ck_assert_uint_eq(loop_find(lt, 1)->ticks, 9);
	ck_assert_uint_eq(loop_find(lt, 2)->ticks, 9);
	ck_assert_uint_eq(loop_find(lt, 1)->tick_hist.max, 5 * MS);
	ck_assert_uint_eq(loop_find(lt, 2)->tick_hist.max, 9 * MS);
	loop_tracker_free(lt);
}
END_TEST

START_TEST(test_hist_quantiles)
{
	static struct hist h;
	memset(&h, 0, sizeof h);
	ck_assert_uint_eq(hist_quantile(&h, 0.5), 0);
	for (uint64_t i = 1; i <= 1000; i++)
		hist_add(&h, i * 1000);	/* 1 us .. 1 ms */
	ck_assert_uint_eq(h.n, 1000);
	ck_assert_uint_eq(h.max, 1000000);
	double p50 = (double)hist_quantile(&h, 0.5);
	double p99 = (double)hist_quantile(&h, 0.99);
	ck_assert(p50 > 500000 * 0.97 && p50 < 500000 * 1.03);
	ck_assert(p99 > 990000 * 0.97 && p99 <= 1000000);
	ck_assert_uint_le(hist_quantile(&h, 1.0), h.max);
	hist_add(&h, UINT64_MAX);	/* past the last bucket: kept there */
	ck_assert_uint_eq(h.max, UINT64_MAX);
}
END_TEST

static uint32_t fn(profile *p, const char *name, const char *file, int line)
{
	struct frame f = { .kind = FRAME_PYTHON,
			   .func = profile_intern_cstr(p, name),
			   .file = profile_intern_cstr(p, file), .line = line };
	return profile_intern_frame(p, &f);
}

START_TEST(test_fold_paths)
{
	profile *p = profile_new();
	uint32_t run = fn(p, "run", "/a/loop.py", 10);
	uint32_t handler = fn(p, "handler", "/a/app.py", 20);
	uint32_t sleep1 = fn(p, "legacy", "/a/app.py", 31);
	uint32_t spin_a = fn(p, "spin", "/a/app.py", 40);
	uint32_t spin_b = fn(p, "spin", "/a/app.py", 41);	/* other line */
	uint32_t s_sleep = profile_intern_stack(p, (uint32_t[]){ run, handler, sleep1 }, 3);
	uint32_t s_spin_a = profile_intern_stack(p, (uint32_t[]){ run, handler, spin_a }, 3);
	uint32_t s_spin_b = profile_intern_stack(p, (uint32_t[]){ run, handler, spin_b }, 3);
	uint32_t stacks[10];
	/* 6 in the sleep, 4 spinning on two lines of one function */
	for (int i = 0; i < 6; i++)
		stacks[i] = s_sleep;
	stacks[6] = stacks[8] = s_spin_a;
	stacks[7] = stacks[9] = s_spin_b;
	struct fold_path out[FOLD_MAX_PATHS];
	size_t n;
	ck_assert_int_eq(fold_stall(p, stacks, 10, out, &n), LP_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(profile_str(p, out[0].text),
			 "run (loop.py:10) → handler (app.py:20) → legacy (app.py:31)");
	ck_assert_uint_eq(out[0].held, 6);
	/* lines apart, one function: the path ends in it */
	ck_assert_uint_eq(out[1].held, 4);
	ck_assert(strstr(profile_str(p, out[1].text), "→ spin (app.py:4") != NULL);
	/* no samples, no path */
	ck_assert_int_eq(fold_stall(p, stacks, 0, out, &n), LP_OK);
	ck_assert_uint_eq(n, 0);
	/* samples that share no root: half is enough for a path, the rest
	 * makes the second */
	uint32_t other = profile_intern_stack(p, (uint32_t[]){ spin_a }, 1);
	uint32_t two[2] = { s_sleep, other };
	ck_assert_int_eq(fold_stall(p, two, 2, out, &n), LP_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(out[0].held + out[1].held, 2);
	/* a fifth of the samples elsewhere is too few for a second path */
	uint32_t many[6] = { s_sleep, s_sleep, s_sleep, s_sleep, s_sleep, other };
	ck_assert_int_eq(fold_stall(p, many, 6, out, &n), LP_OK);
	ck_assert_uint_eq(n, 1);
	/* no root shared by half (a stall split over tasks): the one most
	 * start with still gives the path, never none */
	uint32_t r2 = profile_intern_stack(p, (uint32_t[]){ spin_b }, 1);
	uint32_t r3 = profile_intern_stack(p, (uint32_t[]){ sleep1 }, 1);
	uint32_t split[5] = { s_sleep, other, s_sleep, r2, r3 };
	ck_assert_int_eq(fold_stall(p, split, 5, out, &n), LP_OK);
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_eq(out[0].held, 2);
	ck_assert_str_eq(profile_str(p, out[0].text),
			 "run (loop.py:10) → handler (app.py:20) → legacy (app.py:31)");
	profile_free(p);
}
END_TEST

START_TEST(test_fold_long_path_keeps_leaf_end)
{
	profile *p = profile_new();
	uint32_t ids[12];
	char name[16];
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof name, "f%d", i);
		ids[i] = fn(p, name, "/x.py", i + 1);
	}
	uint32_t s = profile_intern_stack(p, ids, 12);
	struct fold_path out[FOLD_MAX_PATHS];
	size_t n;
	ck_assert_int_eq(fold_stall(p, &s, 1, out, &n), LP_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(profile_str(p, out[0].text),
			 "f7 (x.py:8) → f8 (x.py:9) → f9 (x.py:10) → f10 (x.py:11) → f11 (x.py:12)");
	profile_free(p);
}
END_TEST

START_TEST(test_fold_skips_unnamed_native)
{
	profile *p = profile_new();
	uint32_t ids[4];
	ids[0] = fn(p, "caller", "/x.py", 3);
	ids[1] = fn(p, "sleeper", "/x.py", 7);
	struct frame nat = { .kind = FRAME_NATIVE,
			     .func = profile_intern_cstr(p, "python3.14+0x37e8f1"),
			     .module = profile_intern_cstr(p, "python3.14") };
	ids[2] = profile_intern_frame(p, &nat);
	nat.func = profile_intern_cstr(p, "clock_nanosleep");
	nat.module = profile_intern_cstr(p, "libc.so.6");
	ids[3] = profile_intern_frame(p, &nat);
	uint32_t s = profile_intern_stack(p, ids, 4);
	struct fold_path out[FOLD_MAX_PATHS];
	size_t n;
	ck_assert_int_eq(fold_stall(p, &s, 1, out, &n), LP_OK);
	ck_assert_str_eq(profile_str(p, out[0].text),
			 "caller (x.py:3) → sleeper (x.py:7) → clock_nanosleep");
	/* nothing but unnamed frames: the leaf stays */
	uint32_t only = profile_intern_stack(p, &ids[2], 1);
	ck_assert_int_eq(fold_stall(p, &only, 1, out, &n), LP_OK);
	ck_assert_str_eq(profile_str(p, out[0].text), "python3.14+0x37e8f1");
	profile_free(p);
}
END_TEST

static char tmpdir[200];

START_TEST(test_spans_round_trip)
{
	unit_tmpdir_make(tmpdir, sizeof tmpdir, "check_trace");
	char path[300], json[300];
	snprintf(path, sizeof path, "%s/t.loupe", tmpdir);
	snprintf(json, sizeof json, "%s/t.trace.json", tmpdir);
	profile *p = profile_new();
	profile_keep_timeline(p, true);
	struct profile_span sp = {
		.start_ns = 1000, .dur_ns = 120 * MS, .pid = 5, .tid = 6,
		.cat = profile_intern_cstr(p, "stall"),
		.name = profile_intern_cstr(p, "stall 120.0 ms"),
		.detail = profile_intern_cstr(p, "a → b \"q\""),
	};
	ck_assert_int_eq(profile_add_span(p, &sp), LP_OK);
	struct profile_span bad = sp;
	bad.name = 999999;
	ck_assert_int_eq(profile_add_span(p, &bad), LP_EINVAL);
	lp_error err = { 0 };
	raw_writer *w;
	ck_assert_int_eq(raw_writer_open(&w, path, &err), LP_OK);
	ck_assert_int_eq(raw_writer_close(w, p, &err), LP_OK);
	profile *q = profile_new();
	struct raw_read_info info;
	ck_assert_int_eq(raw_read_file(path, q, &info, &err), LP_OK);
	size_t n;
	const struct profile_span *got = profile_spans(q, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(got[0].start_ns, 1000);
	ck_assert_uint_eq(got[0].dur_ns, 120 * MS);
	ck_assert_int_eq(got[0].tid, 6);
	ck_assert_str_eq(profile_str(q, got[0].cat), "stall");
	ck_assert_str_eq(profile_str(q, got[0].detail), "a → b \"q\"");
	/* Chrome: an X slice on the loop's own track */
	struct output_opts oo = { .mode = MODE_WALL, .lines = true };
	ck_assert_int_eq(format_write_file(q, FORMAT_CHROME, json, &oo, &err), LP_OK);
	FILE *f = fopen(json, "r");
	char buf[4096];
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	buf[len] = 0;
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "\"ph\":\"X\",\"pid\":5,\"tid\":4194310,\"ts\":1.000,\"dur\":120000.000"));
	ck_assert_ptr_nonnull(strstr(buf, "\"name\":\"loop 6\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"cname\":\"terrible\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"detail\":\"a → b \\\"q\\\"\""));
	profile_free(q);
	profile_free(p);
	unit_tmpdir_remove(tmpdir);
}
END_TEST

START_TEST(test_syscall_names)
{
	ck_assert_str_eq(syscall_name(SYS_read), "read");
	ck_assert_str_eq(syscall_name(SYS_epoll_wait), "epoll_wait");
	ck_assert_ptr_null(syscall_name(-1));
	ck_assert_ptr_null(syscall_name(100000));
	ck_assert(syscall_is_poll(SYS_ppoll));
	ck_assert(!syscall_is_poll(SYS_read));
	unsigned long none[2] = { 0, 0 }, some[2] = { 4, 2 };
	ck_assert(!syscall_waits_for_fds(SYS_select, none));
	ck_assert(syscall_waits_for_fds(SYS_select, some));
	ck_assert(!syscall_waits_for_fds(SYS_poll, none));
	ck_assert(syscall_waits_for_fds(SYS_epoll_wait, none));
}
END_TEST

/* no_ptrace without the tracepoints (here: --ptrace forced) is an error
 * naming the reason, and the target was never ptraced. */
START_TEST(test_no_ptrace_refuses_fallback)
{
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	target *t;
	lp_error err = { 0 };
	ck_assert_msg(target_attach(&t, child, &err) == LP_OK, "%s", err.msg);
	profile *p = profile_new();
	struct tracer_opts o = { .duration_s = 1, .threshold_ns = 50 * MS, .rate_hz = 100,
				 .force_ptrace = true, .no_ptrace = true };
	tracer *tr = NULL;
	ck_assert_int_eq(tracer_new(&tr, t, p, &o, &err), LP_EUNSUPPORTED);
	ck_assert_ptr_null(tr);
	ck_assert_str_eq(err.msg, "--ptrace was given");
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)child);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	int tracer_pid = -1;
	while (fgets(line, sizeof line, f))
		sscanf(line, "TracerPid: %d", &tracer_pid);
	fclose(f);
	ck_assert_int_eq(tracer_pid, 0);
	profile_free(p);
	target_free(t, false);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_ticks_and_stalls);
	tcase_add_test(tc, test_not_a_loop);
	tcase_add_test(tc, test_sleep_inside_a_tick);
	tcase_add_test(tc, test_restarts_and_missed_entries);
	tcase_add_test(tc, test_threads_apart);
	tcase_add_test(tc, test_hist_quantiles);
	tcase_add_test(tc, test_fold_paths);
	tcase_add_test(tc, test_fold_long_path_keeps_leaf_end);
	tcase_add_test(tc, test_fold_skips_unnamed_native);
	tcase_add_test(tc, test_spans_round_trip);
	tcase_add_test(tc, test_syscall_names);
	tcase_add_test(tc, test_no_ptrace_refuses_fallback);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
