/* procfs: the stat and status parsers on fixture text (hostile command
 * names, lines cut short, garbage), the bounded reads on files of our own,
 * and the same on this process's real /proc files. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "procfs.h"
#include "unit.h"

/* A real line (a shell on 6.x), 52 fields. */
static const char bash_stat[] =
	"4242 (bash) S 4200 4242 4242 34816 4300 4194560 1503 9872 0 3 7 11 "
	"12 5 20 0 1 0 987654 9404416 1270 18446744073709551615 "
	"94371000000000 94371000900000 140730000000000 0 0 0 65536 3686404 "
	"1266761467 0 0 0 17 1 0 0 0 0 0 94371001000000 94371001040000 "
	"94371020000000 140730000001000 140730000001010 140730000001010 "
	"140730000003000 0\n";

START_TEST(stat_all_fields)
{
	struct procfs_stat st;
	ck_assert_int_eq(procfs_stat_parse(bash_stat, PROCFS_STAT_STARTSTACK, &st),
			 PROCFS_STAT_STARTSTACK);
	ck_assert_str_eq(st.comm, "bash");
	ck_assert_int_eq(st.state, 'S');
	ck_assert_int_eq(st.ppid, 4200);
	ck_assert_uint_eq(st.flags, 4194560);
	ck_assert_uint_eq(st.utime, 7);
	ck_assert_uint_eq(st.stime, 11);
	ck_assert_int_eq(st.nthreads, 1);
	ck_assert_uint_eq(st.starttime, 987654);
	ck_assert_uint_eq(st.start_code, 94371000000000ull);
	ck_assert_uint_eq(st.end_code, 94371000900000ull);
	ck_assert_uint_eq(st.start_stack, 140730000000000ull);
	/* upto past the last field loupe knows is the last it knows */
	ck_assert_int_eq(procfs_stat_parse(bash_stat, 99, &st),
			 PROCFS_STAT_STARTSTACK);
}
END_TEST

/* A command name is the user's (prctl PR_SET_NAME, or the file name it
 * ran): ')' and spaces in it must not shift the fields after it. */
START_TEST(stat_hostile_comm)
{
	static const char *const lines[] = {
		"77 (a) Z 1 (b) R 42 77 77 0 -1 4194304 0 0 0 0 3 4 0 0 20 0 2 0 555\n",
		"77 () R 42 77 77 0 -1 4194304 0 0 0 0 3 4 0 0 20 0 2 0 555\n",
		"77 ()))) R 42 77 77 0 -1 4194304 0 0 0 0 3 4 0 0 20 0 2 0 555\n",
		"77 (x y\nz) R 42 77 77 0 -1 4194304 0 0 0 0 3 4 0 0 20 0 2 0 555\n",
		"77 ( S 1 2 ) R 42 77 77 0 -1 4194304 0 0 0 0 3 4 0 0 20 0 2 0 555\n",
	};
	static const char *const comms[] = {
		"a) Z 1 (b", "", ")))", "x y\nz", " S 1 2 ",
	};
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		struct procfs_stat st;
		ck_assert_int_eq(procfs_stat_parse(lines[i], PROCFS_STAT_STARTTIME, &st),
				 PROCFS_STAT_STARTTIME);
		ck_assert_str_eq(st.comm, comms[i]);
		ck_assert_int_eq(st.state, 'R');
		ck_assert_int_eq(st.ppid, 42);
		ck_assert_uint_eq(st.utime, 3);
		ck_assert_uint_eq(st.stime, 4);
		ck_assert_int_eq(st.nthreads, 2);
		ck_assert_uint_eq(st.starttime, 555);
	}
}
END_TEST

/* A kernel worker's name may be longer than TASK_COMM_LEN: cut, the
 * fields still right. */
START_TEST(stat_long_comm)
{
	char line[512], name[200];
	memset(name, 'k', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	snprintf(line, sizeof line, "9 (%s) I 2 0 0 0 -1 69238880 0\n", name);
	struct procfs_stat st;
	ck_assert_int_eq(procfs_stat_parse(line, PROCFS_STAT_FLAGS, &st),
			 PROCFS_STAT_FLAGS);
	ck_assert_uint_eq(strlen(st.comm), sizeof st.comm - 1);
	ck_assert_int_eq(st.state, 'I');
	ck_assert_uint_eq(st.flags, 69238880);
}
END_TEST

/* A read cut short (a small buffer, a process exiting): the fields read
 * are counted, the rest are 0, never read past the end. */
START_TEST(stat_truncated)
{
	char buf[sizeof bash_stat];
	struct procfs_stat st;
	/* every prefix of a real line */
	for (size_t len = 0; len < sizeof bash_stat; len++) {
		memcpy(buf, bash_stat, len);
		buf[len] = '\0';
		int got = procfs_stat_parse(buf, PROCFS_STAT_STARTSTACK, &st);
		ck_assert_int_ge(got, 0);
		ck_assert_int_le(got, PROCFS_STAT_STARTSTACK);
		if (len < strlen("4242 (bash)"))
			ck_assert_int_eq(got, 0);
		if (got < PROCFS_STAT_STARTTIME)
			ck_assert_uint_eq(st.starttime, 0);
		if (got < PROCFS_STAT_STATE)
			ck_assert_int_eq(st.state, 0);
	}
	/* cut after the state, after field 21, before the state */
	ck_assert_int_eq(procfs_stat_parse("1 (a) R", PROCFS_STAT_STARTTIME, &st), 3);
	ck_assert_int_eq(st.state, 'R');
	ck_assert_int_eq(procfs_stat_parse("1 (a) R ", PROCFS_STAT_STARTTIME, &st), 3);
	ck_assert_int_eq(procfs_stat_parse("1 (a) ", PROCFS_STAT_STATE, &st), 2);
	ck_assert_int_eq(procfs_stat_parse("1 (a)", PROCFS_STAT_STATE, &st), 2);
	ck_assert_str_eq(st.comm, "a");
	ck_assert_int_eq(procfs_stat_parse(
		"1 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18",
		PROCFS_STAT_STARTTIME, &st), 21);
	ck_assert_uint_eq(st.starttime, 0);
	ck_assert_uint_eq(st.utime, 11);
	/* what is asked for is read, no more: a state-only reader does not
	 * care that the rest is cut */
	ck_assert_int_eq(procfs_stat_parse("1 (a) D 1 2", PROCFS_STAT_STATE, &st), 3);
	ck_assert_int_eq(st.state, 'D');
	ck_assert_int_eq(st.ppid, 0);
}
END_TEST

START_TEST(stat_garbage)
{
	struct procfs_stat st;
	ck_assert_int_eq(procfs_stat_parse("", PROCFS_STAT_STATE, &st), 0);
	ck_assert_int_eq(procfs_stat_parse("garbage", PROCFS_STAT_STATE, &st), 0);
	ck_assert_int_eq(procfs_stat_parse("1 a) R 2", PROCFS_STAT_STATE, &st), 0);
	ck_assert_int_eq(procfs_stat_parse("1 ) R (2", PROCFS_STAT_STATE, &st), 0);
	/* a field that is not a number ends the line there */
	ck_assert_int_eq(procfs_stat_parse("1 (a) R x 2", PROCFS_STAT_PPID, &st), 3);
	ck_assert_int_eq(procfs_stat_parse("1 (a) R 12x 2", PROCFS_STAT_PPID, &st), 3);
	ck_assert_int_eq(st.ppid, 0);
	ck_assert_int_eq(procfs_stat_parse("1 (a) R - 2", PROCFS_STAT_PPID, &st), 3);
	/* no blank after ')': not a stat line */
	ck_assert_int_eq(procfs_stat_parse("1 (a)R 2", PROCFS_STAT_PPID, &st), 2);
	/* signed fields (priority, nice) are read past */
	ck_assert_int_eq(procfs_stat_parse(
		"1 (a) S 1 2 3 4 -1 6 7 8 9 10 11 12 13 14 -2 -20 3 0 99\n",
		PROCFS_STAT_STARTTIME, &st), PROCFS_STAT_STARTTIME);
	ck_assert_int_eq(st.nthreads, 3);
	ck_assert_uint_eq(st.starttime, 99);
}
END_TEST

static const char status_text[] =
	"Name:\tpython3\n"
	"Umask:\t0022\n"
	"State:\tS (sleeping)\n"
	"Tgid:\t31337\n"
	"Ngid:\t0\n"
	"Pid:\t31338\n"
	"PPid:\t1\n"
	"NStgid:\t31337\t12\t1\n"
	"NSpid:\t31338\t13\t2\n"
	"NSpgid:\t31337\t12\t1\n"
	"CapPrm:\t000001ffffffffff\n"
	"CapEff:\t0000000000080000\n";

START_TEST(status_fields)
{
	ck_assert_int_eq(procfs_status_long(status_text, "Tgid", -1), 31337);
	ck_assert_int_eq(procfs_status_long(status_text, "PPid", -1), 1);
	ck_assert_int_eq(procfs_status_long(status_text, "Nope", -1), -1);
	/* a key is a whole name at a line's start */
	ck_assert_int_eq(procfs_status_long(status_text, "gid", -1), -1);
	ck_assert_int_eq(procfs_status_long(status_text, "NStgi", -1), -1);
	ck_assert_int_eq(strncmp(procfs_status_field(status_text, "Name"),
				 "python3\n", 8), 0);
	ck_assert_int_eq(strncmp(procfs_status_field(status_text, "State"),
				 "S (sleeping)\n", 13), 0);
	ck_assert_uint_eq(procfs_status_hex(status_text, "CapEff"), 1ull << 19);
	ck_assert_uint_eq(procfs_status_hex(status_text, "CapPrm"), 0x1ffffffffffull);
	ck_assert_uint_eq(procfs_status_hex(status_text, "CapBnd"), 0);
	ck_assert_int_eq(procfs_status_long("Tgid:\tx\n", "Tgid", 7), 7);
}
END_TEST

START_TEST(status_nspid)
{
	/* the innermost namespace's id is the last */
	ck_assert_int_eq(procfs_status_nspid(status_text, 99), 2);
	ck_assert_int_eq(procfs_status_nspid("NSpid:\t555\n", 99), 555);
	ck_assert_int_eq(procfs_status_nspid("Name:\tx\nNSpid:\t8 9", 99), 9);
	/* absent (before Linux 4.1), empty, garbage, out of range: fallback */
	ck_assert_int_eq(procfs_status_nspid("Name:\tx\nPid:\t5\n", 99), 99);
	ck_assert_int_eq(procfs_status_nspid("NSpid:\t\nNSpgid:\t7\n", 99), 99);
	ck_assert_int_eq(procfs_status_nspid("NSpid:\n12\n", 99), 99);
	ck_assert_int_eq(procfs_status_nspid("NSpid:\tx 5\n", 99), 99);
	ck_assert_int_eq(procfs_status_nspid("NSpid:\t5 0\n", 99), 99);
	ck_assert_int_eq(procfs_status_nspid("NSpid:\t5 -3\n", 99), 99);
	ck_assert_int_eq(procfs_status_nspid("NSpid:\t5 99999999999\n", 99), 99);
	/* a line that never ends: bounded */
	char big[4096];
	size_t n = (size_t)snprintf(big, sizeof big, "NSpid:");
	while (n + 3 < sizeof big) {
		memcpy(big + n, " 7", 2);
		n += 2;
	}
	big[n] = '\0';
	ck_assert_int_eq(procfs_status_nspid(big, 99), 7);
}
END_TEST

static char tmpdir[128];

static void write_file(const char *name, const char *data, size_t len)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

START_TEST(reads_bounded)
{
	unit_tmpdir_make(tmpdir, sizeof tmpdir, "check_procfs");
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	char buf[8];
	/* longer than the buffer: cut, NUL-terminated */
	write_file("long", "0123456789abcdef", 16);
	ck_assert_int_eq(procfs_read(dfd, "long", buf, sizeof buf), 7);
	ck_assert_str_eq(buf, "0123456");
	/* empty, missing, a link (refused: O_NOFOLLOW) */
	write_file("empty", "", 0);
	ck_assert_int_eq(procfs_read(dfd, "empty", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(procfs_read(dfd, "missing", buf, sizeof buf), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(symlinkat("long", dfd, "link"), 0);
	ck_assert_int_eq(procfs_read(dfd, "link", buf, sizeof buf), -1);
	ck_assert_int_eq(errno, ELOOP);
	/* a name line */
	char name[4];
	write_file("comm", "python3\n", 8);
	procfs_read_line(dfd, "comm", name, sizeof name);
	ck_assert_str_eq(name, "pyt");
	char whole[16];
	procfs_read_line(dfd, "comm", whole, sizeof whole);
	ck_assert_str_eq(whole, "python3");
	procfs_read_line(dfd, "missing", whole, sizeof whole);
	ck_assert_str_eq(whole, "");
	/* a command line: NUL-separated arguments, joined */
	char cmd[64];
	write_file("cmdline", "python3\0-c\0print(1)\0", 20);
	ck_assert_int_eq(procfs_read_cmdline(dfd, cmd, sizeof cmd), 19);
	ck_assert_str_eq(cmd, "python3 -c print(1)");
	ck_assert_int_eq(procfs_read_cmdline(dfd, cmd, 8), 7);
	ck_assert_str_eq(cmd, "python3");
	/* a truncated stat file read and parsed */
	write_file("stat", bash_stat, 60);
	char line[1024];
	struct procfs_stat st;
	ck_assert_int_eq(procfs_read(dfd, "stat", line, sizeof line), 60);
	ck_assert_int_lt(procfs_stat_parse(line, PROCFS_STAT_STARTTIME, &st),
			 PROCFS_STAT_STARTTIME);
	ck_assert_int_eq(st.state, 'S');
	/* a kept descriptor: pread at 0, again and again */
	int fd = openat(dfd, "long", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(procfs_pread(fd, buf, sizeof buf), 7);
		ck_assert_str_eq(buf, "0123456");
	}
	close(fd);
	close(dfd);
	unit_tmpdir_remove(tmpdir);
}
END_TEST

struct ids {
	pid_t v[16];
	size_t n;
	pid_t stop_at;
};

static int collect(void *ctx, pid_t id, uint64_t inode)
{
	struct ids *c = ctx;
	ck_assert_uint_gt(inode, 0);
	if (c->n < 16)
		c->v[c->n++] = id;
	return id == c->stop_at ? 42 : 0;
}

static int has_id(const struct ids *c, pid_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i] == id)
			return 1;
	return 0;
}

static void *wait_on(void *arg)
{
	char c;
	while (read(*(int *)arg, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Ids of a directory: decimal names only, 1 to INT_MAX; a callback's
 * non-zero ends the listing; a fd that is no directory is -1. */
START_TEST(lists_ids)
{
	unit_tmpdir_make(tmpdir, sizeof tmpdir, "check_procfs");
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	static const char *const names[] = {
		"1", "12", "abc", "0", "99999999999", "2147483647", "3x", "self",
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		write_file(names[i], "", 0);
	char buf[4096] __attribute__((aligned(8)));
	struct ids c = { .n = 0 };
	ck_assert_int_eq(procfs_each_id(dfd, buf, sizeof buf, collect, &c), 0);
	ck_assert_uint_eq(c.n, 3);
	ck_assert(has_id(&c, 1) && has_id(&c, 12) && has_id(&c, INT_MAX));
	/* stopped by the callback, its value returned */
	ck_assert_int_eq(lseek(dfd, 0, SEEK_SET), 0);
	c = (struct ids){ .stop_at = c.v[0] };
	ck_assert_int_eq(procfs_each_id(dfd, buf, sizeof buf, collect, &c), 42);
	ck_assert_uint_eq(c.n, 1);
	/* a buffer too small for one entry, a file: errors */
	ck_assert_int_eq(lseek(dfd, 0, SEEK_SET), 0);
	ck_assert_int_eq(procfs_each_id(dfd, buf, 8, collect, &c), -1);
	ck_assert_int_eq(errno, EINVAL);
	int f = openat(dfd, "1", O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(procfs_each_id(f, buf, sizeof buf, collect, &c), -1);
	ck_assert_int_eq(errno, ENOTDIR);
	close(f);
	close(dfd);
	unit_tmpdir_remove(tmpdir);

	/* this process's threads, a second one started for it */
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, wait_on, &p[0]), 0);
	int tfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(tfd, 0);
	c = (struct ids){ .n = 0 };
	ck_assert_int_eq(procfs_each_id(tfd, buf, sizeof buf, collect, &c), 0);
	ck_assert_uint_eq(c.n, 2);
	ck_assert(has_id(&c, getpid()));
	/* a kept fd, rewound: the same again */
	ck_assert_int_eq(lseek(tfd, 0, SEEK_SET), 0);
	struct ids again = { .n = 0 };
	ck_assert_int_eq(procfs_each_id(tfd, buf, sizeof buf, collect, &again), 0);
	ck_assert_uint_eq(again.n, 2);
	close(tfd);
	close(p[1]);
	pthread_join(th, NULL);
	close(p[0]);
}
END_TEST

/* This process's own files, with a command name that would fool a parser
 * splitting on blanks or on the first ')'. */
START_TEST(reads_own_process)
{
	char old[17] = "";
	prctl(PR_GET_NAME, old);
	ck_assert_int_eq(prctl(PR_SET_NAME, "a) Z 1 (b c"), 0);
	int dfd = procfs_open_pid(AT_FDCWD, getpid());
	ck_assert_int_ge(dfd, 0);
	int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(proc, 0);
	int dfd2 = procfs_open_pid(proc, getpid());
	ck_assert_int_ge(dfd2, 0);
	char buf[1024];
	struct procfs_stat st, st2;
	ck_assert_int_gt(procfs_read(dfd, "stat", buf, sizeof buf), 0);
	ck_assert_int_eq(procfs_stat_parse(buf, PROCFS_STAT_STARTSTACK, &st),
			 PROCFS_STAT_STARTSTACK);
	ck_assert_str_eq(st.comm, "a) Z 1 (b c");
	ck_assert_int_eq(st.state, 'R');	/* it is reading */
	ck_assert_int_eq(st.ppid, getppid());
	ck_assert_uint_gt(st.starttime, 0);
	ck_assert_int_ge(st.nthreads, 1);
	ck_assert_int_gt(procfs_read_pid(getpid(), "stat", buf, sizeof buf), 0);
	ck_assert_int_eq(procfs_stat_parse(buf, PROCFS_STAT_STARTTIME, &st2),
			 PROCFS_STAT_STARTTIME);
	ck_assert_uint_eq(st2.starttime, st.starttime);
	ck_assert_int_gt(procfs_read(dfd2, "status", buf, sizeof buf), 0);
	ck_assert_int_eq(procfs_status_long(buf, "Tgid", 0), getpid());
	ck_assert_int_eq(procfs_status_nspid(buf, -1), getpid());
	char comm[16];
	procfs_read_line(dfd, "comm", comm, sizeof comm);
	ck_assert_str_eq(comm, "a) Z 1 (b c");
	ck_assert_int_eq(procfs_open_pid(proc, 0), -1);
	ck_assert_int_eq(procfs_open_pid(AT_FDCWD, -5), -1);
	close(dfd2);
	close(proc);
	close(dfd);
	prctl(PR_SET_NAME, old);
}
END_TEST

/* record --mode memory's RSS: statm's second field, in pages */
START_TEST(statm_rss)
{
	uint64_t b = 0;
	long page = sysconf(_SC_PAGESIZE);
	ck_assert_int_eq(procfs_statm_rss("5000 1234 300 10 0 900 0\n", &b), 0);
	ck_assert_uint_eq(b, 1234ull * (uint64_t)page);
	ck_assert_int_eq(procfs_statm_rss("", &b), -1);
	ck_assert_int_eq(procfs_statm_rss("12", &b), -1);
	ck_assert_int_eq(procfs_statm_rss("1 99999999999999999999", &b), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("procfs");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, stat_all_fields);
	tcase_add_test(tc, stat_hostile_comm);
	tcase_add_test(tc, stat_long_comm);
	tcase_add_test(tc, stat_truncated);
	tcase_add_test(tc, stat_garbage);
	tcase_add_test(tc, status_fields);
	tcase_add_test(tc, status_nspid);
	tcase_add_test(tc, reads_bounded);
	tcase_add_test(tc, lists_ids);
	tcase_add_test(tc, reads_own_process);
	tcase_add_test(tc, statm_rss);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
