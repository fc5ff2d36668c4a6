/* The ctl client's credentials and the ptrace-like rule of ctl_peer.h. */
#include "ctl_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "procfs.h"

int ctl_peer_get(int fd, struct ctl_peer *p)
{
	struct ucred uc;
	socklen_t l = sizeof uc;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &l) != 0)
		return -1;
	p->pid = uc.pid;
	p->uid = uc.uid;
	p->gid = uc.gid;
	return 0;
}

bool ctl_peer_privileged(const struct ctl_peer *p)
{
	/* SO_PEERCRED's uid is mapped into the daemon's namespace: root of
	 * a user namespace the client made is its own uid here, and what it
	 * did after connect (exec a set-user-ID program) does not change it */
	return p->uid == 0;
}

/* The target's file name under its /proc directory dfd, read whole (up
 * to len - 1 bytes, NUL-terminated).  Bytes read, or -1 (none). */
static ssize_t read_at(int dfd, const char *name, char *buf, size_t len)
{
	ssize_t n = procfs_read(dfd, name, buf, len);
	return n > 0 ? n : -1;
}

/* "Uid: r e s fs" -> the first three */
static int ids3(const char *status, const char *key, unsigned long ids[3])
{
	const char *v = procfs_status_field(status, key);
	return v && sscanf(v, "%lu %lu %lu", &ids[0], &ids[1], &ids[2]) == 3 ? 0 : -1;
}

static int ptrace_scope(void)
{
	char buf[16];
	/* no file: no Yama */
	if (procfs_read(AT_FDCWD, "/proc/sys/kernel/yama/ptrace_scope", buf,
			sizeof buf) <= 0)
		return 0;
	return atoi(buf);
}

/* pidfd_open(2), pidfd_send_signal(2): through syscall(2), which every
 * libc has (glibc wraps them only from 2.36) */
static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Whether the process of the pidfd has not been reaped: signal 0 checks
 * without sending (EPERM: it exists, the daemon may not signal it). */
static bool pidfd_alive(int pfd)
{
	return syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0) == 0 || errno == EPERM;
}

/* The target process's /proc directory, bound to the process the pidfd
 * took (pid alone could name another process by the time /proc is read):
 * opened after the pidfd, and the pidfd's process still there after it,
 * so no reuse of pid can have happened in between.  -1 when it is gone;
 * -2 without pidfds (Linux before 5.3). */
static int proc_dir(pid_t pid, int *pfd_out)
{
	int pfd = pidfd_open_(pid);
	if (pfd < 0)
		return errno == ENOSYS ? -2 : -1;
	int dfd = procfs_open_pid(AT_FDCWD, pid);
	if (dfd >= 0 && !pidfd_alive(pfd)) {
		close(dfd);
		dfd = -1;
	}
	if (dfd < 0) {
		close(pfd);
		return -1;
	}
	*pfd_out = pfd;
	return dfd;
}

/* /proc/PID/stat's starttime (field 22). */
static int start_time_at(int dfd, uint64_t *out)
{
	char buf[1024];
	struct procfs_stat st;
	if (read_at(dfd, "stat", buf, sizeof buf) < 0 ||
	    procfs_stat_parse(buf, PROCFS_STAT_STARTTIME, &st) != PROCFS_STAT_STARTTIME)
		return -1;
	*out = st.starttime;
	return 0;
}

/* Whether the target may hold capabilities over the peer's user: none
 * in the daemon's user namespace, or a user namespace the peer's uid
 * owns (where the peer holds every capability, as its creator). */
static int caps_ok(const struct ctl_peer *p, pid_t pid, int dfd, const char *status,
		   char *why, size_t len)
{
	struct stat mine, theirs;
	int nfd = openat(dfd, "ns/user", O_RDONLY | O_CLOEXEC);
	if (nfd < 0 || fstat(nfd, &theirs) != 0 || stat("/proc/self/ns/user", &mine) != 0) {
		if (nfd >= 0)
			close(nfd);
		snprintf(why, len, "permission denied: cannot read the user namespace of process %d", (int)pid);
		return LP_EPERM;
	}
	if (theirs.st_ino != mine.st_ino || theirs.st_dev != mine.st_dev) {
		uid_t owner = (uid_t)-1;
		int rc = ioctl(nfd, NS_GET_OWNER_UID, &owner);
		close(nfd);
		if (rc != 0 || owner != p->uid) {
			snprintf(why, len, "permission denied: process %d runs in a user namespace that user %lu does not own",
				 (int)pid, (unsigned long)p->uid);
			return LP_EPERM;
		}
		return 0;
	}
	close(nfd);
	const char *v = procfs_status_field(status, "CapPrm");
	if (!v || strtoull(v, NULL, 16) != 0) {
		snprintf(why, len, "permission denied: process %d holds capabilities, only root may profile it", (int)pid);
		return LP_EPERM;
	}
	return 0;
}

static int judge(const struct ctl_peer *p, pid_t pid, int dfd, const char *status,
		 char *why, size_t len)
{
	unsigned long uid[3], gid[3];
	struct stat st;
	/* the files in /proc/PID, not the directory: a non-dumpable
	 * process's files belong to root (proc(5)), its directory may not */
	if (ids3(status, "Uid", uid) != 0 || ids3(status, "Gid", gid) != 0 ||
	    fstatat(dfd, "status", &st, AT_SYMLINK_NOFOLLOW) != 0) {
		snprintf(why, len, "no process %d", (int)pid);
		return LP_ENOPROC;
	}
	if (ctl_peer_privileged(p))
		return 0;
	for (int i = 0; i < 3; i++)
		if (uid[i] != p->uid) {
			snprintf(why, len, "permission denied: process %d runs as user %lu, you are user %lu%s",
				 (int)pid, uid[i], (unsigned long)p->uid,
				 i ? " (a set-user-ID program)" : "");
			return LP_EPERM;
		}
	for (int i = 0; i < 3; i++)
		if (gid[i] != p->gid) {
			snprintf(why, len, "permission denied: process %d runs with group %lu, yours is %lu",
				 (int)pid, gid[i], (unsigned long)p->gid);
			return LP_EPERM;
		}
	if (st.st_uid != p->uid) {
		snprintf(why, len, "permission denied: process %d is not dumpable (PR_SET_DUMPABLE is 0), only root may profile it",
			 (int)pid);
		return LP_EPERM;
	}
	int rc = caps_ok(p, pid, dfd, status, why, len);
	if (rc)
		return rc;
	int scope = ptrace_scope();
	if (scope >= 2) {
		snprintf(why, len, "permission denied: kernel.yama.ptrace_scope is %d, only root may profile processes", scope);
		return LP_EPERM;
	}
	return 0;
}

int ctl_peer_check(const struct ctl_peer *p, pid_t pid, uint64_t *start_time,
		   char *why, size_t len)
{
	if (pid <= 0) {
		snprintf(why, len, "no process %d", (int)pid);
		return LP_ENOPROC;
	}
	int pfd = -1;
	int dfd = proc_dir(pid, &pfd);
	if (dfd == -2) {
		snprintf(why, len, "permission denied: this kernel has no pidfd_open (Linux 5.3), only root may use the daemon");
		return LP_EPERM;
	}
	if (dfd < 0) {
		snprintf(why, len, "no process %d", (int)pid);
		return LP_ENOPROC;
	}
	char status[4096];
	uint64_t st = 0;
	int rc;
	if (read_at(dfd, "status", status, sizeof status) < 0 ||
	    (start_time && start_time_at(dfd, &st) != 0)) {
		snprintf(why, len, "no process %d", (int)pid);
		rc = LP_ENOPROC;
	} else {
		rc = judge(p, pid, dfd, status, why, len);
	}
	/* what was read came from the pidfd's process only if it was not
	 * reaped meanwhile (the directory fd then reads nothing, but say it
	 * plainly) */
	if (rc == 0 && !pidfd_alive(pfd)) {
		snprintf(why, len, "no process %d", (int)pid);
		rc = LP_ENOPROC;
	}
	if (rc == 0 && start_time)
		*start_time = st;
	close(dfd);
	close(pfd);
	return rc;
}

int ctl_peer_may_act(const struct ctl_peer *p, pid_t pid, char *why,
		     size_t len)
{
	return ctl_peer_check(p, pid, NULL, why, len);
}
