/* The daemon's answers to loupe ctl.  Called with the daemon's lock held
 * (daemon_step serves the socket under it).  Every command on a process
 * first applies the SO_PEERCRED rule of ctl_peer.h. */
#include "daemon_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_match.h"
#include "units.h"

static const char help[] =
	"commands: status, add PID, add --match KEY=VALUE..., remove PID|NAME, "
	"snapshot PID [--since S] [--format F], "
	"dump PID [--tasks], trace PID [-d S] [--threshold T], reload, stop, help";

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

/* The PID argument of a command, checked against the peer, and the start
 * time of the process that was checked (with the PID, which process it
 * is); false after replying with the error. */
static bool pid_arg(const struct ctl_peer *peer, const struct ctl_request *req,
		       struct ctl_reply *r, pid_t *pid, uint64_t *start_time)
{
	if (req->argc < 2 || parse_pid(req->argv[1], pid)) {
		ctl_reply_text(r, 2, "'%s' needs a process ID: loupe ctl %s PID", req->argv[0], req->argv[0]);
		return false;
	}
	char why[256];
	int rc = ctl_peer_check(peer, *pid, start_time, why, sizeof why);
	if (rc) {
		ctl_reply_text(r, 1, "%s", why);
		return false;
	}
	return true;
}

/* The daemon's target that is the checked process: the one with its PID
 * and start time (a target whose PID was reused by the process checked
 * is another process, not to be shown to this peer). */
static struct daemon_target *checked_target(struct daemon_state *d, pid_t pid, uint64_t start_time)
{
	struct daemon_target *t = daemon_find(d, pid);
	return t && t->start_time == start_time ? t : NULL;
}

#define MAX_ROOT_SECTIONS 64	/* added by root's ctl add --match; other
				 * users have max_sections_per_user each */

/* add --match KEY=VALUE...: a [target] section of its own, written as the
 * config file would have it and parsed by the same parser, so the keys,
 * values and messages are the file's (loupe.conf(5)). */
static void cmd_add_match(struct daemon_state *d, const struct ctl_peer *peer,
			  const struct ctl_request *req, struct ctl_reply *r)
{
	char name[DAEMON_TARGET_NAME_MAX + 1];
	snprintf(name, sizeof name, "ctl-%u-%u", (unsigned)peer->uid, ++d->sections_added);
	if (req->argc < 3) {
		ctl_reply_text(r, 2, "add --match needs KEY=VALUE arguments, such as exe=python3* cmdline=uvicorn");
		return;
	}
	/* each user's sections are counted apart, and root's apart from
	 * theirs: no user can use up root's room */
	bool root = ctl_peer_privileged(peer);
	uid_t owner = root ? 0 : peer->uid;
	size_t nrt = 0;
	for (size_t i = 0; i < d->cfg.ntargets; i++)
		nrt += d->cfg.targets[i].runtime && d->cfg.targets[i].owner == owner;
	if (root && nrt >= MAX_ROOT_SECTIONS) {
		ctl_reply_text(r, 1, "already %d sections added by ctl: remove one (loupe ctl remove NAME)", MAX_ROOT_SECTIONS);
		return;
	}
	if (!root && nrt >= d->cfg.max_sections_per_user) {
		ctl_reply_text(r, 1, "you already have max_sections_per_user = %u sections added by ctl: remove one (loupe ctl remove NAME)",
			       d->cfg.max_sections_per_user);
		return;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		ctl_reply_text(r, 1, "out of memory");
		return;
	}
	for (int i = 2; i < req->argc; i++)
		if (strncmp(req->argv[i], "name=", 5) == 0)
			snprintf(name, sizeof name, "%s", req->argv[i] + 5);
	fprintf(f, "[target %s]\n", name);
	for (int i = 2; i < req->argc; i++) {
		const char *a = req->argv[i], *eq = strchr(a, '=');
		if (!eq || strchr(a, '\n') || strncmp(a, "name=", 5) == 0) {
			fprintf(f, "%s\n", eq && !strchr(a, '\n') ? "# name" : "=");
			continue;	/* the parser names the bad line */
		}
		fprintf(f, "%.*s = \"%s\"\n", (int)(eq - a), a, eq + 1);
	}
	fclose(f);
	struct daemon_config c;
	lp_error err = { 0 };
	int rc = text ? daemon_config_parse(text, len, "--match", &c, &err) : LP_ENOMEM;
	free(text);
	if (rc) {
		/* "--match:LINE: msg": line L is argument L (line 1 the header) */
		int line = 0;
		const char *msg = err.msg;
		if (sscanf(err.msg, "--match:%d:", &line) == 1 && (msg = strstr(err.msg + 8, ": ")))
			msg += 2;
		if (line >= 2 && line <= req->argc - 1)
			ctl_reply_text(r, 2, "bad --match argument '%s': %s", req->argv[line], msg ? msg : err.msg);
		else
			ctl_reply_text(r, 2, "bad --match: %s", msg ? msg : err.msg);
		return;
	}
	for (size_t i = 0; i < d->cfg.ntargets; i++)
		if (strcmp(d->cfg.targets[i].name, name) == 0) {
			daemon_config_free(&c);
			ctl_reply_text(r, 1, "a section named %s exists: give another name=", name);
			return;
		}
	struct daemon_target_cfg *nt = realloc(d->cfg.targets, (d->cfg.ntargets + 1) * sizeof *nt);
	if (!nt) {
		daemon_config_free(&c);
		ctl_reply_text(r, 1, "out of memory");
		return;
	}
	d->cfg.targets = nt;
	struct daemon_target_cfg *t = &d->cfg.targets[d->cfg.ntargets++];
	*t = c.targets[0];
	c.ntargets = 0;	/* moved */
	daemon_config_free(&c);
	t->runtime = true;
	/* root's section matches everyone's processes */
	t->owner = owner;
	t->owner_gid = root ? 0 : peer->gid;
	daemon_match_cache_clear(d->match_cache);
	d->next_scan_ns = d->full_scan_ns = 0;
	ctl_reply_text(r, 0, "added [target %s]: matching processes%s are profiled from the next scan (within %d s); loupe ctl remove %s ends it",
		       t->name, t->owner ? " of yours" : "", 2 * DAEMON_SCAN_MS / 1000, t->name);
}

/* remove NAME of a section added by ctl: its processes are finalized. */
static void cmd_remove_section(struct daemon_state *d, const struct ctl_peer *peer,
			       const char *name, struct ctl_reply *r)
{
	size_t k;
	for (k = 0; k < d->cfg.ntargets && strcmp(d->cfg.targets[k].name, name) != 0; k++)
		;
	if (k == d->cfg.ntargets || !d->cfg.targets[k].runtime) {
		ctl_reply_text(r, 1, k == d->cfg.ntargets ?
			       "no section %s: give a PID or the NAME of a section added by 'add --match'" :
			       "section %s comes from the config file: edit it and run loupe ctl reload", name);
		return;
	}
	if (!ctl_peer_privileged(peer) && d->cfg.targets[k].owner != peer->uid) {
		ctl_reply_text(r, 1, "permission denied: section %s was added by user %u", name,
			       (unsigned)d->cfg.targets[k].owner);
		return;
	}
	unsigned n = 0;
	for (size_t i = 0; i < d->nt; ) {
		if (d->t[i].section == k) {
			daemon_finalize(d, i, "its section was removed by loupe ctl");
			n++;
		} else {
			i++;
		}
	}
	struct daemon_target_cfg *t = &d->cfg.targets[k];
	free(t->pids);
	free(t->exe);
	free(t->cmdline);
	free(t->cgroup);
	free(t->unit);
	memmove(t, t + 1, (d->cfg.ntargets - k - 1) * sizeof *t);
	d->cfg.ntargets--;
	for (size_t i = 0; i < d->nt; i++)
		if (d->t[i].section != DAEMON_NO_SECTION && d->t[i].section > k)
			d->t[i].section--;
	daemon_match_cache_clear(d->match_cache);
	ctl_reply_text(r, 0, "removed [target %s]; %u processes stopped, their windows stay", name, n);
}

static void cmd_add(struct daemon_state *d, const struct ctl_peer *peer,
		    const struct ctl_request *req, struct ctl_reply *r)
{
	if (req->argc >= 2 && strcmp(req->argv[1], "--match") == 0) {
		cmd_add_match(d, peer, req, r);
		return;
	}
	pid_t pid;
	uint64_t checked;
	if (!pid_arg(peer, req, r, &pid, &checked))
		return;
	if (req->argc > 2) {
		ctl_reply_text(r, 2, "unexpected argument '%s': loupe ctl add PID", req->argv[2]);
		return;
	}
	if (daemon_find(d, pid)) {
		ctl_reply_text(r, 0, "PID %d is already profiled", (int)pid);
		return;
	}
	struct daemon_target_cfg any = { .name = "any", .pids = &pid, .npids = 1 };
	struct daemon_match m;
	if (!daemon_match_pid(&any, pid, &m) || m.start_time != checked) {
		ctl_reply_text(r, 1, "cannot profile PID %d: no such process (or a kernel thread, or loupe itself)", (int)pid);
		return;
	}
	lp_error err = { 0 };
	if (daemon_add(d, pid, m.start_time, DAEMON_NO_SECTION, m.comm, peer->uid, &err)) {
		ctl_reply_text(r, 1, "cannot profile PID %d: %s", (int)pid, err.msg);
		return;
	}
	struct daemon_target *t = daemon_find(d, pid);
	ctl_reply_text(r, 0, "profiling PID %d (%s) at %.4g Hz into %s", (int)pid, m.comm, t->rate, t->dir);
}

static void cmd_remove(struct daemon_state *d, const struct ctl_peer *peer,
		       const struct ctl_request *req, struct ctl_reply *r)
{
	if (req->argc == 2 && req->argv[1][0] && (req->argv[1][0] < '0' || req->argv[1][0] > '9')) {
		cmd_remove_section(d, peer, req->argv[1], r);
		return;
	}
	pid_t pid;
	uint64_t checked;
	if (!pid_arg(peer, req, r, &pid, &checked))
		return;
	struct daemon_target *t = checked_target(d, pid, checked);
	if (!t) {
		ctl_reply_text(r, 1, "PID %d is not profiled by this daemon", (int)pid);
		return;
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", t->dir);
	bool from_config = t->section != DAEMON_NO_SECTION;
	daemon_finalize(d, (size_t)(t - d->t), "removed by loupe ctl");
	ctl_reply_text(r, 0, "stopped profiling PID %d; its windows stay in %s%s", (int)pid, dir,
		       from_config ? " (the config still matches it: it comes back at the next scan unless its section changes)" : "");
}

static void cmd_snapshot(struct daemon_state *d, const struct ctl_peer *peer,
			 const struct ctl_request *req, struct ctl_reply *r)
{
	pid_t pid;
	uint64_t checked;
	if (!pid_arg(peer, req, r, &pid, &checked))
		return;
	double since = 0;
	enum output_format f = FORMAT_COLLAPSED;
	for (int i = 2; i < req->argc; i++) {
		const char *a = req->argv[i], *v = i + 1 < req->argc ? req->argv[i + 1] : NULL;
		if (strcmp(a, "--since") == 0 && v && units_duration(v, &since) == 0) {
			i++;
		} else if (strcmp(a, "--format") == 0 && v && (f = format_from_name(v)) != FORMAT_NONE) {
			i++;
		} else {
			ctl_reply_text(r, 2, "bad argument '%s': loupe ctl snapshot PID [--since S] -o FILE", a);
			return;
		}
	}
	struct daemon_target *t = checked_target(d, pid, checked);
	if (!t) {
		ctl_reply_text(r, 1, "PID %d is not profiled by this daemon (loupe ctl add %d)", (int)pid, (int)pid);
		return;
	}
	profile *p = profile_new();
	if (!p) {
		ctl_reply_text(r, 1, "out of memory");
		return;
	}
	if (format_needs_timeline(f))
		profile_keep_timeline(p, true);
	lp_error err = { 0 };
	uint8_t *out = NULL;
	size_t len = 0;
	time_t from = since > 0 ? time(NULL) - (time_t)since : 0;
	if (daemon_collect(d, t, from, p, &err) ||
	    daemon_render(p, f, d->cfg.max_snapshot, &out, &len, &err))
		ctl_reply_text(r, 1, "snapshot of PID %d: %s", (int)pid, err.msg);
	else
		ctl_reply_file(r, out, len);
	profile_free(p);
}

static void cmd_dump(struct daemon_state *d, const struct ctl_peer *peer,
		     const struct ctl_request *req, struct ctl_reply *r)
{
	pid_t pid;
	uint64_t checked;
	if (!pid_arg(peer, req, r, &pid, &checked))
		return;
	bool tasks = req->argc > 2 && strcmp(req->argv[2], "--tasks") == 0;
	struct daemon_target *t = checked_target(d, pid, checked);
	if (!t) {
		ctl_reply_text(r, 1, "PID %d is not profiled by this daemon (loupe ctl add %d, or loupe dump -p %d)",
			       (int)pid, (int)pid, (int)pid);
		return;
	}
	if (!d->be.dump) {
		ctl_reply_text(r, 1, "dump is not available from this daemon: run loupe dump -p %d", (int)pid);
		return;
	}
	lp_error err = { 0 };
	char *text = d->be.dump(d->be.ctx, t->handle, tasks, &err);
	if (!text) {
		ctl_reply_text(r, 1, "dump of PID %d: %s", (int)pid, err.msg);
		return;
	}
	ctl_reply_text(r, 0, "%s", text);
	free(text);
}

/* trace PID [-d S] [--threshold T]: any process the peer may act on,
 * profiled by the daemon or not; answered when the trace ends. */
static void cmd_trace(struct daemon_state *d, const struct ctl_peer *peer,
		      const struct ctl_request *req, struct ctl_reply *r)
{
	pid_t pid;
	uint64_t checked;
	if (!pid_arg(peer, req, r, &pid, &checked))
		return;
	double dur = DAEMON_TRACE_DEFAULT_S, thr = DAEMON_TRACE_THRESHOLD_MS;
	for (int i = 2; i < req->argc; i++) {
		const char *a = req->argv[i], *v = i + 1 < req->argc ? req->argv[i + 1] : NULL;
		if (strcmp(a, "-d") == 0 || strcmp(a, "--duration") == 0) {
			if (!v || units_duration(v, &dur)) {
				ctl_reply_text(r, 2, "invalid duration '%s': expected seconds such as 10 or 10s (loupe ctl trace PID [-d S])",
					       v ? v : "");
				return;
			}
			if (dur > DAEMON_TRACE_MAX_S) {
				ctl_reply_text(r, 2, "-d %s is too long: the daemon traces for at most %.0f s; run loupe trace -p %d -d %s yourself",
					       v, DAEMON_TRACE_MAX_S, (int)pid, v);
				return;
			}
			i++;
		} else if (strcmp(a, "--threshold") == 0) {
			if (!v || units_time_ms(v, &thr) || thr > 3600e3) {
				ctl_reply_text(r, 2, "invalid threshold '%s': expected a time such as 50ms or 0.2s",
					       v ? v : "");
				return;
			}
			i++;
		} else {
			ctl_reply_text(r, 2, "unexpected argument '%s': loupe ctl trace PID [-d S] [--threshold T]", a);
			return;
		}
	}
	struct daemon_trace_req rq = {
		.ticket = r->ticket, .pid = pid, .start_time = checked,
		.uid = peer->uid, .duration_s = dur, .threshold_ms = thr,
	};
	lp_error err = { 0 };
	if (daemon_traces_start(d->traces, &rq, &err) != LP_OK)
		ctl_reply_text(r, 1, "%s", err.msg);
	else
		ctl_reply_defer(r, (unsigned)(dur * 1000) + DAEMON_TRACE_REPLY_MARGIN_MS);
}

void daemon_ctl_handle(void *ctx, const struct ctl_peer *peer,
		       const struct ctl_request *req, struct ctl_reply *r)
{
	struct daemon_state *d = ctx;
	const char *cmd = req->argv[0];
	if (strcmp(cmd, "status") == 0) {
		char *s = daemon_status_text(d, peer);
		if (s)
			ctl_reply_text(r, 0, "%s", s);
		else
			ctl_reply_text(r, 1, "out of memory");
		free(s);
	} else if (strcmp(cmd, "add") == 0) {
		cmd_add(d, peer, req, r);
	} else if (strcmp(cmd, "remove") == 0) {
		cmd_remove(d, peer, req, r);
	} else if (strcmp(cmd, "snapshot") == 0) {
		cmd_snapshot(d, peer, req, r);
	} else if (strcmp(cmd, "dump") == 0) {
		cmd_dump(d, peer, req, r);
	} else if (strcmp(cmd, "trace") == 0) {
		cmd_trace(d, peer, req, r);
	} else if (strcmp(cmd, "reload") == 0 || strcmp(cmd, "stop") == 0) {
		if (!ctl_peer_privileged(peer)) {
			ctl_reply_text(r, 1, "permission denied: only root may %s the daemon", cmd);
			return;
		}
		if (cmd[0] == 's') {
			daemon_request_stop(d);
			ctl_reply_text(r, 0, "stopping: finalizing %zu targets", d->nt);
			return;
		}
		lp_error err = { 0 };
		if (daemon_reload(d, &err))
			ctl_reply_text(r, 1, "reload failed, the running config stays: %s", err.msg);
		else
			ctl_reply_text(r, 0, "reloaded %s: %zu target sections", d->config_path, d->cfg.ntargets);
	} else if (strcmp(cmd, "help") == 0) {
		ctl_reply_text(r, 0, "%s", help);
	} else {
		ctl_reply_text(r, 2, "unknown command '%s'; %s", cmd, help);
	}
}
