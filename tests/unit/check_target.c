/* target: attach and its errors, spawn, remote reads (good, bad, mixed
 * iovs), threads and their states, pause/resume, signals arriving while
 * seized, detach.  Children tell us they are ready through a pipe. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "target.h"
#include "unit.h"

/* Known values the forked children carry at the same addresses as ours. */
static volatile uint64_t known_value = 0x1122334455667788ull;
static char known_text[8192];
static volatile sig_atomic_t got_usr1;
static int report_fd = -1;

static void *sleeper(void *arg)
{
	pthread_setname_np(pthread_self(), arg);
	for (;;)
		pause();
	return NULL;
}

static void on_usr1(int sig)
{
	got_usr1++;
	ssize_t w = write(report_fd, "U", 1);
	(void)w;
}

/* Forks a child that starts nthreads sleeping threads, then says "R" on the
 * pipe and sleeps.  *rd gets the read end for later reports. */
static pid_t fork_child(int nthreads, int *rd)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		static char names[4][24];
		close(p[0]);
		report_fd = p[1];
		/* Dies with the test even if an assertion skips cleanup. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGUSR1, on_usr1);
		for (int i = 0; i < nthreads && i < 4; i++) {
			pthread_t th;
			snprintf(names[i], sizeof names[i], "worker-%d", i);
			pthread_create(&th, NULL, sleeper, names[i]);
		}
		ssize_t w = write(p[1], "R", 1);
		(void)w;
		for (;;)
			pause();
	}
	close(p[1]);
	char c;
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'R');
	*rd = p[0];
	return pid;
}

static void kill_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* The state letter, retried within a deadline: a thread just woken may
 * show R for a moment before it sleeps again. */
static char wait_state(target *t, struct target_thread *th, const char *want)
{
	char s = '?';
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(target_thread_state(t, th, &s, NULL), LP_OK);
		if (strchr(want, s))
			break;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return s;
}

static int tracer_pid(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	int tp = -1;
	while (f && fgets(buf, sizeof buf, f))
		if (!strncmp(buf, "TracerPid:", 10))
			tp = atoi(buf + 10);
	if (f)
		fclose(f);
	return tp;
}

START_TEST(attach_missing_pid)
{
	target *t = (target *)1;
	lp_error err = { 0 };
	/* PIDs above pid_max never exist. */
	ck_assert_int_eq(target_attach(&t, 99999999, &err), LP_ENOPROC);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err.msg, "no such process: PID 99999999");
	ck_assert_int_eq(target_attach(&t, -5, &err), LP_EINVAL);
}
END_TEST

START_TEST(spawn_missing_command)
{
	target *t;
	lp_error err = { 0 };
	char *argv[] = { "/nonexistent/loupe-nothing", NULL };
	ck_assert_int_ne(target_spawn(&t, argv, &err), LP_OK);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err.msg, "cannot run /nonexistent/loupe-nothing: "
				  "No such file or directory");
}
END_TEST

START_TEST(spawn_sleep)
{
	target *t;
	lp_error err = { 0 };
	char *argv[] = { "sleep", "30", NULL };
	ck_assert_int_eq(target_spawn(&t, argv, &err), LP_OK);
	ck_assert(target_spawned(t));
	ck_assert(target_alive(t));
	ck_assert_int_eq(target_exit_status(t), -1);
	ck_assert_str_eq(target_comm(t), "sleep");
	ck_assert_ptr_nonnull(strstr(target_exe(t), "sleep"));
	/* Right after exec only the loader is mapped: libc comes soon. */
	for (int i = 0; i < 500 && !maps_find_file(target_maps(t), "libc"); i++) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		ck_assert_int_eq(target_refresh_maps(t), LP_OK);
	}
	ck_assert_ptr_nonnull(maps_find_file(target_maps(t), "libc"));
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	ck_assert_uint_eq(target_nthreads(t), 1);
	struct target_thread *th = target_thread_at(t, 0);
	ck_assert_int_eq(th->tid, target_pid(t));
	ck_assert_str_eq(th->name, "sleep");
	ck_assert_int_eq(wait_state(t, th, "S"), 'S');
	/* Paused it is traced-stopped; resumed it sleeps again. */
	ck_assert_int_eq(target_thread_pause(t, th), LP_OK);
	ck_assert_int_eq(wait_state(t, th, "t"), 't');
	ck_assert_int_eq(target_thread_resume(t, th), LP_OK);
	ck_assert_int_eq(wait_state(t, th, "S"), 'S');
	kill(target_pid(t), SIGTERM);
	int st = -1;
	for (int i = 0; i < 500 && (st = target_exit_status(t)) < 0; i++) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	ck_assert_int_eq(st, 128 + SIGTERM);
	ck_assert(!target_alive(t));
	target_free(t, true);
}
END_TEST

START_TEST(spawn_exit_code)
{
	target *t;
	lp_error err = { 0 };
	char *argv[] = { "sh", "-c", "read x; exit 7", NULL };
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	int saved = dup(0);
	dup2(p[0], 0);
	ck_assert_int_eq(target_spawn(&t, argv, &err), LP_OK);
	dup2(saved, 0);
	close(saved);
	close(p[0]);
	ck_assert_int_eq(target_exit_status(t), -1);
	ck_assert_int_eq(write(p[1], "x\n", 2), 2);
	close(p[1]);
	int st = -1;
	for (int i = 0; i < 500 && (st = target_exit_status(t)) < 0; i++) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	ck_assert_int_eq(st, 7);
	target_free(t, true);
}
END_TEST

/* A command that exits at once is started all the same; its exit shows. */
START_TEST(spawn_exits_at_once)
{
	target *t;
	lp_error err = { 0 };
	char *argv[] = { "true", NULL };
	ck_assert_int_eq(target_spawn(&t, argv, &err), LP_OK);
	int st = -1;
	for (int i = 0; i < 500 && (st = target_exit_status(t)) < 0; i++) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	ck_assert_int_eq(st, 0);
	ck_assert(!target_alive(t));
	target_free(t, true);
}
END_TEST

START_TEST(read_memory)
{
	int rd;
	memset(known_text, 'k', sizeof known_text);
	pid_t pid = fork_child(0, &rd);
	target *t;
	lp_error err = { 0 };
	ck_assert_int_eq(target_attach(&t, pid, &err), LP_OK);
	mem_reader *r = target_reader(t);
	uint64_t v = 0;
	ck_assert_int_eq(mem_read_u64(r, (uint64_t)(uintptr_t)&known_value, &v),
			 LP_OK);
	ck_assert_uint_eq(v, 0x1122334455667788ull);
	ck_assert_int_eq(mem_read_u64(r, 16, &v), LP_EFAULT);

	/* Many iovs, a bad one in the middle: the others are still filled
	 * and the call says LP_EFAULT. */
	static char bufs[200][40];
	struct remote_iov iov[200];
	memset(bufs, 0, sizeof bufs);
	for (int i = 0; i < 200; i++)
		iov[i] = (struct remote_iov){
			(uint64_t)(uintptr_t)known_text + (uint64_t)i * 40,
			bufs[i], 40 };
	iov[57].addr = 0x1000;
	iov[130].addr = 0x2000;
	uint64_t calls = r->calls;
	ck_assert_int_eq(mem_readv(r, iov, 200), LP_EFAULT);
	ck_assert_uint_eq(r->calls, calls + 1);
	for (int i = 0; i < 200; i++) {
		char want = (i == 57 || i == 130) ? 0 : 'k';
		ck_assert_msg(bufs[i][0] == want && bufs[i][39] == want,
			      "iov %d", i);
	}
	/* All good: LP_OK. */
	iov[57].addr = iov[130].addr = (uint64_t)(uintptr_t)known_text;
	ck_assert_int_eq(mem_readv(r, iov, 200), LP_OK);
	/* More than MAX_IOV iovs in one call. */
	static struct remote_iov many[2500];
	static uint64_t vals[2500];
	for (int i = 0; i < 2500; i++)
		many[i] = (struct remote_iov){
			(uint64_t)(uintptr_t)&known_value, &vals[i], 8 };
	ck_assert_int_eq(mem_readv(r, many, 2500), LP_OK);
	ck_assert_uint_eq(vals[2499], 0x1122334455667788ull);
	/* A read across the end of a mapping fails as a whole. */
	const struct map_entry *e =
		maps_find(target_maps(t), (uint64_t)(uintptr_t)known_text);
	ck_assert_ptr_nonnull(e);

	kill_child(pid);
	ck_assert_int_eq(mem_read_u64(r, (uint64_t)(uintptr_t)&known_value, &v),
			 LP_ENOPROC);
	ck_assert(!target_alive(t));
	target_free(t, false);
	close(rd);
}
END_TEST

START_TEST(threads_and_states)
{
	int rd;
	pid_t pid = fork_child(3, &rd);
	target *t;
	lp_error err = { 0 };
	ck_assert_int_eq(target_attach(&t, pid, &err), LP_OK);
	/* Threads name themselves after start: wait until all are named. */
	int named = 0;
	for (int k = 0; k < 400 && named < 3; k++) {
		ck_assert_int_eq(target_refresh_threads(t), LP_OK);
		named = 0;
		for (size_t i = 0; i < target_nthreads(t); i++)
			named += !strncmp(target_thread_at(t, i)->name,
					  "worker-", 7);
		if (named < 3) {
			/* Names are read once per new thread: drop and
			 * re-read them by re-attaching. */
			target_free(t, false);
			ck_assert_int_eq(target_attach(&t, pid, &err), LP_OK);
			struct timespec ts = { 0, 5 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	ck_assert_int_eq(named, 3);
	ck_assert_uint_eq(target_nthreads(t), 4);
	ck_assert_int_eq(target_thread_at(t, 0)->tid, pid);
	for (size_t i = 0; i < 4; i++) {
		struct target_thread *th = target_thread_at(t, i);
		ck_assert_int_ge(th->stat_fd, 0);
		ck_assert_int_ge(th->schedstat_fd, 0);
		ck_assert_ptr_eq(target_thread_find(t, th->tid), th);
		char s;
		uint64_t cpu = 0;
		ck_assert_int_eq(target_thread_state(t, th, &s, &cpu), LP_OK);
		ck_assert_int_eq(wait_state(t, th, "S"), 'S');
	}
	/* Pause everything, check, resume everything. */
	ck_assert_int_eq(target_pause_all(t), LP_OK);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(wait_state(t, target_thread_at(t, i), "t"),
				 't');
	target_resume_all(t);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(wait_state(t, target_thread_at(t, i), "S"),
				 'S');
	ck_assert_int_gt(tracer_pid(pid), 0);
	/* Detach leaves no tracer and nothing stopped. */
	target_detach_all(t);
	ck_assert_int_eq(tracer_pid(pid), 0);
	ck_assert_int_eq(wait_state(t, target_thread_at(t, 0), "S"), 'S');
	/* A vanished thread is dropped at the next refresh. */
	pid_t gone = target_thread_at(t, 3)->tid;
	ck_assert_int_eq(target_thread_pause(t, target_thread_at(t, 3)), LP_OK);
	ck_assert_int_eq(target_thread_resume(t, target_thread_at(t, 3)), LP_OK);
	target_free(t, false);
	ck_assert_int_eq(tracer_pid(pid), 0);
	(void)gone;
	kill_child(pid);
	close(rd);
}
END_TEST

/* Reads one report byte from the child, calling target_poll meanwhile (a
 * signal to a seized running thread waits for it), within 5 s. */
static int wait_report(target *t, int rd)
{
	for (int i = 0; i < 2500; i++) {
		struct pollfd p = { rd, POLLIN, 0 };
		target_poll(t);
		if (poll(&p, 1, 2) == 1) {
			char c = 0;
			return read(rd, &c, 1) == 1 ? c : -1;
		}
	}
	return -1;
}

/* wchan tells running from blocked as stat's R does: the sleeping
 * child reads as not running, a spinning one as running. */
START_TEST(running_by_wchan)
{
	int rd;
	pid_t pid = fork_child(0, &rd);
	target *t;
	lp_error err = { 0 };
	ck_assert_int_eq(target_attach(&t, pid, &err), LP_OK);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	struct target_thread *th = target_thread_at(t, 0);
	ck_assert_int_eq(wait_state(t, th, "S"), 'S');
	bool running = true;
	int rc = target_thread_running(t, th, &running);
	if (rc == LP_EUNSUPPORTED) {
		unit_skip_say(__func__, "this kernel's wchan does not tell "
			      "a blocked thread (stat is used instead)");
		target_free(t, false);
		kill_child(pid);
		close(rd);
		return;
	}
	ck_assert_int_eq(rc, LP_OK);
	ck_assert(!running);
	target_free(t, false);
	kill_child(pid);
	close(rd);

	pid_t spin = fork();
	ck_assert_int_ge(spin, 0);
	if (spin == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (volatile unsigned long x = 0;; x++)
			;
	}
	ck_assert_int_eq(target_attach(&t, spin, &err), LP_OK);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	th = target_thread_at(t, 0);
	ck_assert_int_eq(target_thread_running(t, th, &running), LP_OK);
	ck_assert(running);
	kill_child(spin);
	ck_assert_int_eq(target_thread_running(t, th, &running), LP_ENOPROC);
	target_free(t, false);
}
END_TEST

START_TEST(signal_while_seized)
{
	int rd;
	pid_t pid = fork_child(0, &rd);
	target *t;
	lp_error err = { 0 };
	ck_assert_int_eq(target_attach(&t, pid, &err), LP_OK);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	struct target_thread *th = target_thread_find(t, pid);
	ck_assert_ptr_nonnull(th);
	ck_assert_int_eq(target_thread_pause(t, th), LP_OK);
	/* A signal sent while stopped is delivered after resume. */
	kill(pid, SIGUSR1);
	ck_assert_int_eq(target_thread_resume(t, th), LP_OK);
	ck_assert_int_eq(wait_report(t, rd), 'U');
	/* While seized and running. */
	kill(pid, SIGUSR1);
	ck_assert_int_eq(wait_report(t, rd), 'U');
	/* Pending when we pause: the pause re-injects it and still stops. */
	kill(pid, SIGUSR1);
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	ck_assert_int_eq(target_thread_pause(t, th), LP_OK);
	ck_assert(th->stopped);
	ck_assert_int_eq(target_thread_resume(t, th), LP_OK);
	ck_assert_int_eq(wait_report(t, rd), 'U');
	/* Detaching while a signal is pending delivers it too. */
	kill(pid, SIGUSR1);
	nanosleep(&ts, NULL);
	target_free(t, false);
	char c = 0;
	ck_assert_int_eq(read(rd, &c, 1), 1);
	ck_assert_int_eq(c, 'U');
	ck_assert_int_eq(tracer_pid(pid), 0);
	kill_child(pid);
	close(rd);
}
END_TEST

START_TEST(detach_on_resume)
{
	int rd;
	pid_t pid = fork_child(1, &rd);
	target *t;
	lp_error err = { 0 };
	ck_assert_int_eq(target_attach(&t, pid, &err), LP_OK);
	target_set_detach_on_resume(t, true);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(target_pause_all(t), LP_OK);
		ck_assert_int_gt(tracer_pid(pid), 0);
		target_resume_all(t);
		ck_assert_int_eq(tracer_pid(pid), 0);
	}
	/* Nothing traced: a signal needs no help from us. */
	kill(pid, SIGUSR1);
	char c = 0;
	ck_assert_int_eq(read(rd, &c, 1), 1);
	ck_assert_int_eq(c, 'U');
	target_free(t, false);
	kill_child(pid);
	close(rd);
}
END_TEST

START_TEST(thread_exits_while_seized)
{
	int rd;
	pid_t pid = fork_child(0, &rd);
	target *t;
	lp_error err = { 0 };
	ck_assert_int_eq(target_attach(&t, pid, &err), LP_OK);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	struct target_thread *th = target_thread_find(t, pid);
	ck_assert_int_eq(target_thread_pause(t, th), LP_OK);
	ck_assert_int_eq(target_thread_resume(t, th), LP_OK);
	kill(pid, SIGKILL);
	/* Either the pause fails with LP_ENOPROC, or the process is gone. */
	int rc = target_thread_pause(t, th);
	ck_assert_int_eq(rc, LP_ENOPROC);
	waitpid(pid, NULL, 0);
	ck_assert(!target_alive(t));
	target_free(t, false);
	close(rd);
}
END_TEST

/* With process_vm_readv refused (seccomp makes it ENOSYS in this test
 * process, as some container profiles do), reads go through
 * /proc/PID/mem with the same results. */
START_TEST(mem_fallback)
{
	const char *fork_mode = getenv("CK_FORK");
	if (fork_mode && !strcmp(fork_mode, "no"))
		unit_skip("needs CK_FORK=yes");
	int rd;
	memset(known_text, 'k', sizeof known_text);
	pid_t pid = fork_child(0, &rd);
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };
	ck_assert_int_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	ck_assert_int_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	target *t;
	lp_error err = { 0 };
	ck_assert_int_eq(target_attach(&t, pid, &err), LP_OK);
	mem_reader *r = target_reader(t);
	uint64_t v = 0;
	ck_assert_int_eq(mem_read_u64(r, (uint64_t)(uintptr_t)&known_value, &v),
			 LP_OK);
	ck_assert_uint_eq(v, 0x1122334455667788ull);
	ck_assert_int_eq(mem_read_u64(r, 16, &v), LP_EFAULT);
	char a[40] = { 0 }, b[40] = { 0 };
	struct remote_iov iov[2] = {
		{ 0x1000, a, sizeof a },
		{ (uint64_t)(uintptr_t)known_text, b, sizeof b },
	};
	ck_assert_int_eq(mem_readv(r, iov, 2), LP_EFAULT);
	ck_assert_int_eq(b[0], 'k');
	ck_assert_int_eq(b[39], 'k');
	kill_child(pid);
	ck_assert_int_ne(mem_read_u64(r, (uint64_t)(uintptr_t)&known_value, &v),
			 LP_OK);
	target_free(t, false);
	close(rd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("target");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, attach_missing_pid);
	tcase_add_test(tc, spawn_missing_command);
	tcase_add_test(tc, spawn_sleep);
	tcase_add_test(tc, spawn_exit_code);
	tcase_add_test(tc, spawn_exits_at_once);
	tcase_add_test(tc, read_memory);
	tcase_add_test(tc, mem_fallback);
	tcase_add_test(tc, threads_and_states);
	tcase_add_test(tc, running_by_wchan);
	tcase_add_test(tc, signal_while_seized);
	tcase_add_test(tc, detach_on_resume);
	tcase_add_test(tc, thread_exits_while_seized);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
