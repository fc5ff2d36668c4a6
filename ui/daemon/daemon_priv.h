/* loupe daemon's state, shared by its files (daemon.c: the loop and the
 * targets; daemon_ctl.c: the ctl commands; daemon_views.c: status,
 * metrics, snapshots).  Not an interface for anything else. */
#ifndef LOUPE_UI_DAEMON_PRIV_H
#define LOUPE_UI_DAEMON_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ctl_server.h"
#include "daemon.h"
#include "daemon_config.h"
#include "daemon_http.h"
#include "daemon_trace.h"

#define DAEMON_NO_SECTION ((size_t)-1)	/* added by ctl, not the config */
/* Services remembered for /metrics (their series outlive their
 * processes); past this many, new ones are counted under "other", so
 * that neither memory nor the series grow without bound. */
#define DAEMON_MAX_SERVICES 256
#define DAEMON_OTHER_SERVICE "other"

/* One service's figures: those of its finished targets; the live ones'
 * are added when shown. */
struct daemon_service {
	char name[DAEMON_TARGET_NAME_MAX + 1];
	uint64_t samples, missed, cpu_ticks;	/* of finished targets */
	uint64_t windows, errors;	/* all its targets' */
	unsigned live;		/* targets now */
	bool served;		/* has had a target of the file's sections
				 * (shown over HTTP; users' are not) */
};

struct daemon_target {
	pid_t pid;
	uint64_t start_time;	/* /proc/PID/stat: with pid, the process */
	size_t section;		/* config target index or DAEMON_NO_SECTION */
	char name[DAEMON_TARGET_NAME_MAX + 1];
	uid_t added_by;		/* who asked: 0 for the config's and root's,
				 * else the user of a ctl add or section */
	char *dir;		/* DIR/<name>-<pid> */
	void *handle;		/* the backend's */
	const char *dname;	/* dir's last component, the store's name for
				 * it: <name>-<pid>-<start_time> */
	double rate, rate_cfg;	/* now, and as configured */
	time_t window_start;	/* wall clock, names the window file */
	uint64_t window_end_ns;	/* monotonic: when to cut it */
	unsigned windows;	/* written so far */
	bool seen;		/* matched by the latest scan */
	bool exited;		/* an exit event named it: look at /proc, do not
				 * wait for a tick to find it gone */
	char service[DAEMON_TARGET_NAME_MAX + 1];	/* scrapes' label */
	char comm[17];		/* its command name when matched */
	size_t svc;		/* index in the state's services */
	uint64_t cpu_ticks;	/* its CPU (utime + stime) when last read */
};

struct daemon_state {
	pthread_mutex_t lock;	/* HTTP threads against the loop */
	char *config_path;
	struct daemon_config cfg;
	struct daemon_backend be;
	struct daemon_match_cache *match_cache;
	struct store *store;	/* cfg.dir, opened at start */
	ctl_server *ctl;
	daemon_http *http;
	struct daemon_target *t;
	size_t nt;
	uint64_t next_scan_ns, next_retain_ns, next_cpu_ns;
	uint64_t next_trim_ns;	/* DAEMON_TRIM_MS */
	bool trim_due;		/* a target ended since the last trim */
	uint64_t cpu_ns_prev, cpu_at_ns;	/* own CPU, for max_cpu */
	/* CPU spent attaching to targets (a one-off per process: maps,
	 * symbols, the interpreter's addresses, the first tick): shown
	 * apart, and not counted against max_cpu, which is a cap on the
	 * steady cost of sampling; and its value at the last check */
	uint64_t attach_cpu_ns, attach_cpu_prev;
	double attach_budget_ns;	/* what attaching may still take
					 * outside max_cpu (daemon.c) */
	double cpu_pct;		/* own CPU over the last interval, less
				 * attach CPU */
	double rate_scale;	/* 1: as configured; < 1 lowered for max_cpu */
	bool warned_full;	/* max_targets reached was logged */
	bool left_out;		/* the last scan left a matched process out (max_targets, quota) */
	unsigned sections_added;	/* by ctl add --match: names them */
	daemon_traces *traces;	/* ctl trace's workers */
	struct daemon_service *svc;	/* at most DAEMON_MAX_SERVICES */
	size_t nsvc;
	struct proc_events *events;	/* the host's process events, or NULL */
	uint64_t last_scan_ns;
	/* process events wake the loop at most every EVENT_SCAN_MS: until
	 * events_next_ns they wait in the socket (read at the next wake-up
	 * past it); events_got counts those read */
	uint64_t events_next_ns, events_got;
	bool events_unwatched;	/* the last turn did not poll the socket */
	bool event_scan;	/* an event asks for a scan */
	/* The processes events named since the last look (started or
	 * exec'd), looked at alone instead of a whole /proc scan; a full
	 * scan when more came (event_full) and every full_scan_ns */
#define DAEMON_EVENT_PIDS 4096
	pid_t event_pids[DAEMON_EVENT_PIDS];
	size_t nevent_pids;
	bool event_full;
	uint64_t full_scan_ns;
	volatile int stop, reload;
};

/* daemon_log's levels (daemon.h), short */
enum { LOG_ERR_ = DAEMON_LOG_ERR, LOG_WARN_ = DAEMON_LOG_WARN, LOG_INFO_ = DAEMON_LOG_INFO };

/* daemon_targets.c: the state's own operations, which the loop, ctl and
 * the views call and which call none of them. */
struct daemon_target *daemon_find(struct daemon_state *d, pid_t pid);
/* Starts profiling pid (section, or DAEMON_NO_SECTION with defaults). */
int daemon_add(struct daemon_state *d, pid_t pid, uint64_t start_time,
	       size_t section, const char *name, uid_t by, lp_error *err);
/* How many targets uid (other than root) has: added by its ctl add, or
 * matched by its ctl add --match sections. */
unsigned daemon_user_targets(const struct daemon_state *d, uid_t uid);
/* Names t's service (scrapes, metrics) and command. */
void daemon_target_named(struct daemon_state *d, struct daemon_target *t,
			 const char *service, const char *comm);
/* Reads t's CPU time into t->cpu_ticks (when t is still its process). */
void daemon_target_cpu(struct daemon_target *t);
/* Writes its last window, stops it, forgets it. */
void daemon_finalize(struct daemon_state *d, size_t i, const char *why);
/* Reads the config again; on error keeps the old one. */
int daemon_reload(struct daemon_state *d, lp_error *err);
/* Cuts t's window into its file and begins the next. */
void daemon_cut_window(struct daemon_state *d, struct daemon_target *t);
/* The configured window, in ns. */
uint64_t daemon_window_ns(const struct daemon_state *d);
/* The daemon's own CPU time, every thread's (HTTP ones included). */
uint64_t daemon_self_cpu_ns(void);
/* The CPU time of the calling thread (attach CPU is measured on the
 * loop's thread). */
uint64_t daemon_thread_cpu_ns(void);
/* CPU spent attaching so far: the loop's starts and the backend's own
 * one-off work (daemon_backend.attach_cpu). */
uint64_t daemon_attach_cpu_ns(const struct daemon_state *d);

/* The ctl server's handler (daemon_ctl.c). */
void daemon_ctl_handle(void *ctx, const struct ctl_peer *peer,
		       const struct ctl_request *req, struct ctl_reply *r);

/* ctl trace (daemon_trace.h): the traces object the daemon owns; the
 * longest and default -d of a trace. */
#define DAEMON_TRACE_DEFAULT_S CTL_TRACE_DEFAULT_S
#define DAEMON_TRACE_MAX_S CTL_TRACE_MAX_S

/* daemon_views.c */
/* The windows of t that ended at or after since (0: all), then its
 * current window, into p. */
int daemon_collect(struct daemon_state *d, struct daemon_target *t,
		   time_t since, profile *p, lp_error *err);
/* p in format f, malloc'd, at most max bytes. */
int daemon_render(const profile *p, enum output_format f, uint64_t max,
		  uint8_t **out, size_t *len, lp_error *err);
/* ctl status text for peer (its own targets only unless privileged). */
char *daemon_status_text(struct daemon_state *d, const struct ctl_peer *peer);
/* The daemon's own figures. */
void daemon_self_usage(double *cpu_s, uint64_t *rss);
/* HTTP callbacks (take the lock); they serve only the targets of the
 * configuration file's own sections (not ctl's). */
char *daemon_metrics(void *ctx);
int daemon_pprof_begin(void *ctx, const struct daemon_http_query *q,
		       lp_error *err);
int daemon_pprof(void *ctx, const struct daemon_http_query *q, time_t since,
		 uint8_t **data, size_t *len, lp_error *err);

#endif
