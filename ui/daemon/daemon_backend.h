/* What loupe daemon asks of the sampling engine, per process: start, cut
 * the current window to a file, give the current window's samples, stop.
 * The daemon (ui/daemon/daemon.c) owns the schedule, the files, the sockets;
 * the backend owns the sampling (one loop over every target, nonblocking reads
 * only): ui/daemon/daemon_engine.c; the tests use a fake
 * (tests/unit/check_daemon.c).
 *
 * Every call is made from the daemon's loop thread, or with the daemon's
 * lock held (HTTP threads): a backend needs no locking of its own. */
#ifndef LOUPE_UI_DAEMON_BACKEND_H
#define LOUPE_UI_DAEMON_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"
#include "formats/formats.h"
#include "profile.h"

struct daemon_target_spec {
	pid_t pid;
	uint64_t start_time;	/* /proc/PID/stat field 22: with pid, the
				 * process (0: not checked) */
	const char *name;	/* [target NAME], or the command name */
	const char *dir;	/* its windows' directory (DIR/NAME-PID-START) */
	double rate;		/* Hz */
	enum sample_mode mode;
	bool native, tasks, subprocesses;
	/* the daemon has the host's process events: it calls
	 * threads_changed at each start and end of the process's threads
	 * and at its exit, so its thread list need not be polled */
	bool thread_events;
};

struct daemon_target_figures {
	uint64_t samples;	/* since the target started */
	uint64_t missed;	/* deadlines missed */
	char runtime[64];	/* "CPython 3.11.2", "native": for status */
	char command[16];	/* the process's name (comm), "" unknown */
};

struct daemon_backend {
	void *ctx;
	/* Begins sampling spec->pid; *handle names the target from then on.
	 * LP_ENOPROC when it is gone (or its PID now names a process that
	 * started at another time than spec->start_time), LP_EPERM when it
	 * cannot be read. */
	int (*start)(void *ctx, const struct daemon_target_spec *spec,
		     void **handle, lp_error *err);
	/* Ends the current window: writes its samples to out as a .loupe
	 * recording with the target's metadata (command line, runtime, rate,
	 * samples, missed), and begins the next window.  The daemon makes
	 * out (a temporary it renames into place) and checks its errors;
	 * out NULL (the file could not be made): the samples are dropped.
	 * LP_ENOTFOUND, writing nothing, when the window holds no sample. */
	int (*flush)(void *ctx, void *handle, FILE *out, lp_error *err);
	/* Adds the current window's samples to p. */
	int (*snapshot)(void *ctx, void *handle, profile *p, lp_error *err);
	/* Whether the process still runs. */
	bool (*alive)(void *ctx, void *handle);
	void (*figures)(void *ctx, void *handle, struct daemon_target_figures *f);
	/* Changes the rate (the daemon lowers rates to fit max_cpu). */
	void (*set_rate)(void *ctx, void *handle, double hz);
	/* Ends sampling (after the daemon's last flush) and frees handle. */
	void (*stop)(void *ctx, void *handle);
	/* Takes the samples that are due at now_ns (CLOCK_MONOTONIC); returns
	 * the nanoseconds until the next are due, -1 when none. */
	int64_t (*run)(void *ctx, uint64_t now_ns);
	/* Optional (NULL: never): whether handle's sampling takes pid in
	 * already, as one of its descendants (--subprocesses), so that the
	 * daemon does not sample it twice. */
	bool (*covers)(void *ctx, void *handle, pid_t pid);
	/* Optional (NULL: none): the CPU time the backend spent so far on
	 * one-off work of new targets outside start (their first ticks),
	 * which the daemon shows as attach CPU, not against max_cpu. */
	uint64_t (*attach_cpu)(void *ctx);
	/* Optional (NULL: ctl answers "not available"): every thread's stack
	 * of the target now, as 'loupe dump' prints it, malloc'd. */
	char *(*dump)(void *ctx, void *handle, bool tasks, lp_error *err);
	/* Optional (NULL: not told): a thread of handle's process started
	 * or ended, or the process exited (spec.thread_events). */
	void (*threads_changed)(void *ctx, void *handle);
};

#endif
