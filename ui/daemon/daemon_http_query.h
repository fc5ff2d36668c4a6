/* The query string of GET /debug/pprof/profile and the bearer token,
 * checked apart from the HTTP server (pure: no I/O, no libmicrohttpd) so
 * that a Check test and a fuzz harness call exactly what the endpoint
 * calls.
 *
 *   pid=PID        one process the daemon profiles from its config
 *   service=NAME   the targets of one service (the name survives
 *                  restarts, a PID does not)
 *   seconds=N      0 < N <= DAEMON_HTTP_MAX_SECONDS, default 30 (as Go)
 *
 * Without pid and service: every target of the config, in one profile
 * (but at least one key: a bare path is a 400).
 *
 * An unknown key, a key given twice, an empty or malformed value is an
 * error whose message is the 400 response's text. */
#ifndef LOUPE_UI_DAEMON_HTTP_QUERY_H
#define LOUPE_UI_DAEMON_HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define DAEMON_HTTP_DEFAULT_SECONDS 30	/* as Go's net/http/pprof */
#define DAEMON_HTTP_MAX_SECONDS 3600
/* A longer query string is not one of ours (daemon_http_query_parse). */
#define DAEMON_HTTP_QUERY_MAX 4096

#define DAEMON_HTTP_SERVICE_MAX 64	/* as a section's name */

struct daemon_http_query {
	pid_t pid;		/* 0: any */
	char service[DAEMON_HTTP_SERVICE_MAX + 1];	/* "": any */
	double seconds;
	unsigned seen;		/* keys given, by bit */
};

void daemon_http_query_init(struct daemon_http_query *q);
/* One argument as the server decoded it; value NULL for "key" without '='.
 * LP_OK, or LP_EINVAL with the reason in err. */
int daemon_http_query_arg(struct daemon_http_query *q, const char *key,
			  const char *value, lp_error *err);
/* After the last argument: what is required was given. */
int daemon_http_query_finish(const struct daemon_http_query *q, lp_error *err);
/* A whole raw query string (after '?', not NUL-terminated, len bytes):
 * split at '&' and '=', '+' and %XX decoded as libmicrohttpd does, then
 * each argument checked as above; init and finish included. */
int daemon_http_query_parse(const char *s, size_t len,
			    struct daemon_http_query *q, lp_error *err);

/* Whether header (an Authorization value: "Bearer TOKEN", the scheme in any
 * case) carries token; compared in a time that does not depend on where
 * they differ. */
bool daemon_http_bearer_ok(const char *header, const char *token);

#endif
