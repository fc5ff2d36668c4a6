#include "ptrace_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "clock.h"
#include "procfs.h"

/* Events queued between two drains; beyond, they are dropped and the
 * thread's state reset (SYS_LOST). */
#define QUEUE_CAP 65536
/* Threads followed (LOOP_MAX_THREADS: no more are looked at anyway). */
#define MAX_THREADS_PT 512
/* Passes over /proc/PID/task while threads are being created under us. */
#define MAX_ATTACH_PASSES 16

struct pt_thread {
	pid_t tid;
	bool gone;
	long nr;		/* the call entered last: an exit stop does not
				 * name it */
};

struct ptrace_sys {
	pid_t pid;
	pthread_t th;
	bool started;
	volatile sig_atomic_t stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool ready;		/* attach finished (start_rc holds the result) */
	bool done;		/* the waiting thread has detached and ends */
	int start_rc;
	lp_error start_err;
	bool exited;
	unsigned long long lost;
	struct sys_event *q, *out;	/* queue, and a drain's copy */
	size_t qn;
	/* the waiting thread's own */
	struct pt_thread thr[MAX_THREADS_PT];
	size_t nthr;
	size_t alive;
};

static int wake_signal(void)
{
	/* glibc keeps the first realtime signals for itself */
	return SIGRTMIN + 4;
}

static void on_wake(int sig)
{
	(void)sig;
}

static void push(ptrace_sys *pt, const struct sys_event *e)
{
	pthread_mutex_lock(&pt->mu);
	if (pt->qn < QUEUE_CAP) {
		pt->q[pt->qn++] = *e;
	} else {
		pt->lost++;
		/* The last slot says that this thread's events went missing. */
		pt->q[QUEUE_CAP - 1] = (struct sys_event){ .tid = e->tid,
							   .kind = SYS_LOST };
	}
	pthread_mutex_unlock(&pt->mu);
}

static struct pt_thread *find(ptrace_sys *pt, pid_t tid)
{
	for (size_t i = 0; i < pt->nthr; i++)
		if (pt->thr[i].tid == tid && !pt->thr[i].gone)
			return &pt->thr[i];
	return NULL;
}

static bool add_thread(ptrace_sys *pt, pid_t tid)
{
	if (find(pt, tid))
		return true;
	if (pt->nthr >= MAX_THREADS_PT) {
		/* reuse the slot of an exited thread */
		for (size_t i = 0; i < pt->nthr; i++) {
			if (pt->thr[i].gone) {
				pt->thr[i] = (struct pt_thread){ tid, false, -1 };
				pt->alive++;
				return true;
			}
		}
		return false;
	}
	pt->thr[pt->nthr++] = (struct pt_thread){ tid, false, -1 };
	pt->alive++;
	return true;
}

static void gone(ptrace_sys *pt, pid_t tid)
{
	struct pt_thread *t = find(pt, tid);
	if (t) {
		t->gone = true;
		pt->alive--;
	}
}

#define PT_OPTIONS (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC)

struct seize_walk {
	ptrace_sys *pt;
	int added;
	int rc;
};

/* One thread of the task directory: seized unless known or gone.
 * Non-zero stops the listing (rc says why). */
static int seize_one(void *arg, pid_t tid, uint64_t inode)
{
	struct seize_walk *sw = arg;
	ptrace_sys *pt = sw->pt;
	(void)inode;
	if (find(pt, tid))
		return 0;
	if (ptrace(PTRACE_SEIZE, tid, 0, PT_OPTIONS) != 0) {
		int e = errno;
		if (e == ESRCH)
			return 0;	/* ended meanwhile */
		sw->rc = lp_error_set(&pt->start_err, e == EPERM ? LP_EPERM : LP_EIO,
				      "cannot trace TID %d with ptrace: %s — run as root or grant CAP_SYS_PTRACE",
				      (int)tid, strerror(e));
		return 1;
	}
	if (!add_thread(pt, tid)) {
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return 0;
	}
	/* its first stop (PTRACE_EVENT_STOP) starts the syscall stops */
	ptrace(PTRACE_INTERRUPT, tid, 0, 0);
	sw->added++;
	return 0;
}

/* Seizes every thread listed, again until a pass finds none new (threads
 * started meanwhile by a thread not yet seized). */
static int attach_all(ptrace_sys *pt)
{
	char path[64], buf[4096] __attribute__((aligned(8)));
	snprintf(path, sizeof path, "/proc/%d/task", (int)pt->pid);
	for (int pass = 0; pass < MAX_ATTACH_PASSES; pass++) {
		int tfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (tfd < 0)
			return lp_error_set(&pt->start_err, LP_ENOPROC, "PID %d exited",
					    (int)pt->pid);
		struct seize_walk sw = { pt, 0, LP_OK };
		procfs_each_id(tfd, buf, sizeof buf, seize_one, &sw);
		close(tfd);
		if (sw.rc != LP_OK)
			return sw.rc;
		if (!sw.added)
			return LP_OK;
	}
	return LP_OK;
}

static void on_syscall_stop(ptrace_sys *pt, pid_t tid)
{
	struct __ptrace_syscall_info info;	/* glibc 2.34+ */
	memset(&info, 0, sizeof info);
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof info, &info);
	if (n <= 0)
		return;
	struct sys_event e = { .time_ns = clock_mono_ns(), .tid = tid };
	struct pt_thread *t = find(pt, tid);
	if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
		e.kind = SYS_ENTER;
		e.nr = (long)info.entry.nr;
		e.args[0] = (unsigned long)info.entry.args[0];
		e.args[1] = (unsigned long)info.entry.args[1];
		if (t)
			t->nr = e.nr;
	} else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
		e.kind = SYS_EXIT;
		e.ret = (long)info.exit.rval;
		e.nr = t ? t->nr : -1;
	} else {
		return;
	}
	push(pt, &e);
}

/* One wait status of a traced thread: resume it as it must be. */
static void handle(ptrace_sys *pt, pid_t tid, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		gone(pt, tid);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	int sig = WSTOPSIG(status);
	int event = status >> 16;
	int inject = 0;
	if (sig == (SIGTRAP | 0x80)) {
		on_syscall_stop(pt, tid);
	} else if (event == PTRACE_EVENT_CLONE) {
		unsigned long child = 0;
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) == 0 && child > 0)
			add_thread(pt, (pid_t)child);	/* its first stop comes */
	} else if (event == PTRACE_EVENT_STOP) {
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			/* a job-control stop: stay stopped as without us */
			ptrace(PTRACE_LISTEN, tid, 0, 0);
			return;
		}
		if (!find(pt, tid))
			add_thread(pt, tid);	/* a clone reported first */
	} else if (event == 0) {
		inject = sig;	/* a signal for the thread: deliver it */
	}
	ptrace(PTRACE_SYSCALL, tid, 0, (void *)(long)inject);
}

/* Stops each thread (PTRACE_INTERRUPT), waits for the stop, detaches,
 * handing back a signal that was about to be delivered. */
static void detach_all(ptrace_sys *pt)
{
	for (size_t i = 0; i < pt->nthr; i++) {
		struct pt_thread *t = &pt->thr[i];
		if (t->gone)
			continue;
		ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
		for (int tries = 0; tries < 1000; tries++) {
			int status;
			pid_t w = waitpid(t->tid, &status, __WALL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 || WIFEXITED(status) || WIFSIGNALED(status))
				break;
			int sig = WSTOPSIG(status);
			int event = status >> 16;
			long give = 0;
			if (event == 0 && sig != (SIGTRAP | 0x80))
				give = sig;
			if (ptrace(PTRACE_DETACH, t->tid, 0, (void *)give) == 0)
				break;
		}
		t->gone = true;
	}
	pt->alive = 0;
}

static void *pump(void *arg)
{
	ptrace_sys *pt = arg;
	/* Ctrl-C and friends are the main thread's to handle. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	int rc = attach_all(pt);
	pthread_mutex_lock(&pt->mu);
	pt->start_rc = rc;
	pt->ready = true;
	pthread_cond_signal(&pt->cv);
	pthread_mutex_unlock(&pt->mu);
	if (rc != LP_OK) {
		detach_all(pt);
		pthread_mutex_lock(&pt->mu);
		pt->done = true;
		pthread_mutex_unlock(&pt->mu);
		return NULL;
	}
	while (!pt->stop) {
		int status;
		pid_t tid = waitpid(-1, &status, __WALL);
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			break;	/* ECHILD: nothing left to trace */
		}
		handle(pt, tid, status);
		if (pt->alive == 0)
			break;
	}
	detach_all(pt);
	pthread_mutex_lock(&pt->mu);
	pt->exited = !pt->stop;
	pt->done = true;
	pthread_cond_signal(&pt->cv);
	pthread_mutex_unlock(&pt->mu);
	return NULL;
}

int ptrace_sys_new(ptrace_sys **out, pid_t pid, lp_error *err)
{
	ptrace_sys *pt = calloc(1, sizeof *pt);
	if (!pt)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	pt->pid = pid;
	pthread_mutex_init(&pt->mu, NULL);
	pthread_cond_init(&pt->cv, NULL);
	pt->q = malloc(QUEUE_CAP * sizeof *pt->q);
	pt->out = malloc(QUEUE_CAP * sizeof *pt->out);
	if (!pt->q || !pt->out) {
		ptrace_sys_free(pt);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_wake;	/* no SA_RESTART: waitpid returns */
	sigemptyset(&sa.sa_mask);
	sigaction(wake_signal(), &sa, NULL);
	if (pthread_create(&pt->th, NULL, pump, pt) != 0) {
		ptrace_sys_free(pt);
		return lp_error_set(err, LP_ENOMEM, "cannot start a thread");
	}
	pt->started = true;
	pthread_mutex_lock(&pt->mu);
	while (!pt->ready)
		pthread_cond_wait(&pt->cv, &pt->mu);
	int rc = pt->start_rc;
	pthread_mutex_unlock(&pt->mu);
	if (rc != LP_OK) {
		lp_error_set(err, rc, "%s", pt->start_err.msg);
		ptrace_sys_free(pt);
		return rc;
	}
	*out = pt;
	return LP_OK;
}

void ptrace_sys_free(ptrace_sys *pt)
{
	if (!pt)
		return;
	if (pt->started) {
		/* The signal may land just before the thread blocks in
		 * waitpid, where nothing else wakes it if the target makes no
		 * syscall: send it again until the thread is done. */
		pt->stop = 1;
		pthread_mutex_lock(&pt->mu);
		while (!pt->done) {
			pthread_kill(pt->th, wake_signal());
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&pt->cv, &pt->mu, &ts);
		}
		pthread_mutex_unlock(&pt->mu);
		pthread_join(pt->th, NULL);
	}
	pthread_mutex_destroy(&pt->mu);
	pthread_cond_destroy(&pt->cv);
	free(pt->q);
	free(pt->out);
	free(pt);
}

void ptrace_sys_drain(ptrace_sys *pt, sys_event_fn fn, void *ctx)
{
	pthread_mutex_lock(&pt->mu);
	size_t n = pt->qn;
	memcpy(pt->out, pt->q, n * sizeof *pt->q);
	pt->qn = 0;
	pthread_mutex_unlock(&pt->mu);
	for (size_t i = 0; i < n; i++)
		fn(ctx, &pt->out[i]);
}

bool ptrace_sys_exited(ptrace_sys *pt)
{
	pthread_mutex_lock(&pt->mu);
	bool e = pt->exited;
	pthread_mutex_unlock(&pt->mu);
	return e;
}

unsigned long long ptrace_sys_lost(ptrace_sys *pt)
{
	pthread_mutex_lock(&pt->mu);
	unsigned long long n = pt->lost;
	pthread_mutex_unlock(&pt->mu);
	return n;
}
