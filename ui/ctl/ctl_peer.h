/* Who is asking the daemon, and whether they may act on a process.
 *
 * The rule (loupe.conf(5), SECURITY) is decided from the credentials the
 * kernel gives the daemon for the connection (SO_PEERCRED: the uid and gid
 * of the client when it connected, in the daemon's user namespace), and
 * from nothing the client controls afterwards: no capability read from
 * /proc (CapEff is relative to the client's own user namespace, which an
 * unprivileged user creates with unshare -Ur), no lookup of the client by
 * its PID (it may have exec'd a set-user-ID program since, or be gone and
 * its PID reused).
 *
 * Root (uid 0 in the daemon's namespace) may act on any process.  Another
 * user may act on a process only when they could ptrace it themselves, as
 * the kernel's __ptrace_may_access() decides for an unprivileged caller:
 *   - the target's real, effective and saved UIDs are the client's UID,
 *     and its real, effective and saved GIDs the client's GID (so no
 *     set-user-ID or set-group-ID program of another user);
 *   - the target is dumpable (a process that cleared PR_SET_DUMPABLE, or
 *     changed credentials, has its /proc/PID files owned by root);
 *   - it holds no capabilities in the daemon's user namespace, or it runs
 *     in a user namespace that the client's user owns (cap_ptrace_access_
 *     check() in security/commoncap.c);
 *   - Yama's ptrace_scope is below 2 (2: only CAP_SYS_PTRACE may attach,
 *     3: nobody).  Scope 1 (only descendants) is not applied: the daemon
 *     attaches, never the client, and it only reads memory.
 * The target is inspected through a pidfd taken first, and its /proc
 * directory is checked to belong to that same process, so a target PID
 * reused during the check cannot pass for another process.
 */
#ifndef LOUPE_UI_CTL_PEER_H
#define LOUPE_UI_CTL_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ctl_peer {
	pid_t pid;	/* for messages only: never looked up */
	uid_t uid;
	gid_t gid;
};

/* SO_PEERCRED of a connected Unix socket.  0 or -1 (errno). */
int ctl_peer_get(int fd, struct ctl_peer *p);

/* Whether the peer is root: uid 0 in the daemon's user namespace. */
bool ctl_peer_privileged(const struct ctl_peer *p);

/* 0 when p may act on process pid; otherwise LP_EPERM or LP_ENOPROC with
 * why = "permission denied: REASON" or "no process PID".  With start_time
 * non-NULL, the checked process's start time (/proc/PID/stat field 22),
 * read from the same process as the rest: with pid it names the process
 * that was checked, for a caller that acts on it later. */
int ctl_peer_check(const struct ctl_peer *p, pid_t pid, uint64_t *start_time,
		   char *why, size_t len);
/* ctl_peer_check without the start time. */
int ctl_peer_may_act(const struct ctl_peer *p, pid_t pid, char *why,
		     size_t len);

#endif
