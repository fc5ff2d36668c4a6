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
	"commands: status, add PID, remove PID, snapshot PID [--since S] [--format F], "
	"dump PID [--tasks], reload, stop, help";

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

/* The PID argument of a command, checked against the peer; NULL after
 * replying with the error. */
static bool pid_arg(const struct ctl_peer *peer, const struct ctl_request *req,
		    struct ctl_reply *r, pid_t *pid)
{
	if (req->argc < 2 || parse_pid(req->argv[1], pid)) {
		ctl_reply_text(r, 2, "'%s' needs a process ID: loupe ctl %s PID", req->argv[0], req->argv[0]);
		return false;
	}
	char why[256];
	int rc = ctl_peer_may_act(peer, *pid, why, sizeof why);
	if (rc) {
		ctl_reply_text(r, 1, "%s", why);
		return false;
	}
	return true;
}

static void cmd_add(struct daemon_state *d, const struct ctl_peer *peer,
		    const struct ctl_request *req, struct ctl_reply *r)
{
	if (req->argc >= 2 && strcmp(req->argv[1], "--match") == 0) {
		ctl_reply_text(r, 1, "add --match is not available yet: put a [target NAME] section in %s and run 'loupe ctl reload'",
			       d->config_path);
		return;
	}
	pid_t pid;
	if (!pid_arg(peer, req, r, &pid))
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
	if (!daemon_match_pid(&any, pid, &m)) {
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
	pid_t pid;
	if (!pid_arg(peer, req, r, &pid))
		return;
	struct daemon_target *t = daemon_find(d, pid);
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
	if (!pid_arg(peer, req, r, &pid))
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
	struct daemon_target *t = daemon_find(d, pid);
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
	if (!pid_arg(peer, req, r, &pid))
		return;
	bool tasks = req->argc > 2 && strcmp(req->argv[2], "--tasks") == 0;
	struct daemon_target *t = daemon_find(d, pid);
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
		ctl_reply_text(r, 1, "trace is not available from the daemon in this version: run loupe trace -p PID");
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
