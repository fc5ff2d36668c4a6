#include "target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "clock.h"
#include "procfs.h"

/* Bounded retries when a ptrace wait keeps reporting signal-delivery stops
 * before the PTRACE_INTERRUPT stop arrives (each signal is re-injected). */
#define MAX_PAUSE_WAITS 64

struct target_reader {
	mem_reader base;	/* first: a mem_reader* is a target_reader* */
	target *t;
};

struct target {
	pid_t pid;
	int procfd;		/* /proc/PID, O_RDONLY|O_DIRECTORY */
	int statfd;		/* /proc/PID/stat kept open, 0 until opened */
	int taskfd;		/* /proc/PID/task kept open, 0 until opened */
	int memfd;		/* /proc/PID/mem when used as fallback, or -1 */
	bool use_mem;		/* process_vm_readv unusable, mem works */
	bool spawned;
	bool other_pidns;	/* in a PID namespace other than ours */
	bool detach_on_resume;
	bool exited;		/* spawned child reaped */
	int exit_status;
	int cpuclock_state;	/* 0 unknown, 1 cpuclock usable, -1 not */
	clockid_t cpuclock;	/* the whole process's CPU clock */
	char comm[16];
	char exe[MAX_PATH_LEN];
	struct target_reader reader;
	struct maps maps;
	struct target_thread *threads;
	size_t nthreads, cap;
	/* Scratch for one process_vm_readv: kept here, not on the stack,
	 * and not allocated per read. */
	struct iovec liov[MAX_IOV], riov[MAX_IOV];
	size_t idx[MAX_IOV];	/* which caller iov each entry is */
};

/* ---- remote memory ------------------------------------------------- */

/* A failed read of the target's memory or ptrace request (EINVAL there is
 * an address beyond what the kernel accepts: a bad address). */
static int classify(int errnum)
{
	return lp_errno_class(errnum, LP_USE_MEMORY);
}

static int mem_pread_all(target *t, const struct remote_iov *iov, size_t n)
{
	int rc = LP_OK;
	for (size_t i = 0; i < n; i++) {
		size_t done = 0;
		if (iov[i].addr > (uint64_t)INT64_MAX - iov[i].len) {
			rc = LP_EFAULT;
			continue;
		}
		while (done < iov[i].len) {
			ssize_t r = pread(t->memfd, (char *)iov[i].local + done,
					  iov[i].len - done,
					  (off_t)(iov[i].addr + done));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				int c = r == 0 ? LP_ENOPROC : classify(errno);
				if (c != LP_EFAULT)
					return c;
				rc = LP_EFAULT;
				break;
			}
			done += (size_t)r;
		}
	}
	return rc;
}

/* process_vm_readv stops at the first iov it cannot read (and may stop in
 * the middle of one at a page boundary, see process_vm_readv(2)): retry
 * from the one after the failing iov so the readable ones are still
 * filled, and report LP_EFAULT. */
static int vm_readv_all(target *t, const struct remote_iov *iov, size_t n)
{
	int rc = LP_OK;
	size_t i = 0;
	while (i < n) {
		size_t k = 0;
		for (; i < n && k < MAX_IOV; i++) {
			if (!iov[i].len)
				continue;
			t->liov[k] = (struct iovec){ iov[i].local, iov[i].len };
			t->riov[k] = (struct iovec){ (void *)(uintptr_t)iov[i].addr,
						     iov[i].len };
			t->idx[k++] = i;
		}
		size_t j = 0;	/* first entry of this batch not yet done */
		while (j < k) {
			ssize_t r = process_vm_readv(t->pid, t->liov + j, k - j,
						     t->riov + j, k - j, 0);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				int c = classify(errno);
				if (c != LP_EFAULT)
					return c;
				r = 0;	/* the first one failed */
			}
			size_t got = (size_t)r;
			while (j < k && got >= t->liov[j].iov_len)
				got -= t->liov[j++].iov_len;
			if (j < k) {
				rc = LP_EFAULT;	/* entry j failed: skip it */
				j++;
			}
		}
	}
	return rc;
}

static int target_readv(mem_reader *self, const struct remote_iov *iov,
			size_t n)
{
	target *t = ((struct target_reader *)self)->t;
	if (t->use_mem)
		return mem_pread_all(t, iov, n);
	return vm_readv_all(t, iov, n);
}

mem_reader *target_reader(target *t)
{
	return &t->reader.base;
}

/* ---- attach ---------------------------------------------------------- */


/* "permission denied" with the reason that is true for this loupe: an
 * ordinary user is told to run as root; root is told what else refuses it
 * (the kernel lets a tracer attach only to a process whose permitted
 * capabilities its own include, unless ...: a container's smaller bounding
 * set does that to PID 1; security/commoncap.c cap_ptrace_access_check). */
static int perm_denied(const target *t, lp_error *err)
{
	char mine[4096], theirs[4096];
	bool ok = procfs_read(AT_FDCWD, "/proc/self/status", mine, sizeof mine) > 0;
	unsigned long long eff = ok ? procfs_status_hex(mine, "CapEff") : 0;
	/* CAP_SYS_PTRACE is capability 19 (linux/capability.h) */
	if (geteuid() != 0 && !(eff & (1ull << 19)))
		return lp_error_set(err, LP_EPERM,
				    "cannot attach to PID %d: permission denied"
				    " — run as root or grant CAP_SYS_PTRACE",
				    (int)t->pid);
	unsigned long long lack = 0;
	if (ok && procfs_read(t->procfd, "status", theirs, sizeof theirs) > 0)
		lack = procfs_status_hex(theirs, "CapPrm") & ~eff;
	if (lack)
		return lp_error_set(err, LP_EPERM,
				    "cannot attach to PID %d: permission denied"
				    " although loupe has CAP_SYS_PTRACE: the process"
				    " holds capabilities loupe lacks (mask %#llx;"
				    " loupe's bounding set is smaller, as in a"
				    " container): run loupe with them", (int)t->pid,
				    lack);
	return lp_error_set(err, LP_EPERM,
			    "cannot attach to PID %d: permission denied although"
			    " loupe has CAP_SYS_PTRACE: a security module (Yama"
			    " ptrace_scope 3, AppArmor, SELinux) or the process's"
			    " user namespace refuses it", (int)t->pid);
}

/* The state letter of a NUL-terminated /proc stat line, or 0. */
static char stat_state(const char *buf)
{
	struct procfs_stat st;
	return procfs_stat_parse(buf, PROCFS_STAT_STATE, &st) ==
		       PROCFS_STAT_STATE ? st.state : 0;
}

/* Checks early that memory is readable: one byte of the first readable
 * mapping, else one byte through /proc/PID/mem. */
static int probe_memory(target *t, lp_error *err)
{
	const struct map_entry *m = NULL;
	for (size_t i = 0; i < t->maps.n; i++)
		if (t->maps.v[i].perms & MAP_PERM_R) {
			m = &t->maps.v[i];
			break;
		}
	if (!m) {	/* a zombie or kernel thread has no mappings */
		char buf[512];
		if (procfs_read(t->procfd, "stat", buf, sizeof buf) > 0 &&
		    stat_state(buf) == 'Z')
			return lp_error_set(err, LP_ENOPROC,
					    "PID %d has exited (a zombie its "
					    "parent has not reaped): nothing to "
					    "sample", t->pid);
		return lp_error_set(err, LP_ENOPROC,
				    "cannot attach to PID %d: it has no memory "
				    "(exited, or a kernel thread)", t->pid);
	}
	unsigned char byte;
	struct iovec l = { &byte, 1 }, r = { (void *)(uintptr_t)m->start, 1 };
	if (process_vm_readv(t->pid, &l, 1, &r, 1, 0) == 1)
		return LP_OK;
	int e = errno;
	if (e == ESRCH)
		return lp_error_set(err, LP_ENOPROC, "no such process: PID %d",
				    t->pid);
	if (e == ENOSYS || e == EPERM) {
		/* Seccomp or an old kernel may forbid process_vm_readv while
		 * /proc/PID/mem still works (it needs the same ptrace
		 * access mode). */
		t->memfd = openat(t->procfd, "mem", O_RDONLY | O_CLOEXEC);
		if (t->memfd >= 0 &&
		    pread(t->memfd, &byte, 1, (off_t)m->start) == 1) {
			t->use_mem = true;
			return LP_OK;
		}
		if (t->memfd >= 0)
			e = errno == EIO ? e : errno;
	}
	if (e == EPERM || e == EACCES)
		return perm_denied(t, err);
	return lp_error_set(err, classify(e),
			    "cannot read the memory of PID %d: %s", t->pid,
			    strerror(e));
}

static int attach_pid(target *t, pid_t pid, lp_error *err)
{
	char path[64], buf[4096];
	t->pid = pid;
	if (pid <= 0)
		return lp_error_set(err, LP_EINVAL, "invalid PID %d", (int)pid);
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	/* Every later /proc access is relative to this fd, so a PID reused
	 * after the target exits cannot be mistaken for it. */
	t->procfd = procfs_open_pid(AT_FDCWD, pid);
	if (t->procfd < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return lp_error_set(err, LP_ENOPROC,
					    "no such process: PID %d", (int)pid);
		return lp_error_set(err, classify(errno),
				    "cannot open %s: %s", path, strerror(errno));
	}
	/* /proc/TID exists for every thread; we want a thread group. */
	if (procfs_read(t->procfd, "status", buf, sizeof buf) > 0) {
		long tgid = procfs_status_long(buf, "Tgid", pid);
		if (tgid != pid)
			return lp_error_set(err, LP_EINVAL,
					    "PID %d is a thread of process %ld:"
					    " attach to %ld", (int)pid, tgid,
					    tgid);
	}
	procfs_read_line(t->procfd, "comm", t->comm, sizeof t->comm);
	ssize_t n = readlinkat(t->procfd, "exe", t->exe, sizeof t->exe - 1);
	t->exe[n > 0 ? n : 0] = '\0';
	/* A container's process numbers its threads in its own namespace:
	 * what CPython records of them must be mapped (NSpid). */
	struct stat mine, theirs;
	t->other_pidns = stat("/proc/self/ns/pid", &mine) == 0 &&
			 fstatat(t->procfd, "ns/pid", &theirs, 0) == 0 &&
			 (mine.st_ino != theirs.st_ino || mine.st_dev != theirs.st_dev);

	int rc = maps_read(t->procfd, &t->maps);
	if (rc == LP_EPERM)
		return perm_denied(t, err);
	if (rc == LP_ENOPROC)
		return lp_error_set(err, LP_ENOPROC, "no such process: PID %d",
				    (int)pid);
	if (rc != LP_OK)
		return lp_error_set(err, rc, "cannot read the maps of PID %d: "
				    "%s", (int)pid, lp_strerror(rc));
	return probe_memory(t, err);
}

bool target_pid_is_self(pid_t pid)
{
	if (pid == getpid())
		return true;
	char buf[4096];
	if (procfs_read_pid(pid, "status", buf, sizeof buf) <= 0)
		return false;
	return procfs_status_long(buf, "Tgid", 0) == getpid();
}

int target_monotonic_ns(target *t, int64_t *ns)
{
	*ns = (int64_t)clock_mono_ns();
	char buf[256];
	if (procfs_read(t->procfd, "timens_offsets", buf, sizeof buf) <= 0)
		return LP_OK;
	/* "monotonic <secs> <nanosecs>" (or clock id 1 on older kernels) */
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l) {
		long long s, n;
		if ((sscanf(l, "monotonic %lld %lld", &s, &n) == 2 ||
		     sscanf(l, "1 %lld %lld", &s, &n) == 2) &&
		    s > -(1ll << 40) && s < (1ll << 40)) {
			*ns += (int64_t)s * 1000000000 + n;
			break;
		}
	}
	return LP_OK;
}

static target *target_alloc(void)
{
	target *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->procfd = -1;
	t->memfd = -1;
	t->exit_status = -1;
	t->reader.base.readv = target_readv;
	t->reader.t = t;
	return t;
}

int target_attach(target **out, pid_t pid, lp_error *err)
{
	*out = NULL;
	target *t = target_alloc();
	if (!t)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	int rc = attach_pid(t, pid, err);
	if (rc != LP_OK) {
		target_free(t, false);
		return rc;
	}
	*out = t;
	return LP_OK;
}

int target_spawn(target **out, char *const argv[], lp_error *err)
{
	int pfd[2], rc;
	*out = NULL;
	if (!argv || !argv[0])
		return lp_error_set(err, LP_EINVAL, "no command to run");
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return lp_error_set(err, LP_EIO, "cannot run %s: pipe: %s",
				    argv[0], strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		rc = lp_error_set(err, LP_EIO, "cannot run %s: fork: %s",
				  argv[0], strerror(errno));
		goto out_pipe;
	}
	if (pid == 0) {
		/* The pipe is CLOEXEC: a successful exec closes it, which the
		 * parent reads as EOF; a failed one writes errno. */
		close(pfd[0]);
		execvp(argv[0], argv);
		int e = errno;
		ssize_t w = write(pfd[1], &e, sizeof e);
		(void)w;
		_exit(127);
	}
	close(pfd[1]);
	pfd[1] = -1;
	int child_errno = 0;
	ssize_t r;
	do
		r = read(pfd[0], &child_errno, sizeof child_errno);
	while (r < 0 && errno == EINTR);
	close(pfd[0]);
	if (r == sizeof child_errno) {
		waitpid(pid, NULL, 0);
		return lp_error_set(err, LP_ENOTFOUND, "cannot run %s: %s",
				    argv[0], strerror(child_errno));
	}
	target *t = target_alloc();
	if (!t) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	t->spawned = true;
	rc = attach_pid(t, pid, err);
	if (rc == LP_ENOPROC && t->procfd >= 0) {
		/* It ran and exited already (a zombie, no memory, until we
		 * reap it): not a failure to start; the caller learns it
		 * from target_exit_status like any exit.  Not reaped here,
		 * so /proc/PID stays readable until the caller looks. */
		rc = LP_OK;
		if (err) {
			err->code = LP_OK;
			err->msg[0] = '\0';
		}
	}
	if (rc != LP_OK) {
		target_free(t, true);
		return rc;
	}
	*out = t;
	return LP_OK;
out_pipe:
	close(pfd[0]);
	close(pfd[1]);
	return rc;
}

static void thread_close(struct target_thread *th)
{
	if (th->stat_fd >= 0)
		close(th->stat_fd);
	if (th->schedstat_fd >= 0)
		close(th->schedstat_fd);
	if (th->wchan_fd > 0)
		close(th->wchan_fd);
	th->stat_fd = th->schedstat_fd = -1;
	th->wchan_fd = 0;
}

void target_free(target *t, bool terminate_child)
{
	if (!t)
		return;
	target_detach_all(t);
	if (t->spawned && !t->exited && terminate_child && t->pid > 0) {
		kill(t->pid, SIGTERM);
		/* Give it a moment to exit cleanly, then insist. */
		for (int i = 0; i < 100 && target_exit_status(t) < 0; i++) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		if (!t->exited) {
			kill(t->pid, SIGKILL);
			int st;
			if (waitpid(t->pid, &st, 0) == t->pid)
				t->exited = true;
		}
	}
	for (size_t i = 0; i < t->nthreads; i++)
		thread_close(&t->threads[i]);
	free(t->threads);
	maps_fini(&t->maps);
	if (t->memfd >= 0)
		close(t->memfd);
	if (t->statfd > 0)
		close(t->statfd);
	if (t->taskfd > 0)
		close(t->taskfd);
	if (t->procfd >= 0)
		close(t->procfd);
	free(t);
}

int target_reexec(target *t, lp_error *err)
{
	procfs_read_line(t->procfd, "comm", t->comm, sizeof t->comm);
	ssize_t n = readlinkat(t->procfd, "exe", t->exe, sizeof t->exe - 1);
	t->exe[n > 0 ? n : 0] = '\0';
	/* /proc/PID/mem opened before the exec reads the old image. */
	if (t->memfd >= 0)
		close(t->memfd);
	t->memfd = -1;
	t->use_mem = false;
	int rc = target_refresh_maps(t);
	if (rc != LP_OK)
		return lp_error_set(err, rc, "cannot read the maps of PID %d: "
				    "%s", (int)t->pid, lp_strerror(rc));
	return probe_memory(t, err);
}

pid_t target_pid(const target *t) { return t->pid; }
int target_procfd(const target *t) { return t->procfd; }
bool target_spawned(const target *t) { return t->spawned; }
const char *target_comm(const target *t) { return t->comm; }
const char *target_exe(const target *t) { return t->exe; }
const struct maps *target_maps(const target *t) { return &t->maps; }
size_t target_nthreads(const target *t) { return t->nthreads; }

struct target_thread *target_thread_find_ns(target *t, pid_t nstid)
{
	for (size_t i = 0; i < t->nthreads; i++)
		if (t->threads[i].nstid == nstid)
			return &t->threads[i];
	return NULL;
}

struct target_thread *target_thread_at(target *t, size_t i)
{
	return i < t->nthreads ? &t->threads[i] : NULL;
}

struct target_thread *target_thread_find(target *t, pid_t tid)
{
	for (size_t i = 0; i < t->nthreads; i++)
		if (t->threads[i].tid == tid)
			return &t->threads[i];
	return NULL;
}

int target_refresh_maps(target *t)
{
	struct maps m;
	int rc = maps_read(t->procfd, &m);
	if (rc != LP_OK)
		return rc;
	maps_fini(&t->maps);
	t->maps = m;
	return LP_OK;
}

/* ---- ptrace stops ---------------------------------------------------- */

static struct target_thread *thread_by_tid(target *t, pid_t tid)
{
	return target_thread_find(t, tid);
}

/* Handles a wait status of a seized thread that we did not ask for (a
 * signal-delivery stop or a group stop while running).  A signal is
 * re-injected at once so the target sees it as if we were not there. */
static void handle_unexpected_stop(target *t, pid_t tid, int status)
{
	struct target_thread *th = thread_by_tid(t, tid);
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (th) {
			th->seized = th->stopped = false;
		}
		if (tid == t->pid && t->spawned) {
			t->exited = true;
			t->exit_status = WIFEXITED(status)
				? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	int sig = WSTOPSIG(status);
	int event = status >> 16;
	if (event == PTRACE_EVENT_STOP) {
		/* Group stop (SIGSTOP & co): leave it stopped as it would be
		 * without us, but able to report a SIGCONT (ptrace(2),
		 * PTRACE_LISTEN).  A stale interrupt stop: just continue. */
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
		    sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, tid, 0, 0);
		else
			ptrace(PTRACE_CONT, tid, 0, 0);
		return;
	}
	if (event)
		sig = 0;	/* some other ptrace event: nothing to inject */
	ptrace(PTRACE_CONT, tid, 0, (void *)(uintptr_t)sig);
}

/* Collects pending stop reports of running seized threads (see
 * handle_unexpected_stop). */
void target_poll(target *t)
{
	for (size_t i = 0; i < t->nthreads; i++) {
		struct target_thread *th = &t->threads[i];
		if (!th->seized || th->stopped)
			continue;
		int st;
		for (int k = 0; k < MAX_PAUSE_WAITS; k++) {
			pid_t r = waitpid(th->tid, &st, WNOHANG | __WALL);
			if (r != th->tid)
				break;
			handle_unexpected_stop(t, th->tid, st);
			if (!th->seized)
				break;
		}
	}
}

/* Polls before it blocks: the stop follows the interrupt within a few
 * microseconds, and a blocking wait lets our CPU go idle, whose wake-up
 * costs tens of microseconds in a VM (measured: a pause went from 63 us to
 * under 10 us on an idle machine). */
#define PAUSE_SPINS 200
static pid_t spin_wait(pid_t tid, int *st)
{
	for (int i = 0; i < PAUSE_SPINS; i++) {
		pid_t r = waitpid(tid, st, __WALL | WNOHANG);
		if (r != 0)
			return r;
	}
	return waitpid(tid, st, __WALL);
}

int target_thread_pause(target *t, struct target_thread *th)
{
	if (th->stopped)
		return LP_OK;
	if (!th->seized) {
		/* Options 0: no events but the interrupt stop.  SEIZE (not
		 * ATTACH) sends no SIGSTOP, and if we die the kernel detaches
		 * and the thread runs on (ptrace(2)). */
		if (ptrace(PTRACE_SEIZE, th->tid, 0, 0) < 0)
			return classify(errno);
		th->seized = true;
	}
	if (ptrace(PTRACE_INTERRUPT, th->tid, 0, 0) < 0) {
		int c = classify(errno);
		if (c == LP_ENOPROC)
			th->seized = false;
		return c;
	}
	for (int k = 0; k < MAX_PAUSE_WAITS; k++) {
		int st;
		pid_t r = spin_wait(th->tid, &st);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			th->seized = false;
			return classify(errno);	/* ECHILD: gone */
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			handle_unexpected_stop(t, th->tid, st);
			th->seized = false;
			return LP_ENOPROC;
		}
		if (!WIFSTOPPED(st))
			continue;
		if (st >> 16 == PTRACE_EVENT_STOP) {
			/* Our interrupt stop (SIGTRAP), or a group stop:
			 * either way it is stopped now. */
			int sig = WSTOPSIG(st);
			th->stopped = true;
			th->group_stop = sig != SIGTRAP;
			return LP_OK;
		}
		/* A signal arrived first: deliver it, our interrupt stop
		 * follows (the kernel handles the trap before the next
		 * signal, kernel/signal.c get_signal()). */
		handle_unexpected_stop(t, th->tid, st);
	}
	return LP_EIO;
}

void target_set_detach_on_resume(target *t, bool on)
{
	t->detach_on_resume = on;
}

int target_thread_resume(target *t, struct target_thread *th)
{
	if (!th->stopped)
		return LP_OK;
	th->stopped = false;
	long r;
	if (t->detach_on_resume) {
		/* A group-stopped thread stays stopped after detach. */
		r = ptrace(PTRACE_DETACH, th->tid, 0, 0);
		th->seized = false;
	} else if (th->group_stop) {
		/* Stays in its group stop, as without us (PTRACE_LISTEN). */
		r = ptrace(PTRACE_LISTEN, th->tid, 0, 0);
	} else {
		r = ptrace(PTRACE_CONT, th->tid, 0, 0);
	}
	th->group_stop = false;
	if (r < 0) {
		if (errno == ESRCH)
			th->seized = false;
		return classify(errno);
	}
	return LP_OK;
}

int target_pause_all(target *t)
{
	int rc = LP_OK;
	target_poll(t);
	for (size_t i = 0; i < t->nthreads; i++) {
		int r = target_thread_pause(t, &t->threads[i]);
		if (r != LP_OK && r != LP_ENOPROC)
			rc = r;
	}
	return rc;
}

void target_resume_all(target *t)
{
	for (size_t i = 0; i < t->nthreads; i++)
		target_thread_resume(t, &t->threads[i]);
}

static void detach_one(target *t, struct target_thread *th)
{
	if (!th->seized)
		return;
	if (!th->stopped) {
		/* PTRACE_DETACH needs a stopped tracee (ptrace(2)). */
		if (ptrace(PTRACE_INTERRUPT, th->tid, 0, 0) < 0) {
			th->seized = false;
			return;
		}
		for (int k = 0; k < MAX_PAUSE_WAITS; k++) {
			int st;
			pid_t r = waitpid(th->tid, &st, __WALL);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
				if (r >= 0)
					handle_unexpected_stop(t, th->tid, st);
				th->seized = false;
				return;
			}
			if (!WIFSTOPPED(st))
				continue;
			int sig = WSTOPSIG(st);
			if (st >> 16 == PTRACE_EVENT_STOP) {
				th->group_stop = sig != SIGTRAP;
				break;
			}
			/* Detaching from a signal-delivery stop delivers the
			 * signal (ptrace(2)): it is not lost. */
			ptrace(PTRACE_DETACH, th->tid, 0,
			       (void *)(uintptr_t)((st >> 16) ? 0 : sig));
			th->seized = th->stopped = false;
			return;
		}
	}
	/* A group-stopped thread stays stopped after detach, as the job
	 * control that stopped it expects. */
	ptrace(PTRACE_DETACH, th->tid, 0, 0);
	th->seized = th->stopped = th->group_stop = false;
}

void target_detach_all(target *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nthreads; i++)
		detach_one(t, &t->threads[i]);
}

/* ---- process state ---------------------------------------------------- */

int target_exit_status(target *t)
{
	if (!t->spawned)
		return -1;
	if (t->exited)
		return t->exit_status;
	target_poll(t);
	if (t->exited)
		return t->exit_status;
	int st;
	for (int k = 0; k < MAX_PAUSE_WAITS; k++) {
		pid_t r = waitpid(t->pid, &st, WNOHANG | __WALL);
		if (r != t->pid)
			break;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			t->exited = true;
			t->exit_status = WIFEXITED(st) ? WEXITSTATUS(st)
						       : 128 + WTERMSIG(st);
			struct target_thread *th = thread_by_tid(t, t->pid);
			if (th)
				th->seized = th->stopped = false;
			break;
		}
		handle_unexpected_stop(t, t->pid, st);
	}
	return t->exited ? t->exit_status : -1;
}

int target_cpu_ns(target *t, uint64_t *ns)
{
	if (t->cpuclock_state == 0)
		t->cpuclock_state = clock_getcpuclockid(t->pid, &t->cpuclock) == 0
					    ? 1 : -1;
	struct timespec ts;
	if (t->cpuclock_state < 0 || clock_gettime(t->cpuclock, &ts) != 0)
		return LP_EUNSUPPORTED;
	*ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return LP_OK;
}

bool target_alive(target *t)
{
	if (t->spawned && target_exit_status(t) >= 0)
		return false;
	char buf[512];
	/* Asked every thread refresh: one pread of a kept fd, not three
	 * calls. */
	if (t->statfd == 0) {
		t->statfd = openat(t->procfd, "stat", O_RDONLY | O_CLOEXEC);
		if (t->statfd == 0)
			t->statfd = -1;
	}
	ssize_t n = t->statfd > 0 ? procfs_pread(t->statfd, buf, sizeof buf)
				  : procfs_read(t->procfd, "stat", buf, sizeof buf);
	if (n <= 0)
		return false;
	char st = stat_state(buf);
	return st && st != 'Z' && st != 'X' && st != 'x';
}

/* ---- threads --------------------------------------------------------- */

static void thread_open(target *t, struct target_thread *th)
{
	char path[64];
	snprintf(path, sizeof path, "task/%d/stat", (int)th->tid);
	th->stat_fd = openat(t->procfd, path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "task/%d/schedstat", (int)th->tid);
	th->schedstat_fd = openat(t->procfd, path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "task/%d/comm", (int)th->tid);
	procfs_read_line(t->procfd, path, th->name, sizeof th->name);
	th->nstid = th->tid;
	if (t->other_pidns) {
		/* "NSpid: HOST ... INNERMOST" (proc(5)): the last is the
		 * thread's id as the process's own namespace numbers it */
		char buf[2048];
		snprintf(path, sizeof path, "task/%d/status", (int)th->tid);
		if (procfs_read(t->procfd, path, buf, sizeof buf) > 0)
			th->nstid = procfs_status_nspid(buf, th->tid);
	}
}

static int cmp_tid(const void *a, const void *b)
{
	const struct target_thread *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* One thread id of the task directory: marks a known thread seen, adds a
 * new one.  LP_OK or LP_ENOMEM. */
static int thread_seen(target *t, pid_t tid, size_t old)
{
	struct target_thread key = { .tid = tid };
	struct target_thread *th = old ?
		bsearch(&key, t->threads, old, sizeof key, cmp_tid) : NULL;
	if (th) {
		th->seen = true;
		return LP_OK;
	}
	if (t->nthreads >= MAX_THREADS)
		return LP_OK;
	if (t->nthreads == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		void *nv = realloc(t->threads, cap * sizeof *t->threads);
		if (!nv)
			return LP_ENOMEM;
		t->threads = nv;
		t->cap = cap;
	}
	th = &t->threads[t->nthreads++];
	memset(th, 0, sizeof *th);
	th->tid = tid;
	th->stat_fd = th->schedstat_fd = -1;
	th->seen = true;
	thread_open(t, th);
	return LP_OK;
}

struct tid_walk {
	target *t;
	size_t old;	/* threads known before this listing, sorted */
};

static int tid_seen(void *ctx, pid_t tid, uint64_t inode)
{
	const struct tid_walk *w = ctx;
	(void)inode;
	return thread_seen(w->t, tid, w->old);
}

/* A failed open or read of /proc/PID/task: ENOENT there means the
 * process is gone. */
static int task_error(int errnum)
{
	return lp_errno_class(errnum, LP_USE_PROC);
}

int target_task_count(target *t, size_t *n)
{
	if (t->taskfd == 0) {
		t->taskfd = openat(t->procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (t->taskfd == 0)
			t->taskfd = -1;
	}
	struct stat st;
	if (t->taskfd < 0)
		return LP_EUNSUPPORTED;
	if (fstat(t->taskfd, &st) != 0)
		return task_error(errno);
	/* ".", ".." and one entry a thread */
	*n = st.st_nlink > 2 ? (size_t)st.st_nlink - 2 : 0;
	return LP_OK;
}

int target_refresh_threads(target *t)
{
	/* The task directory stays open and is read again from its start:
	 * two system calls a refresh instead of opendir's seven, which a
	 * daemon sampling at 19 Hz paid on every other tick.  When it
	 * cannot be kept (out of descriptors), each refresh opens it. */
	if (t->taskfd == 0) {
		t->taskfd = openat(t->procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (t->taskfd == 0)	/* never 0 once stdin is closed: kept */
			t->taskfd = -1;
	}
	int dfd = t->taskfd > 0 ? t->taskfd :
		  openat(t->procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || lseek(dfd, 0, SEEK_SET) != 0) {
		int e = errno;
		if (dfd >= 0 && dfd != t->taskfd)
			close(dfd);
		return task_error(e);
	}
	target_poll(t);
	for (size_t i = 0; i < t->nthreads; i++)
		t->threads[i].seen = false;
	/* Bounded by the directory itself and by MAX_THREADS. */
	char buf[4096] __attribute__((aligned(8)));
	struct tid_walk walk = { t, t->nthreads };
	int rc = procfs_each_id(dfd, buf, sizeof buf, tid_seen, &walk);
	if (rc < 0)	/* the process went away while being listed */
		rc = task_error(errno);
	if (dfd != t->taskfd)
		close(dfd);
	if (rc == LP_ENOPROC)
		return rc;
	/* Drop vanished threads; a seized one is reaped (it is our tracee,
	 * its exit is reported to us). */
	size_t w = 0;
	for (size_t i = 0; i < t->nthreads; i++) {
		struct target_thread *th = &t->threads[i];
		if (!th->seen) {
			if (th->seized) {
				detach_one(t, th);
				int st;
				waitpid(th->tid, &st, WNOHANG | __WALL);
			}
			thread_close(th);
			continue;
		}
		if (w != i)
			t->threads[w] = *th;
		w++;
	}
	t->nthreads = w;
	qsort(t->threads, t->nthreads, sizeof *t->threads, cmp_tid);
	if (!t->nthreads)
		return LP_ENOPROC;
	return rc;
}

/* pread at 0 of a kept fd: one syscall per read.  Opens on demand when the
 * fd could not be kept (EMFILE with many threads). */
static ssize_t read_task_file(target *t, struct target_thread *th, int fd,
			      const char *name, char *buf, size_t size)
{
	if (fd >= 0)
		return procfs_pread(fd, buf, size);
	char path[64];
	snprintf(path, sizeof path, "task/%d/%s", (int)th->tid, name);
	return procfs_read(t->procfd, path, buf, size);
}

/* Whether this kernel's /proc/PID/task/TID/wchan tells a blocked thread
 * from a running one (some kernels print 0 for every thread): a thread of
 * ours blocked on a pipe must not read as 0.  Checked once. */
static void *block_on(void *arg)
{
	char c;
	while (read(*(int *)arg, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static bool wchan_works(void)
{
	static int state;	/* 0 unknown, 1 works, -1 not */
	if (state)
		return state > 0;
	state = -1;
	int p[2];
	if (pipe(p) != 0)
		return false;
	pthread_t th;
	if (pthread_create(&th, NULL, block_on, &p[0]) == 0) {
		pid_t tid = 0;
		char path[64], buf[64];
		/* Its tid: the task that is not us, once it blocks. */
		for (int tries = 0; tries < 200 && state < 0; tries++) {
			DIR *d = opendir("/proc/self/task");
			struct dirent *e;
			while (d && (e = readdir(d)))
				if (e->d_name[0] != '.' &&
				    atoi(e->d_name) != (int)syscall(SYS_gettid))
					tid = atoi(e->d_name);
			if (d)
				closedir(d);
			snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
			ssize_t n = tid ? procfs_read(AT_FDCWD, path, buf, sizeof buf) : -1;
			if (n <= 0 || stat_state(buf) != 'S') {
				usleep(1000);
				continue;
			}
			snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)tid);
			n = procfs_read(AT_FDCWD, path, buf, sizeof buf);
			state = n > 0 && !(n == 1 && buf[0] == '0') ? 1 : -1;
			break;
		}
		close(p[1]);
		pthread_join(th, NULL);
	} else {
		close(p[1]);
	}
	close(p[0]);
	return state > 0;
}

int target_thread_running(target *t, struct target_thread *th, bool *running)
{
	if (!wchan_works())
		return LP_EUNSUPPORTED;
	if (th->wchan_fd == 0) {
		char path[64];
		snprintf(path, sizeof path, "task/%d/wchan", (int)th->tid);
		th->wchan_fd = openat(t->procfd, path, O_RDONLY | O_CLOEXEC);
		if (th->wchan_fd == 0)	/* 0 means "not opened" here */
			th->wchan_fd = -1;
	}
	if (th->wchan_fd < 0)
		return LP_EUNSUPPORTED;
	char buf[128];
	ssize_t n;
	do
		n = pread(th->wchan_fd, buf, sizeof buf, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return LP_ENOPROC;
	/* "0" while the task is running or runnable (get_wchan), the
	 * function it sleeps in otherwise. */
	*running = n == 1 && buf[0] == '0';
	return LP_OK;
}

/* schedstat: "on-cpu-ns wait-ns timeslices" (kernel
 * Documentation/scheduler/sched-stats.rst).  false where the kernel has no
 * schedstat (CONFIG_SCHED_INFO off) or the thread is gone. */
static bool schedstat_ns(target *t, struct target_thread *th, uint64_t *cpu_ns)
{
	char sbuf[128];
	ssize_t n = read_task_file(t, th, th->schedstat_fd, "schedstat", sbuf,
				   sizeof sbuf);
	if (n <= 0 || sbuf[0] < '0' || sbuf[0] > '9')
		return false;
	*cpu_ns = strtoull(sbuf, NULL, 10);
	return true;
}

/* Without schedstat: utime + stime from stat, fields 14 and 15, in clock
 * ticks. */
static int stat_cpu_ns(const char *buf, uint64_t *cpu_ns)
{
	struct procfs_stat st;
	if (procfs_stat_parse(buf, PROCFS_STAT_STIME, &st) != PROCFS_STAT_STIME)
		return LP_EFORMAT;
	long hz = sysconf(_SC_CLK_TCK);
	*cpu_ns = (st.utime + st.stime) *
		  (1000000000ull / (unsigned long long)(hz > 0 ? hz : 100));
	return LP_OK;
}

int target_thread_state(target *t, struct target_thread *th, char *state,
			uint64_t *cpu_ns)
{
	char buf[1024];
	ssize_t n = read_task_file(t, th, th->stat_fd, "stat", buf, sizeof buf);
	if (n <= 0)
		return LP_ENOPROC;
	char st = stat_state(buf);
	if (!st)
		return LP_EFORMAT;
	if (state)
		*state = st;
	if (!cpu_ns || schedstat_ns(t, th, cpu_ns))
		return LP_OK;
	return stat_cpu_ns(buf, cpu_ns);
}

int target_thread_cpu_ns(target *t, struct target_thread *th, uint64_t *cpu_ns)
{
	if (schedstat_ns(t, th, cpu_ns))
		return LP_OK;
	return target_thread_state(t, th, NULL, cpu_ns);
}
