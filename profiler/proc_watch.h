/* The processes of a tree: a root and every descendant, found as they
 * start (fork, fork+exec, clone without CLONE_THREAD), exec and exit.
 *
 * Two sources: the kernel's process-events connector (netlink,
 * NETLINK_CONNECTOR / CN_IDX_PROC; CAP_NET_ADMIN on older kernels, none in
 * a container's own pid or user namespace), which reports each
 * fork, exec and exit as it happens; else a scan of the members'
 * /proc/PID/task/TID/children at most every PROC_WATCH_SCAN_NS, which
 * costs one read per thread of the tree (without those files, of every
 * /proc/PID/stat not seen before).  An overflowing netlink socket
 * (ENOBUFS) is made good by one scan. */
#ifndef LOUPE_PROC_WATCH_H
#define LOUPE_PROC_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define PROC_WATCH_SCAN_NS 100000000ull	/* /proc scan: at most 10/s */

enum proc_event_kind {
	PROC_EV_NEW,	/* a process joined the tree (pid, ppid) */
	PROC_EV_EXEC,	/* a member replaced its image (pid) */
	PROC_EV_EXIT,	/* a member is gone (pid) */
};

struct proc_event {
	enum proc_event_kind kind;
	pid_t pid, ppid;
};

typedef struct proc_watch proc_watch;
typedef void (*proc_watch_fn)(void *ctx, const struct proc_event *ev);

/* Watches the tree under root.  The descendants alive now are reported
 * as PROC_EV_NEW by the first proc_watch_poll.  use_netlink false forces
 * the /proc scan (tests).  LP_ENOPROC when root is gone. */
int proc_watch_new(proc_watch **out, pid_t root, bool use_netlink,
		   lp_error *err);
void proc_watch_free(proc_watch *w);

/* "netlink process events" or "/proc scan" (verbose output). */
const char *proc_watch_method(const proc_watch *w);

/* Reports what changed since the last poll, parents before their
 * children.  now_ns is CLOCK_MONOTONIC: the scan runs when due, the
 * netlink socket is read (without blocking) on every call.  LP_OK, or
 * LP_ENOMEM. */
int proc_watch_poll(proc_watch *w, uint64_t now_ns, proc_watch_fn fn,
		    void *ctx);

/* Members alive at the last poll, the root first. */
size_t proc_watch_count(const proc_watch *w);
pid_t proc_watch_pid_at(const proc_watch *w, size_t i);

/* Descendants left out because the tree had MAX_PROC_MEMBERS
 * (bounds.h): a count of findings (the children-file scan counts
 * one such process again at each scan), not of processes. */
size_t proc_watch_dropped(const proc_watch *w);

/* Tests: the /proc scan reads every /proc/PID/stat for parents, as on
 * kernels without /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN). */
void proc_watch_no_children_files(proc_watch *w);

#endif
