/* Live CPython processes: every interpreter installed under
 * /root/.pyenv/versions and Debian's static /usr/bin/python3.11 runs a small
 * script (main thread outer -> middle -> inner, a second thread in other()),
 * and the walker must report the exact functions, call-site lines, OS tids,
 * GIL holder and version.  A missing interpreter is printed as SKIP. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "python/py.h"
#include "python/pyproc.h"
#include "symbols.h"
#include "target.h"
#include "unit.h"

#define PYENV "/root/.pyenv/versions"

/* The script, with its line numbers (runs on 2.7 too). */
static const char *script =
	"import sys, threading, time\n"				/* 1 */
	"def other():\n"					/* 2 */
	"    while 1: time.sleep(0.01)\n"			/* 3 */
	"def deep(n, mode):\n"					/* 4 */
	"    if n > 0: return deep(n - 1, mode)\n"		/* 5 */
	"    return inner(mode)\n"				/* 6 */
	"def inner(mode):\n"					/* 7 */
	"    sys.stdout.write('ready\\n'); sys.stdout.flush()\n"	/* 8 */
	"    x = 0\n"						/* 9 */
	"    if mode == 'sleep':\n"				/* 10 */
	"        while 1: time.sleep(0.05)\n"			/* 11 */
	"    while 1: x += 1\n"					/* 12 */
	"def middle(mode):\n"					/* 13 */
	"    inner(mode)\n"					/* 14 */
	"def outer(mode):\n"					/* 15 */
	"    middle(mode)\n"					/* 16 */
	"def genf(mode):\n"					/* 17 */
	"    inner(mode)\n"					/* 18 */
	"    yield 1\n"						/* 19 */
	"def viagen(mode):\n"					/* 20 */
	"    for _ in genf(mode): pass\n"			/* 21 */
	"t = threading.Thread(target=other)\n"			/* 22 */
	"t.daemon = True\n"					/* 23 */
	"t.start()\n"						/* 24 */
	"if sys.argv[1] == 'deep': deep(17, 'busy')\n"		/* 25 */
	"elif sys.argv[1] == 'gen': viagen('busy')\n"		/* 26 */
	"else: outer(sys.argv[1])\n";				/* 27 */
#define LINE_OTHER 3
#define LINE_BUSY 12
#define LINE_SLEEP 11
#define LINE_MIDDLE 14
#define LINE_OUTER 16
#define LINE_MODULE 27
#define LINE_GENF 18
#define LINE_VIAGEN 21
#define LINE_MODULE_GEN 26

static char script_path[64];

struct interp {
	char path[256];
	char label[64];
};

/* Every interpreter to test: each pyenv version, plus the static one. */
static size_t list_interps(struct interp *v, size_t max)
{
	static const char *const want[] = {
		"2.7.18", "3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13",
		"3.11.7", "3.12.1", "3.13.0",
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof want / sizeof want[0] && n < max; i++) {
		char bin[256];
		int maj = want[i][0] - '0', min = atoi(want[i] + 2);
		snprintf(bin, sizeof bin, PYENV "/%s/bin/python%d.%d", want[i],
			 maj, min);
		if (access(bin, X_OK) != 0) {
			printf("SKIP %s: not installed\n", bin);
			continue;
		}
		snprintf(v[n].path, sizeof v[n].path, "%s", bin);
		snprintf(v[n].label, sizeof v[n].label, "%s", want[i]);
		n++;
	}
	/* Versions installed later than this list (3.14, ...). */
	DIR *d = opendir(PYENV);
	struct dirent *de;
	while (d && (de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		bool known = false;
		for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
			known |= strcmp(want[i], de->d_name) == 0;
		if (known)
			continue;
		int maj = de->d_name[0] - '0', min = atoi(de->d_name + 2);
		snprintf(v[n].path, sizeof v[n].path,
			 PYENV "/%.100s/bin/python%d.%d", de->d_name, maj, min);
		if (access(v[n].path, X_OK) != 0)
			continue;
		snprintf(v[n].label, sizeof v[n].label, "%.60s", de->d_name);
		n++;
	}
	if (d)
		closedir(d);
	/* Debian's 3.14 and 3.15 as tools/get-python unpacks them (static,
	 * stripped: only _Py_DebugOffsets tells their layout). */
	static const char *const debian[][2] = {
		{ "/opt/loupe-py314/usr/bin/python3.14", "debian-3.14" },
		{ "/opt/loupe-py315/usr/bin/python3.15", "debian-3.15" },
	};
	for (size_t i = 0; i < 2 && n < max; i++) {
		if (access(debian[i][0], X_OK) == 0) {
			snprintf(v[n].path, sizeof v[n].path, "%s", debian[i][0]);
			snprintf(v[n].label, sizeof v[n].label, "%s", debian[i][1]);
			n++;
		} else {
			printf("SKIP %s: not installed (tools/get-python %s)\n",
			       debian[i][0], debian[i][1] + 7);
		}
	}
	if (n < max) {
		if (access("/usr/bin/python3.11", X_OK) == 0) {
			snprintf(v[n].path, sizeof v[n].path, "/usr/bin/python3.11");
			snprintf(v[n].label, sizeof v[n].label, "debian-3.11");
			n++;
		} else {
			printf("SKIP /usr/bin/python3.11: not installed\n");
		}
	}
	return n;
}

/* "Python 3.11.7" from `python -V` (2.7 prints it on stderr). */
static void python_v(const char *py, char *out, size_t len)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s -V 2>&1", py);
	FILE *f = popen(cmd, "r");
	out[0] = '\0';
	if (f) {
		if (fgets(out, (int)len, f))
			out[strcspn(out, "\n")] = '\0';
		pclose(f);
	}
}

static pid_t spawn_script(const char *py, const char *path, const char *mode);

/* Starts py script mode; returns the pid once "ready" was printed. */
static pid_t spawn(const char *py, const char *mode)
{
	return spawn_script(py, script_path, mode);
}

static pid_t spawn_script(const char *py, const char *path, const char *mode)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(py, py, path, mode, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[64];
	size_t got = 0;
	struct pollfd pf = { p[0], POLLIN, 0 };
	while (got < sizeof buf - 1 && !strstr(buf, "ready")) {
		if (poll(&pf, 1, 10000) <= 0)
			break;
		ssize_t r = read(p[0], buf + got, sizeof buf - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
	}
	buf[got] = '\0';
	close(p[0]);
	if (!strstr(buf, "ready")) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	/* "ready" is written just before the loop line; let it get there. */
	usleep(50000);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static bool is_task(pid_t pid, pid_t tid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/task/%d", (int)pid, (int)tid);
	return tid > 0 && access(p, F_OK) == 0;
}

struct session {
	target *t;
	symbolizer *s;
	py_proc *py;
};

static int open_session(struct session *ss, pid_t pid, lp_error *err)
{
	memset(ss, 0, sizeof *ss);
	int rc = target_attach(&ss->t, pid, err);
	if (rc != LP_OK)
		return rc;
	target_refresh_threads(ss->t);
	rc = symbolizer_new(&ss->s, pid, target_procfd(ss->t));
	if (rc != LP_OK)
		return lp_error_set(err, rc, "symbolizer_new");
	return py_proc_attach(&ss->py, ss->t, ss->s, err);
}

static void close_session(struct session *ss)
{
	py_proc_free(ss->py);
	if (ss->s)
		symbolizer_free(ss->s);
	if (ss->t)
		target_free(ss->t, false);
}

static const struct py_thread *find_thread(struct py_thread *th, size_t n,
					   const char *leaf)
{
	for (size_t i = 0; i < n; i++)
		if (th[i].nframes && strcmp(th[i].frames[0].func, leaf) == 0)
			return &th[i];
	return NULL;
}

/* One interpreter, one mode: returns the number of failures (printed). */
static int check_one(const struct interp *in, const char *mode)
{
	int fails = 0;
	bool sleep = strcmp(mode, "sleep") == 0;
	pid_t pid = spawn(in->path, mode);
	if (pid < 0) {
		printf("FAIL %s %s: target did not start\n", in->label, mode);
		return 1;
	}
	struct session ss;
	lp_error err = { 0 };
	int rc = open_session(&ss, pid, &err);
	if (rc != LP_OK) {
		printf("FAIL %s %s: attach: %s\n", in->label, mode, err.msg);
		close_session(&ss);
		reap(pid);
		return 1;
	}
	char want[64], got[80];
	python_v(in->path, want, sizeof want);
	snprintf(got, sizeof got, "Python %s", py_proc_version(ss.py));
	if (strcmp(want, got) != 0) {
		printf("FAIL %s %s: version \"%s\", python -V says \"%s\"\n",
		       in->label, mode, got, want);
		fails++;
	}
	/* gen: a generator frame in the middle, which from 3.11 lives in
	 * the generator object, not in the thread's data stack. */
	bool gen = strcmp(mode, "gen") == 0;
	const char *names[4] = { "inner", "middle", "outer", "<module>" };
	int lines[4] = { sleep ? LINE_SLEEP : LINE_BUSY, LINE_MIDDLE,
			 LINE_OUTER, LINE_MODULE };
	if (gen) {
		names[1] = "genf";
		names[2] = "viagen";
		lines[1] = LINE_GENF;
		lines[2] = LINE_VIAGEN;
		lines[3] = LINE_MODULE_GEN;
	}
	const char *ver = py_proc_version(ss.py);
	bool old_eval = ver[0] == '2' || (ver[0] == '3' && ver[2] != '1') ||
			strncmp(ver, "3.10.", 5) == 0;
	int nsamples = 200, good = 0, gil = 0, other_ok = 0, tid_ok = 0;
	char first_bad[512] = "";
	for (int i = 0; i < nsamples; i++) {
		struct py_thread *th;
		size_t n;
		rc = py_proc_sample(ss.py, &th, &n);
		if (rc != LP_OK) {
			snprintf(first_bad, sizeof first_bad, "sample rc %d", rc);
			continue;
		}
		const struct py_thread *m = find_thread(th, n, "inner");
		const struct py_thread *o = find_thread(th, n, "other");
		bool ok = m && m->nframes == 4 && !m->truncated;
		for (int k = 0; ok && k < 4; k++)
			ok = strcmp(m->frames[k].func, names[k]) == 0 &&
			     m->frames[k].line == lines[k] &&
			     strstr(m->frames[k].file, script_path + 5);
		/* Up to 3.10 every frame is its own eval-loop call; from 3.11
		 * Python-to-Python calls stay in one, entered at <module>. */
		for (int k = 0; ok && !gen && k < 4; k++)
			ok = m->frames[k].entry == (old_eval || k == 3);
		if (ok)
			good++;
		else if (!first_bad[0]) {
			size_t len = 0;
			len += (size_t)snprintf(first_bad + len, sizeof first_bad - len,
				"%zu threads; main:", n);
			for (size_t k = 0; m && k < m->nframes && len < 400; k++)
				len += (size_t)snprintf(first_bad + len,
					sizeof first_bad - len, " %s:%d%s",
					m->frames[k].func, m->frames[k].line,
					m->frames[k].entry ? "(entry)" : "");
		}
		if (m && m->gil)
			gil++;
		if (o && o->frames[0].line == LINE_OTHER && o->nframes >= 2)
			other_ok++;
		bool tids = n >= 2;
		for (size_t k = 0; k < n; k++)
			tids = tids && is_task(pid, th[k].tid);
		if (tids && m && m->tid == pid)
			tid_ok++;
		usleep(1000);
	}
	if (good < nsamples * 9 / 10) {
		printf("FAIL %s %s: %d/%d samples with inner:%d middle:%d outer:%d "
		       "<module>:%d; first bad: %s\n", in->label, mode, good,
		       nsamples, lines[0], lines[1], lines[2], lines[3], first_bad);
		fails++;
	}
	if (other_ok < nsamples * 9 / 10) {
		printf("FAIL %s %s: second thread in other() in %d/%d\n",
		       in->label, mode, other_ok, nsamples);
		fails++;
	}
	if (tid_ok < nsamples * 9 / 10) {
		printf("FAIL %s %s: tids right in %d/%d\n", in->label, mode,
		       tid_ok, nsamples);
		fails++;
	}
	if (!sleep && gil < nsamples / 2) {
		printf("FAIL %s %s: busy thread holds the GIL in %d/%d\n",
		       in->label, mode, gil, nsamples);
		fails++;
	}
	if (sleep && gil > nsamples / 2) {
		printf("FAIL %s %s: sleeping thread holds the GIL in %d/%d\n",
		       in->label, mode, gil, nsamples);
		fails++;
	}
	printf("%s %s %s: version %s, %d/%d exact, gil %d, reads/sample %llu\n",
	       fails ? "FAIL" : "ok", in->label, mode, py_proc_version(ss.py),
	       good, nsamples, gil,
	       (unsigned long long)py_proc_last_reads(ss.py));
	close_session(&ss);
	reap(pid);
	return fails;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Warm cost of one py_proc_sample with a 20-deep stack (inner + 17 deep +
 * <module> + the thread's other frames). */
static int bench_one(const struct interp *in)
{
	pid_t pid = spawn(in->path, "deep");
	if (pid < 0)
		return 1;
	struct session ss;
	lp_error err = { 0 };
	int fails = 0;
	if (open_session(&ss, pid, &err) != LP_OK) {
		printf("FAIL bench %s: %s\n", in->label, err.msg);
		fails = 1;
		goto out;
	}
	struct py_thread *th;
	size_t n, depth = 0;
	for (int i = 0; i < 100; i++)
		py_proc_sample(ss.py, &th, &n);
	/* Best of 40 batches: the machine is shared, the best batch is the
	 * cost of the walk and its one system call, not of being preempted. */
	double per = 1e9, sum = 0;
	int batch = 500, nb = 40;
	for (int b = 0; b < nb; b++) {
		double t0 = now_us();
		for (int i = 0; i < batch; i++)
			py_proc_sample(ss.py, &th, &n);
		double dt = (now_us() - t0) / batch;
		sum += dt;
		if (dt < per)
			per = dt;
	}
	const struct py_thread *m = find_thread(th, n, "inner");
	depth = m ? m->nframes : 0;
	printf("bench %s: %zu-deep main stack, %zu threads, %.2f us/sample "
	       "(best batch; mean %.2f), %llu reads/sample\n", in->label, depth,
	       n, per, sum / nb,
	       (unsigned long long)py_proc_last_reads(ss.py));
	if (depth != 20)
		fails++;
out:
	close_session(&ss);
	reap(pid);
	return fails;
}

/* Light samples (walk.c): while the main thread keeps the GIL, only it is
 * walked again; the other thread's frames are reused until the GIL's
 * switch count moves.  It must still be seen changing between two
 * functions, every time it runs. */
static const char *light_script =
	"import sys, threading, time\n"
	"def nap_a(): time.sleep(0.01)\n"
	"def nap_b(): time.sleep(0.01)\n"
	"def other():\n"
	"    while 1:\n"
	"        nap_a()\n"
	"        nap_b()\n"
	"def spin():\n"
	"    x = 0\n"
	"    while 1: x += 1\n"
	"t = threading.Thread(target=other)\n"
	"t.daemon = True\n"
	"t.start()\n"
	"sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
	"spin()\n";

static int light_one(const struct interp *in, const char *path)
{
	pid_t pid = spawn_script(in->path, path, "x");
	if (pid < 0) {
		printf("FAIL light %s: target did not start\n", in->label);
		return 1;
	}
	struct session ss;
	lp_error err = { 0 };
	int fails = 0;
	if (open_session(&ss, pid, &err) != LP_OK) {
		printf("FAIL light %s: %s\n", in->label, err.msg);
		fails = 1;
		goto out;
	}
	unsigned a = 0, b = 0, spin = 0, total = 2000;
	for (unsigned i = 0; i < total; i++) {
		struct py_thread *th;
		size_t n;
		if (py_proc_sample(ss.py, &th, &n) != LP_OK)
			continue;
		a += find_thread(th, n, "nap_a") != NULL;
		b += find_thread(th, n, "nap_b") != NULL;
		spin += find_thread(th, n, "spin") != NULL;
		usleep(500);
	}
	uint64_t light = ss.py->light_samples;
	printf("light %s: %llu of %u samples light; nap_a %u, nap_b %u, "
	       "spin %u\n", in->label, (unsigned long long)light, total, a, b,
	       spin);
	/* Both naps are about half the time each; the spinner always. */
	if (a < total / 5 || b < total / 5 || spin < total * 9 / 10) {
		printf("FAIL light %s: a thread's stack went stale\n", in->label);
		fails++;
	}
	/* 3.7+ keep the GIL's switch count where we read it. */
	if (!strstr(in->label, "2.7") && !strstr(in->label, "3.6") &&
	    light < total / 2) {
		printf("FAIL light %s: light samples not taken\n", in->label);
		fails++;
	}
out:
	close_session(&ss);
	reap(pid);
	return fails;
}

/* src, written to a temporary file, run by check on every interpreter
 * installed; the failures they print, counted (-1: no interpreter). */
static int on_every_interp(const char *src,
			   int (*check)(const struct interp *, const char *))
{
	char path[] = "/tmp/loupe-py-live-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(write(fd, src, strlen(src)), 0);
	close(fd);
	struct interp v[32];
	size_t n = list_interps(v, 32);
	if (!n) {
		unlink(path);
		return -1;
	}
	int fails = 0;
	for (size_t i = 0; i < n; i++)
		fails += check(&v[i], path);
	unlink(path);
	return fails;
}

START_TEST(test_light_samples)
{
	int fails = on_every_interp(light_script, light_one);
	if (fails < 0)
		unit_skip("no interpreter installed");
	ck_assert_int_eq(fails, 0);
}
END_TEST

START_TEST(test_every_interpreter)
{
	struct interp v[32];
	size_t n = list_interps(v, 32);
	if (!n)
		unit_skip("no interpreter installed");
	int fails = 0;
	for (size_t i = 0; i < n; i++) {
		fails += check_one(&v[i], "busy");
		fails += check_one(&v[i], "sleep");
		fails += check_one(&v[i], "gen");
	}
	ck_assert_int_eq(fails, 0);
}
END_TEST

START_TEST(test_bench)
{
	struct interp v[32];
	size_t n = list_interps(v, 32);
	if (!n)
		unit_skip("no interpreter installed");
	int fails = 0;
	for (size_t i = 0; i < n; i++)
		fails += bench_one(&v[i]);
	ck_assert_int_eq(fails, 0);
}
END_TEST

/* Function names of each string kind: UCS1 (café), UCS2 (函数), UCS4 (an
 * ideograph of plane 2), decoded to UTF-8 (Python 3 only). */
static const char *uscript =
	"import sys\n"
	"def \U00020000():\n"
	"    sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
	"    while 1: pass\n"
	"def \u51fd\u6570(): \U00020000()\n"
	"def caf\u00e9(): \u51fd\u6570()\n"
	"caf\u00e9()\n";

START_TEST(test_unicode_names)
{
	struct interp v[32];
	size_t n = list_interps(v, 32);
	if (!n)
		unit_skip("no interpreter installed");
	int fails = 0;
	char saved[64];
	memcpy(saved, script_path, sizeof saved);
	snprintf(script_path, sizeof script_path, "/tmp/loupe-py-uni-XXXXXX");
	int fd = mkstemp(script_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(write(fd, uscript, strlen(uscript)), 0);
	close(fd);
	const char *want[4] = { "\U00020000", "\u51fd\u6570", "caf\u00e9",
				"<module>" };
	for (size_t i = 0; i < n; i++) {
		if (strncmp(v[i].label, "2.", 2) == 0)
			continue;
		pid_t pid = spawn(v[i].path, "x");
		struct session ss;
		lp_error err = { 0 };
		if (pid < 0 || open_session(&ss, pid, &err) != LP_OK) {
			printf("FAIL unicode %s: %s\n", v[i].label, err.msg);
			fails++;
			if (pid > 0) {
				close_session(&ss);
				reap(pid);
			}
			continue;
		}
		struct py_thread *th;
		size_t nt;
		bool ok = py_proc_sample(ss.py, &th, &nt) == LP_OK && nt == 1 &&
			  th[0].nframes == 4;
		for (int k = 0; ok && k < 4; k++)
			ok = strcmp(th[0].frames[k].func, want[k]) == 0;
		printf("%s unicode names %s: %s\n", ok ? "ok" : "FAIL",
		       v[i].label, ok ? th[0].frames[0].func : "mismatch");
		fails += !ok;
		close_session(&ss);
		reap(pid);
	}
	unlink(script_path);
	memcpy(script_path, saved, sizeof saved);
	ck_assert_int_eq(fails, 0);
}
END_TEST

/* The target dies between samples: the walker says so, nothing else. */
START_TEST(test_target_exits)
{
	struct interp v[32];
	size_t n = list_interps(v, 32);
	if (!n)
		unit_skip("no interpreter installed");
	for (size_t i = 0; i < n; i++) {
		pid_t pid = spawn(v[i].path, "busy");
		ck_assert_int_gt(pid, 0);
		struct session ss;
		lp_error err = { 0 };
		ck_assert_int_eq(open_session(&ss, pid, &err), LP_OK);
		struct py_thread *th;
		size_t nt;
		ck_assert_int_eq(py_proc_sample(ss.py, &th, &nt), LP_OK);
		reap(pid);
		int rc = py_proc_sample(ss.py, &th, &nt);
		ck_assert_msg(rc == LP_ENOPROC, "%s: rc %d after exit",
			      v[i].label, rc);
		close_session(&ss);
	}
}
END_TEST

START_TEST(test_not_python)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	usleep(100000);
	struct session ss;
	lp_error err = { 0 };
	int rc = open_session(&ss, pid, &err);
	ck_assert_int_eq(rc, LP_ENOTFOUND);
	close_session(&ss);
	reap(pid);
}
END_TEST

int main(void)
{
	snprintf(script_path, sizeof script_path, "/tmp/loupe-py-live-XXXXXX");
	int fd = mkstemp(script_path);
	if (fd < 0 || write(fd, script, strlen(script)) < 0)
		return 1;
	close(fd);
	Suite *s = suite_create("py_live");
	TCase *tc = tcase_create("live");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_not_python);
	tcase_add_test(tc, test_every_interpreter);
	tcase_add_test(tc, test_unicode_names);
	tcase_add_test(tc, test_target_exits);
	tcase_add_test(tc, test_bench);
	tcase_add_test(tc, test_light_samples);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	unlink(script_path);
	return failed ? 1 : 0;
}
