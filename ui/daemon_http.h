/* The daemon's optional HTTP endpoint (libmicrohttpd), for the tools that
 * pull profiles from Go services:
 *
 *   GET /debug/pprof/profile?seconds=N&pid=PID   gzipped pprof (go tool
 *       pprof, Grafana Pyroscope's scrape mode, Parca)
 *   GET /metrics                                 Prometheus text format
 *
 * Any other path is 404, a bad or missing parameter 400, another method
 * 405.  Requests are served on the server's own threads (one per
 * connection, at most DAEMON_HTTP_MAX_CONNECTIONS), so a profile that
 * takes N seconds never holds up /metrics nor the daemon's loop; the
 * callbacks must therefore be thread-safe. */
#ifndef LOUPE_UI_DAEMON_HTTP_H
#define LOUPE_UI_DAEMON_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define DAEMON_HTTP_MAX_CONNECTIONS 8
#define DAEMON_HTTP_DEFAULT_SECONDS 30	/* as Go's net/http/pprof */
#define DAEMON_HTTP_MAX_SECONDS 3600

struct daemon_http_ops {
	void *ctx;
	/* Prometheus text, malloc'd; NULL: 500. */
	char *(*metrics)(void *ctx);
	/* Gzipped pprof of process pid over `seconds`, malloc'd into *data.
	 * LP_OK; LP_ENOPROC/LP_ENOTFOUND: 404; LP_EPERM: 403; LP_EINVAL: 400;
	 * anything else 500; err->msg is the response's text. */
	int (*profile)(void *ctx, pid_t pid, double seconds, uint8_t **data,
		       size_t *len, lp_error *err);
};

typedef struct daemon_http daemon_http;

/* Listens on listen ("ADDR:PORT", port 0: any free port) and serves until
 * daemon_http_stop.  ops is copied. */
int daemon_http_start(daemon_http **out, const char *listen,
		      const struct daemon_http_ops *ops, lp_error *err);
/* The port listened on (the one chosen when 0 was asked). */
unsigned daemon_http_port(const daemon_http *h);
/* Stops serving (waits for the requests in progress) and frees h. */
void daemon_http_stop(daemon_http *h);

#endif
