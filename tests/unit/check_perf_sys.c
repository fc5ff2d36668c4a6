/* Unit tests of the tracer's kernel sources (tracer/tracefs.c,
 * tracer/perf_sys.c):
 * - tracefs's id and format files, parsed from copies written to a
 *   scratch directory (the kernel's text for syscalls:sys_enter_epoll_wait
 *   and raw_syscalls:sys_enter), and hostile ones: no crash, an error;
 * - the live tracepoints and perf_sys's events for a thread of this test
 *   that polls, and every call of it with detail on.  Those need root (or
 *   a permissive perf_event_paranoid) and tracefs: when the kernel or the
 *   privileges refuse, the check is skipped, saying why. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "perf_sys.h"
#include "tracefs.h"
#include "unit.h"

/* The kernel's own text (Linux 6.1, x86_64). */
static const char fmt_epoll_wait[] =
	"name: sys_enter_epoll_wait\n"
	"ID: 1069\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:int epfd;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:struct epoll_event * events;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:int maxevents;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:int timeout;\toffset:40;\tsize:8;\tsigned:0;\n"
	"\n"
	"print fmt: \"epfd: 0x%08lx, events: 0x%08lx\", ((unsigned long)(REC->epfd)), ((unsigned long)(REC->events))\n";

static const char fmt_raw_enter[] =
	"name: sys_enter\n"
	"ID: 443\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:long id;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;\n";

static void put(const char *dir, const char *rel, const char *text, size_t len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	/* every directory on the way */
	for (char *sl = strchr(path + strlen(dir) + 1, '/'); sl;
	     sl = strchr(sl + 1, '/')) {
		*sl = 0;
		mkdir(path, 0700);
		*sl = '/';
	}
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

START_TEST(test_tracefs_files)
{
	char dir[128];
	unit_tmpdir_make(dir, sizeof dir, "loupe-tracefs");
	put(dir, "syscalls/sys_enter_epoll_wait/id", "1069\n", 5);
	put(dir, "syscalls/sys_enter_epoll_wait/format", fmt_epoll_wait,
	    sizeof fmt_epoll_wait - 1);
	put(dir, "raw_syscalls/sys_enter/id", "443\n", 4);
	put(dir, "raw_syscalls/sys_enter/format", fmt_raw_enter,
	    sizeof fmt_raw_enter - 1);
	lp_error err = { 0 };
	int id = 0;
	ck_assert_int_eq(tracefs_event_id(dir, "syscalls", "sys_enter_epoll_wait",
					  &id, &err), LP_OK);
	ck_assert_int_eq(id, 1069);
	ck_assert_int_eq(tracefs_event_id(dir, "raw_syscalls", "sys_enter", &id,
					  &err), LP_OK);
	ck_assert_int_eq(id, 443);
	struct tracefs_field f;
	ck_assert_int_eq(tracefs_field(dir, "syscalls", "sys_enter_epoll_wait",
				       "__syscall_nr", &f, &err), LP_OK);
	ck_assert_int_eq(f.offset, 8);
	ck_assert_int_eq(f.size, 4);
	ck_assert_int_eq(tracefs_field(dir, "syscalls", "sys_enter_epoll_wait",
				       "epfd", &f, &err), LP_OK);
	ck_assert_int_eq(f.offset, 16);
	ck_assert_int_eq(f.size, 8);
	/* a pointer type: the name is the last word */
	ck_assert_int_eq(tracefs_field(dir, "syscalls", "sys_enter_epoll_wait",
				       "events", &f, &err), LP_OK);
	ck_assert_int_eq(f.offset, 24);
	/* an array: named without its [N] */
	ck_assert_int_eq(tracefs_field(dir, "raw_syscalls", "sys_enter", "args",
				       &f, &err), LP_OK);
	ck_assert_int_eq(f.offset, 16);
	ck_assert_int_eq(f.size, 48);
	/* a name that is only the end of another's is not it */
	ck_assert_int_eq(tracefs_field(dir, "raw_syscalls", "sys_enter", "d",
				       &f, &err), LP_ENOTFOUND);
	ck_assert_msg(strstr(err.msg, "has no field 'd'"), "%s", err.msg);
	ck_assert_int_eq(tracefs_event_id(dir, "syscalls", "sys_exit_nothing",
					  &id, &err), LP_ENOTFOUND);
	ck_assert_msg(strstr(err.msg, "syscalls:sys_exit_nothing"), "%s", err.msg);
	unit_tmpdir_remove(dir);
}
END_TEST

/* What a hostile or broken tracefs could hold: one error each, no crash. */
START_TEST(test_tracefs_hostile)
{
	char dir[128];
	unit_tmpdir_make(dir, sizeof dir, "loupe-tracefs");
	static const char *const bad_ids[] = {
		"", "x", "-4", "0", "99999999999999999999", "2000000",
	};
	for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
		put(dir, "s/e/id", bad_ids[i], strlen(bad_ids[i]));
		lp_error err = { 0 };
		int id = 0;
		ck_assert_int_eq(tracefs_event_id(dir, "s", "e", &id, &err),
				 LP_EFORMAT);
		ck_assert_msg(strstr(err.msg, "not a tracepoint id"), "%s", err.msg);
	}
	/* field lines without offset or size, a negative offset, a size 0,
	 * no ';', and a field that comes only after 64 kB of padding */
	static const char lines[] =
		"\tfield:int a;\tsize:4;\n"
		"\tfield:int b;\toffset:8;\n"
		"\tfield:int c;\toffset:-8;\tsize:4;\n"
		"\tfield:int d;\toffset:8;\tsize:0;\n"
		"\tfield:int e offset:8 size:4\n"
		"\tfield:;\toffset:8;\tsize:4;\n";
	size_t pad = 70000;
	char *big = malloc(sizeof lines + pad + 64);
	ck_assert_ptr_nonnull(big);
	memcpy(big, lines, sizeof lines - 1);
	memset(big + sizeof lines - 1, 'x', pad);
	size_t len = sizeof lines - 1 + pad;
	len += (size_t)sprintf(big + len, "\n\tfield:int z;\toffset:8;\tsize:4;\n");
	put(dir, "s/e/format", big, len);
	free(big);
	static const char *const names[] = { "a", "b", "c", "d", "e", "", "z" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		lp_error err = { 0 };
		struct tracefs_field f;
		ck_assert_msg(tracefs_field(dir, "s", "e", names[i], &f, &err) ==
			      LP_ENOTFOUND, "field '%s'", names[i]);
	}
	unit_tmpdir_remove(dir);
}
END_TEST

/* This kernel's tracefs, where it can be had. */
START_TEST(test_tracefs_live)
{
	char dir[256];
	lp_error err = { 0 };
	if (tracefs_find(dir, sizeof dir, &err) != LP_OK)
		unit_skip("%s", err.msg);
	int id = 0;
	ck_assert_msg(tracefs_event_id(dir, "raw_syscalls", "sys_enter", &id,
				       &err) == LP_OK, "%s", err.msg);
	ck_assert_int_gt(id, 0);
	struct tracefs_field f;
	ck_assert_msg(tracefs_field(dir, "raw_syscalls", "sys_enter", "id", &f,
				    &err) == LP_OK, "%s", err.msg);
	ck_assert_int_eq(f.size, 8);
	ck_assert_msg(tracefs_field(dir, "raw_syscalls", "sys_exit", "ret", &f,
				    &err) == LP_OK, "%s", err.msg);
}
END_TEST

/* ---- perf_sys on a thread of this test ---- */

struct poller {
	pthread_t th;
	atomic_int tid;
	atomic_bool stop;
	int ep;
};

static void *poll_loop(void *arg)
{
	struct poller *p = arg;
	atomic_store(&p->tid, (int)syscall(SYS_gettid));
	struct epoll_event ev;
	while (!atomic_load(&p->stop)) {
		epoll_wait(p->ep, &ev, 1, 1);
		getppid();
	}
	return NULL;
}

static void poller_start(struct poller *p)
{
	memset(p, 0, sizeof *p);
	p->ep = epoll_create1(0);
	ck_assert_int_ge(p->ep, 0);
	ck_assert_int_eq(pthread_create(&p->th, NULL, poll_loop, p), 0);
	while (!atomic_load(&p->tid))
		usleep(1000);
}

static void poller_stop(struct poller *p)
{
	atomic_store(&p->stop, true);
	pthread_join(p->th, NULL);
	close(p->ep);
}

struct seen {
	pid_t tid;
	long want_nr;
	size_t enter, exit, others, wanted;
	uint64_t last_ns;
	bool out_of_order;
};

static void on_event(void *ctx, const struct sys_event *e)
{
	struct seen *s = ctx;
	if (e->kind == SYS_LOST)
		return;
	if (e->time_ns < s->last_ns)
		s->out_of_order = true;
	s->last_ns = e->time_ns;
	if (e->tid != s->tid) {
		s->others++;
		return;
	}
	if (e->kind == SYS_ENTER)
		s->enter++;
	else
		s->exit++;
	if (e->nr == s->want_nr)
		s->wanted++;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Drains until want events of s->want_nr were seen, or 20 s passed (a
 * loaded box may give the poller little time). */
static void drain_until(perf_sys *ps, struct seen *s, size_t want)
{
	uint64_t end = mono_ms() + 20000;
	while (s->wanted < want && mono_ms() < end) {
		usleep(20000);
		perf_sys_drain(ps, false, on_event, s);
	}
	perf_sys_drain(ps, true, on_event, s);
}

/* perf_sys following a polling thread of this test (*p, started); NULL
 * with err set when the kernel or the privileges refuse. */
static perf_sys *trace_poller(struct poller *p, lp_error *err)
{
	perf_sys *ps = NULL;
	int rc = perf_sys_new(&ps, err);
	if (rc == LP_EPERM || rc == LP_ENOTFOUND || rc == LP_EUNSUPPORTED)
		return NULL;
	ck_assert_msg(rc == LP_OK, "%s", err->msg);
	poller_start(p);
	pid_t tid = atomic_load(&p->tid);
	ck_assert_int_eq(perf_sys_set_threads(ps, &tid, 1), LP_OK);
	return ps;
}

/* The poll calls of the target's threads only, in time order. */
START_TEST(test_perf_sys_polls)
{
	lp_error err = { 0 };
	struct poller p;
	perf_sys *ps = trace_poller(&p, &err);
	if (!ps)
		unit_skip("%s", err.msg);
	pid_t tid = atomic_load(&p.tid);
	struct seen s = { .tid = tid, .want_nr = SYS_epoll_wait };
	drain_until(ps, &s, 20);
	poller_stop(&p);
	perf_sys_free(ps);
	ck_assert_uint_ge(s.wanted, 20);
	ck_assert_uint_gt(s.enter, 0);
	ck_assert_uint_gt(s.exit, 0);
	ck_assert_uint_eq(s.others, 0);
	ck_assert(!s.out_of_order);
}
END_TEST

/* With detail on, every call of the thread (getppid too); off again, the
 * polls go on. */
START_TEST(test_perf_sys_detail)
{
	lp_error err = { 0 };
	struct poller p;
	perf_sys *ps = trace_poller(&p, &err);
	if (!ps)
		unit_skip("%s", err.msg);
	pid_t tid = atomic_load(&p.tid);
	int rc = perf_sys_detail(ps, tid, true);
	if (rc == LP_EPERM || rc == LP_EUNSUPPORTED) {
		poller_stop(&p);
		perf_sys_free(ps);
		unit_skip("every call of a thread: %s", lp_strerror(rc));
	}
	ck_assert_int_eq(rc, LP_OK);
	struct seen s = { .tid = tid, .want_nr = SYS_getppid };
	drain_until(ps, &s, 20);
	ck_assert_uint_ge(s.wanted, 20);
	ck_assert_int_eq(perf_sys_detail(ps, tid, false), LP_OK);
	struct seen polls = { .tid = tid, .want_nr = SYS_epoll_wait };
	drain_until(ps, &polls, 5);
	poller_stop(&p);
	perf_sys_free(ps);
	ck_assert_uint_ge(polls.wanted, 5);
	ck_assert_uint_eq(s.others + polls.others, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("perf_sys");
	TCase *tf = tcase_create("tracefs");
	tcase_add_test(tf, test_tracefs_files);
	tcase_add_test(tf, test_tracefs_hostile);
	tcase_add_test(tf, test_tracefs_live);
	suite_add_tcase(s, tf);
	TCase *tp = tcase_create("perf_sys");
	tcase_set_timeout(tp, 60);
	tcase_add_test(tp, test_perf_sys_polls);
	tcase_add_test(tp, test_perf_sys_detail);
	suite_add_tcase(s, tp);
	return unit_run(s);
}
