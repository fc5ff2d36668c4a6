/* The ctl client's credentials and the ptrace-like rule of ctl_peer.h. */
#include "ctl_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

/* include/uapi/linux/capability.h */
#define CAP_SYS_PTRACE_BIT 19

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

/* The value of "Key:" in /proc/PID/status, copied into out. */
static int status_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	size_t kl = strlen(key);
	for (char *line = buf; line && *line; ) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			const char *v = line + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(out, len, "%s", v);
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -1;
}

bool ctl_peer_privileged(const struct ctl_peer *p)
{
	if (p->uid == 0)
		return true;
	/* CapEff of the client process; its PID could be reused after it
	 * connected, but then by a process with the client's socket closed,
	 * and the reply goes to nobody */
	char v[64];
	if (p->pid <= 0 || status_field(p->pid, "CapEff", v, sizeof v) != 0)
		return false;
	unsigned long long caps = strtoull(v, NULL, 16);
	return caps & (1ull << CAP_SYS_PTRACE_BIT);
}

/* "Uid: r e s fs" -> the first three */
static int ids3(pid_t pid, const char *key, unsigned long ids[3])
{
	char v[128];
	if (status_field(pid, key, v, sizeof v) != 0)
		return -1;
	return sscanf(v, "%lu %lu %lu", &ids[0], &ids[1], &ids[2]) == 3 ? 0 : -1;
}

static int ptrace_scope(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* no Yama */
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 ? atoi(buf) : 0;
}

int ctl_peer_may_act(const struct ctl_peer *p, pid_t pid, char *why,
		     size_t len)
{
	unsigned long uid[3], gid[3];
	char dir[64];
	struct stat st;
	/* the files in /proc/PID, not the directory: a non-dumpable
	 * process's files belong to root (proc(5)), its directory may not */
	snprintf(dir, sizeof dir, "/proc/%d/status", (int)pid);
	if (pid <= 0 || stat(dir, &st) != 0 || ids3(pid, "Uid", uid) != 0 ||
	    ids3(pid, "Gid", gid) != 0) {
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
	int scope = ptrace_scope();
	if (scope >= 2) {
		snprintf(why, len, "permission denied: kernel.yama.ptrace_scope is %d, only root may profile processes", scope);
		return LP_EPERM;
	}
	return 0;
}
