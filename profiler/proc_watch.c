/* The processes of a tree, live (see proc_watch.h).
 *
 * Members are kept in the order found (the root first) in an array sized
 * for MAX_PROC_MEMBERS at proc_watch_new, with a pid -> index hash beside
 * it, so that polling allocates nothing; exits mark a member dead and the
 * array is compacted (and the hash rebuilt) at the end of that poll.
 *
 * A process is told apart from a later one reusing its pid by its start
 * time (field 22 of /proc/PID/stat).  Opening /proc/PID relative to a
 * directory fd per member would be stronger but costs an fd per process
 * of the tree (4096 of them against a 1024 RLIMIT_NOFILE). */
#include "proc_watch.h"
#include "proc_events.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
/* The kernel's struct proc_event (the wire format) shares its name with
 * ours (the interface): it is read here as struct cn_proc_event. */
#define proc_event cn_proc_event
#include <linux/cn_proc.h>
#undef proc_event
#include <linux/connector.h>
#include <linux/netlink.h>

#include "bounds.h"
#include "clock.h"
#include "procfs.h"

/* pid -> member index: open addressing, a power of two at least twice
 * MAX_PROC_MEMBERS so that probes stay short. */
#define MEMBER_HASH_SIZE 8192
#if MEMBER_HASH_SIZE < 2 * MAX_PROC_MEMBERS
#error "MEMBER_HASH_SIZE too small"
#endif

/* What tells one image of a process from the next (scan mode's exec
 * detection, and netlink's after an overflow).  With ASLR on (the default,
 * kernel.randomize_va_space >= 1) every exec draws a new stack top and, for
 * a PIE, a new code base: /proc/PID/stat fields 26-28 change.  Without
 * ASLR (setarch -R, randomize_va_space=0) only an exec of another file is
 * seen, by the executable's device and inode: python -> python (same
 * file) is then missed.  The name (comm) is not used: prctl(PR_SET_NAME)
 * and setproctitle change it without an exec.
 *
 * An exec read halfway shows the new exe (set with the new mm, once) but
 * stack and code fields that load_elf_binary is still moving: they count
 * only against an image read the same twice in a row (stable), so one
 * exec is one event.  A second exec of the same file within a scan period
 * of the first is then missed too. */
struct image {
	uint64_t start_code, end_code, start_stack;
	dev_t dev;
	ino_t ino;
};

struct member {
	pid_t pid, ppid;
	uint64_t starttime;	/* clock ticks since boot: who owns pid */
	struct image img;
	bool img_stable;	/* img read the same by two scans */
	bool dead;		/* exited this poll, compacted at its end */
	bool leader_gone;	/* main thread exited, others still ran */
};

/* A pid seen by the /proc/ * /stat scan that is not in the tree, keyed by
 * the inode number /proc's readdir gives it: a process reusing the pid
 * gets a new /proc inode (the old one's dentries are flushed when it is
 * reaped), so a cached pid with the same inode is the same process and its
 * stat is not read again.  A process outside the tree never joins it: its
 * parent only changes to a subreaper or init, and a subreaper in the tree
 * adopts only descendants of members, which are members already. */
struct outsider {
	pid_t pid;		/* 0: empty slot */
	uint32_t ino;
};

/* A pid read this scan whose parent is not (yet) a member. */
struct candidate {
	pid_t pid, ppid;
	uint32_t ino;
	uint64_t starttime;
	struct image img;
	bool taken;
};

struct proc_watch {
	pid_t root;
	bool first_done;	/* the first poll announced the initial tree */
	uint64_t next_scan_ns;

	struct member *m;	/* MAX_PROC_MEMBERS of them */
	size_t n, ndead, nleader_gone;
	int32_t *hash;		/* MEMBER_HASH_SIZE member indices, -1 empty */
	size_t dropped;		/* descendants left out: cap reached */

	int nl;			/* netlink socket, -1 in scan mode */
	proc_events_fn host_fn;	/* the host's events (proc_events.h):
				 * every process, no tree */
	void *host_ctx;
	char *nlbuf;		/* NL_BATCH x NL_MSG_SIZE, aligned by malloc */
	bool need_rescan;	/* netlink overflowed (ENOBUFS) */

	/* The /proc scan. */
	bool children_ok;	/* the kernel has task/TID/children files */
	int procfd;		/* /proc, for the ppid scan (lazily opened) */
	char *dents;		/* getdents64 buffer */
	struct outsider *out, *out_next;	/* two tables, swapped */
	size_t out_cap;		/* slots of each (power of two) */
	size_t out_n;
	struct candidate *cand;
	size_t ncand, cand_cap;
};

#define DENTS_SIZE (32 * 1024)
/* Datagrams read by one recvmmsg, and the room for each: an event is
 * about 80 bytes (nlmsghdr + cn_msg + struct proc_event). */
#define NL_BATCH 32
#define NL_MSG_SIZE 512

/* --- /proc reads ---------------------------------------------------- */

/* /proc/PID/stat up to the stack start: false when the process is gone
 * (or the line bad). */
static bool read_pstat(pid_t pid, struct procfs_stat *ps)
{
	char buf[1024];
	return procfs_read_pid(pid, "stat", buf, sizeof buf) > 0 &&
	       procfs_stat_parse(buf, PROCFS_STAT_STARTSTACK, ps) ==
		       PROCFS_STAT_STARTSTACK;
}

/* A process is alive while it is not a zombie; a zombie main thread
 * whose other threads still run (it called pthread_exit) is alive too:
 * its thread count keeps them. */
static bool pstat_alive(const struct procfs_stat *ps)
{
	if (ps->state == 'Z' || ps->state == 'X' || ps->state == 'x')
		return ps->nthreads > 1;
	return true;
}

static void read_image(pid_t pid, const struct procfs_stat *ps, struct image *img)
{
	memset(img, 0, sizeof *img);
	img->start_code = ps->start_code;
	img->end_code = ps->end_code;
	img->start_stack = ps->start_stack;
	char path[64];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	if (stat(path, &st) == 0) {
		img->dev = st.st_dev;
		img->ino = st.st_ino;
	}
}

/* Whether two images have other executables, or other stack and code
 * addresses.  A process on its way out has no mm (fields 26-28 read 0)
 * nor exe: nothing is concluded from that. */
static bool exe_changed(const struct image *a, const struct image *b)
{
	return a->ino && b->ino && (a->ino != b->ino || a->dev != b->dev);
}

static bool layout_changed(const struct image *a, const struct image *b)
{
	if (a->start_stack == 0 || b->start_stack == 0)
		return false;
	return a->start_stack != b->start_stack ||
	       a->start_code != b->start_code || a->end_code != b->end_code;
}

/* --- members -------------------------------------------------------- */

static size_t hash_slot(pid_t pid)
{
	return ((uint32_t)pid * 2654435761u) & (MEMBER_HASH_SIZE - 1);
}

/* The live member with this pid, or NULL. */
static struct member *member_find(proc_watch *w, pid_t pid)
{
	for (size_t i = hash_slot(pid), k = 0; k < MEMBER_HASH_SIZE;
	     i = (i + 1) & (MEMBER_HASH_SIZE - 1), k++) {
		int32_t x = w->hash[i];
		if (x < 0)
			return NULL;
		if (w->m[x].pid == pid && !w->m[x].dead)
			return &w->m[x];
	}
	return NULL;
}

static void hash_insert(proc_watch *w, size_t idx)
{
	size_t i = hash_slot(w->m[idx].pid);
	while (w->hash[i] >= 0)
		i = (i + 1) & (MEMBER_HASH_SIZE - 1);
	w->hash[i] = (int32_t)idx;
}

/* Appends a member; NULL when the cap is reached (counted). */
static struct member *member_add(proc_watch *w, pid_t pid, pid_t ppid,
				 uint64_t starttime, const struct image *img)
{
	if (w->n >= MAX_PROC_MEMBERS) {
		w->dropped++;
		return NULL;
	}
	struct member *m = &w->m[w->n];
	*m = (struct member){ .pid = pid, .ppid = ppid,
			      .starttime = starttime };
	if (img)
		m->img = *img;
	hash_insert(w, w->n);
	w->n++;
	return m;
}

/* A member that appeared; its stat gives identity and image.  From a
 * fork event it may have exited already (its exit event follows): added
 * all the same.  A scan (need_alive) leaves out one that is gone. */
static struct member *member_add_read(proc_watch *w, pid_t pid, pid_t ppid,
				      bool need_alive)
{
	struct procfs_stat ps;
	struct image img = { 0 };
	uint64_t start = 0;
	if (read_pstat(pid, &ps)) {
		if (need_alive && !pstat_alive(&ps))
			return NULL;
		start = ps.starttime;
		read_image(pid, &ps, &img);
	} else if (need_alive) {
		return NULL;
	}
	return member_add(w, pid, ppid, start, &img);
}

static void report(proc_watch_fn fn, void *ctx, enum proc_event_kind kind,
		   const struct member *m)
{
	if (!fn)
		return;
	struct proc_event ev = { .kind = kind, .pid = m->pid,
				 .ppid = m->ppid };
	fn(ctx, &ev);
}

static void member_exit(proc_watch *w, struct member *m, proc_watch_fn fn,
			void *ctx)
{
	if (m->leader_gone)
		w->nleader_gone--;
	m->dead = true;
	w->ndead++;
	report(fn, ctx, PROC_EV_EXIT, m);
}

/* Drops the dead and rebuilds the hash: only after exits. */
static void compact(proc_watch *w)
{
	if (!w->ndead)
		return;
	size_t j = 0;
	for (size_t i = 0; i < w->n; i++)
		if (!w->m[i].dead)
			w->m[j++] = w->m[i];
	w->n = j;
	w->ndead = 0;
	memset(w->hash, 0xff, MEMBER_HASH_SIZE * sizeof *w->hash);
	for (size_t i = 0; i < w->n; i++)
		hash_insert(w, i);
}

/* Whether member m still runs, by its stat; if its main thread is gone
 * but other threads run, it stays (leader_gone) and is checked again. */
static void member_check_alive(proc_watch *w, struct member *m,
			       proc_watch_fn fn, void *ctx)
{
	struct procfs_stat ps;
	bool alive = read_pstat(m->pid, &ps) && pstat_alive(&ps) &&
		     (!m->starttime || ps.starttime == m->starttime);
	if (!alive) {
		member_exit(w, m, fn, ctx);
		return;
	}
	bool zombie_leader = ps.state == 'Z' || ps.state == 'X';
	if (zombie_leader != m->leader_gone) {
		m->leader_gone = zombie_leader;
		if (zombie_leader)
			w->nleader_gone++;
		else
			w->nleader_gone--;
	}
}

/* --- the /proc scan ------------------------------------------------- */

/* Every member's liveness and image: one stat read and one stat(2) of
 * its exe each. */
static void scan_members(proc_watch *w, proc_watch_fn fn, void *ctx)
{
	for (size_t i = 0; i < w->n; i++) {
		struct member *m = &w->m[i];
		if (m->dead)
			continue;
		struct procfs_stat ps;
		if (!read_pstat(m->pid, &ps) || !pstat_alive(&ps) ||
		    (m->starttime && ps.starttime != m->starttime)) {
			member_exit(w, m, fn, ctx);
			continue;
		}
		if (!m->starttime)
			m->starttime = ps.starttime;
		struct image img;
		read_image(m->pid, &ps, &img);
		bool exe = exe_changed(&m->img, &img);
		bool layout = layout_changed(&m->img, &img);
		if (exe || (layout && m->img_stable))
			report(fn, ctx, PROC_EV_EXEC, m);
		if (img.start_stack || img.ino) {
			m->img_stable = !exe && !layout && img.start_stack &&
					m->img.start_stack;
			m->img = img;
		}
	}
}

/* A child found in a children file: a member unless it is one already
 * or gone. */
static void child_found(proc_watch *w, long pid, pid_t parent,
			proc_watch_fn fn, void *ctx)
{
	if (pid <= 0 || member_find(w, (pid_t)pid))
		return;
	struct member *m = member_add_read(w, (pid_t)pid, parent, true);
	if (m)
		report(fn, ctx, PROC_EV_NEW, m);
}

/* The pids of one children file ("12 34 "), read in pieces: a number cut
 * at the end of a piece goes on in the next.  At most MAX_PROC_MEMBERS
 * pids are taken from one file. */
static void read_children(proc_watch *w, const char *path, pid_t parent,
			  proc_watch_fn fn, void *ctx)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* the thread ended */
	char buf[1024];
	long cur = -1;		/* the number being read, -1 between two */
	size_t taken = 0;
	ssize_t n;
	while (taken < MAX_PROC_MEMBERS &&
	       ((n = read(fd, buf, sizeof buf)) > 0 ||
		(n < 0 && errno == EINTR))) {
		for (ssize_t i = 0; i < n && taken < MAX_PROC_MEMBERS; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				cur = cur < 0 ? 0 : cur;
				cur = cur * 10 + (buf[i] - '0');
				if (cur > 1 << 30)
					cur = 0;	/* garbage: no pid */
			} else if (cur >= 0) {
				child_found(w, cur, parent, fn, ctx);
				taken++;
				cur = -1;
			}
		}
	}
	if (cur >= 0 && taken < MAX_PROC_MEMBERS)
		child_found(w, cur, parent, fn, ctx);
	close(fd);
}

struct children_walk {
	proc_watch *w;
	pid_t pid;
	size_t threads;
	proc_watch_fn fn;
	void *ctx;
};

static int thread_children(void *arg, pid_t tid, uint64_t inode)
{
	struct children_walk *c = arg;
	char path[96];
	(void)inode;
	if (c->threads++ >= MAX_THREADS)
		return 1;
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)c->pid,
		 (int)tid);
	read_children(c->w, path, c->pid, c->fn, c->ctx);
	return 0;
}

/* Children of every member from /proc/PID/task/TID/children: a directory
 * read of task/ and one read per thread, so a scan costs about
 * members x (threads + 1) x 3 syscalls, whatever else runs on the host.
 * Members found here are appended and read in turn (breadth first: parents
 * are reported before their children). */
static void scan_children(proc_watch *w, proc_watch_fn fn, void *ctx)
{
	char path[96];
	for (size_t i = 0; i < w->n; i++) {
		pid_t pid = w->m[i].pid;
		if (w->m[i].dead)
			continue;
		snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
		int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue;	/* gone: the next scan says so */
		struct children_walk c = { w, pid, 0, fn, ctx };
		procfs_each_id(dfd, w->dents, DENTS_SIZE, thread_children, &c);
		close(dfd);
	}
}

static size_t out_slot(const struct outsider *t, size_t cap, pid_t pid)
{
	size_t i = ((uint32_t)pid * 2654435761u) & (cap - 1);
	while (t[i].pid && t[i].pid != pid)
		i = (i + 1) & (cap - 1);
	return i;
}

/* Room for one more outsider in the next table; false on no memory (the
 * pid is then just read again next scan). */
static bool out_reserve(proc_watch *w)
{
	if (2 * (w->out_n + 1) <= w->out_cap)
		return true;
	size_t cap = w->out_cap ? 2 * w->out_cap : 1024;
	struct outsider *a = calloc(cap, sizeof *a);
	struct outsider *b = calloc(cap, sizeof *b);
	if (!a || !b) {
		free(a);
		free(b);
		return false;
	}
	for (size_t i = 0; i < w->out_cap; i++)
		if (w->out_next[i].pid)
			b[out_slot(b, cap, w->out_next[i].pid)] = w->out_next[i];
	/* The old table being read this scan stays valid: keep its rows in
	 * the new "current" one too. */
	for (size_t i = 0; i < w->out_cap; i++)
		if (w->out[i].pid)
			a[out_slot(a, cap, w->out[i].pid)] = w->out[i];
	free(w->out);
	free(w->out_next);
	w->out = a;
	w->out_next = b;
	w->out_cap = cap;
	return true;
}

static void out_keep(proc_watch *w, pid_t pid, uint32_t ino)
{
	if (!out_reserve(w))
		return;
	size_t i = out_slot(w->out_next, w->out_cap, pid);
	if (!w->out_next[i].pid)
		w->out_n++;
	w->out_next[i] = (struct outsider){ pid, ino };
}

struct ppid_walk {
	proc_watch *w;
	size_t seen;
	int rc;
};

/* One pid of /proc for scan_ppids: a candidate unless it is a member, an
 * outsider known by its inode, gone or a zombie.  Non-zero stops. */
static int ppid_candidate(void *arg, pid_t pid, uint64_t inode)
{
	struct ppid_walk *pw = arg;
	proc_watch *w = pw->w;
	if (member_find(w, pid))
		return 0;
	if (++pw->seen > MAX_PROC_SCAN_PIDS)
		return 1;
	uint32_t ino = (uint32_t)inode;
	if (w->out_cap) {
		size_t i = out_slot(w->out, w->out_cap, pid);
		if (w->out[i].pid == pid && w->out[i].ino == ino) {
			out_keep(w, pid, ino);
			return 0;
		}
	}
	struct procfs_stat ps;
	if (!read_pstat(pid, &ps))
		return 0;	/* gone */
	if (!pstat_alive(&ps)) {
		out_keep(w, pid, ino);	/* a zombie forks no more */
		return 0;
	}
	if (w->ncand == w->cand_cap) {
		size_t cap = w->cand_cap ? 2 * w->cand_cap : 256;
		struct candidate *c = realloc(w->cand, cap * sizeof *c);
		if (!c) {
			pw->rc = LP_ENOMEM;
			return 1;
		}
		w->cand = c;
		w->cand_cap = cap;
	}
	w->cand[w->ncand++] = (struct candidate){
		.pid = pid, .ppid = ps.ppid, .ino = ino,
		.starttime = ps.starttime,
		.img = { .start_code = ps.start_code,
			 .end_code = ps.end_code,
			 .start_stack = ps.start_stack },
	};
	return 0;
}

/* Children by parent pid, from every /proc/PID/stat (kernels without
 * children files).  One getdents64 pass over /proc (a few calls per
 * thousand processes) plus a stat read (3 syscalls) for each process not
 * seen before: a process outside the tree is read once, then known by its
 * /proc inode.  New processes whose parent is a member join, parents
 * first; a child whose parent exited before the scan saw it was reparented
 * (to init or a subreaper) and is not found: netlink has no such gap. */
static int scan_ppids(proc_watch *w, proc_watch_fn fn, void *ctx)
{
	/* An unreadable /proc finds nothing new; members are still checked. */
	if (w->procfd < 0) {
		w->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (w->procfd < 0)
			return LP_OK;
	}
	if (lseek(w->procfd, 0, SEEK_SET) < 0)
		return LP_OK;
	w->ncand = 0;
	w->out_n = 0;
	if (w->out_cap)
		memset(w->out_next, 0, w->out_cap * sizeof *w->out_next);
	struct ppid_walk walk = { w, 0, LP_OK };
	procfs_each_id(w->procfd, w->dents, DENTS_SIZE, ppid_candidate, &walk);
	if (walk.rc != LP_OK)
		return walk.rc;
	/* Join whoever has a member parent until nothing changes: each pass
	 * adds a generation, so a new subtree of depth d takes d passes. */
	bool more = true;
	while (more) {
		more = false;
		for (size_t i = 0; i < w->ncand; i++) {
			struct candidate *c = &w->cand[i];
			if (c->taken || !member_find(w, c->ppid))
				continue;
			c->taken = true;
			struct image img = c->img;
			struct procfs_stat ps = { .start_code = img.start_code,
					    .end_code = img.end_code,
					    .start_stack = img.start_stack };
			read_image(c->pid, &ps, &img);
			struct member *m =
				member_add(w, c->pid, c->ppid, c->starttime, &img);
			if (m) {
				report(fn, ctx, PROC_EV_NEW, m);
				more = true;
			}
		}
	}
	for (size_t i = 0; i < w->ncand; i++)
		if (!w->cand[i].taken)
			out_keep(w, w->cand[i].pid, w->cand[i].ino);
	struct outsider *t = w->out;
	w->out = w->out_next;
	w->out_next = t;
	return LP_OK;
}

/* One full scan: exits and execs of the members, then new descendants. */
static int scan(proc_watch *w, proc_watch_fn fn, void *ctx)
{
	scan_members(w, fn, ctx);
	if (w->children_ok) {
		scan_children(w, fn, ctx);
		return LP_OK;
	}
	return scan_ppids(w, fn, ctx);
}

/* --- netlink -------------------------------------------------------- */

static void nl_close(proc_watch *w)
{
	if (w->nl >= 0)
		close(w->nl);
	w->nl = -1;
}

/* One message of the connector. */
static void nl_event(proc_watch *w, const struct cn_proc_event *ev,
		     proc_watch_fn fn, void *ctx)
{
	struct member *m;
	if (w->host_fn) {
		/* a process that starts, execs or ends; a thread that
		 * starts or ends (its pid is not its tgid) */
		if (ev->what == PROC_EVENT_FORK)
			w->host_fn(w->host_ctx,
				   ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid ?
					   PROC_EVENTS_FORK : PROC_EVENTS_THREAD,
				   ev->event_data.fork.child_tgid);
		else if (ev->what == PROC_EVENT_EXEC)
			w->host_fn(w->host_ctx, PROC_EVENTS_EXEC, ev->event_data.exec.process_tgid);
		else if (ev->what == PROC_EVENT_EXIT)
			w->host_fn(w->host_ctx,
				   ev->event_data.exit.process_pid == ev->event_data.exit.process_tgid ?
					   PROC_EVENTS_EXIT : PROC_EVENTS_THREAD,
				   ev->event_data.exit.process_tgid);
		return;
	}
	switch (ev->what) {
	case PROC_EVENT_FORK: {
		pid_t child = ev->event_data.fork.child_pid;
		/* A thread (clone with CLONE_THREAD) has pid != tgid. */
		if (child != ev->event_data.fork.child_tgid)
			return;
		pid_t parent = ev->event_data.fork.parent_tgid;
		if (!member_find(w, parent) || member_find(w, child))
			return;
		m = member_add_read(w, child, parent, false);
		if (m)
			report(fn, ctx, PROC_EV_NEW, m);
		return;
	}
	case PROC_EVENT_EXEC:
		m = member_find(w, ev->event_data.exec.process_tgid);
		if (!m)
			return;
		/* Sent when the exec is done: the image is final. */
		struct procfs_stat ps;
		if (read_pstat(m->pid, &ps)) {
			read_image(m->pid, &ps, &m->img);
			m->img_stable = m->img.start_stack != 0;
		}
		report(fn, ctx, PROC_EV_EXEC, m);
		return;
	case PROC_EVENT_EXIT:
		m = member_find(w, ev->event_data.exit.process_tgid);
		/* Each thread's exit is an event; the process's is its main
		 * thread's, unless that one left early (pthread_exit): then
		 * each later thread exit checks again. */
		if (m && (ev->event_data.exit.process_pid == m->pid ||
			  m->leader_gone))
			member_check_alive(w, m, fn, ctx);
		return;
	default:
		return;
	}
}

/* Every message in one datagram. */
static void nl_datagram(proc_watch *w, const char *buf, size_t len,
			proc_watch_fn fn, void *ctx)
{
	for (const struct nlmsghdr *nh = (const void *)buf;
	     NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
		if (nh->nlmsg_type == NLMSG_NOOP || nh->nlmsg_type == NLMSG_ERROR)
			continue;
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct cn_msg)))
			continue;
		const struct cn_msg *cn = NLMSG_DATA(nh);
		if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
			continue;
		/* Events are at least their header and a fork's data;
		 * copied out so that their fields are read aligned. */
		struct cn_proc_event ev;
		size_t have = nh->nlmsg_len - NLMSG_LENGTH(sizeof *cn);
		if (cn->len > have ||
		    cn->len < offsetof(struct cn_proc_event, event_data))
			continue;
		memset(&ev, 0, sizeof ev);
		memcpy(&ev, cn->data, cn->len < sizeof ev ? cn->len : sizeof ev);
		nl_event(w, &ev, fn, ctx);
	}
}

/* Reads every queued datagram, NL_BATCH per recvmmsg (a host that forks
 * thousands of times a second sends three events per process, all to us);
 * an overflow (ENOBUFS: the kernel dropped events) asks for a full scan.
 * The idle case is one recvmmsg that finds nothing (EAGAIN). */
static void nl_drain(proc_watch *w, proc_watch_fn fn, void *ctx)
{
	struct mmsghdr msgs[NL_BATCH];
	struct iovec iov[NL_BATCH];
	struct sockaddr_nl sa[NL_BATCH];
	for (;;) {
		for (size_t i = 0; i < NL_BATCH; i++) {
			iov[i] = (struct iovec){ w->nlbuf + i * NL_MSG_SIZE,
						 NL_MSG_SIZE };
			msgs[i] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &sa[i], .msg_namelen = sizeof sa[i],
				.msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		int n = recvmmsg(w->nl, msgs, NL_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				w->need_rescan = true;
				continue;
			}
			return;	/* EAGAIN: all read */
		}
		for (int i = 0; i < n; i++) {
			/* Only the kernel (port 0) speaks for the connector;
			 * a cut datagram is not read. */
			if (msgs[i].msg_hdr.msg_namelen < sizeof sa[i] ||
			    sa[i].nl_pid != 0 ||
			    (msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
				continue;
			nl_datagram(w, iov[i].iov_base, msgs[i].msg_len, fn, ctx);
		}
		if (n < NL_BATCH)
			return;	/* what was queued is read */
	}
}

/* Subscribes to process events; false (socket closed) where they cannot
 * be had: no CAP_NET_ADMIN on a kernel that wants it (acknowledged with
 * EPERM; 6.18 here lets any user listen), a network namespace without the
 * connector (socket fails), or a pid/user namespace other than the
 * initial one (the kernel ignores the request silently: no
 * acknowledgement comes, and we wait 200 ms for it). */
static bool nl_open(proc_watch *w)
{
	w->nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (w->nl < 0)
		return false;
	/* Room for bursts of the whole host's forks between two polls;
	 * FORCE passes rmem_max with CAP_NET_ADMIN, else the plain one. */
	int rcv = 4 << 20;
	if (setsockopt(w->nl, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv))
		setsockopt(w->nl, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = CN_IDX_PROC };
	if (bind(w->nl, (struct sockaddr *)&sa, sizeof sa)) {
		nl_close(w);
		return false;
	}
	uint64_t t0 = clock_mono_ns();
	uint32_t cookie = (uint32_t)getpid() * 2654435761u ^ (uint32_t)t0;
	union {
		char b[NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(int))];
		struct nlmsghdr nh;
	} req;
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = sizeof req.b;
	req.nh.nlmsg_type = NLMSG_DONE;
	req.nh.nlmsg_pid = 0;
	struct cn_msg *cn = NLMSG_DATA(&req.nh);
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->ack = cookie;
	cn->len = sizeof(int);
	int op = PROC_CN_MCAST_LISTEN;
	memcpy(cn->data, &op, sizeof op);
	if (send(w->nl, &req, sizeof req.b, 0) < 0) {
		nl_close(w);
		return false;
	}
	/* The kernel acknowledges within our send (cn_proc_mcast_ctl), as a
	 * PROC_EVENT_NONE with ack = ours + 1; other listeners'
	 * acknowledgements carry their own cookie.  Events read before it
	 * precede the first poll's scan, which sees what they did.  200 ms
	 * in all, for the namespaces where no acknowledgement ever comes. */
	char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	uint64_t deadline = t0 / 1000000 + 200;
	for (;;) {
		uint64_t now = clock_mono_ns() / 1000000;
		struct pollfd pfd = { .fd = w->nl, .events = POLLIN };
		if (now >= deadline ||
		    poll(&pfd, 1, (int)(deadline - now)) <= 0)
			break;
		ssize_t n = recv(w->nl, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			break;
		}
		size_t len = (size_t)n;
		for (struct nlmsghdr *nh = (void *)buf; NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct cn_msg) +
							 sizeof(struct cn_proc_event)))
				continue;
			struct cn_msg *c = NLMSG_DATA(nh);
			struct cn_proc_event ev;
			memcpy(&ev, c->data, sizeof ev);
			if (c->id.idx != CN_IDX_PROC || ev.what != PROC_EVENT_NONE ||
			    c->ack != cookie + 1)
				continue;
			if (ev.event_data.ack.err == 0)
				return true;
			nl_close(w);
			return false;
		}
	}
	nl_close(w);
	return false;
}

/* --- the interface -------------------------------------------------- */

int proc_watch_new(proc_watch **out, pid_t root, bool use_netlink,
		   lp_error *err)
{
	*out = NULL;
	struct procfs_stat ps;
	if (root <= 0 || !read_pstat(root, &ps) || !pstat_alive(&ps))
		return lp_error_set(err, LP_ENOPROC,
				    "cannot watch the processes under PID %d: "
				    "no such process", (int)root);
	proc_watch *w = calloc(1, sizeof *w);
	if (!w)
		goto nomem;
	w->root = root;
	w->nl = -1;
	w->procfd = -1;
	/* CONFIG_PROC_CHILDREN (or CONFIG_CHECKPOINT_RESTORE before 4.2). */
	w->children_ok = access("/proc/thread-self/children", F_OK) == 0;
	w->m = malloc(MAX_PROC_MEMBERS * sizeof *w->m);
	w->hash = malloc(MEMBER_HASH_SIZE * sizeof *w->hash);
	w->dents = malloc(DENTS_SIZE);
	w->nlbuf = malloc(NL_BATCH * NL_MSG_SIZE);
	if (!w->m || !w->hash || !w->dents || !w->nlbuf)
		goto nomem;
	memset(w->hash, 0xff, MEMBER_HASH_SIZE * sizeof *w->hash);
	struct image img;
	read_image(root, &ps, &img);
	member_add(w, root, ps.ppid, ps.starttime, &img);

	/* Subscribe before the scan that the first poll makes: a fork
	 * between the two is then in both, and found once. */
	if (use_netlink)
		nl_open(w);
	*out = w;
	return LP_OK;
nomem:
	proc_watch_free(w);
	return lp_error_set(err, LP_ENOMEM,
			    "cannot watch the processes under PID %d: out of "
			    "memory", (int)root);
}

void proc_watch_free(proc_watch *w)
{
	if (!w)
		return;
	nl_close(w);
	if (w->procfd >= 0)
		close(w->procfd);
	free(w->cand);
	free(w->out);
	free(w->out_next);
	free(w->nlbuf);
	free(w->dents);
	free(w->hash);
	free(w->m);
	free(w);
}

const char *proc_watch_method(const proc_watch *w)
{
	return w->nl >= 0 ? "netlink process events" : "/proc scan";
}

int proc_watch_poll(proc_watch *w, uint64_t now_ns, proc_watch_fn fn,
		    void *ctx)
{
	int rc = LP_OK;
	if (!w->first_done) {
		/* The tree as it is now (the root is the caller's already),
		 * then, in netlink mode, what happened since the
		 * subscription: forks found twice are found once. */
		w->first_done = true;
		rc = scan(w, fn, ctx);
		w->next_scan_ns = now_ns + PROC_WATCH_SCAN_NS;
		if (w->nl >= 0)
			nl_drain(w, fn, ctx);
	} else if (w->nl >= 0) {
		nl_drain(w, fn, ctx);
		/* A main thread that left before its threads: its process's
		 * end may be reported only by a thread exit read before the
		 * process was gone, so look again now and then. */
		if (w->nleader_gone && now_ns >= w->next_scan_ns) {
			w->next_scan_ns = now_ns + PROC_WATCH_SCAN_NS;
			for (size_t i = 0; i < w->n; i++)
				if (!w->m[i].dead && w->m[i].leader_gone)
					member_check_alive(w, &w->m[i], fn, ctx);
		}
	} else if (now_ns >= w->next_scan_ns) {
		w->next_scan_ns = now_ns + PROC_WATCH_SCAN_NS;
		rc = scan(w, fn, ctx);
	}
	/* Lost events (overflow): the scan reports what changed. */
	if (w->nl >= 0 && w->need_rescan) {
		w->need_rescan = false;
		rc = scan(w, fn, ctx);
		nl_drain(w, fn, ctx);
	}
	compact(w);
	return rc;
}

size_t proc_watch_count(const proc_watch *w)
{
	return w->n;
}

pid_t proc_watch_pid_at(const proc_watch *w, size_t i)
{
	return i < w->n ? w->m[i].pid : 0;
}

size_t proc_watch_dropped(const proc_watch *w)
{
	return w->dropped;
}

void proc_watch_no_children_files(proc_watch *w)
{
	w->children_ok = false;
}

/* --- the host's events (proc_events.h) ------------------------------ */

struct proc_events {
	proc_watch w;	/* its netlink half only */
};

int proc_events_open(proc_events **out, lp_error *err)
{
	*out = NULL;
	proc_events *e = calloc(1, sizeof *e);
	if (!e || !(e->w.nlbuf = malloc(NL_BATCH * NL_MSG_SIZE))) {
		free(e);
		return lp_error_set(err, LP_ENOMEM, "process events: out of memory");
	}
	e->w.nl = -1;
	e->w.procfd = -1;
	if (!nl_open(&e->w)) {
		proc_events_free(e);
		return lp_error_set(err, LP_EUNSUPPORTED,
				    "no process events here (the connector needs CAP_NET_ADMIN and the "
				    "initial namespaces)");
	}
	*out = e;
	return LP_OK;
}

void proc_events_free(proc_events *e)
{
	if (!e)
		return;
	nl_close(&e->w);
	free(e->w.nlbuf);
	free(e);
}

int proc_events_fd(const proc_events *e)
{
	return e->w.nl;
}

static void no_tree_event(void *ctx, const struct proc_event *ev)
{
	(void)ctx;
	(void)ev;
}

bool proc_events_read(proc_events *e, proc_events_fn fn, void *ctx)
{
	e->w.host_fn = fn;
	e->w.host_ctx = ctx;
	e->w.need_rescan = false;
	nl_drain(&e->w, no_tree_event, NULL);
	e->w.host_fn = NULL;
	return !e->w.need_rescan;
}
