/* Who is asking the daemon, and whether they may act on a process.
 *
 * The rule (loupe.conf(5), PERMISSIONS): root, or a client holding
 * CAP_SYS_PTRACE, may act on any process.  Another user may act on a
 * process only when they could ptrace it themselves, as the kernel's
 * __ptrace_may_access() decides for an unprivileged caller:
 *   - the target's real, effective and saved UIDs are the client's UID,
 *     and its real, effective and saved GIDs the client's GID (so no
 *     set-user-ID or set-group-ID program of another user);
 *   - the target is dumpable (a process that cleared PR_SET_DUMPABLE, or
 *     changed credentials, has its /proc/PID owned by root);
 *   - Yama's ptrace_scope is below 2 (2: only CAP_SYS_PTRACE may attach,
 *     3: nobody).  Scope 1 (only descendants) is not applied: the daemon
 *     attaches, never the client, and it only reads memory.
 */
#ifndef LOUPE_UI_CTL_PEER_H
#define LOUPE_UI_CTL_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* SO_PEERCRED of a connected Unix socket.  0 or -1 (errno). */
int ctl_peer_get(int fd, struct ctl_peer *p);

/* Whether the peer is root or holds CAP_SYS_PTRACE. */
bool ctl_peer_privileged(const struct ctl_peer *p);

/* 0 when p may act on process pid; otherwise LP_EPERM or LP_ENOPROC with
 * why = "permission denied: REASON" or "no process PID". */
int ctl_peer_may_act(const struct ctl_peer *p, pid_t pid, char *why,
		     size_t len);

#endif
