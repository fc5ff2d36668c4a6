/* The pprof / Prometheus HTTP endpoint on libmicrohttpd: HTTP parsing is
 * the library's, this file only routes two paths and checks parameters. */
#include "daemon_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon_config.h"

/* An idle connection is dropped after this (a profile being taken is not
 * idle: MHD times out only silence). */
#define HTTP_IDLE_TIMEOUT_S 30

struct daemon_http {
	struct MHD_Daemon *d;
	struct daemon_http_ops ops;
	unsigned port;
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code,
			       const char *type, void *data, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ok = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned code,
				    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned code,
				    const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MHD_NO;
	return respond(c, code, "text/plain; charset=utf-8", s, (size_t)n);
}

static enum MHD_Result serve_metrics(struct daemon_http *h, struct MHD_Connection *c)
{
	char *text = h->ops.metrics ? h->ops.metrics(h->ops.ctx) : NULL;
	if (!text)
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics unavailable\n");
	/* the text exposition format, version 0.0.4 (Prometheus docs) */
	return respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		       text, strlen(text));
}

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

static enum MHD_Result serve_profile(struct daemon_http *h, struct MHD_Connection *c)
{
	const char *ps = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pid");
	const char *ss = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "seconds");
	pid_t pid;
	if (!ps)
		return respond_text(c, MHD_HTTP_BAD_REQUEST, "pid=PID is required: which process to profile\n");
	if (parse_pid(ps, &pid))
		return respond_text(c, MHD_HTTP_BAD_REQUEST, "invalid pid '%s': expected a process ID\n", ps);
	double seconds = DAEMON_HTTP_DEFAULT_SECONDS;
	if (ss) {
		char *end;
		errno = 0;
		seconds = strtod(ss, &end);
		if (!*ss || errno || *end || !isfinite(seconds) || !(seconds > 0) ||
		    seconds > DAEMON_HTTP_MAX_SECONDS)
			return respond_text(c, MHD_HTTP_BAD_REQUEST, "invalid seconds '%s': expected more than 0 and at most %d\n",
					    ss, DAEMON_HTTP_MAX_SECONDS);
	}
	if (!h->ops.profile)
		return respond_text(c, MHD_HTTP_NOT_FOUND, "profiles are not served here\n");
	uint8_t *data = NULL;
	size_t len = 0;
	lp_error err = { 0 };
	int rc = h->ops.profile(h->ops.ctx, pid, seconds, &data, &len, &err);
	if (rc == LP_OK && data)
		return respond(c, MHD_HTTP_OK, "application/octet-stream", data, len);
	free(data);
	unsigned code = rc == LP_ENOPROC || rc == LP_ENOTFOUND ? MHD_HTTP_NOT_FOUND :
			rc == LP_EPERM ? MHD_HTTP_FORBIDDEN :
			rc == LP_EINVAL ? MHD_HTTP_BAD_REQUEST :
					  MHD_HTTP_INTERNAL_SERVER_ERROR;
	return respond_text(c, code, "%s\n", err.msg[0] ? err.msg : lp_strerror(rc));
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct daemon_http *h = cls;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		   strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (!get)
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served\n");
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(h, c);
	if (strcmp(url, "/debug/pprof/profile") == 0)
		return serve_profile(h, c);
	return respond_text(c, MHD_HTTP_NOT_FOUND, "not found: this endpoint serves /metrics and /debug/pprof/profile?seconds=N&pid=PID\n");
}

int daemon_http_start(daemon_http **out, const char *listen,
		      const struct daemon_http_ops *ops, lp_error *err)
{
	char host[64];
	unsigned port;
	if (daemon_parse_listen(listen, host, sizeof host, &port))
		return lp_error_set(err, LP_EINVAL, "invalid http address '%s': expected ADDRESS:PORT", listen);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		return lp_error_set(err, LP_EINVAL, "invalid http address '%s'", listen);
	}
	struct daemon_http *h = calloc(1, sizeof *h);
	if (!h)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	h->ops = *ops;
	errno = 0;
	h->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)DAEMON_HTTP_MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
				MHD_OPTION_END);
	if (!h->d) {
		int e = errno;
		free(h);
		return lp_error_set(err, LP_EIO, "cannot serve HTTP on %s: %s", listen,
				    e ? strerror(e) : "the address is in use or not local");
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	*out = h;
	return LP_OK;
}

unsigned daemon_http_port(const daemon_http *h)
{
	return h->port;
}

void daemon_http_stop(daemon_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
