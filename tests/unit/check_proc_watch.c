/* proc_watch: a live tree of real processes (a root, children, a
 * grandchild) watched by netlink process events (as root) and by the /proc
 * scan.  Found with the right parents, parents first; an exec, an exit, a
 * fork after the start and the root's own end are reported; processes
 * outside the tree never are.  The processes say who they are through a
 * pipe, and the /proc scan is driven by a made-up clock so that "within one
 * scan period" is exact. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "proc_watch.h"
#include "unit.h"

/* The loop index of each test: the /proc scan by children files, by
 * every process's parent pid, and netlink. */
#define MODE_SCAN 0
#define MODE_PPIDS 1
#define MODE_NETLINK 2
#define SCANS(mode) ((mode) != MODE_NETLINK)

/* A record on the reply pipe: who (a letter) and its pid, written in one
 * write so that records of several processes do not mix. */
struct rec {
	int tag;
	pid_t pid;
};

struct tree {
	pid_t root, a, g, b, e;	/* root: a (-> g), b, e */
	int cmd, reply;		/* the root's command pipe, the reply pipe */
	pid_t out, out_child;	/* outside the tree */
	pid_t late_out, late_out_child;	/* outside, forked after the start */
};

static void say(int fd, int tag)
{
	struct rec r = { tag, getpid() };
	ssize_t w = write(fd, &r, sizeof r);
	(void)w;
}

/* Every process a test starts blocks reading the "life" pipe, whose only
 * write end the test holds: when the test ends, however it ends (a failed
 * assertion skips its cleanup), they read EOF and go. */
static int life[2] = { -1, -1 };
static int cmd_wr = -1;

/* First thing in every child: drop the test's ends of the pipes. */
static void in_child(void)
{
	close(life[1]);
	if (cmd_wr >= 0)
		close(cmd_wr);
}

static void sleep_forever(void)
{
	char c;
	while (read(life[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void exec_sleep(int sig)
{
	(void)sig;
	execl("/bin/sleep", "sleep", "10", (char *)NULL);
	_exit(127);
}

/* A thread that forks a child: the child's parent is the thread's process
 * (its tgid); the thread itself is no process, though the kernel names
 * the parent of its clone, as for any thread, its process's parent. */
static void *forking_thread(void *arg)
{
	int reply = *(int *)arg;
	struct rec r = { 't', (pid_t)syscall(SYS_gettid) };
	if (fork() == 0) {
		say(reply, 'h');
		sleep_forever();
	}
	ssize_t n = write(reply, &r, sizeof r);
	(void)n;
	sleep_forever();
	return NULL;
}

static void *blocked_thread(void *arg)
{
	(void)arg;
	sleep_forever();
	return NULL;
}

/* A process of 3 threads more; its main thread then leaves if asked. */
static void threaded_child(int reply, int tag, bool main_leaves)
{
	for (int i = 0; i < 3; i++) {
		pthread_t th;
		pthread_create(&th, NULL, blocked_thread, NULL);
	}
	say(reply, tag);
	if (main_leaves)
		pthread_exit(NULL);
	sleep_forever();
}

/* The root: a (with its child g), b, e (execs sleep on SIGUSR1), then on
 * each 'c' from the command pipe a child c with a child d, on 't' a child
 * x whose thread t forks a child h, on 'm' a child y of 4 threads whose
 * main thread leaves, on 'n' a child z of 4 threads. */
static void root_main(int cmd, int reply)
{
	setpgid(0, 0);
	if (fork() == 0) {
		if (fork() == 0) {
			say(reply, 'g');
			sleep_forever();
		}
		say(reply, 'a');
		sleep_forever();
	}
	if (fork() == 0) {
		say(reply, 'b');
		sleep_forever();
	}
	if (fork() == 0) {
		signal(SIGUSR1, exec_sleep);
		say(reply, 'e');
		sleep_forever();
	}
	say(reply, 'r');
	char c;
	while (read(cmd, &c, 1) == 1) {
		if (c == 't' && fork() == 0) {
			pthread_t th;
			say(reply, 'x');
			pthread_create(&th, NULL, forking_thread, &reply);
			sleep_forever();
		}
		if (c == 'm' && fork() == 0)
			threaded_child(reply, 'y', true);
		if (c == 'n' && fork() == 0)
			threaded_child(reply, 'z', false);
		if (c == 'c' && fork() == 0) {
			if (fork() == 0) {
				say(reply, 'd');
				sleep_forever();
			}
			say(reply, 'c');
			sleep_forever();
		}
	}
	sleep_forever();
}

/* Reads n records in any order into pids[tag - 'a']. */
static void read_recs(struct tree *t, int n, pid_t pids[26])
{
	for (int i = 0; i < n; i++) {
		struct rec r;
		ck_assert_int_eq(read(t->reply, &r, sizeof r), (ssize_t)sizeof r);
		ck_assert(r.tag >= 'a' && r.tag <= 'z');
		pids[r.tag - 'a'] = r.pid;
	}
}

/* An outsider: a child of the test, itself with a child. */
static pid_t fork_outsider(pid_t *child)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		in_child();
		setpgid(0, 0);
		if (fork() == 0) {
			say(p[1], 'q');
			sleep_forever();
		}
		say(p[1], 'p');
		sleep_forever();
	}
	struct rec r[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(read(p[0], &r[i], sizeof r[i]),
				 (ssize_t)sizeof r[i]);
	close(p[0]);
	close(p[1]);
	*child = r[0].tag == 'q' ? r[0].pid : r[1].pid;
	ck_assert_int_eq(r[0].tag == 'p' ? r[0].pid : r[1].pid, pid);
	return pid;
}

static void tree_start(struct tree *t)
{
	memset(t, 0, sizeof *t);
	int cmd[2], reply[2];
	ck_assert_int_eq(pipe(life), 0);
	ck_assert_int_eq(pipe(cmd), 0);
	ck_assert_int_eq(pipe(reply), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		in_child();
		close(cmd[1]);
		close(reply[0]);
		root_main(cmd[0], reply[1]);
	}
	cmd_wr = cmd[1];
	close(cmd[0]);
	close(reply[1]);
	t->root = pid;
	t->cmd = cmd[1];
	t->reply = reply[0];
	pid_t pids[26] = { 0 };
	read_recs(t, 5, pids);
	t->a = pids['a' - 'a'];
	t->g = pids['g' - 'a'];
	t->b = pids['b' - 'a'];
	t->e = pids['e' - 'a'];
	ck_assert_int_eq(pids['r' - 'a'], t->root);
	ck_assert(t->a && t->g && t->b && t->e);
	t->out = fork_outsider(&t->out_child);
}

static void tree_stop(struct tree *t)
{
	/* Every process of the tree is in the root's process group. */
	kill(-t->root, SIGKILL);
	kill(t->root, SIGKILL);
	waitpid(t->root, NULL, 0);
	if (t->out) {
		kill(-t->out, SIGKILL);
		waitpid(t->out, NULL, 0);
	}
	if (t->late_out) {
		kill(-t->late_out, SIGKILL);
		waitpid(t->late_out, NULL, 0);
	}
	close(t->cmd);
	close(t->reply);
	close(life[0]);
	close(life[1]);
	cmd_wr = -1;
}

/* --- events seen ---------------------------------------------------- */

#define MAX_EVENTS 256
struct seen {
	struct proc_event ev[MAX_EVENTS];
	size_t n;
};

static void collect(void *ctx, const struct proc_event *ev)
{
	struct seen *s = ctx;
	ck_assert_uint_lt(s->n, MAX_EVENTS);
	s->ev[s->n++] = *ev;
}

/* Index of the first event kind for pid, or -1. */
static int find(const struct seen *s, enum proc_event_kind kind, pid_t pid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ev[i].kind == kind && s->ev[i].pid == pid)
			return (int)i;
	return -1;
}

static int count_kind(const struct seen *s, enum proc_event_kind kind,
		      pid_t pid)
{
	int n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += s->ev[i].kind == kind && s->ev[i].pid == pid;
	return n;
}

static bool is_member(const proc_watch *w, pid_t pid)
{
	for (size_t i = 0; i < proc_watch_count(w); i++)
		if (proc_watch_pid_at(w, i) == pid)
			return true;
	return false;
}

/* No event names an outsider; each NEW comes after its parent's NEW
 * unless the parent is the root. */
static void check_events(const struct tree *t, const struct seen *s)
{
	for (size_t i = 0; i < s->n; i++) {
		pid_t p = s->ev[i].pid;
		ck_assert_msg(p != t->out && p != t->out_child &&
				      p != t->late_out &&
				      p != t->late_out_child && p != getpid(),
			      "an outsider (%d) was reported", (int)p);
		if (s->ev[i].kind == PROC_EV_NEW && s->ev[i].ppid != t->root) {
			int parent = find(s, PROC_EV_NEW, s->ev[i].ppid);
			ck_assert_msg(parent >= 0 && (size_t)parent < i,
				      "%d reported before its parent %d",
				      (int)p, (int)s->ev[i].ppid);
		}
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The watch in a mode; NULL (and a printed reason) when netlink cannot be
 * had here. */
static proc_watch *watch_new(pid_t root, int mode)
{
	proc_watch *w = NULL;
	lp_error err = { 0 };
	ck_assert_int_eq(proc_watch_new(&w, root, mode == MODE_NETLINK, &err),
			 LP_OK);
	if (mode == MODE_NETLINK &&
	    strcmp(proc_watch_method(w), "netlink process events") != 0) {
		unit_skip_say(tcase_name(), "netlink mode: the kernel gave "
			      "no process events here (%s; older kernels "
			      "need CAP_NET_ADMIN; none in a pid or user "
			      "namespace of a container)",
			      geteuid() ? "not root" : "root");
		proc_watch_free(w);
		return NULL;
	}
	if (SCANS(mode))
		ck_assert_str_eq(proc_watch_method(w), "/proc scan");
	if (mode == MODE_PPIDS)
		proc_watch_no_children_files(w);
	if (mode == MODE_SCAN && access("/proc/thread-self/children", F_OK))
		printf("check_proc_watch: no /proc/PID/task/TID/children here: "
		       "the children-file scan runs as the ppid scan\n");
	return w;
}

/* A clock for the scan: each call is one scan period later. */
struct clock {
	uint64_t now;
};

static uint64_t next_period(struct clock *c)
{
	c->now += PROC_WATCH_SCAN_NS;
	return c->now;
}

/* Polls until fn's condition holds or 2 s pass (a process that runs, exec
 * or dies on its own time): netlink on the real clock, the scan with one
 * period per try.  false on timeout. */
static bool poll_until(proc_watch *w, int mode, struct clock *c,
		       struct seen *s, enum proc_event_kind kind, pid_t pid)
{
	uint64_t end = mono_ns() + 2000000000ull;
	while (mono_ns() < end) {
		uint64_t now = SCANS(mode) ? next_period(c) : mono_ns();
		ck_assert_int_eq(proc_watch_poll(w, now, collect, s), LP_OK);
		if (find(s, kind, pid) >= 0)
			return true;
		usleep(2000);
	}
	return false;
}

/* --- tests ---------------------------------------------------------- */

START_TEST(finds_the_tree)
{
	struct tree t;
	tree_start(&t);
	proc_watch *w = watch_new(t.root, _i);
	if (!w) {
		tree_stop(&t);
		return;
	}
	struct seen s = { .n = 0 };
	struct clock c = { mono_ns() };
	ck_assert_int_eq(proc_watch_poll(w, c.now, collect, &s), LP_OK);
	/* Everything there before the first poll is reported by it. */
	ck_assert_int_eq(count_kind(&s, PROC_EV_NEW, t.a), 1);
	ck_assert_int_eq(count_kind(&s, PROC_EV_NEW, t.b), 1);
	ck_assert_int_eq(count_kind(&s, PROC_EV_NEW, t.e), 1);
	ck_assert_int_eq(count_kind(&s, PROC_EV_NEW, t.g), 1);
	ck_assert_int_eq(find(&s, PROC_EV_NEW, t.root), -1);
	ck_assert_int_eq(s.ev[find(&s, PROC_EV_NEW, t.a)].ppid, t.root);
	ck_assert_int_eq(s.ev[find(&s, PROC_EV_NEW, t.b)].ppid, t.root);
	ck_assert_int_eq(s.ev[find(&s, PROC_EV_NEW, t.g)].ppid, t.a);
	ck_assert_uint_eq(s.n, 4);
	check_events(&t, &s);
	ck_assert_uint_eq(proc_watch_count(w), 5);
	ck_assert_int_eq(proc_watch_pid_at(w, 0), t.root);
	ck_assert(is_member(w, t.g) && !is_member(w, t.out));
	ck_assert_uint_eq(proc_watch_dropped(w), 0);

	/* Nothing changes: nothing reported, in either mode. */
	s.n = 0;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(proc_watch_poll(w, next_period(&c), collect, &s),
				 LP_OK);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(proc_watch_count(w), 5);
	proc_watch_free(w);
	tree_stop(&t);
}
END_TEST

START_TEST(finds_later_forks)
{
	struct tree t;
	tree_start(&t);
	proc_watch *w = watch_new(t.root, _i);
	if (!w) {
		tree_stop(&t);
		return;
	}
	struct seen s = { .n = 0 };
	struct clock c = { mono_ns() };
	ck_assert_int_eq(proc_watch_poll(w, c.now, collect, &s), LP_OK);
	s.n = 0;

	/* A child and a grandchild of the root, and an outsider with its
	 * child, all started after the watch. */
	t.late_out = fork_outsider(&t.late_out_child);
	ck_assert_int_eq(write(t.cmd, "c", 1), 1);
	pid_t pids[26] = { 0 };
	read_recs(&t, 2, pids);
	pid_t pc = pids['c' - 'a'], pd = pids['d' - 'a'];
	ck_assert(pc && pd);
	if (SCANS(_i)) {
		/* Not before the scan is due, then at once. */
		ck_assert_int_eq(proc_watch_poll(w, c.now + PROC_WATCH_SCAN_NS - 1,
						 collect, &s), LP_OK);
		ck_assert_uint_eq(s.n, 0);
	}
	/* Both forks happened before this poll: it reports them. */
	ck_assert_int_eq(proc_watch_poll(w, next_period(&c), collect, &s), LP_OK);
	ck_assert_int_eq(count_kind(&s, PROC_EV_NEW, pc), 1);
	ck_assert_int_eq(count_kind(&s, PROC_EV_NEW, pd), 1);
	ck_assert_int_eq(s.ev[find(&s, PROC_EV_NEW, pc)].ppid, t.root);
	ck_assert_int_eq(s.ev[find(&s, PROC_EV_NEW, pd)].ppid, pc);
	ck_assert_uint_eq(s.n, 2);
	check_events(&t, &s);
	ck_assert_uint_eq(proc_watch_count(w), 7);
	ck_assert(is_member(w, pd));
	proc_watch_free(w);
	tree_stop(&t);
}
END_TEST

START_TEST(threads_are_not_processes)
{
	struct tree t;
	tree_start(&t);
	proc_watch *w = watch_new(t.root, _i);
	if (!w) {
		tree_stop(&t);
		return;
	}
	struct seen s = { .n = 0 };
	struct clock c = { mono_ns() };
	ck_assert_int_eq(proc_watch_poll(w, c.now, collect, &s), LP_OK);
	s.n = 0;
	ck_assert_int_eq(write(t.cmd, "t", 1), 1);
	pid_t pids[26] = { 0 };
	read_recs(&t, 3, pids);
	pid_t px = pids['x' - 'a'], tid = pids['t' - 'a'], ph = pids['h' - 'a'];
	ck_assert(px && tid && ph && tid != px);
	ck_assert_int_eq(proc_watch_poll(w, next_period(&c), collect, &s), LP_OK);
	/* The thread's child is x's; the thread is nobody. */
	ck_assert_int_eq(count_kind(&s, PROC_EV_NEW, px), 1);
	ck_assert_int_eq(count_kind(&s, PROC_EV_NEW, ph), 1);
	ck_assert_int_eq(s.ev[find(&s, PROC_EV_NEW, ph)].ppid, px);
	ck_assert_uint_eq(s.n, 2);
	ck_assert(!is_member(w, tid));
	ck_assert_uint_eq(proc_watch_count(w), 7);
	check_events(&t, &s);
	proc_watch_free(w);
	tree_stop(&t);
}
END_TEST

START_TEST(reports_exec)
{
	struct tree t;
	tree_start(&t);
	proc_watch *w = watch_new(t.root, _i);
	if (!w) {
		tree_stop(&t);
		return;
	}
	struct seen s = { .n = 0 };
	struct clock c = { mono_ns() };
	ck_assert_int_eq(proc_watch_poll(w, c.now, collect, &s), LP_OK);
	s.n = 0;
	ck_assert_int_eq(kill(t.e, SIGUSR1), 0);
	ck_assert_msg(poll_until(w, _i, &c, &s, PROC_EV_EXEC, t.e),
		      "the exec of %d into /bin/sleep was not reported",
		      (int)t.e);
	/* Once, and it is the same member. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(proc_watch_poll(w, next_period(&c), collect, &s),
				 LP_OK);
	ck_assert_int_eq(count_kind(&s, PROC_EV_EXEC, t.e), 1);
	ck_assert_int_eq(find(&s, PROC_EV_EXIT, t.e), -1);
	ck_assert(is_member(w, t.e));
	char exe[256] = "";
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/exe", (int)t.e);
	ck_assert_int_gt(readlink(path, exe, sizeof exe - 1), 0);
	ck_assert_ptr_nonnull(strstr(exe, "sleep"));
	check_events(&t, &s);
	proc_watch_free(w);
	tree_stop(&t);
}
END_TEST

START_TEST(reports_exit)
{
	struct tree t;
	tree_start(&t);
	proc_watch *w = watch_new(t.root, _i);
	if (!w) {
		tree_stop(&t);
		return;
	}
	struct seen s = { .n = 0 };
	struct clock c = { mono_ns() };
	ck_assert_int_eq(proc_watch_poll(w, c.now, collect, &s), LP_OK);
	s.n = 0;
	/* b dies and stays a zombie (the root never waits). */
	ck_assert_int_eq(kill(t.b, SIGKILL), 0);
	ck_assert_msg(poll_until(w, _i, &c, &s, PROC_EV_EXIT, t.b),
		      "the exit of %d was not reported", (int)t.b);
	ck_assert_int_eq(s.ev[find(&s, PROC_EV_EXIT, t.b)].ppid, t.root);
	ck_assert_uint_eq(s.n, 1);
	ck_assert(!is_member(w, t.b));
	ck_assert_uint_eq(proc_watch_count(w), 4);
	ck_assert_int_eq(proc_watch_pid_at(w, 0), t.root);
	check_events(&t, &s);
	proc_watch_free(w);
	tree_stop(&t);
}
END_TEST

static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

/* A process whose main thread left (pthread_exit) still runs: no exit
 * until its last thread goes.  One of 4 threads killed whole: one exit. */
START_TEST(threaded_exits)
{
	struct tree t;
	tree_start(&t);
	proc_watch *w = watch_new(t.root, _i);
	if (!w) {
		tree_stop(&t);
		return;
	}
	struct seen s = { .n = 0 };
	struct clock c = { mono_ns() };
	ck_assert_int_eq(proc_watch_poll(w, c.now, collect, &s), LP_OK);
	ck_assert_int_eq(write(t.cmd, "mn", 2), 2);
	pid_t pids[26] = { 0 };
	read_recs(&t, 2, pids);
	pid_t py = pids['y' - 'a'], pz = pids['z' - 'a'];
	ck_assert(py && pz);
	/* y's main thread is a zombie once it has left. */
	uint64_t end = mono_ns() + 2000000000ull;
	while (proc_state(py) != 'Z' && mono_ns() < end)
		usleep(1000);
	ck_assert_int_eq(proc_state(py), 'Z');
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(proc_watch_poll(w, next_period(&c), collect, &s),
				 LP_OK);
		usleep(2000);
	}
	ck_assert_int_eq(count_kind(&s, PROC_EV_NEW, py), 1);
	ck_assert_int_eq(count_kind(&s, PROC_EV_NEW, pz), 1);
	ck_assert_int_eq(find(&s, PROC_EV_EXIT, py), -1);
	ck_assert(is_member(w, py));

	/* Every thread killed at once: each leaves on its own. */
	ck_assert_int_eq(kill(pz, SIGKILL), 0);
	ck_assert_msg(poll_until(w, _i, &c, &s, PROC_EV_EXIT, pz),
		      "the exit of %d (4 threads) was not reported", (int)pz);
	ck_assert_int_eq(kill(py, SIGKILL), 0);
	ck_assert_msg(poll_until(w, _i, &c, &s, PROC_EV_EXIT, py),
		      "the exit of %d (main thread gone first) was not reported",
		      (int)py);
	ck_assert_int_eq(count_kind(&s, PROC_EV_EXIT, pz), 1);
	ck_assert_int_eq(count_kind(&s, PROC_EV_EXIT, py), 1);
	ck_assert(!is_member(w, py) && !is_member(w, pz));
	ck_assert_uint_eq(proc_watch_count(w), 5);
	check_events(&t, &s);
	proc_watch_free(w);
	tree_stop(&t);
}
END_TEST

START_TEST(reports_root_gone)
{
	struct tree t;
	tree_start(&t);
	proc_watch *w = watch_new(t.root, _i);
	if (!w) {
		tree_stop(&t);
		return;
	}
	struct seen s = { .n = 0 };
	struct clock c = { mono_ns() };
	ck_assert_int_eq(proc_watch_poll(w, c.now, collect, &s), LP_OK);
	s.n = 0;
	/* The root dies and is reaped; its children, reparented, stay. */
	ck_assert_int_eq(kill(t.root, SIGKILL), 0);
	ck_assert_int_eq(waitpid(t.root, NULL, 0), t.root);
	ck_assert_msg(poll_until(w, _i, &c, &s, PROC_EV_EXIT, t.root),
		      "the exit of the root %d was not reported", (int)t.root);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(proc_watch_poll(w, next_period(&c), collect, &s),
				 LP_OK);
	ck_assert_uint_eq(s.n, 1);
	ck_assert(!is_member(w, t.root));
	ck_assert(is_member(w, t.a) && is_member(w, t.g) && is_member(w, t.b));
	ck_assert_uint_eq(proc_watch_count(w), 4);
	check_events(&t, &s);
	proc_watch_free(w);
	tree_stop(&t);
}
END_TEST

START_TEST(refuses_a_missing_root)
{
	/* A child that was reaped: its pid is free. */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	proc_watch *w = (proc_watch *)1;
	lp_error err = { 0 };
	ck_assert_int_eq(proc_watch_new(&w, pid, false, &err), LP_ENOPROC);
	ck_assert_ptr_null(w);
	ck_assert_ptr_nonnull(strstr(err.msg, "no such process"));
}
END_TEST

static Suite *proc_watch_suite(void)
{
	Suite *s = suite_create("proc_watch");
	TCase *tc = tcase_create("tree");
	tcase_set_timeout(tc, 10);
	/* Loop index: MODE_SCAN, MODE_PPIDS, MODE_NETLINK. */
	tcase_add_loop_test(tc, finds_the_tree, MODE_SCAN, MODE_NETLINK + 1);
	tcase_add_loop_test(tc, finds_later_forks, MODE_SCAN, MODE_NETLINK + 1);
	tcase_add_loop_test(tc, threads_are_not_processes, MODE_SCAN,
			    MODE_NETLINK + 1);
	tcase_add_loop_test(tc, reports_exec, MODE_SCAN, MODE_NETLINK + 1);
	tcase_add_loop_test(tc, reports_exit, MODE_SCAN, MODE_NETLINK + 1);
	tcase_add_loop_test(tc, reports_root_gone, MODE_SCAN, MODE_NETLINK + 1);
	tcase_add_loop_test(tc, threaded_exits, MODE_SCAN, MODE_NETLINK + 1);
	tcase_add_test(tc, refuses_a_missing_root);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(proc_watch_suite());
}
