/* The daemon's state as its parts use it: the targets it profiles (found,
 * added, their windows cut, finalized), the config read again, the log,
 * its own usage, and the requests to stop or reload.  daemon.c's loop,
 * daemon_ctl.c and daemon_views.c all call these; these call none of them
 * (the backend only through d->be). */
#include "daemon_priv.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon_match.h"
#include "daemon_store.h"
#include "procfs.h"

/* own CPU measured over this */

void daemon_log(int level, const char *fmt, ...)
{
	static const char *const names[8] = { [3] = "error", [4] = "warning", [6] = "info" };
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* under systemd, stderr is the journal: "<N>" sets the priority
	 * (sd-daemon(3)); elsewhere a word */
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>%s\n", level, msg);
	else
		fprintf(stderr, "loupe: %s: %s\n", names[level & 7] ? names[level & 7] : "log", msg);
}

uint64_t daemon_now_ns(void)
{
	return clock_mono_ns();
}

uint64_t daemon_window_ns(const struct daemon_state *d)
{
	return (uint64_t)(d->cfg.window_s * 1e9);
}

struct daemon_target *daemon_find(struct daemon_state *d, pid_t pid)
{
	for (size_t i = 0; i < d->nt; i++)
		if (d->t[i].pid == pid)
			return &d->t[i];
	return NULL;
}

unsigned daemon_user_targets(const struct daemon_state *d, uid_t uid)
{
	unsigned n = 0;
	for (size_t i = 0; i < d->nt; i++)
		n += d->t[i].added_by == uid;
	return n;
}

/* The index of the service named name, added when new; past
 * DAEMON_MAX_SERVICES, "other"'s.  (size_t)-1 when out of memory. */
static size_t service_index(struct daemon_state *d, const char *name)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < d->nsvc; i++)
			if (strcmp(d->svc[i].name, name) == 0)
				return i;
		if (d->nsvc < DAEMON_MAX_SERVICES - 1 ||
		    (d->nsvc == DAEMON_MAX_SERVICES - 1 && strcmp(name, DAEMON_OTHER_SERVICE) == 0))
			break;
		name = DAEMON_OTHER_SERVICE;	/* full: the last slot is "other" */
	}
	struct daemon_service *ns = realloc(d->svc, (d->nsvc + 1) * sizeof *ns);
	if (!ns)
		return (size_t)-1;
	d->svc = ns;
	memset(&ns[d->nsvc], 0, sizeof *ns);
	snprintf(ns[d->nsvc].name, sizeof ns[d->nsvc].name, "%s", name);
	return d->nsvc++;
}

void daemon_target_named(struct daemon_state *d, struct daemon_target *t,
			 const char *service, const char *comm)
{
	size_t k = service_index(d, service && *service ? service : t->name);
	if (k == (size_t)-1)
		return;	/* keeps its section's name */
	if (t->svc < d->nsvc && d->svc[t->svc].live)
		d->svc[t->svc].live--;
	t->svc = k;
	d->svc[k].live++;
	if (t->section != DAEMON_NO_SECTION && t->section < d->cfg.ntargets &&
	    !d->cfg.targets[t->section].runtime)
		d->svc[k].served = true;
	snprintf(t->service, sizeof t->service, "%s", d->svc[k].name);
	if (comm)
		snprintf(t->comm, sizeof t->comm, "%s", comm);
}

void daemon_target_cpu(struct daemon_target *t)
{
	int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return;
	int fd = procfs_open_pid(procfd, t->pid);
	close(procfd);
	if (fd < 0)
		return;
	char buf[1024];
	struct procfs_stat st;
	/* the process, not another that took its PID */
	if (procfs_read(fd, "stat", buf, sizeof buf) > 0 &&
	    procfs_stat_parse(buf, PROCFS_STAT_STARTTIME, &st) == PROCFS_STAT_STARTTIME &&
	    st.starttime == t->start_time)
		t->cpu_ticks = st.utime + st.stime;
	close(fd);
}

/* Finalizes the latest target that a user other than root added (by ctl
 * add, or through a section of theirs).  false when there is none. */
static bool evict_user_target(struct daemon_state *d)
{
	for (size_t i = d->nt; i-- > 0; )
		if (d->t[i].added_by != 0) {
			daemon_log(LOG_WARN_, "max_targets = %u reached: user %u's PID %d gives its slot to root's target",
				   d->cfg.max_targets, (unsigned)d->t[i].added_by, (int)d->t[i].pid);
			daemon_finalize(d, i, "its slot went to one of root's targets (max_targets)");
			return true;
		}
	return false;
}

int daemon_add(struct daemon_state *d, pid_t pid, uint64_t start_time,
	       size_t section, const char *name, uid_t by, lp_error *err)
{
	if (by != 0 && daemon_user_targets(d, by) >= d->cfg.max_targets_per_user)
		return lp_error_set(err, LP_EINVAL, "user %u already has max_targets_per_user = %u processes profiled: remove one first",
				    (unsigned)by, d->cfg.max_targets_per_user);
	/* root's targets (the config's, root's ctl add) take the slot of a
	 * user's when all are taken: users cannot crowd them out */
	if (d->nt >= d->cfg.max_targets && by == 0)
		evict_user_target(d);
	if (d->nt >= d->cfg.max_targets)
		return lp_error_set(err, LP_EINVAL, "already profiling max_targets = %u processes: remove one first or raise max_targets",
				    d->cfg.max_targets);
	struct daemon_target *nt = realloc(d->t, (d->nt + 1) * sizeof *nt);
	if (!nt)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	d->t = nt;
	struct daemon_target *t = &d->t[d->nt];
	memset(t, 0, sizeof *t);
	t->pid = pid;
	t->start_time = start_time;
	t->section = section;
	t->added_by = by;
	snprintf(t->name, sizeof t->name, "%s", name);
	const struct daemon_target_cfg *c = section != DAEMON_NO_SECTION ? &d->cfg.targets[section] : NULL;
	t->rate_cfg = c ? c->rate : DAEMON_DEFAULT_RATE;
	t->rate = t->rate_cfg * d->rate_scale;
	if (t->rate < DAEMON_MIN_RATE)
		t->rate = DAEMON_MIN_RATE;
	/* named by its start time too: a process that later gets the PID
	 * is another directory */
	int rc = store_target_dir(d->store, t->name, pid, start_time, &t->dir, err);
	if (rc)
		return rc;
	t->dname = strrchr(t->dir, '/') + 1;
	struct daemon_target_spec spec = {
		.pid = pid, .start_time = start_time, .name = t->name, .dir = t->dir, .rate = t->rate,
		.mode = c ? c->mode : MODE_CPU,
		.native = c && c->native, .tasks = c && c->tasks,
		.subprocesses = c && c->subprocesses,
		.thread_events = d->events != NULL,
	};
	uint64_t cpu0 = daemon_thread_cpu_ns();
	rc = d->be.start(d->be.ctx, &spec, &t->handle, err);
	d->attach_cpu_ns += daemon_thread_cpu_ns() - cpu0;
	if (rc) {
		free(t->dir);
		return rc;
	}
	t->window_start = time(NULL);
	t->window_end_ns = daemon_now_ns() + daemon_window_ns(d);
	/* its service is its section's name until the scan that matched it
	 * names it (daemon_target_named); ctl's own have none in /metrics */
	t->svc = (size_t)-1;
	snprintf(t->service, sizeof t->service, "%s", t->name);
	d->nt++;
	daemon_log(LOG_INFO_, "profiling %s PID %d at %.4g Hz into %s", t->name, (int)pid, t->rate, t->dir);
	return LP_OK;
}

/* Cuts t's window into its file and begins the next.  A file that cannot
 * be made (a link planted in place of the directory, which the store
 * refuses) is logged and counted (store_errors); its samples are dropped
 * and sampling goes on. */
void daemon_cut_window(struct daemon_state *d, struct daemon_target *t)
{
	lp_error err = { 0 };
	store_file f;
	FILE *out = NULL;
	struct daemon_service *sv = t->svc < d->nsvc ? &d->svc[t->svc] : NULL;
	if (store_window_open(d->store, t->dname, t->window_start, &f, &err) == LP_OK)
		out = f.fp;
	else
		daemon_log(LOG_ERR_, "PID %d: %s", (int)t->pid, err.msg);
	if (!out && sv)
		sv->errors++;
	daemon_target_cpu(t);
	lp_error ferr = { 0 };
	int rc = d->be.flush(d->be.ctx, t->handle, out, &ferr);
	if (out && rc == LP_OK) {
		if (store_window_commit(d->store, &f, &ferr) == LP_OK) {
			t->windows++;
			if (sv)
				sv->windows++;
		} else {
			daemon_log(LOG_ERR_, "PID %d: %s", (int)t->pid, ferr.msg);
			if (sv)
				sv->errors++;
		}
	} else if (out) {
		store_window_abort(&f);
		if (rc != LP_ENOTFOUND) {
			daemon_log(LOG_ERR_, "cannot write %s: %s", f.path, ferr.msg);
			if (sv)
				sv->errors++;
		}
	}
	/* the next window's name is its start second: never the same as
	 * this one's, which would replace it */
	time_t now = time(NULL);
	t->window_start = now > t->window_start ? now : t->window_start + 1;
	t->window_end_ns = daemon_now_ns() + daemon_window_ns(d);
}

void daemon_finalize(struct daemon_state *d, size_t i, const char *why)
{
	struct daemon_target *t = &d->t[i];
	daemon_cut_window(d, t);
	if (t->svc < d->nsvc) {
		/* its figures stay in its service's */
		struct daemon_service *sv = &d->svc[t->svc];
		struct daemon_target_figures f = { 0 };
		d->be.figures(d->be.ctx, t->handle, &f);
		sv->samples += f.samples;
		sv->missed += f.missed;
		sv->cpu_ticks += t->cpu_ticks;
		if (sv->live)
			sv->live--;
	}
	d->be.stop(d->be.ctx, t->handle);
	daemon_log(LOG_INFO_, "stopped profiling %s PID %d (%s): %u windows in %s",
		   t->name, (int)t->pid, why, t->windows, t->dir);
	free(t->dir);
	d->t[i] = d->t[--d->nt];
}

/* The daemon's own CPU time, every thread's (HTTP ones included). */
uint64_t daemon_self_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

uint64_t daemon_thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

uint64_t daemon_attach_cpu_ns(const struct daemon_state *d)
{
	return d->attach_cpu_ns + (d->be.attach_cpu ? d->be.attach_cpu(d->be.ctx) : 0);
}

void daemon_self_usage(double *cpu_s, uint64_t *rss)
{
	*cpu_s = (double)daemon_self_cpu_ns() / 1e9;
	*rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size, res;
	if (f && fscanf(f, "%llu %llu", &size, &res) == 2)
		*rss = res * (uint64_t)sysconf(_SC_PAGESIZE);
	if (f)
		fclose(f);
}

/* *now takes the running value *run (which is moved); whether they
 * differed. */
static bool keep_str(char **now, char **run)
{
	bool differ = (*now == NULL) != (*run == NULL) || (*now && strcmp(*now, *run) != 0);
	free(*now);
	*now = *run;
	*run = NULL;
	return differ;
}

int daemon_reload(struct daemon_state *d, lp_error *err)
{
	struct daemon_config c;
	int rc = daemon_config_load(d->config_path, &c, err);
	if (rc)
		return rc;
	/* sections added by ctl stay, after the file's (unless the file now
	 * has one of the same name): room first, so that failing moves none */
	size_t nrt = 0;
	for (size_t i = 0; i < d->cfg.ntargets; i++)
		nrt += d->cfg.targets[i].runtime;
	if (nrt) {
		struct daemon_target_cfg *nt = realloc(c.targets, (c.ntargets + nrt) * sizeof *nt);
		if (!nt) {
			daemon_config_free(&c);
			return lp_error_set(err, LP_ENOMEM, "out of memory");
		}
		c.targets = nt;
	}
	size_t nfile = c.ntargets;
	for (size_t i = 0; i < d->cfg.ntargets; i++) {
		struct daemon_target_cfg *rt = &d->cfg.targets[i];
		size_t k;
		if (!rt->runtime)
			continue;
		for (k = 0; k < nfile && strcmp(c.targets[k].name, rt->name) != 0; k++)
			;
		if (k < nfile)
			continue;
		c.targets[c.ntargets++] = *rt;
		memset(rt, 0, sizeof *rt);	/* moved: not freed below */
	}
	/* the directory and the sockets stay as they are until a restart */
	bool moved = keep_str(&c.dir, &d->cfg.dir) | keep_str(&c.socket, &d->cfg.socket) |
		     keep_str(&c.http, &d->cfg.http) |
		     keep_str(&c.http_token_file, &d->cfg.http_token_file) |
		     keep_str(&c.http_tls_cert, &d->cfg.http_tls_cert) |
		     keep_str(&c.http_tls_key, &d->cfg.http_tls_key) |
		     (c.http_open != d->cfg.http_open);
	c.http_open = d->cfg.http_open;
	if (moved)
		daemon_log(LOG_WARN_, "reload: dir, socket and the http keys take effect at the next start");
	/* targets keep their section by name; those whose section is gone
	 * are finalized now */
	for (size_t i = 0; i < d->nt; ) {
		struct daemon_target *t = &d->t[i];
		if (t->section == DAEMON_NO_SECTION) {
			i++;
			continue;
		}
		size_t k;
		for (k = 0; k < c.ntargets && strcmp(c.targets[k].name, t->name) != 0; k++)
			;
		if (k == c.ntargets) {
			daemon_finalize(d, i, "its section left the config");
			continue;
		}
		t->section = k;
		if (c.targets[k].rate != t->rate_cfg) {
			t->rate_cfg = c.targets[k].rate;
			t->rate = t->rate_cfg * d->rate_scale < DAEMON_MIN_RATE ?
				  DAEMON_MIN_RATE : t->rate_cfg * d->rate_scale;
			d->be.set_rate(d->be.ctx, t->handle, t->rate);
		}
		i++;
	}
	daemon_config_free(&d->cfg);
	d->cfg = c;
	daemon_match_cache_clear(d->match_cache);	/* verdicts of old sections */
	d->next_scan_ns = d->full_scan_ns = 0;	/* pick up new sections now */
	daemon_log(LOG_INFO_, "reloaded %s: %zu target sections", d->config_path, c.ntargets);
	return LP_OK;
}

void daemon_request_stop(struct daemon_state *d)
{
	d->stop = 1;
}

void daemon_request_reload(struct daemon_state *d)
{
	d->reload = 1;
}
