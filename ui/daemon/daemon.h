/* loupe daemon's state machine: the targets it profiles (from the config's
 * matchers and from 'loupe ctl add'), their windows on disk, retention,
 * the CPU cap, the control socket and the HTTP endpoint, over a sampling
 * backend (daemon_backend.h).  One thread runs daemon_step in a loop; the
 * HTTP server's threads take the daemon's lock. */
#ifndef LOUPE_UI_DAEMON_H
#define LOUPE_UI_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon_backend.h"
#include "error.h"

#define DAEMON_SCAN_MS 1000	/* new matching processes within 2 s */
/* With process events, the whole scan is a fallback (the events name
 * each process that starts or execs): this often. */
#define DAEMON_SCAN_EVENTS_MS 10000
/* Memory that ended targets held goes back to the system at most this
 * often: malloc_trim walks every free chunk, a tenth of the daemon's CPU
 * when it ran at every exit of a host whose processes churn each second. */
#define DAEMON_TRIM_MS 10000
#define DAEMON_MIN_RATE 1.0	/* the CPU cap never lowers a rate below */

struct daemon_state;

/* Reads the config at config_path, creates the recordings directory, the
 * control socket and (when configured) the HTTP endpoint.  be is copied. */
int daemon_new(struct daemon_state **out, const char *config_path,
	       const struct daemon_backend *be, lp_error *err);
/* One turn: waits at most max_wait_ms for the sockets or the backend's
 * next sample, then serves ctl, samples, rotates windows, picks up new
 * processes and finalizes gone ones, applies retention and the CPU cap.
 * true while running, false once asked to stop. */
bool daemon_step(struct daemon_state *d, int max_wait_ms);
/* From a signal handler's flag: stop (SIGTERM, SIGINT), or read the
 * config again (SIGHUP). */
void daemon_request_stop(struct daemon_state *d);
void daemon_request_reload(struct daemon_state *d);
/* Finalizes every window (the last one written), stops every target,
 * closes the sockets, frees d. */
void daemon_free(struct daemon_state *d);

/* stderr log lines, with journald's "<N>" level prefix under systemd. */
enum { DAEMON_LOG_ERR = 3, DAEMON_LOG_WARN = 4, DAEMON_LOG_INFO = 6 };
void daemon_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* CLOCK_MONOTONIC in ns: the loop's and the backend's clock. */
uint64_t daemon_now_ns(void);

/* The HTTP port listened on, 0 when HTTP is off (tests). */
unsigned daemon_http_port_of(const struct daemon_state *d);

#endif
