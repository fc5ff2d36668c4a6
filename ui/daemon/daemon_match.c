/* Matching processes to the daemon's [target] sections by reading /proc.
 * Every file is opened relative to the process's /proc directory fd, so a
 * PID reused while we read cannot mix two processes (STYLE.md), and the
 * start time read first names the process we matched. */
#include "daemon_match.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

/* include/linux/sched.h: PF_KTHREAD, in field 9 (flags) of stat */
#define PF_KTHREAD 0x00200000u

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

int daemon_match_exe(const char *glob, const char *exe_path)
{
	const char *subject = exe_path;
	if (!strchr(glob, '/')) {
		const char *slash = strrchr(exe_path, '/');
		if (slash)
			subject = slash + 1;
	}
	return fnmatch(glob, subject, 0) == 0;
}

int daemon_match_cmdline(const char *pattern, const char *cmdline)
{
	if (!has_glob(pattern))
		return strstr(cmdline, pattern) != NULL;
	return fnmatch(pattern, cmdline, 0) == 0;
}

/* cgroup file lines are "ID:CONTROLLERS:PATH" (v1) or "0::PATH" (v2): the
 * process matches when any hierarchy puts it at want or below it. */
int daemon_match_cgroup(const char *want, const char *cgroup_file)
{
	size_t wl = strlen(want);
	bool root = wl == 1 && want[0] == '/';
	const char *line = cgroup_file;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', ll);
		const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - line)) : NULL;
		if (c2) {
			const char *path = c2 + 1;
			size_t pl = ll - (size_t)(path - line);
			if (root || (pl >= wl && memcmp(path, want, wl) == 0 &&
				     (pl == wl || path[wl] == '/')))
				return 1;
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int daemon_match_python(const char *exe_path)
{
	const char *b = strrchr(exe_path, '/');
	b = b ? b + 1 : exe_path;
	if (strncmp(b, "python", 6) != 0)
		return 0;
	b += 6;
	/* python, python3, python3.13, then a build flag or two (t, d) */
	while ((*b >= '0' && *b <= '9') || *b == '.')
		b++;
	while (*b == 't' || *b == 'd' || *b == 'm')
		b++;
	return *b == '\0';
}

/* The path of a hierarchy that names units: the unified one ("0::",
 * named true: v1's name=systemd); NULL when it is not there. */
static const char *unit_hierarchy(const char *f, bool named, size_t *plen)
{
	for (const char *line = f; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', ll);
		const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - line)) : NULL;
		if (c2 && c2 + 1 < line + ll && c2[1] == '/') {
			size_t cl = (size_t)(c2 - c1 - 1);
			bool ok = named ? cl == 12 && memcmp(c1 + 1, "name=systemd", 12) == 0
					: cl == 0 && c1 == line + 1 && line[0] == '0';
			if (ok) {
				*plen = ll - (size_t)(c2 + 1 - line);
				return c2 + 1;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* In path[0..pl): the innermost "NAME.service" (unit) or the last
 * component, sanitized into buf. */
static int name_in(const char *path, size_t pl, bool unit, char *buf, size_t len)
{
	const char *end = path + pl;
	while (end > path) {
		const char *c = end;
		while (c > path && c[-1] != '/')
			c--;
		size_t cl = (size_t)(end - c);
		bool ok = cl > 0 && (!unit || (cl > 8 && memcmp(end - 8, ".service", 8) == 0));
		if (ok) {
			size_t o = 0;
			for (size_t i = 0; i < cl && o + 1 < len; i++) {
				unsigned char ch = (unsigned char)c[i];
				bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
					     (ch >= '0' && ch <= '9') || (ch && strchr(":_.@-", ch));
				buf[o++] = plain ? (char)ch : '_';
			}
			buf[o] = '\0';
			return 1;
		}
		if (!unit && cl > 0)
			break;
		end = c > path ? c - 1 : path;
	}
	return 0;
}

int daemon_cgroup_name(const char *cgroup_file, bool unit, char *buf,
		       size_t len)
{
	buf[0] = '\0';
	if (len < 2)
		return 0;
	/* the unified hierarchy, then (hybrid setups) name=systemd's */
	for (int named = 0; named < 2; named++) {
		size_t pl = 0;
		const char *path = unit_hierarchy(cgroup_file, named, &pl);
		if (path && name_in(path, pl, unit, buf, len))
			return 1;
	}
	return 0;
}

/* A process as the matchers see it, read lazily: each file at most once. */
struct proc_view {
	int dirfd;
	pid_t pid;
	bool kthread;
	uint64_t start_time;
	char comm[17];
	/* 0 unread, 1 ok, -1 none */
	int have_stat, have_exe, have_cmdline, have_cgroup;
	char exe[4096];
	char cmdline[DAEMON_MATCH_MAX_CMDLINE];
	char cgroup[DAEMON_MATCH_MAX_CGROUP];
};

/* The stat fields the matchers use, up to the start time (field 22). */
static int read_stat(int dirfd, struct procfs_stat *st)
{
	char buf[1024];
	if (procfs_read(dirfd, "stat", buf, sizeof buf) <= 0 ||
	    procfs_stat_parse(buf, PROCFS_STAT_STARTTIME, st) != PROCFS_STAT_STARTTIME)
		return -1;
	return 0;
}

int daemon_read_start_time(int procfd, uint64_t *start_time)
{
	struct procfs_stat st;
	if (read_stat(procfd, &st) != 0)
		return -1;
	*start_time = st.starttime;
	return 0;
}

bool daemon_proc_ended(pid_t pid, uint64_t start_time)
{
	int fd = procfs_open_pid(AT_FDCWD, pid);	/* one call, not three */
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH;
	struct procfs_stat st;
	bool ended = read_stat(fd, &st) != 0 || st.starttime != start_time ||
		     st.state == 'Z' || st.state == 'X';
	close(fd);
	return ended;
}

/* Its stat (start time, state, comm): 0, or -1 when it cannot be read or
 * the process is a zombie, which is no target (it exited and waits for
 * its parent). */
static int view_stat(struct proc_view *v)
{
	if (v->have_stat)
		return v->have_stat > 0 ? 0 : -1;
	struct procfs_stat st;
	v->have_stat = -1;
	if (read_stat(v->dirfd, &st) != 0 || st.state == 'Z' || st.state == 'X')
		return -1;
	v->have_stat = 1;
	v->start_time = st.starttime;
	v->kthread = st.flags & PF_KTHREAD;
	size_t cl = strnlen(st.comm, sizeof v->comm - 1);
	memcpy(v->comm, st.comm, cl);
	v->comm[cl] = '\0';
	return 0;
}

/* lazy: the stat is read when asked for (view_stat), not here. */
static int view_open(struct proc_view *v, int procfd, pid_t pid, bool lazy)
{
	v->pid = pid;
	v->have_exe = v->have_cmdline = v->have_cgroup = v->have_stat = 0;
	v->kthread = 0;
	v->dirfd = procfs_open_pid(procfd, pid);
	if (v->dirfd < 0)
		return -1;
	if (!lazy && view_stat(v) != 0) {
		close(v->dirfd);
		v->dirfd = -1;
		return -1;
	}
	return 0;
}

static const char *view_exe(struct proc_view *v)
{
	if (!v->have_exe) {
		ssize_t n = readlinkat(v->dirfd, "exe", v->exe, sizeof v->exe - 1);
		v->have_exe = n > 0 ? 1 : -1;
		if (n > 0) {
			v->exe[n] = '\0';
			/* a replaced binary reads "PATH (deleted)": match PATH */
			const char *del = " (deleted)";
			size_t dl = strlen(del);
			if ((size_t)n > dl && strcmp(v->exe + n - dl, del) == 0)
				v->exe[n - dl] = '\0';
		}
	}
	return v->have_exe > 0 ? v->exe : NULL;
}

ssize_t daemon_read_cmdline(int procfd, char *buf, size_t len)
{
	return procfs_read_cmdline(procfd, buf, len);
}

static const char *view_cmdline(struct proc_view *v)
{
	if (!v->have_cmdline)
		v->have_cmdline = daemon_read_cmdline(v->dirfd, v->cmdline,
						      sizeof v->cmdline) > 0 ? 1 : -1;
	return v->have_cmdline > 0 ? v->cmdline : NULL;
}

static const char *view_cgroup(struct proc_view *v)
{
	if (!v->have_cgroup)
		v->have_cgroup = procfs_read(v->dirfd, "cgroup", v->cgroup, sizeof v->cgroup) > 0 ? 1 : -1;
	return v->have_cgroup > 0 ? v->cgroup : NULL;
}

static bool view_matches(struct proc_view *v, const struct daemon_target_cfg *t)
{
	if (t->npids) {
		for (size_t i = 0; i < t->npids; i++)
			if (t->pids[i] == v->pid)
				return true;
		return false;
	}
	const char *s;
	if (t->python && (!(s = view_exe(v)) || !daemon_match_python(s)))
		return false;
	if (t->exe && (!(s = view_exe(v)) || !daemon_match_exe(t->exe, s)))
		return false;
	if (t->cmdline && (!(s = view_cmdline(v)) || !daemon_match_cmdline(t->cmdline, s)))
		return false;
	if (t->cgroup && (!(s = view_cgroup(v)) || !daemon_match_cgroup(t->cgroup, s)))
		return false;
	if (t->unit) {
		char u[DAEMON_TARGET_NAME_MAX + 1];
		if (!(s = view_cgroup(v)) || !daemon_cgroup_name(s, true, u, sizeof u) ||
		    fnmatch(t->unit, u, 0) != 0)
			return false;
	}
	return true;
}

/* The service name of v matched by t (service =). */
static void view_service(struct proc_view *v, const struct daemon_target_cfg *t,
			 char *out, size_t len)
{
	const char *s;
	if (t->service != SERVICE_SECTION && (s = view_cgroup(v)) &&
	    daemon_cgroup_name(s, t->service == SERVICE_UNIT, out, len))
		return;
	snprintf(out, len, "%s", t->name);
}

static void fill(struct daemon_match *m, const struct proc_view *v, size_t target)
{
	m->pid = v->pid;
	m->target = target;
	m->start_time = v->start_time;
	memcpy(m->comm, v->comm, sizeof m->comm);
	m->service[0] = '\0';
}

int daemon_match_pid_any(const struct daemon_target_cfg *targets,
			 size_t ntargets, pid_t pid, struct daemon_match *m)
{
	/* /proc/PID at once: one call where /proc, then PID in it, then
	 * closing /proc were three for every process an event names */
	int procfd = AT_FDCWD;
	struct proc_view *v = malloc(sizeof *v);
	int ok = 0;
	/* The stat only for a process a section matches: a host that
	 * forks all the time (a build) sends the daemon an event for every
	 * process it starts, and the kernel's stat is the dearest file of
	 * the few a verdict reads (do_task_stat). */
	if (v && view_open(v, procfd, pid, true) == 0) {
		for (size_t k = 0; pid != getpid() && k < ntargets && !ok; k++) {
			if (!view_matches(v, &targets[k]))
				continue;
			if (view_stat(v) != 0 || v->kthread)
				break;
			ok = 1;
			fill(m, v, k);
			view_service(v, &targets[k], m->service,
				     sizeof m->service);
		}
		close(v->dirfd);
	}
	free(v);
	return ok;
}

int daemon_match_pid(const struct daemon_target_cfg *t, pid_t pid,
		     struct daemon_match *m)
{
	struct daemon_match own;
	return daemon_match_pid_any(t, 1, pid, m ? m : &own);
}

/* One process's verdict: the target it matched, or NO_MATCH. */
#define NO_MATCH ((size_t)-1)
struct cache_entry {
	pid_t pid;
	ino_t ino;
	struct daemon_match m;	/* m.target NO_MATCH: matched nothing */
};

struct daemon_match_cache {
	struct cache_entry *e;
	size_t n;
	unsigned scans;
};

daemon_match_cache *daemon_match_cache_new(void)
{
	return calloc(1, sizeof(struct daemon_match_cache));
}

void daemon_match_cache_clear(daemon_match_cache *c)
{
	if (!c)
		return;
	free(c->e);
	c->e = NULL;
	c->n = 0;
}

void daemon_match_cache_free(daemon_match_cache *c)
{
	daemon_match_cache_clear(c);
	free(c);
}

static const struct cache_entry *cache_find(const daemon_match_cache *c, pid_t pid, ino_t ino)
{
	size_t lo = 0, hi = c ? c->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->e[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < (c ? c->n : 0) && c->e[lo].pid == pid && c->e[lo].ino == ino ? &c->e[lo] : NULL;
}

void daemon_match_cache_forget(daemon_match_cache *c, pid_t pid)
{
	size_t lo = 0, hi = c ? c->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->e[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (c && lo < c->n && c->e[lo].pid == pid)
		c->e[lo].ino = 0;	/* no /proc directory has inode 0 */
}

static int cmp_entry(const void *a, const void *b)
{
	pid_t x = ((const struct cache_entry *)a)->pid;
	pid_t y = ((const struct cache_entry *)b)->pid;
	return (x > y) - (x < y);
}

/* getdents64 room for one scan of /proc: what readdir would use. */
#define SCAN_DENTS (32 * 1024)

/* One scan of /proc (daemon_match_scan_cached) and its verdicts so far. */
struct scan_walk {
	daemon_match_cache *cache;
	const struct daemon_target_cfg *targets;
	size_t ntargets;
	size_t *nread;
	int procfd;
	bool full;		/* read every process, none from the cache */
	pid_t self;
	struct proc_view *v;
	struct cache_entry *all;	/* this scan's verdicts */
	size_t nall, cap, nmatch;
	unsigned seen;
	lp_error *err;
	int rc;
};

/* One process of the scan: its verdict from the cache or from its files.
 * Non-zero stops the scan (rc says whether it failed). */
static int scan_one(void *arg, pid_t pid, uint64_t inode)
{
	struct scan_walk *sw = arg;
	if (sw->seen++ >= DAEMON_MATCH_MAX_PROCS)
		return 1;
	if (pid == sw->self)
		return 0;
	if (sw->nall == sw->cap) {
		size_t nc = sw->cap ? sw->cap * 2 : 256;
		struct cache_entry *na = realloc(sw->all, nc * sizeof *na);
		if (!na) {
			sw->rc = lp_error_set(sw->err, LP_ENOMEM, "out of memory");
			return 1;
		}
		sw->all = na;
		sw->cap = nc;
	}
	struct cache_entry *e = &sw->all[sw->nall];
	const struct cache_entry *old =
		sw->full ? NULL : cache_find(sw->cache, pid, (ino_t)inode);
	if (old) {
		*e = *old;
	} else {
		struct proc_view *v = sw->v;
		if (view_open(v, sw->procfd, pid, false) != 0)
			return 0;	/* gone meanwhile: not remembered */
		if (sw->nread)
			(*sw->nread)++;
		e->pid = pid;
		e->ino = (ino_t)inode;
		fill(&e->m, v, NO_MATCH);
		for (size_t i = 0; !v->kthread && i < sw->ntargets; i++)
			if (view_matches(v, &sw->targets[i])) {
				e->m.target = i;
				view_service(v, &sw->targets[i], e->m.service,
					     sizeof e->m.service);
				break;
			}
		close(v->dirfd);
	}
	sw->nall++;
	sw->nmatch += e->m.target != NO_MATCH;
	return 0;
}

int daemon_match_scan_cached(daemon_match_cache *cache,
			     const struct daemon_target_cfg *targets,
			     size_t ntargets, struct daemon_match **out,
			     size_t *n, size_t *nread, lp_error *err)
{
	*out = NULL;
	*n = 0;
	if (nread)
		*nread = 0;
	int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return lp_error_set(err, LP_EIO, "cannot open /proc: %s", strerror(errno));
	struct scan_walk sw = {
		.cache = cache, .targets = targets, .ntargets = ntargets,
		.nread = nread, .procfd = procfd, .self = getpid(), .err = err,
		.full = !cache || cache->scans++ % DAEMON_MATCH_FULL_EVERY == 0,
		.v = malloc(sizeof *sw.v),
	};
	char *dents = malloc(SCAN_DENTS);
	if (!sw.v || !dents) {
		free(sw.v);
		free(dents);
		close(procfd);
		return lp_error_set(err, LP_ENOMEM, "cannot list /proc: out of memory");
	}
	procfs_each_id(procfd, dents, SCAN_DENTS, scan_one, &sw);
	close(procfd);
	free(dents);
	free(sw.v);
	struct cache_entry *all = sw.all;
	size_t nall = sw.nall, nmatch = sw.nmatch;
	int rc = sw.rc;
	struct daemon_match *res = NULL;
	if (rc == LP_OK && nmatch && !(res = malloc(nmatch * sizeof *res)))
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
	if (rc) {
		free(all);
		return rc;
	}
	if (nall)
		qsort(all, nall, sizeof *all, cmp_entry);
	size_t k = 0;
	for (size_t i = 0; i < nall; i++)
		if (all[i].m.target != NO_MATCH)
			res[k++] = all[i].m;
	if (cache) {
		free(cache->e);
		cache->e = all;
		cache->n = nall;
	} else {
		free(all);
	}
	*out = res;
	*n = nmatch;
	return LP_OK;
}

int daemon_match_scan(const struct daemon_target_cfg *targets, size_t ntargets,
		      struct daemon_match **out, size_t *n, lp_error *err)
{
	return daemon_match_scan_cached(NULL, targets, ntargets, out, n, NULL, err);
}
