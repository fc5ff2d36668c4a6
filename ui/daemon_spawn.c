/* An interim sampling backend for loupe daemon: one 'loupe record' child
 * per target, writing the current window to DIR/NAME-PID/.window.loupe;
 * a flush stops it (SIGINT: it writes what it sampled), renames the file
 * to the window's name and starts the next child.  It reuses the engine as
 * it is, one sampler per process, until the multi-process sampler (#10)
 * gives the daemon one loop over every target: that backend replaces this
 * file.  Limits: the current window is not in snapshots (only finished
 * windows are), the children's CPU is not under max_cpu, a few tens of ms
 * between windows are not sampled, --subprocesses is not passed; ctl dump
 * runs loupe dump, and the daemon's loop waits for it. */
#include "daemon_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_WAIT_MS 5000	/* for a child to write its window */

struct spawn_target {
	pid_t pid;		/* the profiled process */
	pid_t child;		/* its loupe record, 0 when none */
	char *cur;		/* the window being written */
	double rate;
	enum sample_mode mode;
	bool native, tasks, subprocesses;
	uint64_t samples;
	char runtime[64];
};

static int start_child(struct spawn_target *t, lp_error *err)
{
	char pid[16], rate[32];
	snprintf(pid, sizeof pid, "%d", (int)t->pid);
	snprintf(rate, sizeof rate, "%g", t->rate);
	const char *mode = t->mode == MODE_WALL ? "wall" : t->mode == MODE_GIL ? "gil" : "cpu";
	char *argv[16];
	int n = 0;
	argv[n++] = "loupe";
	argv[n++] = "record";
	argv[n++] = "-q";
	argv[n++] = "-p";
	argv[n++] = pid;
	argv[n++] = "-r";
	argv[n++] = rate;
	argv[n++] = "--mode";
	argv[n++] = (char *)mode;
	if (t->native)
		argv[n++] = "--native";
	if (t->tasks)
		argv[n++] = "--tasks";
	if (t->subprocesses)
		argv[n++] = "--subprocesses";
	argv[n++] = "-o";
	argv[n++] = t->cur;
	argv[n] = NULL;
	pid_t parent = getpid();
	pid_t c = fork();
	if (c < 0)
		return lp_error_set(err, LP_EIO, "cannot start a sampler for PID %d: %s", (int)t->pid, strerror(errno));
	if (c == 0) {
		/* the daemon killed: the window is still written */
		prctl(PR_SET_PDEATHSIG, SIGINT);
		if (getppid() != parent)
			_exit(1);
		/* SIGINT ends record; the daemon may have it ignored */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	t->child = c;
	return LP_OK;
}

/* Stops the child (if running) and waits for its window, bounded. */
static void stop_child(struct spawn_target *t)
{
	if (!t->child)
		return;
	kill(t->child, SIGINT);
	for (int waited = 0; ; waited += 10) {
		pid_t r = waitpid(t->child, NULL, WNOHANG);
		if (r == t->child || (r < 0 && errno != EINTR))
			break;
		if (waited >= STOP_WAIT_MS) {
			kill(t->child, SIGKILL);
			waitpid(t->child, NULL, 0);
			break;
		}
		usleep(10000);
	}
	/* a child stopped before it could finish leaves its temporary
	 * (formats/atomic_file.c names it PATH.tmp.PID): not a window */
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", t->cur, (int)t->child);
	unlink(tmp);
	t->child = 0;
}

static int sp_start(void *ctx, const struct daemon_target_spec *spec,
		    void **handle, lp_error *err)
{
	struct spawn_target *t = calloc(1, sizeof *t);
	if (!t || asprintf(&t->cur, "%s/.window.loupe", spec->dir) < 0) {
		free(t);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	t->pid = spec->pid;
	t->rate = spec->rate;
	t->mode = spec->mode;
	t->native = spec->native;
	t->tasks = spec->tasks;
	t->subprocesses = spec->subprocesses;
	int rc = start_child(t, err);
	if (rc) {
		free(t->cur);
		free(t);
		return rc;
	}
	*handle = t;
	return LP_OK;
}

/* What the finished window holds: samples and runtime, for status. */
static void account(struct spawn_target *t, const char *path)
{
	profile *p = profile_new();
	struct raw_read_info info;
	lp_error err;
	if (p && raw_read_file(path, p, &info, &err) == LP_OK) {
		t->samples += profile_total_samples(p);
		const char *rt = profile_meta(p, "runtime");
		if (rt)
			snprintf(t->runtime, sizeof t->runtime, "%s", rt);
	}
	profile_free(p);
}

static int sp_flush(void *ctx, void *handle, const char *path, lp_error *err)
{
	struct spawn_target *t = handle;
	stop_child(t);
	struct stat st;
	int rc = LP_OK;
	if (stat(t->cur, &st) != 0) {
		rc = LP_ENOTFOUND;	/* nothing sampled (the process ended) */
	} else if (rename(t->cur, path) != 0) {
		rc = lp_error_set(err, LP_EIO, "cannot rename %s to %s: %s", t->cur, path, strerror(errno));
	} else {
		account(t, path);
	}
	/* the next window, unless the process is gone */
	if (kill(t->pid, 0) == 0 || errno == EPERM) {
		lp_error e2 = { 0 };
		start_child(t, &e2);
	}
	return rc;
}

static int sp_snapshot(void *ctx, void *handle, profile *p, lp_error *err)
{
	return LP_OK;	/* the current window is the child's until flushed */
}

static bool sp_alive(void *ctx, void *handle)
{
	struct spawn_target *t = handle;
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)t->pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static void sp_figures(void *ctx, void *handle, struct daemon_target_figures *f)
{
	struct spawn_target *t = handle;
	f->samples = t->samples;
	f->missed = 0;
	snprintf(f->runtime, sizeof f->runtime, "%s", t->runtime);
}

static void sp_set_rate(void *ctx, void *handle, double hz)
{
	((struct spawn_target *)handle)->rate = hz;	/* from the next window */
}

static void sp_stop(void *ctx, void *handle)
{
	struct spawn_target *t = handle;
	stop_child(t);
	unlink(t->cur);	/* a window started after the last flush */
	free(t->cur);
	free(t);
}

/* loupe dump -p PID [--tasks], its output read whole (bounded in size and
 * time: the daemon's loop waits for it). */
#define DUMP_MAX_BYTES (4u << 20)
#define DUMP_DEADLINE_MS 10000
static char *sp_dump(void *ctx, void *handle, bool tasks, lp_error *err)
{
	struct spawn_target *t = handle;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		lp_error_set(err, LP_EIO, "cannot run loupe dump: %s", strerror(errno));
		return NULL;
	}
	char pid[16];
	snprintf(pid, sizeof pid, "%d", (int)t->pid);
	char *argv[] = { "loupe", "dump", "-p", pid, tasks ? "--tasks" : NULL, NULL };
	pid_t c = fork();
	if (c == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(fds[1]);
	if (c < 0) {
		close(fds[0]);
		lp_error_set(err, LP_EIO, "cannot run loupe dump: %s", strerror(errno));
		return NULL;
	}
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap);
	bool late = false;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = DUMP_DEADLINE_MS - ((now.tv_sec - start.tv_sec) * 1000 +
						(now.tv_nsec - start.tv_nsec) / 1000000);
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		if (!buf || left <= 0 || poll(&p, 1, (int)left) <= 0) {
			late = true;
			break;
		}
		if (n + 1 >= cap) {
			char *nb = cap < DUMP_MAX_BYTES ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				late = true;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fds[0], buf + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fds[0]);
	if (late)
		kill(c, SIGKILL);
	int status = 0;
	waitpid(c, &status, 0);
	if (!buf) {
		lp_error_set(err, LP_ENOMEM, "out of memory");
		return NULL;
	}
	buf[n] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* its one-line error, without "loupe: " */
		char *msg = strncmp(buf, "loupe: ", 7) == 0 ? buf + 7 : buf;
		msg[strcspn(msg, "\n")] = '\0';
		lp_error_set(err, LP_EIO, "%s", *msg ? msg : "loupe dump failed");
		free(buf);
		return NULL;
	}
	return buf;
}

static int sp_run(void *ctx, uint64_t now_ns)
{
	return -1;	/* the children sample */
}

void daemon_spawn_backend(struct daemon_backend *be)
{
	memset(be, 0, sizeof *be);
	be->start = sp_start;
	be->flush = sp_flush;
	be->snapshot = sp_snapshot;
	be->alive = sp_alive;
	be->figures = sp_figures;
	be->set_rate = sp_set_rate;
	be->stop = sp_stop;
	be->run = sp_run;
	be->dump = sp_dump;
}
