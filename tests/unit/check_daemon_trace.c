/* The daemon's traces object (ui/daemon/daemon_trace.h) on its own: start,
 * the fd to poll, reap, stop all, with a fake trace in the worker threads
 * (no live target) and callbacks that record what the daemon would be
 * told.  Last, the daemon's real trace on a PID that is gone. */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "daemon_trace.h"
#include "unit.h"

#define MAX_EVENTS 32

/* What the callbacks saw, and what the fake trace is told. */
static struct {
	atomic_int release;	/* fake traces end */
	atomic_int runs, cleanups;
	bool null_text;		/* fake traces return no text */
	size_t ncomplete;
	uint64_t tickets[MAX_EVENTS];
	uint32_t status[MAX_EVENTS];
	char text[MAX_EVENTS][128];
	bool client_there;	/* complete's answer */
	bool waiting;		/* waiting's answer */
	size_t nlog;
	char log[MAX_EVENTS][256];
} ev;

static void reset(void)
{
	memset(&ev, 0, sizeof ev);
	ev.client_there = true;
	ev.waiting = true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t fake_run(const struct daemon_trace_req *rq,
			 volatile sig_atomic_t *stop, char **text, void **cleanup_arg)
{
	atomic_fetch_add(&ev.runs, 1);
	/* a trace ends at its duration or when stopped: here when the
	 * test releases it or the object stops it (bounded) */
	uint64_t end = now_ms() + 20000;
	while (!*stop && !atomic_load(&ev.release) && now_ms() < end)
		usleep(1000);
	*cleanup_arg = (void *)(intptr_t)rq->pid;
	if (ev.null_text)
		*text = NULL;
	else if (asprintf(text, "%s PID %d", *stop ? "stopped" : "traced", (int)rq->pid) < 0)
		*text = NULL;
	return *stop ? 1 : 0;
}

static void fake_cleanup(void *arg)
{
	ck_assert_int_ne((int)(intptr_t)arg, 0);
	atomic_fetch_add(&ev.cleanups, 1);
}

static void on_log(void *ctx, int level, const char *msg)
{
	ck_assert_ptr_eq(ctx, &ev);
	ck_assert_int_eq(level, DAEMON_LOG_INFO);
	ck_assert_uint_lt(ev.nlog, MAX_EVENTS);
	snprintf(ev.log[ev.nlog++], sizeof ev.log[0], "%s", msg);
}

static bool on_complete(void *ctx, uint64_t ticket, uint32_t status, const char *text)
{
	ck_assert_ptr_eq(ctx, &ev);
	ck_assert_uint_lt(ev.ncomplete, MAX_EVENTS);
	ev.tickets[ev.ncomplete] = ticket;
	ev.status[ev.ncomplete] = status;
	snprintf(ev.text[ev.ncomplete++], sizeof ev.text[0], "%s", text);
	return ev.client_there;
}

static bool on_waiting(void *ctx, uint64_t ticket)
{
	ck_assert_ptr_eq(ctx, &ev);
	(void)ticket;
	return ev.waiting;
}

static daemon_traces *fake_traces(void)
{
	reset();
	struct daemon_traces_ops ops = {
		.ctx = &ev, .run = fake_run, .cleanup = fake_cleanup,
		.log = on_log, .complete = on_complete, .waiting = on_waiting,
	};
	daemon_traces *tc = NULL;
	lp_error err = { 0 };
	ck_assert_int_eq(daemon_traces_new(&tc, &ops, &err), LP_OK);
	ck_assert_ptr_nonnull(tc);
	ck_assert_int_ge(daemon_traces_fd(tc), 0);
	return tc;
}

static struct daemon_trace_req req(pid_t pid, uint64_t ticket)
{
	return (struct daemon_trace_req){ .ticket = ticket, .pid = pid, .start_time = 7,
					  .uid = 1000, .duration_s = 1, .threshold_ms = 50 };
}

/* Polls the object's fd and reaps until n answers came (bounded). */
static void reap_until(daemon_traces *tc, size_t n)
{
	uint64_t end = now_ms() + 20000;
	while (ev.ncomplete < n && now_ms() < end) {
		struct pollfd p = { .fd = daemon_traces_fd(tc), .events = POLLIN };
		poll(&p, 1, 100);
		daemon_traces_reap(tc);
	}
	ck_assert_uint_eq(ev.ncomplete, n);
}

START_TEST(test_empty)
{
	daemon_traces *tc = fake_traces();
	ck_assert_uint_eq(daemon_traces_running(tc), 0);
	daemon_traces_reap(tc);	/* nothing to do */
	daemon_traces_free(tc);
	daemon_traces_free(NULL);
	ck_assert_uint_eq(ev.ncomplete, 0);
	ck_assert_uint_eq(ev.nlog, 0);
	ck_assert_int_eq(atomic_load(&ev.runs), 0);
}
END_TEST

START_TEST(test_refuses_itself)
{
	daemon_traces *tc = fake_traces();
	struct daemon_trace_req r = req(getpid(), 1);
	lp_error err = { 0 };
	ck_assert_int_ne(daemon_traces_start(tc, &r, &err), LP_OK);
	char want[128];
	snprintf(want, sizeof want, "PID %d is this daemon: it does not trace itself", (int)getpid());
	ck_assert_str_eq(err.msg, want);
	ck_assert_uint_eq(daemon_traces_running(tc), 0);
	daemon_traces_free(tc);
	ck_assert_int_eq(atomic_load(&ev.runs), 0);
}
END_TEST

/* Two at once, the same PID once, answered when they end, then joined
 * and their resources freed after the answer. */
START_TEST(test_start_limits_answer_reap)
{
	daemon_traces *tc = fake_traces();
	lp_error err = { 0 };
	struct daemon_trace_req a = req(900001, 11), b = req(900002, 12), c = req(900003, 13);
	ck_assert_int_eq(daemon_traces_start(tc, &a, &err), LP_OK);
	ck_assert_str_eq(ev.log[0], "tracing PID 900001 for 1 s (threshold 50 ms) for user 1000");
	ck_assert_int_ne(daemon_traces_start(tc, &a, &err), LP_OK);
	ck_assert_str_eq(err.msg, "PID 900001 is being traced already: try again in 1 s");
	ck_assert_int_eq(daemon_traces_start(tc, &b, &err), LP_OK);
	ck_assert_uint_eq(daemon_traces_running(tc), 2);
	ck_assert_int_ne(daemon_traces_start(tc, &c, &err), LP_OK);
	ck_assert_str_eq(err.msg, "busy: the daemon runs 2 traces already; try again when one ends, "
			 "or run loupe trace -p 900003 yourself");
	ck_assert_uint_eq(ev.ncomplete, 0);	/* deferred: nothing yet */
	atomic_store(&ev.release, 1);
	reap_until(tc, 2);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_eq(ev.status[i], 0);
		bool first = ev.tickets[i] == 11;
		ck_assert(first || ev.tickets[i] == 12);
		ck_assert_str_eq(ev.text[i], first ? "traced PID 900001" : "traced PID 900002");
	}
	ck_assert_uint_eq(daemon_traces_running(tc), 0);
	/* a slot is free again at once (answered traces do not count) */
	ck_assert_int_eq(daemon_traces_start(tc, &c, &err), LP_OK);
	reap_until(tc, 3);
	ck_assert_str_eq(ev.log[ev.nlog - 1], "trace of PID 900003 for user 1000 ended (status 0)");
	daemon_traces_free(tc);
	ck_assert_int_eq(atomic_load(&ev.runs), 3);
	ck_assert_int_eq(atomic_load(&ev.cleanups), 3);
	ck_assert_uint_eq(ev.ncomplete, 3);	/* never answered twice */
}
END_TEST

/* A client that left: its trace is stopped, its answer dropped. */
START_TEST(test_client_left)
{
	daemon_traces *tc = fake_traces();
	lp_error err = { 0 };
	struct daemon_trace_req a = req(900004, 21);
	ck_assert_int_eq(daemon_traces_start(tc, &a, &err), LP_OK);
	ev.waiting = false;
	ev.client_there = false;
	daemon_traces_reap(tc);
	ck_assert_str_eq(ev.log[1], "trace of PID 900004: its client left, stopping it");
	reap_until(tc, 1);
	ck_assert_int_eq(ev.status[0], 1);
	ck_assert_str_eq(ev.text[0], "stopped PID 900004");
	ck_assert_str_eq(ev.log[2], "trace of PID 900004 ended; its client left, the result is dropped");
	daemon_traces_free(tc);
	ck_assert_int_eq(atomic_load(&ev.cleanups), 1);
}
END_TEST

/* The daemon stops: every trace is stopped and answered before free
 * returns. */
START_TEST(test_free_stops_and_answers)
{
	daemon_traces *tc = fake_traces();
	lp_error err = { 0 };
	struct daemon_trace_req a = req(900005, 31), b = req(900006, 32);
	ck_assert_int_eq(daemon_traces_start(tc, &a, &err), LP_OK);
	ck_assert_int_eq(daemon_traces_start(tc, &b, &err), LP_OK);
	daemon_traces_free(tc);
	ck_assert_uint_eq(ev.ncomplete, 2);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_eq(ev.status[i], 1);
		ck_assert(strncmp(ev.text[i], "stopped PID 90000", 17) == 0);
	}
	ck_assert_int_eq(atomic_load(&ev.cleanups), 2);
}
END_TEST

/* A trace without text (out of memory) is still answered. */
START_TEST(test_no_text)
{
	daemon_traces *tc = fake_traces();
	ev.null_text = true;
	atomic_store(&ev.release, 1);
	lp_error err = { 0 };
	struct daemon_trace_req a = req(900007, 41);
	ck_assert_int_eq(daemon_traces_start(tc, &a, &err), LP_OK);
	reap_until(tc, 1);
	ck_assert_int_eq(ev.status[0], 1);
	ck_assert_str_eq(ev.text[0], "out of memory");
	daemon_traces_free(tc);
}
END_TEST

/* The daemon's own trace, on a PID that is gone: one line, status 1. */
START_TEST(test_real_trace_gone_pid)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	struct daemon_trace_req r = req(pid, 51);
	volatile sig_atomic_t stop = 0;
	char *text = NULL;
	void *arg = NULL;
	uint32_t st = daemon_trace_run(&r, &stop, &text, &arg);
	ck_assert_int_eq(st, 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strchr(text, '\n'));
	ck_assert_uint_gt(strlen(text), 0);
	daemon_trace_cleanup(arg);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_trace");
	TCase *tc = tcase_create("traces");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_refuses_itself);
	tcase_add_test(tc, test_start_limits_answer_reap);
	tcase_add_test(tc, test_client_left);
	tcase_add_test(tc, test_free_stops_and_answers);
	tcase_add_test(tc, test_no_text);
	tcase_add_test(tc, test_real_trace_gone_pid);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
