/* The pprof / Prometheus HTTP endpoint on libmicrohttpd: HTTP parsing, the
 * event loop, timeouts and per-address limits are the library's; this file
 * checks who asks (bearer token), routes two paths, and keeps profile
 * requests waiting without a thread each (see daemon_http.h). */
#include "daemon_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon_config.h"

/* A profile request whose connection is suspended while its seconds pass.
 * The waiter owns it while it is on the list; once resumed, the connection
 * does (freed by request_completed). */
struct pending {
	struct pending *next;
	struct MHD_Connection *c;
	int fd;			/* the client's socket: polled for hang-up */
	struct daemon_http_query q;	/* what it selects */
	time_t since;		/* wall clock at arrival */
	struct timespec due;	/* CLOCK_MONOTONIC */
	bool gone;		/* the client left: close, do not answer */
	unsigned code;		/* the answer, when not gone */
	uint8_t *data;
	size_t len;
	const char *type;
};

struct daemon_http {
	struct MHD_Daemon *d;
	struct daemon_http_ops ops;
	unsigned port;
	char *token;		/* NULL: open */
	char *tls_cert, *tls_key;
	char *unix_path;	/* removed at stop */
	pthread_mutex_t lock;	/* the list, n, quit */
	struct pending *list;
	size_t n;
	bool quit;
	int wake[2];		/* a pipe: wakes the waiter */
	pthread_t waiter;
	bool waiter_started;
};

static const char text_type[] = "text/plain; charset=utf-8";

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code,
			       const char *type, void *data, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_UNAUTHORIZED) {
		/* RFC 6750 section 3; and the slot goes to someone else */
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"loupe\"");
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	}
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
	return respond(c, code, text_type, s, (size_t)n);
}

static unsigned code_of(int rc)
{
	return rc == LP_ENOPROC || rc == LP_ENOTFOUND ? MHD_HTTP_NOT_FOUND :
	       rc == LP_EPERM ? MHD_HTTP_FORBIDDEN :
	       rc == LP_EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR;
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

struct query_walk {
	struct daemon_http_query q;
	lp_error err;
	int rc;
};

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind,
				 const char *key, const char *value)
{
	struct query_walk *w = cls;
	(void)kind;
	w->rc = daemon_http_query_arg(&w->q, key, value, &w->err);
	return w->rc == LP_OK ? MHD_YES : MHD_NO;
}

static void wake(struct daemon_http *h)
{
	char b = 1;
	ssize_t n = write(h->wake[1], &b, 1);	/* full pipe: already woken */
	(void)n;
}

static enum MHD_Result serve_profile(struct daemon_http *h, struct MHD_Connection *c,
				     void **state)
{
	struct query_walk w = { .rc = LP_OK };
	daemon_http_query_init(&w.q);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &w);
	if (w.rc == LP_OK)
		w.rc = daemon_http_query_finish(&w.q, &w.err);
	if (w.rc)
		return respond_text(c, MHD_HTTP_BAD_REQUEST, "%s\n", w.err.msg);
	if (!h->ops.profile_begin || !h->ops.profile)
		return respond_text(c, MHD_HTTP_NOT_FOUND, "profiles are not served here\n");
	lp_error err = { 0 };
	int rc = h->ops.profile_begin(h->ops.ctx, &w.q, &err);
	if (rc)
		return respond_text(c, code_of(rc), "%s\n", err.msg[0] ? err.msg : lp_strerror(rc));
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct pending *p = calloc(1, sizeof *p);
	if (!p || !ci) {
		free(p);
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	p->c = c;
	p->fd = ci->connect_fd;
	p->q = w.q;
	p->since = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &p->due);
	double whole = (double)(time_t)w.q.seconds;
	p->due.tv_sec += (time_t)whole;
	p->due.tv_nsec += (long)((w.q.seconds - whole) * 1e9);
	if (p->due.tv_nsec >= 1000000000) {
		p->due.tv_sec++;
		p->due.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&h->lock);
	bool full = h->n >= DAEMON_HTTP_MAX_PROFILES || h->quit;
	if (!full) {
		/* suspended before the waiter can see it (and resume it) */
		MHD_suspend_connection(c);
		p->next = h->list;
		h->list = p;
		h->n++;
		*state = p;
	}
	pthread_mutex_unlock(&h->lock);
	if (full) {
		free(p);
		return respond_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "%d profile requests are in progress: try again later\n",
				    DAEMON_HTTP_MAX_PROFILES);
	}
	wake(h);
	return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct daemon_http *h = cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	struct pending *p = *state;
	if (p) {	/* resumed by the waiter */
		if (p->gone)
			return MHD_NO;	/* closes the connection */
		uint8_t *data = p->data;
		p->data = NULL;
		return respond(c, p->code, p->type, data, p->len);
	}
	if (h->token) {
		const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
		if (!daemon_http_bearer_ok(auth, h->token))
			return respond_text(c, MHD_HTTP_UNAUTHORIZED, auth ? "invalid bearer token\n" :
				"this endpoint needs Authorization: Bearer TOKEN (the daemon's http_token_file)\n");
	}
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		   strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (!get)
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served\n");
	if (strcmp(url, "/metrics") == 0)
		return serve_metrics(h, c);
	if (strcmp(url, "/debug/pprof/profile") == 0)
		return serve_profile(h, c, state);
	return respond_text(c, MHD_HTTP_NOT_FOUND, "not found: this endpoint serves /metrics and /debug/pprof/profile?seconds=N[&pid=PID][&service=NAME]\n");
}

static void request_completed(void *cls, struct MHD_Connection *c, void **state,
			      enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	struct pending *p = *state;
	if (p) {
		free(p->data);
		free(p);
		*state = NULL;
	}
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec != b->tv_sec ? (a->tv_sec < b->tv_sec ? -1 : 1) :
	       a->tv_nsec != b->tv_nsec ? (a->tv_nsec < b->tv_nsec ? -1 : 1) : 0;
}

/* Takes the profile of p (the seconds are over) into its answer. */
static void answer(struct daemon_http *h, struct pending *p)
{
	lp_error err = { 0 };
	int rc = h->ops.profile(h->ops.ctx, &p->q, p->since, &p->data, &p->len, &err);
	if (rc == LP_OK && p->data) {
		p->code = MHD_HTTP_OK;
		p->type = "application/octet-stream";
		return;
	}
	free(p->data);
	p->code = code_of(rc);
	p->type = text_type;
	p->data = NULL;
	char *text = NULL;
	int n = asprintf(&text, "%s\n", err.msg[0] ? err.msg : lp_strerror(rc));
	if (n < 0) {
		p->gone = true;	/* out of memory: the connection closes */
		return;
	}
	p->data = (uint8_t *)text;
	p->len = (size_t)n;
}

/* The one thread that waits for every profile request: it polls their
 * sockets for a hang-up (drop the request) until the earliest is due
 * (answer it), so an abandoned request costs a pollfd, not a thread. */
static void *waiter(void *arg)
{
	struct daemon_http *h = arg;
	struct pollfd fds[1 + DAEMON_HTTP_MAX_PROFILES];
	struct pending *of[1 + DAEMON_HTTP_MAX_PROFILES];
	for (;;) {
		size_t n = 0;
		int timeout = -1;
		struct timespec now;
		pthread_mutex_lock(&h->lock);
		bool quit = h->quit;
		clock_gettime(CLOCK_MONOTONIC, &now);
		fds[n++] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
		for (struct pending *p = h->list; p && n < 1 + DAEMON_HTTP_MAX_PROFILES; p = p->next) {
			of[n] = p;
			fds[n++] = (struct pollfd){ .fd = p->fd, .events = POLLRDHUP };
			long long ms = ts_cmp(&p->due, &now) <= 0 ? 0 :
				       (long long)(p->due.tv_sec - now.tv_sec) * 1000 +
				       (p->due.tv_nsec - now.tv_nsec) / 1000000 + 1;
			if (ms > 60000)
				ms = 60000;
			if (timeout < 0 || ms < timeout)
				timeout = (int)ms;
		}
		pthread_mutex_unlock(&h->lock);
		if (!quit && poll(fds, n, timeout) < 0 && errno != EINTR)
			usleep(10000);	/* cannot happen with valid fds; not a spin */
		if (fds[0].revents & POLLIN) {
			char buf[64];
			while (read(h->wake[0], buf, sizeof buf) > 0)
				;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* take off the list what is over: gone, due, or everything at
		 * quit; answer outside the lock (a profile reads files) */
		struct pending *done = NULL;
		pthread_mutex_lock(&h->lock);
		quit = h->quit;
		for (size_t i = 1; i < n; i++) {
			struct pending *p = of[i];
			if (quit)
				p->gone = true;
			else if (fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
				p->gone = true;
			else if (ts_cmp(&p->due, &now) > 0)
				continue;
			struct pending **pp = &h->list;
			while (*pp != p)
				pp = &(*pp)->next;
			*pp = p->next;
			h->n--;
			p->next = done;
			done = p;
		}
		bool empty = !h->list;
		pthread_mutex_unlock(&h->lock);
		while (done) {
			struct pending *p = done;
			done = p->next;
			if (!p->gone)
				answer(h, p);
			MHD_resume_connection(p->c);
		}
		if (quit && empty)
			return NULL;
	}
}

/* A secret file (the token, the TLS key): a regular file, not a link,
 * owned by root or by us, with no permission for group or others. */
static int read_secret(const char *path, const char *what, bool secret, char **out,
		       lp_error *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return lp_error_set(err, LP_EPERM, "cannot open %s %s: %s", what, path,
				    errno == ELOOP ? "it is a symbolic link" : strerror(errno));
	struct stat st;
	int rc = LP_OK;
	if (fstat(fd, &st) != 0)
		rc = lp_error_set(err, LP_EIO, "cannot stat %s %s: %s", what, path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = lp_error_set(err, LP_EPERM, "%s %s is not a regular file", what, path);
	else if (secret && st.st_uid != 0 && st.st_uid != geteuid())
		rc = lp_error_set(err, LP_EPERM, "%s %s is owned by uid %u: it must be owned by root (chown root %s)",
				  what, path, (unsigned)st.st_uid, path);
	else if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)))
		rc = lp_error_set(err, LP_EPERM, "%s %s has mode %04o: group and others must have no access (chmod 600 %s)",
				  what, path, (unsigned)(st.st_mode & 07777), path);
	else if (st.st_size > (off_t)DAEMON_HTTP_SECRET_MAX)
		rc = lp_error_set(err, LP_EINVAL, "%s %s is over %u bytes", what, path, DAEMON_HTTP_SECRET_MAX);
	char *buf = rc ? NULL : calloc(1, DAEMON_HTTP_SECRET_MAX + 1);
	if (!rc && !buf)
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
	size_t len = 0;
	while (!rc && len < DAEMON_HTTP_SECRET_MAX) {
		ssize_t r = read(fd, buf + len, DAEMON_HTTP_SECRET_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = lp_error_set(err, LP_EIO, "cannot read %s %s: %s", what, path, strerror(errno));
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	return LP_OK;
}

static int load_token(struct daemon_http *h, const char *path, lp_error *err)
{
	char *t;
	int rc = read_secret(path, "http_token_file", true, &t, err);
	if (rc)
		return rc;
	size_t n = strlen(t);
	while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' ' || t[n - 1] == '\t'))
		t[--n] = '\0';
	/* RFC 6750's b64token: what a scraper can send as is */
	size_t ok = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=");
	if (ok != n || n < DAEMON_HTTP_TOKEN_MIN) {
		free(t);
		return lp_error_set(err, LP_EINVAL, "http_token_file %s: the token must be one line of at least %d "
				    "characters from A-Z a-z 0-9 - . _ ~ + / = (e.g. openssl rand -hex 32)",
				    path, DAEMON_HTTP_TOKEN_MIN);
	}
	h->token = t;
	return LP_OK;
}

static bool loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

/* A Unix socket of our own, mode 0600 (the directory or a chmod by the
 * admin decides who else may connect); an existing socket is replaced,
 * anything else at the path refused. */
static int listen_unix(struct daemon_http *h, const char *path, int *fd, lp_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sun.sun_path)
		return lp_error_set(err, LP_EINVAL, "http socket path %s is too long", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return lp_error_set(err, LP_EPERM, "http socket %s: something else is at that path", path);
		unlink(path);
	}
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return lp_error_set(err, LP_EIO, "cannot create a socket: %s", strerror(errno));
	mode_t old = umask(0177);
	int b = bind(s, (struct sockaddr *)&sun, sizeof sun);
	int e = errno;
	umask(old);
	if (b != 0 || listen(s, SOMAXCONN) != 0) {
		if (b == 0)
			e = errno;
		close(s);
		return lp_error_set(err, LP_EIO, "cannot serve HTTP on %s: %s", path, strerror(e));
	}
	h->unix_path = strdup(path);
	*fd = s;
	return LP_OK;
}

static void http_free(struct daemon_http *h)
{
	if (h->unix_path)
		unlink(h->unix_path);
	free(h->unix_path);
	free(h->token);
	free(h->tls_cert);
	free(h->tls_key);
	if (h->wake[0] >= 0)
		close(h->wake[0]);
	if (h->wake[1] >= 0)
		close(h->wake[1]);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int daemon_http_start(daemon_http **out, const struct daemon_http_cfg *cfg,
		      const struct daemon_http_ops *ops, lp_error *err)
{
	const char *listen = cfg->listen;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME;
	bool is_unix = strncmp(listen, "unix:", 5) == 0;
	unsigned port = 0;
	if (!is_unix) {
		char host[64];
		if (daemon_parse_listen(listen, host, sizeof host, &port))
			return lp_error_set(err, LP_EINVAL, "invalid http address '%s': expected ADDRESS:PORT or unix:PATH", listen);
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
	}
	/* who may ask: a token, or openness said out loud where it is safe */
	if (!cfg->token_file) {
		if (!is_unix && !cfg->open)
			return lp_error_set(err, LP_EINVAL, "http = %s needs http_token_file (a bearer token), or "
					    "http = unix:PATH, or on loopback http_open = %s", listen, DAEMON_HTTP_OPEN_ACK);
		if (!is_unix && !loopback(&ss))
			return lp_error_set(err, LP_EINVAL, "http = %s is not a loopback address: http_open is refused "
					    "there; set http_token_file", listen);
	}
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		return lp_error_set(err, LP_EINVAL, "http_tls_cert and http_tls_key go together: give both or neither");
	if (cfg->tls_cert && is_unix)
		return lp_error_set(err, LP_EINVAL, "http_tls_cert: TLS is for TCP, not http = %s", listen);
	if (cfg->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return lp_error_set(err, LP_EUNSUPPORTED, "http_tls_cert: this libmicrohttpd was built without TLS");
	struct daemon_http *h = calloc(1, sizeof *h);
	if (!h)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	h->ops = *ops;
	h->wake[0] = h->wake[1] = -1;
	pthread_mutex_init(&h->lock, NULL);
	int lfd = -1, rc = LP_OK;
	if (cfg->token_file)
		rc = load_token(h, cfg->token_file, err);
	if (!rc && cfg->tls_cert) {
		rc = read_secret(cfg->tls_cert, "http_tls_cert", false, &h->tls_cert, err);
		if (!rc)
			rc = read_secret(cfg->tls_key, "http_tls_key", true, &h->tls_key, err);
		flags |= MHD_USE_TLS;
	}
	if (!rc && pipe2(h->wake, O_CLOEXEC | O_NONBLOCK) != 0)
		rc = lp_error_set(err, LP_EIO, "cannot create a pipe: %s", strerror(errno));
	if (!rc && is_unix)
		rc = listen_unix(h, listen + 5, &lfd, err);
	if (rc) {
		http_free(h);
		return rc;
	}
	/* the options common to both, then the listening socket, then TLS */
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed, NULL },
		{ MHD_OPTION_THREAD_POOL_SIZE, DAEMON_HTTP_THREADS, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, DAEMON_HTTP_MAX_CONNECTIONS, NULL },
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, DAEMON_HTTP_MAX_PER_ADDRESS, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, DAEMON_HTTP_TIMEOUT_S, NULL },
		is_unix ? (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, lfd, NULL } :
			  (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss },
		h->tls_cert ? (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert } :
			      (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL },
		h->tls_key ? (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key } :
			     (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	errno = 0;
	h->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, h,
				MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!h->d) {
		int e = errno;
		if (lfd >= 0)
			close(lfd);
		http_free(h);
		return lp_error_set(err, LP_EIO, "cannot serve HTTP on %s: %s", listen,
				    e ? strerror(e) : cfg->tls_cert ? "the TLS certificate or key is not valid PEM" :
				    "the address is in use or not local");
	}
	if (pthread_create(&h->waiter, NULL, waiter, h) != 0) {
		MHD_stop_daemon(h->d);
		if (lfd >= 0)
			close(lfd);
		http_free(h);
		return lp_error_set(err, LP_EIO, "cannot start a thread");
	}
	h->waiter_started = true;
	const union MHD_DaemonInfo *info = is_unix ? NULL : MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
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
	/* the waiter resumes every suspended request first: libmicrohttpd
	 * must not be stopped with suspended connections */
	pthread_mutex_lock(&h->lock);
	h->quit = true;
	pthread_mutex_unlock(&h->lock);
	wake(h);
	if (h->waiter_started)
		pthread_join(h->waiter, NULL);
	MHD_stop_daemon(h->d);
	http_free(h);
}
