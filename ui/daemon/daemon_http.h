/* The daemon's optional HTTP endpoint (libmicrohttpd), for the tools that
 * pull profiles from Go services:
 *
 *   GET /debug/pprof/profile?seconds=N[&pid=PID][&service=NAME]
 *       gzipped pprof (go tool pprof, Grafana Pyroscope's scrape mode,
 *       Parca): every target of the config without pid and service
 *   GET /metrics                                 Prometheus text format
 *
 * Every request carries "Authorization: Bearer TOKEN" (the token read from
 * a root-owned file at start; 401 otherwise) unless the endpoint is
 * configured open: on a Unix socket, or on loopback with the acknowledgement
 * DAEMON_HTTP_OPEN_ACK (daemon_config.h).  Any other path is 404, a bad or missing parameter
 * 400, another method 405.
 *
 * Requests are served by libmicrohttpd's event loop (a small pool of
 * threads, connection limits overall and per client address, an inactivity
 * timeout), so slow or many clients do not lock others out.  A profile
 * request does not hold a thread while its seconds pass: its connection is
 * suspended and one waiter thread resumes it when they are over, or drops
 * it as soon as its client hangs up.  The callbacks must be thread-safe. */
#ifndef LOUPE_UI_DAEMON_HTTP_H
#define LOUPE_UI_DAEMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "daemon_http_query.h"
#include "error.h"

#define DAEMON_HTTP_MAX_CONNECTIONS 256	/* all clients */
#define DAEMON_HTTP_MAX_PER_ADDRESS 64	/* one client address (TCP) */
#define DAEMON_HTTP_TIMEOUT_S 10	/* silence before a connection is closed */
#define DAEMON_HTTP_THREADS 2		/* libmicrohttpd's pool */
#define DAEMON_HTTP_MAX_PROFILES 64	/* profile requests waiting at once */
/* The token file and the TLS key: at most this long. */
#define DAEMON_HTTP_SECRET_MAX (64u << 10)
#define DAEMON_HTTP_TOKEN_MIN 16	/* characters of a bearer token */

/* How the endpoint listens and whom it lets in (loupe.conf's http keys). */
struct daemon_http_cfg {
	const char *listen;	/* "ADDR:PORT" or "unix:/PATH" */
	const char *token_file;	/* NULL: no token (open, see above) */
	bool open;		/* http_open acknowledged */
	const char *tls_cert, *tls_key;	/* PEM files, both or neither */
};

struct daemon_http_ops {
	void *ctx;
	/* Prometheus text, malloc'd; NULL: 500. */
	char *(*metrics)(void *ctx);
	/* Whether what q selects is served (at the request's arrival,
	 * quick).  LP_OK;
	 * LP_ENOPROC/LP_ENOTFOUND: 404; LP_EPERM: 403; anything else 500;
	 * err->msg is the response's text. */
	int (*profile_begin)(void *ctx, const struct daemon_http_query *q,
			     lp_error *err);
	/* Gzipped pprof of what q selects since `since` (wall clock, the request's
	 * arrival), malloc'd into *data; called once the seconds asked for
	 * have passed.  Errors as profile_begin, LP_EINVAL: 400. */
	int (*profile)(void *ctx, const struct daemon_http_query *q, time_t since,
		       uint8_t **data, size_t *len, lp_error *err);
};

typedef struct daemon_http daemon_http;

/* Checks cfg (token file and TLS key root-owned, not readable by group or
 * others; an open endpoint only where allowed), listens (port 0: any free
 * port) and serves until daemon_http_stop.  ops is copied. */
int daemon_http_start(daemon_http **out, const struct daemon_http_cfg *cfg,
		      const struct daemon_http_ops *ops, lp_error *err);
/* The port listened on (the one chosen when 0 was asked; 0 on a Unix
 * socket). */
unsigned daemon_http_port(const daemon_http *h);
/* Stops serving (drops the requests in progress) and frees h. */
void daemon_http_stop(daemon_http *h);

#endif
