/* Matching processes to [target] sections: the pure matchers, then a scan
 * of the real /proc that must find a child started for the test, by each
 * kind of matcher, and never loupe itself nor a kernel thread. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_match.h"
#include "unit.h"

START_TEST(test_pure)
{
	ck_assert(daemon_match_exe("python3*", "/usr/bin/python3.11"));
	ck_assert(!daemon_match_exe("python3*", "/usr/bin/python2.7"));
	ck_assert(daemon_match_exe("/root/.pyenv/*/python3.1?", "/root/.pyenv/versions/3.12.1/bin/python3.12"));
	ck_assert(!daemon_match_exe("bin/python3", "/usr/bin/python3"));
	ck_assert(daemon_match_cmdline("uvicorn", "python3 -m uvicorn app:app"));
	ck_assert(!daemon_match_cmdline("gunicorn", "python3 -m uvicorn app:app"));
	ck_assert(daemon_match_cmdline("*-m uvicorn *", "python3 -m uvicorn app:app"));
	ck_assert(!daemon_match_cmdline("-m uvicorn *", "python3 -m uvicorn app:app"));
	static const char v1[] = "4:memory:/system.slice/app.service\n0::/\n";
	static const char v2[] = "0::/system.slice/app.service/worker\n";
	ck_assert(daemon_match_cgroup("/system.slice/app.service", v1));
	ck_assert(daemon_match_cgroup("/system.slice/app.service", v2));
	ck_assert(!daemon_match_cgroup("/system.slice/app", v2));	/* a prefix is not a parent */
	ck_assert(!daemon_match_cgroup("/system.slice/other.service", v1));
	ck_assert(daemon_match_cgroup("/", v2));
	ck_assert(!daemon_match_cgroup("/x", "garbage without colons"));
	ck_assert(!daemon_match_cgroup("/x", ""));
}
END_TEST

/* A kernel thread's PID (PF_KTHREAD in stat's flags), 0 when none is
 * visible (a PID namespace). */
static pid_t kernel_thread(void)
{
	for (pid_t pid = 2; pid < 200; pid++) {
		char path[64], buf[1024];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		char *p = strrchr(buf, ')');
		unsigned long flags = 0;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
		    (flags & 0x00200000))
			return pid;
	}
	return 0;
}

static pid_t child;
static char arg[64];

static void start_child(void)
{
	/* an argument no other process has: this test's own sleep */
	snprintf(arg, sizeof arg, "%d.%ld", 3000 + getpid() % 1000, (long)time(NULL) % 100000);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		execlp("sleep", "sleep", arg, (char *)NULL);
		_exit(127);
	}
	/* wait until it is sleep (exec done), by its cmdline */
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)child);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = 0;
		if (n && strcmp(buf, "sleep") == 0)
			return;
		usleep(10000);
	}
	ck_abort_msg("the child never ran sleep");
}

static void stop_child(void)
{
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* The PIDs found for one target section. */
static size_t scan(struct daemon_target_cfg *t, struct daemon_match **m)
{
	size_t n;
	lp_error err = { 0 };
	ck_assert_msg(daemon_match_scan(t, 1, m, &n, &err) == LP_OK, "%s", err.msg);
	return n;
}

static int found(const struct daemon_match *m, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].pid == pid)
			return 1;
	return 0;
}

/* python =, unit = and the service names (issue #23): names from hostile
 * cgroup text are bounded and plain. */
START_TEST(test_hostwide)
{
	ck_assert(daemon_match_python("/usr/bin/python3.11"));
	ck_assert(daemon_match_python("/root/.pyenv/versions/3.13.1/bin/python3.13"));
	ck_assert(daemon_match_python("python3.13t"));
	ck_assert(daemon_match_python("/usr/bin/python"));
	ck_assert(!daemon_match_python("/usr/bin/python3-config"));
	ck_assert(!daemon_match_python("/usr/bin/pythonista"));
	ck_assert(!daemon_match_python("/usr/bin/bash"));
	char b[65];
	ck_assert(daemon_cgroup_name("0::/system.slice/web.service\n", true, b, sizeof b));
	ck_assert_str_eq(b, "web.service");
	/* a service's own sub-cgroup is below its unit */
	ck_assert(daemon_cgroup_name("0::/system.slice/web.service/worker\n", true, b, sizeof b));
	ck_assert_str_eq(b, "web.service");
	ck_assert(daemon_cgroup_name("0::/system.slice/web.service/worker\n", false, b, sizeof b));
	ck_assert_str_eq(b, "worker");
	/* hybrid: the unified hierarchy at its root, units in name=systemd */
	ck_assert(daemon_cgroup_name("1:cpu:/\n9:name=systemd:/a.slice/b.service\n0::/\n", true, b, sizeof b));
	ck_assert_str_eq(b, "b.service");
	ck_assert(!daemon_cgroup_name("0::/\n", true, b, sizeof b));
	ck_assert(!daemon_cgroup_name("0::/\n", false, b, sizeof b));
	ck_assert(!daemon_cgroup_name("garbage", false, b, sizeof b));
	ck_assert(!daemon_cgroup_name("", true, b, sizeof b));
	/* odd bytes become '_', a long name is cut */
	ck_assert(daemon_cgroup_name("0::/x/a\"b{c}\\d=e.scope\n", false, b, sizeof b));
	ck_assert_str_eq(b, "a_b_c__d_e.scope");
	char longp[300] = "0::/";
	memset(longp + 4, 'x', 200);
	ck_assert(daemon_cgroup_name(longp, false, b, sizeof b));
	ck_assert_uint_eq(strlen(b), 64);
}
END_TEST

START_TEST(test_scan)
{
	start_child();
	char cmd[96];
	snprintf(cmd, sizeof cmd, "sleep %s", arg);
	struct daemon_target_cfg t = { .name = "t", .rate = 19 };
	struct daemon_match *m;
	/* cmdline substring: only the child */
	t.cmdline = cmd;
	size_t n = scan(&t, &m);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(m[0].pid, child);
	ck_assert_str_eq(m[0].comm, "sleep");
	ck_assert_uint_gt(m[0].start_time, 0);
	free(m);
	/* exe glob on the path and the cmdline together */
	t.exe = "/*/sle?p";
	n = scan(&t, &m);
	ck_assert_uint_eq(n, 1);
	free(m);
	t.exe = "python*";
	n = scan(&t, &m);
	ck_assert_uint_eq(n, 0);
	free(m);
	/* a cgroup nobody is in */
	t.exe = NULL;
	t.cgroup = "/no/such/cgroup/loupe-test";
	n = scan(&t, &m);
	ck_assert_uint_eq(n, 0);
	free(m);
	/* the root cgroup holds everyone: the child, never us */
	t.cgroup = "/";
	t.cmdline = NULL;
	t.exe = "sleep";
	n = scan(&t, &m);
	ck_assert(found(m, n, child));
	ck_assert(!found(m, n, getpid()));
	for (size_t i = 1; i < n; i++)
		ck_assert_int_lt(m[i - 1].pid, m[i].pid);	/* sorted */
	free(m);
	/* every process (exe glob *): no kernel thread, not ourselves */
	pid_t kt = kernel_thread();
	if (!kt)
		fprintf(stderr, "SKIP kernel thread checks: none visible here\n");
	t.exe = "*";
	t.cgroup = NULL;
	n = scan(&t, &m);
	ck_assert(found(m, n, child));
	ck_assert(!kt || !found(m, n, kt));
	ck_assert(!found(m, n, getpid()));
	free(m);
	/* by PID; ourselves and a kernel thread left out */
	pid_t pids[] = { child, getpid(), kt ? kt : child };
	struct daemon_target_cfg byp = { .name = "p", .pids = pids, .npids = 3 };
	n = scan(&byp, &m);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(m[0].pid, child);
	free(m);
	struct daemon_match one;
	ck_assert(daemon_match_pid(&byp, child, &one));
	ck_assert_int_eq(one.pid, child);
	ck_assert(!daemon_match_pid(&byp, getpid(), NULL));
	/* a process that exited and waits to be reaped matches nothing:
	 * its /proc directory stays, with the start time it had */
	kill(child, SIGKILL);
	ck_assert(waitid(P_PID, (id_t)child, &(siginfo_t){ 0 }, WEXITED | WNOWAIT) == 0);
	n = scan(&byp, &m);
	ck_assert_uint_eq(n, 0);
	free(m);
	ck_assert(!daemon_match_pid(&byp, child, NULL));
	/* a process that is gone matches nothing */
	stop_child();
	n = scan(&byp, &m);
	ck_assert_uint_eq(n, 0);
	free(m);
	ck_assert(!daemon_match_pid(&byp, child, NULL));
}
END_TEST

/* The first section a process matches takes it. */
START_TEST(test_first_section_wins)
{
	start_child();
	char cmd[96];
	snprintf(cmd, sizeof cmd, "sleep %s", arg);
	struct daemon_target_cfg t[2] = {
		{ .name = "a", .exe = "nonesuch" },
		{ .name = "b", .cmdline = cmd },
	};
	struct daemon_match *m;
	size_t n;
	lp_error err;
	ck_assert_int_eq(daemon_match_scan(t, 2, &m, &n, &err), LP_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(m[0].target, 1);
	free(m);
	t[0].exe = "sleep";
	ck_assert_int_eq(daemon_match_scan(t, 2, &m, &n, &err), LP_OK);
	ck_assert(found(m, n, child));
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(m[i].target, 0);
	free(m);
	stop_child();
}
END_TEST

/* Through the cache: a second scan reads only new processes, finds the
 * same ones, picks up a new one and drops one that ended. */
START_TEST(test_cached)
{
	struct daemon_target_cfg t = { .name = "t", .exe = "sleep" };
	daemon_match_cache *c = daemon_match_cache_new();
	struct daemon_match *m1, *m2;
	size_t n1, n2, read1, read2;
	lp_error err;
	ck_assert_int_eq(daemon_match_scan_cached(c, &t, 1, &m1, &n1, &read1, &err), LP_OK);
	ck_assert_uint_gt(read1, 0);
	start_child();
	ck_assert_int_eq(daemon_match_scan_cached(c, &t, 1, &m2, &n2, &read2, &err), LP_OK);
	ck_assert(found(m2, n2, child));
	ck_assert(!found(m1, n1, child));
	/* only the processes born since were read (a few: others may start
	 * meanwhile on a busy machine) */
	ck_assert_uint_lt(read2, read1);
	free(m1);
	free(m2);
	stop_child();
	ck_assert_int_eq(daemon_match_scan_cached(c, &t, 1, &m2, &n2, &read2, &err), LP_OK);
	ck_assert(!found(m2, n2, child));
	free(m2);
	/* cleared: everything is read again */
	daemon_match_cache_clear(c);
	ck_assert_int_eq(daemon_match_scan_cached(c, &t, 1, &m2, &n2, &read2, &err), LP_OK);
	ck_assert_uint_gt(read2, read1 / 2);
	free(m2);
	daemon_match_cache_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_match");
	TCase *tc = tcase_create("match");
	tcase_add_test(tc, test_pure);
	tcase_add_test(tc, test_hostwide);
	tcase_add_test(tc, test_scan);
	tcase_add_test(tc, test_first_section_wins);
	tcase_add_test(tc, test_cached);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
