/* loupe daemon's loop: which processes are profiled, when their windows
 * are cut, what is kept on disk, how much CPU it may take.  Sampling is
 * the backend's; serving ctl is daemon_ctl.c's. */
#include "daemon_priv.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon_match.h"
#include "daemon_store.h"
#include "proc_events.h"

#define RETAIN_MAX_MS 60000	/* retention at least this often */
#define CPU_CHECK_MS 5000
/* Attach CPU is excused from max_cpu up to max_cpu over this long. */
#define ATTACH_BUDGET_S 60
/* After a process event, the rescan comes at most this often: a host
 * that forks all the time costs at most ten cached scans a second. */
#define EVENT_SCAN_MS 100
/* Listed processes an exit event looks through (on_event). */
#define EVENT_EXIT_LOOK 256


/* The target whose process tree (--subprocesses) holds pid, other than
 * except; NULL when none does. */
static struct daemon_target *covered_by(struct daemon_state *d, pid_t pid,
					const struct daemon_target *except)
{
	if (!d->be.covers)
		return NULL;
	for (size_t i = 0; i < d->nt; i++)
		if (&d->t[i] != except && d->be.covers(d->be.ctx, d->t[i].handle, pid))
			return &d->t[i];
	return NULL;
}

/* New matching processes are started; config targets whose process is gone
 * or no longer matches (after a reload) are finalized, as are gone ctl
 * targets. */
static bool daemon_user_targets_any(const struct daemon_state *d)
{
	for (size_t i = 0; i < d->nt; i++)
		if (d->t[i].added_by != 0)
			return true;
	return false;
}

/* One matching process: a new target unless it is one already, a worker
 * of a --subprocesses target, or over a quota. */
static void consider(struct daemon_state *d, const struct daemon_match *m)
{
	lp_error err = { 0 };
	struct daemon_target *t = daemon_find(d, m->pid);
	if (t && t->start_time == m->start_time) {
		t->seen = true;
		return;
	}
	if (t)
		return;	/* PID reused: the old one finalizes below */
	if (covered_by(d, m->pid, NULL))
		return;	/* a worker of a --subprocesses target */
	const struct daemon_target_cfg *sec = &d->cfg.targets[m->target];
	/* a user's section stops at the user's quota, silently (it is
	 * theirs to see in ctl status) */
	if (sec->owner != 0 && daemon_user_targets(d, sec->owner) >= d->cfg.max_targets_per_user) {
		d->left_out = true;
		return;
	}
	if (d->nt >= d->cfg.max_targets && (sec->owner != 0 || !daemon_user_targets_any(d))) {
		d->left_out = true;
		if (!d->warned_full)
			daemon_log(LOG_WARN_, "max_targets = %u reached: PID %d (%s) and others not profiled",
				   d->cfg.max_targets, (int)m->pid, m->comm);
		d->warned_full = true;
		return;
	}
	if (sec->runtime) {
		struct ctl_peer owner = { .pid = -1, .uid = sec->owner, .gid = sec->owner_gid };
		char why[256];
		uint64_t st;
		if (ctl_peer_check(&owner, m->pid, &st, why, sizeof why) != 0 ||
		    st != m->start_time)
			return;
	}
	if (daemon_add(d, m->pid, m->start_time, m->target, sec->name, sec->owner, &err) == LP_OK) {
		d->t[d->nt - 1].seen = true;
		daemon_target_named(d, &d->t[d->nt - 1], m->service, m->comm);
	} else
		daemon_log(LOG_WARN_, "cannot profile PID %d (%s): %s", (int)m->pid, m->comm, err.msg);
}

/* Targets whose process is gone, or (full: after a whole scan marked
 * what it saw) no longer matched, or now a worker of another's tree. */
static void finalize_ended(struct daemon_state *d, bool full)
{
	size_t before = d->nt;
	for (size_t i = 0; i < d->nt; ) {
		struct daemon_target *t = &d->t[i];
		bool alive = d->be.alive(d->be.ctx, t->handle) &&
			     !(t->exited && daemon_proc_ended(t->pid, t->start_time));
		struct daemon_target *by = alive ? covered_by(d, t->pid, t) : NULL;
		char why[96];
		if (by)
			snprintf(why, sizeof why, "now sampled with its parent tree, PID %d", (int)by->pid);
		if (!alive)
			daemon_finalize(d, i, "it exited");
		else if (by)
			daemon_finalize(d, i, why);
		else if (full && t->section != DAEMON_NO_SECTION && !t->seen)
			daemon_finalize(d, i, daemon_proc_ended(t->pid, t->start_time) ?
				       "it exited" : "no longer matched by the config");
		else
			i++;
	}
	/* what ended targets held goes back to the system, so that a host
	 * whose processes come and go keeps the daemon's RSS flat */
	d->trim_due |= d->nt < before;
	uint64_t now = daemon_now_ns();
	if (d->trim_due && now >= d->next_trim_ns) {
		malloc_trim(0);
		d->trim_due = false;
		d->next_trim_ns = now + DAEMON_TRIM_MS * 1000000ull;
	}
}

static void scan(struct daemon_state *d)
{
	struct daemon_match *m;
	size_t n;
	lp_error err = { 0 };
	if (daemon_match_scan_cached(d->match_cache, d->cfg.targets, d->cfg.ntargets, &m, &n,
				     NULL, &err)) {
		daemon_log(LOG_ERR_, "cannot scan processes: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < d->nt; i++)
		d->t[i].seen = false;
	d->left_out = false;
	for (size_t k = 0; k < n; k++)
		consider(d, &m[k]);
	if (d->nt < d->cfg.max_targets)
		d->warned_full = false;
	size_t before = d->nt;
	finalize_ended(d, true);
	/* Targets this scan found ended leave room for a process it left
	 * out: fill it now, not at the next whole scan (10 s with events).
	 * One whose exit came after the listing must not come back. */
	if (d->nt < before && d->left_out)
		for (size_t k = 0; k < n; k++)
			if (!daemon_find(d, m[k].pid) &&
			    !daemon_proc_ended(m[k].pid, m[k].start_time))
				consider(d, &m[k]);
	free(m);
}

/* What the events named: each started or exec'd process matched alone
 * (its files read once for every section), and the targets that ended;
 * no listing of /proc, which a host that forks all the time would
 * otherwise pay up to ten times a second. */
static void scan_events(struct daemon_state *d)
{
	for (size_t i = 0; i < d->nevent_pids; i++) {
		struct daemon_match m;
		if (daemon_match_pid_any(d->cfg.targets, d->cfg.ntargets,
					 d->event_pids[i], &m))
			consider(d, &m);
	}
	if (d->nt < d->cfg.max_targets)
		d->warned_full = false;
	size_t before = d->nt;
	finalize_ended(d, false);
	/* A target that ended leaves room under max_targets or its user's
	 * quota for a process left out: a whole scan finds it. */
	if (d->nt < before && d->left_out)
		d->full_scan_ns = 0;
}

/* A process started, exec'd or ended: rescan soon (an exec'd one's
 * verdict is read again; only a target's exit matters among exits). */
static void on_event(void *ctx, enum proc_events_kind kind, pid_t pid)
{
	struct daemon_state *d = ctx;
	d->events_got++;
	struct daemon_target *t = daemon_find(d, pid);
	/* a target's thread list is read again only when it changed */
	if (t && (kind == PROC_EVENTS_THREAD || kind == PROC_EVENTS_EXIT) &&
	    d->be.threads_changed)
		d->be.threads_changed(d->be.ctx, t->handle);
	if (kind == PROC_EVENTS_THREAD)
		return;
	/* an exit too: its zombie keeps the /proc directory the cached
	 * verdict is keyed by until its parent reaps it */
	if (kind == PROC_EVENTS_EXEC || kind == PROC_EVENTS_EXIT)
		daemon_match_cache_forget(d->match_cache, pid);
	if (kind != PROC_EVENTS_EXIT || t)
		d->event_scan = true;
	if (kind == PROC_EVENTS_EXIT) {
		/* a target at a low rate would be found gone only at its
		 * next tick, up to a second or more on */
		if (t)
			t->exited = true;
		/* A process that started and ended since the last scan (a
		 * build's compilers, a shell's commands) is no target: not
		 * looked for in /proc.  Among the last ones listed, where
		 * the start of a short life is. */
		size_t lo = d->nevent_pids > EVENT_EXIT_LOOK ?
				    d->nevent_pids - EVENT_EXIT_LOOK : 0;
		for (size_t i = d->nevent_pids; i-- > lo;)
			if (d->event_pids[i] == pid) {
				d->event_pids[i] = d->event_pids[--d->nevent_pids];
				break;
			}
		return;
	}
	/* A target that exec'd may match no more (or another section):
	 * that is a whole scan's verdict. */
	if (kind == PROC_EVENTS_EXEC && t)
		d->event_full = true;
	else if (d->nevent_pids && d->event_pids[d->nevent_pids - 1] == pid)
		return;	/* its fork, then its exec */
	else if (d->nevent_pids < DAEMON_EVENT_PIDS)
		d->event_pids[d->nevent_pids++] = pid;
	else
		d->event_full = true;
}

static void read_events(struct daemon_state *d, uint64_t now)
{
	uint64_t got = d->events_got;
	d->event_scan = false;
	if (!proc_events_read(d->events, on_event, d)) {
		/* events lost: every verdict and thread list read again */
		daemon_match_cache_clear(d->match_cache);
		for (size_t i = 0; i < d->nt && d->be.threads_changed; i++)
			d->be.threads_changed(d->be.ctx, d->t[i].handle);
		d->event_scan = true;
		d->event_full = true;
	}
	uint64_t soon = d->last_scan_ns + (uint64_t)EVENT_SCAN_MS * 1000000;
	if (d->event_scan && d->next_scan_ns > soon)
		d->next_scan_ns = soon > now ? soon : now;
	/* a host that forks all the time (a build) woke the daemon 50-80
	 * times a second beside its 19 ticks: after events, the next are
	 * read at the first wake-up EVENT_SCAN_MS on (a tick's, mostly),
	 * which the rescan waited for anyway */
	if (d->events_got != got)
		d->events_next_ns = now + (uint64_t)EVENT_SCAN_MS * 1000000;
}

static void retain(struct daemon_state *d)
{
	const char **keep = calloc(d->nt ? d->nt : 1, sizeof *keep);
	if (!keep)
		return;
	for (size_t i = 0; i < d->nt; i++)
		keep[i] = d->t[i].dir;
	struct store_retention r;
	lp_error err = { 0 };
	if (store_retain(d->store, time(NULL), d->cfg.retention_age_s, d->cfg.retention_size,
			 keep, d->nt, &r, &err))
		daemon_log(LOG_ERR_, "retention: %s", err.msg);
	else if (r.removed)
		daemon_log(LOG_INFO_, "retention: removed %u windows (%llu bytes), %u kept (%llu bytes)",
			   r.removed, (unsigned long long)r.removed_bytes, r.kept,
			   (unsigned long long)r.kept_bytes);
	if (r.temporaries)
		daemon_log(LOG_INFO_, "retention: removed %u temporaries of windows a killed daemon was writing",
			   r.temporaries);
	free(keep);
}

/* max_cpu: when the daemon used more, every rate is lowered by the same
 * factor; they go back up towards the configured ones when the CPU at the
 * raised rates (the cost of a sample staying what it is) would still be
 * under 90% of the cap.  Attaching is not counted, within its own
 * budget: it is a one-off per process (64 services cost some 70-100 ms
 * of CPU in the first second, more than 5 s of sampling them), shown
 * apart as attach CPU; lowering the rates for it only kept them down for
 * a minute after every start. */
static void cap_cpu(struct daemon_state *d, uint64_t now)
{
	uint64_t cpu = daemon_self_cpu_ns();
	uint64_t attach = daemon_attach_cpu_ns(d);
	uint64_t spent = cpu - d->cpu_ns_prev, once = attach - d->attach_cpu_prev;
	double dt = (double)(now - d->cpu_at_ns) / 1e9;
	/* attaching has a budget of its own, max_cpu over a minute (600 ms
	 * at 1%), refilled at max_cpu: a host that starts a service now and
	 * then never reaches it; one that starts processes faster than the
	 * daemon can afford to attach to them has the excess counted here */
	double cap_ns = d->cfg.max_cpu / 100 * ATTACH_BUDGET_S * 1e9;
	d->attach_budget_ns += d->cfg.max_cpu / 100 * (double)(now - d->cpu_at_ns);
	if (d->attach_budget_ns > cap_ns)
		d->attach_budget_ns = cap_ns;
	uint64_t excused = (double)once < d->attach_budget_ns ? once :
			   (uint64_t)d->attach_budget_ns;
	d->attach_budget_ns -= (double)excused;
	double used = (double)(spent > excused ? spent - excused : 0) / 1e9;
	d->cpu_ns_prev = cpu;
	d->attach_cpu_prev = attach;
	d->cpu_at_ns = now;
	if (dt <= 0)
		return;
	d->cpu_pct = 100.0 * used / dt;
	double scale = d->rate_scale;
	if (d->cpu_pct > d->cfg.max_cpu && d->nt)
		scale *= 0.9 * d->cfg.max_cpu / d->cpu_pct;
	else if (scale < 1) {
		double up = scale * 1.25 > 1 ? 1 : scale * 1.25;
		if (d->cpu_pct * up / scale < 0.9 * d->cfg.max_cpu)
			scale = up;
	}
	if (scale == d->rate_scale)
		return;
	daemon_log(LOG_WARN_, "own CPU %.2f%% against max_cpu %.2f%%: rates set to %.0f%% of the configured ones",
		   d->cpu_pct, d->cfg.max_cpu, 100 * scale);
	d->rate_scale = scale;
	for (size_t i = 0; i < d->nt; i++) {
		struct daemon_target *t = &d->t[i];
		double r = t->rate_cfg * scale;
		t->rate = r < DAEMON_MIN_RATE ? DAEMON_MIN_RATE : r;
		d->be.set_rate(d->be.ctx, t->handle, t->rate);
	}
}

/* The traces object's callbacks (daemon_trace.h). */
static void trace_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	daemon_log(level, "%s", msg);
}

static bool trace_complete(void *ctx, uint64_t ticket, uint32_t status,
			   const char *text)
{
	struct daemon_state *d = ctx;
	struct ctl_reply rep = { 0 };
	ctl_reply_text(&rep, status, "%s", text);
	return ctl_server_complete(d->ctl, ticket, &rep) == LP_OK;
}

static bool trace_waiting(void *ctx, uint64_t ticket)
{
	struct daemon_state *d = ctx;
	return ctl_server_waiting(d->ctl, ticket);
}

int daemon_new(struct daemon_state **out, const char *config_path,
	       const struct daemon_backend *be, lp_error *err)
{
	struct daemon_state *d = calloc(1, sizeof *d);
	if (!d || !(d->config_path = strdup(config_path))) {
		free(d);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&d->lock, NULL);
	/* a fixed threshold: glibc's sliding one moves a target's large
	 * buffers, once freed, into the heap, which then fragments as
	 * targets come and go (4 MiB a minute with a target replaced every
	 * 3 s, tools/soak-daemon) */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	d->be = *be;
	d->rate_scale = 1;
	int rc = LP_ENOMEM;
	d->match_cache = daemon_match_cache_new();
	if (!d->match_cache) {
		lp_error_set(err, rc, "out of memory");
		goto fail;
	}
	rc = daemon_config_load(config_path, &d->cfg, err);
	if (rc)
		goto fail;
	rc = store_open(&d->store, d->cfg.dir, err);
	if (rc)
		goto fail;
	unsigned mode;
	gid_t gid;
	rc = daemon_socket_access(&d->cfg, &mode, &gid, err);
	if (rc)
		goto fail;
	rc = ctl_server_new(&d->ctl, d->cfg.socket, mode, gid, daemon_ctl_handle, d, err);
	if (rc == LP_EPERM && gid != (gid_t)-1 && !d->cfg.socket_group) {
		/* the default group "loupe" exists but may not be given
		 * (no CAP_CHOWN): root alone, as without that group */
		daemon_log(LOG_WARN_, "%s; the socket is root's alone (mode 0600)", err->msg);
		rc = ctl_server_new(&d->ctl, d->cfg.socket,
				    d->cfg.socket_mode != DAEMON_SOCKET_MODE_DEFAULT ?
					    d->cfg.socket_mode : 0600,
				    (gid_t)-1, daemon_ctl_handle, d, err);
	}
	if (rc)
		goto fail;
	struct daemon_traces_ops tops = {
		.ctx = d, .run = daemon_trace_run, .cleanup = daemon_trace_cleanup,
		.log = trace_log, .complete = trace_complete, .waiting = trace_waiting,
	};
	rc = daemon_traces_new(&d->traces, &tops, err);
	if (rc)
		goto fail;
	if (d->cfg.http) {
		struct daemon_http_ops ops = { .ctx = d, .metrics = daemon_metrics,
					       .profile_begin = daemon_pprof_begin,
					       .profile = daemon_pprof };
		struct daemon_http_cfg hc = {
			.listen = d->cfg.http, .token_file = d->cfg.http_token_file,
			.open = d->cfg.http_open, .tls_cert = d->cfg.http_tls_cert,
			.tls_key = d->cfg.http_tls_key,
		};
		rc = daemon_http_start(&d->http, &hc, &ops, err);
		if (rc)
			goto fail;
	}
	lp_error everr = { 0 };
	if (proc_events_open(&d->events, &everr) == LP_OK)
		daemon_log(LOG_INFO_, "process events: targets picked up and finalized as they start and exit");
	else
		daemon_log(LOG_INFO_, "%s: a /proc rescan every %d ms finds targets", everr.msg, DAEMON_SCAN_MS);
	d->cpu_ns_prev = daemon_self_cpu_ns();
	d->attach_cpu_prev = daemon_attach_cpu_ns(d);
	d->attach_budget_ns = d->cfg.max_cpu / 100 * ATTACH_BUDGET_S * 1e9;
	d->cpu_at_ns = daemon_now_ns();
	d->next_cpu_ns = d->cpu_at_ns + (uint64_t)CPU_CHECK_MS * 1000000;
	char http[320] = "";
	if (d->http)
		snprintf(http, sizeof http, ", HTTP on port %u (%s%s%s)", daemon_http_port(d->http), d->cfg.http,
			 d->cfg.http_tls_cert ? ", TLS" : "",
			 d->cfg.http_token_file ? ", bearer token" : ", open: no token");
	daemon_log(LOG_INFO_, "started: %zu target sections, windows of %.0f s in %s, control socket %s%s",
		   d->cfg.ntargets, d->cfg.window_s, d->cfg.dir, d->cfg.socket, http);
	*out = d;
	return LP_OK;
fail:
	daemon_traces_free(d->traces);
	ctl_server_free(d->ctl);
	store_free(d->store);
	daemon_match_cache_free(d->match_cache);
	daemon_config_free(&d->cfg);
	pthread_mutex_destroy(&d->lock);
	free(d->config_path);
	free(d);
	return rc;
}

unsigned daemon_http_port_of(const struct daemon_state *d)
{
	return d->http ? daemon_http_port(d->http) : 0;
}

static int ms_until(uint64_t when, uint64_t now)
{
	if (when <= now)
		return 0;
	uint64_t ms = (when - now + 999999) / 1000000;
	return ms > 60000 ? 60000 : (int)ms;
}

bool daemon_step(struct daemon_state *d, int max_wait_ms)
{
	if (d->stop)
		return false;
	uint64_t now = daemon_now_ns();
	int wait = max_wait_ms;
	int t = ctl_server_timeout_ms(d->ctl);
	if (t >= 0 && t < wait)
		wait = t;
	uint64_t next = d->next_scan_ns;
	for (size_t i = 0; i < d->nt; i++)
		if (d->t[i].window_end_ns < next)
			next = d->t[i].window_end_ns;
	t = ms_until(next, now);
	if (t < wait)
		wait = t;
	pthread_mutex_lock(&d->lock);
	int64_t due = d->be.run(d->be.ctx, now);
	/* process events: read now when their quiet time is over, and
	 * polled for only then; else they wait, and the loop wakes for them
	 * only when nothing else would within EVENT_SCAN_MS of its end */
	if (d->events && now >= d->events_next_ns && d->events_unwatched)
		read_events(d, now);
	pthread_mutex_unlock(&d->lock);
	/* the backend's next sample to the nanosecond: a millisecond poll
	 * would wake most ticks of a 1 kHz target late */
	int64_t wait_ns = wait < 0 ? 0 : (int64_t)wait * 1000000;
	if (due >= 0 && due < wait_ns)
		wait_ns = due;
	bool ev_poll = d->events && now >= d->events_next_ns;
	/* what queued while the socket was not polled is read above at
	 * the next turn; once polled, only when poll says so (a read of an
	 * empty socket every turn cost 0.5 us a sample) */
	d->events_unwatched = d->events && !ev_poll;
	if (d->events && !ev_poll) {
		int64_t quiet = (int64_t)(d->events_next_ns - now);
		if (wait_ns > quiet + (int64_t)EVENT_SCAN_MS * 1000000)
			wait_ns = quiet;
	}
	/* a rescan the events just asked for */
	int64_t scan_in = d->next_scan_ns > now ? (int64_t)(d->next_scan_ns - now) : 0;
	if (scan_in < wait_ns)
		wait_ns = scan_in;
	struct timespec ts = { wait_ns / 1000000000, wait_ns % 1000000000 };
	/* the sockets, then the wake-up of an ended ctl trace */
	struct pollfd fds[1 + CTL_MAX_CLIENTS + 2];
	size_t n = ctl_server_pollfds(d->ctl, fds, 1 + CTL_MAX_CLIENTS);
	fds[n] = (struct pollfd){ .fd = daemon_traces_fd(d->traces), .events = POLLIN };
	fds[n + 1] = (struct pollfd){ .fd = ev_poll ? proc_events_fd(d->events) : -1, .events = POLLIN };
	if (ppoll(fds, n + 2, &ts, NULL) < 0 && errno != EINTR)
		daemon_log(LOG_ERR_, "poll: %s", strerror(errno));
	pthread_mutex_lock(&d->lock);
	ctl_server_handle(d->ctl, fds, n);
	if ((fds[n].revents & POLLIN) || daemon_traces_any(d->traces))
		daemon_traces_reap(d->traces);
	if (d->reload) {
		d->reload = 0;
		lp_error err = { 0 };
		if (daemon_reload(d, &err))
			daemon_log(LOG_ERR_, "reload failed, keeping the running config: %s", err.msg);
	}
	now = daemon_now_ns();
	if (ev_poll && (fds[n + 1].revents & POLLIN))
		read_events(d, now);
	for (size_t i = 0; i < d->nt; i++)
		if (d->t[i].window_end_ns <= now)
			daemon_cut_window(d, &d->t[i]);
	if (now >= d->next_scan_ns) {
		/* With events, a whole scan is the fallback: every
		 * DAEMON_SCAN_EVENTS_MS, or when events were lost or too
		 * many; else what they named is looked at alone. */
		if (!d->events || d->event_full || now >= d->full_scan_ns) {
			scan(d);
			d->full_scan_ns = now + (uint64_t)(d->events ? DAEMON_SCAN_EVENTS_MS :
							   DAEMON_SCAN_MS) * 1000000;
		} else {
			scan_events(d);
		}
		d->nevent_pids = 0;
		d->event_full = false;
		d->last_scan_ns = now;
		d->next_scan_ns = d->full_scan_ns;
	}
	if (now >= d->next_retain_ns) {
		retain(d);
		uint64_t every = daemon_window_ns(d) < (uint64_t)RETAIN_MAX_MS * 1000000 ?
				 daemon_window_ns(d) : (uint64_t)RETAIN_MAX_MS * 1000000;
		d->next_retain_ns = now + every;
	}
	if (now >= d->next_cpu_ns) {
		cap_cpu(d, now);
		d->next_cpu_ns = now + (uint64_t)CPU_CHECK_MS * 1000000;
	}
	pthread_mutex_unlock(&d->lock);
	return !d->stop;
}

void daemon_free(struct daemon_state *d)
{
	if (!d)
		return;
	d->stop = 1;
	/* HTTP first: its threads take the lock and read the targets */
	daemon_http_stop(d->http);
	pthread_mutex_lock(&d->lock);
	daemon_traces_free(d->traces);	/* answered before the sockets close */
	d->traces = NULL;
	while (d->nt)
		daemon_finalize(d, d->nt - 1, "the daemon stops");
	pthread_mutex_unlock(&d->lock);
	ctl_server_free(d->ctl);
	proc_events_free(d->events);
	store_free(d->store);
	daemon_match_cache_free(d->match_cache);
	free(d->t);
	free(d->svc);
	daemon_config_free(&d->cfg);
	pthread_mutex_destroy(&d->lock);
	daemon_log(LOG_INFO_, "stopped");
	free(d->config_path);
	free(d);
}
