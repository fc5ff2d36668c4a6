/* What the daemon shows of itself: snapshots (windows on disk plus the
 * current one), ctl status, Prometheus metrics, pprof over HTTP. */
#include "daemon_priv.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_store.h"

int daemon_collect(struct daemon_state *d, struct daemon_target *t,
		   time_t since, profile *p, lp_error *err)
{
	struct store_window *w;
	size_t n;
	int rc = store_list_target(d->store, t->dname, since, 0, &w, &n, err);
	if (rc)
		return rc;
	uint64_t sums[STORE_NCOUNTS] = { 0 };
	for (size_t i = 0; i < n && rc == LP_OK; i++) {
		struct raw_read_info info;
		rc = raw_read_file(w[i].path, p, &info, err);
		if (rc == LP_OK)
			store_counts_add(p, sums);
	}
	store_windows_free(w, n);
	if (rc != LP_OK)
		return rc;
	/* the current window's counts, when the backend gives them: not
	 * the last file's again */
	uint64_t none[STORE_NCOUNTS] = { 0 };
	store_counts_set(p, none);
	rc = d->be.snapshot(d->be.ctx, t->handle, p, err);
	if (rc == LP_OK) {
		store_counts_add(p, sums);
		store_counts_set(p, sums);
	}
	return rc;
}

int daemon_render(const profile *p, enum output_format f, uint64_t max,
		  uint8_t **out, size_t *len, lp_error *err)
{
	const struct format_info *fi = format_info(f);
	if (!fi)
		return lp_error_set(err, LP_EINVAL, "no such format");
	const char *m = profile_meta(p, "mode");
	struct output_opts o = { .mode = MODE_CPU, .lines = true };
	if (m)
		format_mode_from_name(m, &o.mode);
	char *buf = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&buf, &n);
	if (!fp)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	int rc = format_write(fi, p, fp, &o);
	if (fclose(fp) != 0 && rc == LP_OK)
		rc = LP_ENOMEM;
	if (rc) {
		free(buf);
		return lp_error_set(err, rc, "cannot write the %s format: %s", format_name(f), lp_strerror(rc));
	}
	if (n > max) {
		free(buf);
		return lp_error_set(err, LP_EINVAL, "%zu bytes, over max_snapshot (%llu): ask for less with --since",
				    n, (unsigned long long)max);
	}
	*out = (uint8_t *)buf;
	*len = n;
	return LP_OK;
}

/* Appends to a growing string; on failure the string is freed (NULL). */
static void cat(char **s, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cat(char **s, size_t *len, const char *fmt, ...)
{
	if (!*s)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *add = NULL;
	int n = vasprintf(&add, fmt, ap);
	va_end(ap);
	char *ns = n >= 0 ? realloc(*s, *len + (size_t)n + 1) : NULL;
	if (!ns) {
		free(*s);
		free(n >= 0 ? add : NULL);
		*s = NULL;
		return;
	}
	memcpy(ns + *len, add, (size_t)n + 1);
	*len += (size_t)n;
	*s = ns;
	free(add);
}

char *daemon_status_text(struct daemon_state *d, const struct ctl_peer *peer)
{
	double cpu_s;
	uint64_t rss;
	daemon_self_usage(&cpu_s, &rss);
	struct mallinfo2 mi = mallinfo2();
	size_t len = 0;
	char *s = calloc(1, 1);
	bool all = ctl_peer_privileged(peer);
	cat(&s, &len, "loupe daemon: %zu of at most %u targets, CPU %.2f%% (max_cpu %.2f%%), RSS %.1f MiB "
		"(heap %.1f MiB in use, %.1f MiB free, %.1f MiB in mmaps), windows %.0f s, disk %.1f MiB in %s\n",
	    d->nt, d->cfg.max_targets, d->cpu_pct, d->cfg.max_cpu, rss / 1048576.0,
	    mi.uordblks / 1048576.0, mi.fordblks / 1048576.0, mi.hblkhd / 1048576.0, d->cfg.window_s, store_usage(d->store) / 1048576.0, d->cfg.dir);
	cat(&s, &len, "attach CPU %.1f ms so far (maps, symbols, interpreters, first ticks; not counted against max_cpu, up to max_cpu over a minute)\n",
	    (double)daemon_attach_cpu_ns(d) / 1e6);
	if (d->rate_scale < 1)
		cat(&s, &len, "rates lowered to %.0f%% of the configured ones to stay under max_cpu\n",
		    100 * d->rate_scale);
	if (store_errors(d->store))
		cat(&s, &len, "store: %llu windows or directories refused or not written (the log says why)\n",
		    (unsigned long long)store_errors(d->store));
	cat(&s, &len, "%8s  %-16s  %8s  %10s  %8s  %7s  %-16s  %s\n", "PID", "TARGET", "RATE", "SAMPLES",
	    "MISSED", "WINDOWS", "COMMAND", "RUNTIME");
	size_t hidden = 0;
	for (size_t i = 0; i < d->nt; i++) {
		struct daemon_target *t = &d->t[i];
		char why[256];
		uint64_t st;
		/* the process checked must be the target, not a reuse of
		 * its PID */
		if (!all && (ctl_peer_check(peer, t->pid, &st, why, sizeof why) != 0 ||
			     st != t->start_time)) {
			hidden++;
			continue;
		}
		struct daemon_target_figures f = { 0 };
		d->be.figures(d->be.ctx, t->handle, &f);
		cat(&s, &len, "%8d  %-16s  %5.4g Hz  %10llu  %8llu  %7u  %-16s  %s\n", (int)t->pid, t->name,
		    t->rate, (unsigned long long)f.samples, (unsigned long long)f.missed, t->windows,
		    f.command[0] ? f.command : "-", f.runtime[0] ? f.runtime : "-");
	}
	if (hidden)
		cat(&s, &len, "(%zu targets of other users not shown)\n", hidden);
	return s;
}

/* Whether HTTP serves t: only targets of root's configuration file, never
 * those matched by a section a user added over the control socket nor
 * those added by PID (the endpoint does not know who asks, only that they
 * hold the token, or that root chose to serve everyone). */
static bool http_served(const struct daemon_state *d, const struct daemon_target *t)
{
	return t && t->section != DAEMON_NO_SECTION && t->section < d->cfg.ntargets &&
	       !d->cfg.targets[t->section].runtime;
}

/* Prometheus label values: backslash, quote and newline escaped. */
static void label(char *out, size_t len, const char *v)
{
	size_t o = 0;
	for (; *v && o + 3 < len; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n') {
			out[o++] = '\\';
			out[o++] = *v == '\n' ? 'n' : *v;
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
}

/* Per service: the figures of its finished targets and of its live ones
 * (their CPU read now).  At most DAEMON_MAX_SERVICES services, names of
 * [A-Za-z0-9:_.@-] escaped all the same. */
static void service_metrics(struct daemon_state *d, char **s, size_t *len)
{
	enum { TARGETS, SAMPLES, MISSED, CPU, WINDOWS, ERRORS, NK };
	static const char *const names[NK] = {
		"loupe_service_targets", "loupe_service_samples_total", "loupe_service_missed_total",
		"loupe_service_cpu_seconds_total", "loupe_service_windows_total", "loupe_service_errors_total",
	};
	static const char *const help[NK] = {
		"gauge Processes profiled per service now.",
		"counter Samples taken per service, its ended processes included.",
		"counter Sampling deadlines missed per service.",
		"counter CPU time the service's profiled processes used (user and system).",
		"counter Windows written per service.",
		"counter Windows of the service not written (the log says why).",
	};
	size_t ns = d->nsvc;
	uint64_t (*v)[NK] = calloc(ns ? ns : 1, sizeof *v);
	if (!v)
		return;
	for (size_t k = 0; k < ns; k++) {
		v[k][SAMPLES] = d->svc[k].samples;
		v[k][MISSED] = d->svc[k].missed;
		v[k][CPU] = d->svc[k].cpu_ticks;
		v[k][WINDOWS] = d->svc[k].windows;
		v[k][ERRORS] = d->svc[k].errors;
		v[k][TARGETS] = d->svc[k].live;
	}
	for (size_t i = 0; i < d->nt; i++) {
		struct daemon_target *t = &d->t[i];
		if (t->svc >= ns)
			continue;
		struct daemon_target_figures f = { 0 };
		d->be.figures(d->be.ctx, t->handle, &f);
		daemon_target_cpu(t);
		v[t->svc][SAMPLES] += f.samples;
		v[t->svc][MISSED] += f.missed;
		v[t->svc][CPU] += t->cpu_ticks;
	}
	double tick = (double)sysconf(_SC_CLK_TCK);
	for (int k = 0; k < NK; k++) {
		const char *sp = strchr(help[k], ' ');
		cat(s, len, "# HELP %s %s\n# TYPE %s %.*s\n", names[k], sp + 1, names[k],
		    (int)(sp - help[k]), help[k]);
		for (size_t j = 0; j < ns; j++) {
			if (!d->svc[j].served)
				continue;	/* users' sections: see http_served */
			char name[2 * DAEMON_TARGET_NAME_MAX + 3];
			label(name, sizeof name, d->svc[j].name);
			if (k == CPU)
				cat(s, len, "%s{service=\"%s\"} %.2f\n", names[k], name,
				    tick > 0 ? (double)v[j][k] / tick : 0.0);
			else
				cat(s, len, "%s{service=\"%s\"} %llu\n", names[k], name,
				    (unsigned long long)v[j][k]);
		}
	}
	free(v);
}

char *daemon_metrics(void *ctx)
{
	struct daemon_state *d = ctx;
	double cpu_s;
	uint64_t rss;
	daemon_self_usage(&cpu_s, &rss);
	/* what of the resident memory is live data and what is free inside
	 * the allocator's heap: a growth of the second is fragmentation */
	struct mallinfo2 mi = mallinfo2();
	size_t len = 0;
	char *s = calloc(1, 1);
	pthread_mutex_lock(&d->lock);
	size_t served = 0;
	for (size_t i = 0; i < d->nt; i++)
		served += http_served(d, &d->t[i]);
	cat(&s, &len, "# HELP loupe_daemon_cpu_seconds_total CPU time the daemon used.\n"
		"# TYPE loupe_daemon_cpu_seconds_total counter\n"
		"loupe_daemon_cpu_seconds_total %.3f\n"
		"# HELP loupe_daemon_attach_cpu_seconds_total CPU time the daemon spent attaching to targets (maps, symbols, interpreters, first ticks), included in loupe_daemon_cpu_seconds_total, not counted against max_cpu.\n"
		"# TYPE loupe_daemon_attach_cpu_seconds_total counter\n"
		"loupe_daemon_attach_cpu_seconds_total %.6f\n"
		"# HELP loupe_daemon_resident_bytes The daemon's resident memory.\n"
		"# TYPE loupe_daemon_resident_bytes gauge\n"
		"loupe_daemon_resident_bytes %llu\n"
		"# HELP loupe_daemon_heap_bytes The daemon's allocator: bytes in use in its heap, free but held there (fragmentation), and in blocks of their own mmaps (of which only the pages touched are resident).\n"
		"# TYPE loupe_daemon_heap_bytes gauge\n"
		"loupe_daemon_heap_bytes{state=\"in_use\"} %zu\n"
		"loupe_daemon_heap_bytes{state=\"free\"} %zu\n"
		"loupe_daemon_heap_bytes{state=\"mmapped\"} %zu\n"
		"# HELP loupe_daemon_rate_scale Configured rates are multiplied by this to stay under max_cpu.\n"
		"# TYPE loupe_daemon_rate_scale gauge\n"
		"loupe_daemon_rate_scale %.4f\n"
		"# HELP loupe_targets Processes profiled for the configuration file's sections.\n"
		"# TYPE loupe_targets gauge\n"
		"loupe_targets %zu\n"
		"# HELP loupe_store_errors_total Windows and directories the store refused or failed to write (a link planted in it, a full disk).\n"
		"# TYPE loupe_store_errors_total counter\n"
		"loupe_store_errors_total %llu\n",
	    cpu_s, (double)daemon_attach_cpu_ns(d) / 1e9, (unsigned long long)rss,
	    mi.uordblks, mi.fordblks, mi.hblkhd, d->rate_scale, served,
	    (unsigned long long)store_errors(d->store));
	static const char *const names[3] = { "loupe_samples_total", "loupe_missed_total", "loupe_rate_hz" };
	static const char *const help[3] = {
		"counter Samples taken per target.", "counter Sampling deadlines missed per target.",
		"gauge Sampling rate per target.",
	};
	for (int k = 0; k < 3; k++) {
		const char *sp = strchr(help[k], ' ');
		cat(&s, &len, "# HELP %s %s\n# TYPE %s %.*s\n", names[k], sp + 1, names[k],
		    (int)(sp - help[k]), help[k]);
		for (size_t i = 0; i < d->nt; i++) {
			struct daemon_target *t = &d->t[i];
			if (!http_served(d, t))
				continue;	/* users' targets: see http_served */
			struct daemon_target_figures f = { 0 };
			d->be.figures(d->be.ctx, t->handle, &f);
			char name[2 * DAEMON_TARGET_NAME_MAX + 3];
			label(name, sizeof name, t->name);
			if (k < 2)
				cat(&s, &len, "%s{pid=\"%d\",target=\"%s\"} %llu\n", names[k], (int)t->pid, name,
				    (unsigned long long)(k ? f.missed : f.samples));
			else
				cat(&s, &len, "%s{pid=\"%d\",target=\"%s\"} %.4g\n", names[k], (int)t->pid, name, t->rate);
		}
	}
	service_metrics(d, &s, &len);
	pthread_mutex_unlock(&d->lock);
	return s;
}

/* Whether q selects t (pid and service, each when given). */
static bool selects(const struct daemon_http_query *q, const struct daemon_target *t)
{
	return (!q->pid || t->pid == q->pid) && (!q->service[0] || strcmp(t->service, q->service) == 0);
}

int daemon_pprof_begin(void *ctx, const struct daemon_http_query *q, lp_error *err)
{
	struct daemon_state *d = ctx;
	bool served = !q->pid && !q->service[0];	/* all: maybe none yet */
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->nt && !served; i++)
		served = http_served(d, &d->t[i]) && selects(q, &d->t[i]);
	pthread_mutex_unlock(&d->lock);
	/* the same answer for "not profiled" and "not yours to see": which
	 * PIDs users profile is not told either */
	if (!served && q->pid)
		return lp_error_set(err, LP_ENOPROC, "PID %d is not a target of this daemon's configuration%s%s",
				    (int)q->pid, q->service[0] ? " in service " : "", q->service);
	if (!served)
		return lp_error_set(err, LP_ENOPROC, "service %s has no target of this daemon's configuration now",
				    q->service);
	return LP_OK;
}

/* t's samples since from into all, each process named by its command and
 * service (metadata "process.PID", "service.PID": pprof's labels). */
static int pprof_add(struct daemon_state *d, struct daemon_target *t, time_t from,
		     profile *all, lp_error *err)
{
	profile *p = profile_new();
	if (!p)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	int rc = daemon_collect(d, t, from, p, err);
	/* no window ended meanwhile and the backend keeps the current one to
	 * itself: the last finished window stands for the period */
	if (rc == LP_OK && !profile_total_samples(p))
		rc = daemon_collect(d, t, from - (time_t)d->cfg.window_s - 1, p, err);
	if (rc == LP_OK)
		rc = profile_merge(all, p, -1);
	profile_free(p);
	char key[40];
	snprintf(key, sizeof key, "service.%d", (int)t->pid);
	if (rc == LP_OK)
		rc = profile_set_meta(all, key, t->service);
	snprintf(key, sizeof key, "process.%d", (int)t->pid);
	if (rc == LP_OK && t->comm[0] && !profile_meta(all, key))
		rc = profile_set_meta(all, key, t->comm);
	if (rc == LP_ENOMEM)
		lp_error_set(err, rc, "out of memory");
	return rc;
}

/* Called when the request's seconds are over (the endpoint waited them
 * out): for each target selected, the windows that ended since it arrived
 * and the current window (so a profile covers at least `seconds`, at most
 * that plus one window); with neither, the last finished window.  One
 * profile for all of them, each sample labelled with its service, PID,
 * command and thread. */
int daemon_pprof(void *ctx, const struct daemon_http_query *q, time_t from,
		 uint8_t **data, size_t *len, lp_error *err)
{
	struct daemon_state *d = ctx;
	profile *p = profile_new();
	if (!p)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	pthread_mutex_lock(&d->lock);
	int rc = LP_OK;
	size_t n = 0;
	for (size_t i = 0; i < d->nt && rc == LP_OK; i++) {
		struct daemon_target *t = &d->t[i];
		if (!http_served(d, t) || !selects(q, t))
			continue;
		rc = pprof_add(d, t, from, p, err);
		n++;
	}
	if (rc == LP_OK && !n && q->pid)
		rc = lp_error_set(err, LP_ENOPROC, "PID %d ended while it was profiled", (int)q->pid);
	if (rc == LP_OK && !n && q->service[0])
		rc = lp_error_set(err, LP_ENOPROC, "service %s has no target now", q->service);
	if (rc == LP_OK && !n)
		rc = profile_set_meta(p, "mode", "cpu");	/* an empty profile */
	uint64_t max = d->cfg.max_snapshot;
	pthread_mutex_unlock(&d->lock);
	if (rc == LP_OK)
		rc = daemon_render(p, FORMAT_PPROF, max, data, len, err);
	profile_free(p);
	return rc;
}
