/* loupe ctl trace's traces: a self-contained object that the daemon owns
 * and calls (start, the fd to poll, reap, stop all), never the other way.
 * Each trace runs in a worker thread of its own, so that the daemon's loop
 * goes on sampling the other targets and serving other clients; the
 * daemon hears of it through callbacks: a log line, the answer of a
 * trace that ended, whether its client still waits. */
#ifndef LOUPE_UI_DAEMON_TRACE_H
#define LOUPE_UI_DAEMON_TRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define DAEMON_TRACE_MAX 2		/* traces at once */
#define DAEMON_TRACE_THRESHOLD_MS 50.0	/* loupe trace's default */
/* The client waits this much beyond the duration: attaching, reading the
 * interpreter's symbols, the summary.  loupe ctl itself waits 30 s more
 * (CTL_CLIENT_TIMEOUT_S), so the daemon's error comes first. */
#define DAEMON_TRACE_REPLY_MARGIN_MS 20000

struct daemon_trace_req {
	uint64_t ticket;	/* the caller's name for it (the deferred ctl
				 * request), given back when it ends */
	pid_t pid;
	uint64_t start_time;	/* of the process checked for the client */
	uid_t uid;		/* who asked (the log) */
	double duration_s, threshold_ms;
};

/* One trace, in its worker thread: runs until its end or *stop; returns
 * loupe trace's exit status and *text (malloc'd: the summary, or the
 * one-line error; NULL when out of memory).  What it traced is published
 * when it returns, before its resources are freed by *cleanup (may be
 * NULL): closing perf events takes ~35 ms each (an RCU grace period). */
typedef uint32_t (*daemon_trace_fn)(const struct daemon_trace_req *req,
				    volatile sig_atomic_t *stop, char **text,
				    void **cleanup_arg);
typedef void (*daemon_trace_cleanup_fn)(void *cleanup_arg);

struct daemon_traces_ops {
	void *ctx;
	/* The trace itself: daemon_trace_run and daemon_trace_cleanup in
	 * the daemon (a fake in the unit test). */
	daemon_trace_fn run;
	daemon_trace_cleanup_fn cleanup;
	/* A log line (level: DAEMON_LOG_*). */
	void (*log)(void *ctx, int level, const char *msg);
	/* Answers req's ticket with status and text; false when its client
	 * is no longer there (the answer is dropped). */
	bool (*complete)(void *ctx, uint64_t ticket, uint32_t status,
			 const char *text);
	/* Whether the client of ticket still waits. */
	bool (*waiting)(void *ctx, uint64_t ticket);
};

typedef struct daemon_traces daemon_traces;

/* ops is copied. */
int daemon_traces_new(daemon_traces **out, const struct daemon_traces_ops *ops,
		      lp_error *err);
/* Starts req in a thread of its own; or fails, with the one-line answer
 * for the client in err: this daemon's own PID, a PID traced already,
 * DAEMON_TRACE_MAX running, no thread. */
int daemon_traces_start(daemon_traces *tc, const struct daemon_trace_req *req,
			lp_error *err);
/* For the loop's poll: readable when a trace ended. */
int daemon_traces_fd(const daemon_traces *tc);
/* Answers the traces that ended, joins those done; stops those whose
 * client left. */
void daemon_traces_reap(daemon_traces *tc);
/* Whether a trace runs or waits to be reaped: the loop reaps only then
 * (or when the eventfd woke it), not with a read every turn. */
bool daemon_traces_any(const daemon_traces *tc);
/* How many traces run (not yet answered). */
size_t daemon_traces_running(const daemon_traces *tc);
/* Stops every trace, waits for it, answers what it found (before the
 * sockets close), and frees tc. */
void daemon_traces_free(daemon_traces *tc);

/* loupe trace -p PID -d S as the daemon runs it (a trace session,
 * trace_session.h, that never pauses the target), its summary and
 * errors as the text; and what frees it. */
uint32_t daemon_trace_run(const struct daemon_trace_req *req,
			  volatile sig_atomic_t *stop, char **text,
			  void **cleanup_arg);
void daemon_trace_cleanup(void *cleanup_arg);

#endif
