/* The control socket's server: accept, read one request, call the handler,
 * write one reply (now, or when a deferred command completes), close.  Every socket is nonblocking and every client has
 * a deadline, so a slow, silent or hostile client costs a slot until its
 * deadline and never a stall of the daemon's loop. */
#include "ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define LINGER_MS 1000	/* after the reply, for the client to close first */
#define READ_CHUNK 65536

/* READING the request -> (WAITING for a deferred reply ->) WRITING the
 * reply -> LINGER for the client to close. */
enum client_state { C_READING, C_WAITING, C_WRITING, C_LINGER };

struct client {
	int fd;
	enum client_state state;
	struct ctl_peer peer;
	uint8_t *in;
	size_t inlen;
	uint8_t *out;
	size_t outlen, outoff;
	uint64_t deadline_ms;
	uint64_t ticket;	/* C_WAITING: the deferred request */
	bool eof;		/* the client shut its side: poll no more
				 * for input (it would always be ready) */
};

struct ctl_server {
	int fd;
	char *path;
	ctl_handler fn;
	void *ctx;
	struct client clients[CTL_MAX_CLIENTS];
	size_t nclients;
	uint64_t last_ticket;
};

static uint64_t now_ms(void)
{
	return clock_mono_ns() / 1000000;
}

void ctl_reply_text(struct ctl_reply *r, uint32_t status, const char *fmt, ...)
{
	free(r->data);
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	r->type = status ? CTL_REPLY_ERROR : CTL_REPLY_TEXT;
	r->status = status;
	r->data = n >= 0 ? (uint8_t *)s : NULL;
	r->len = n >= 0 ? (size_t)n : 0;
}

void ctl_reply_file(struct ctl_reply *r, uint8_t *data, size_t len)
{
	free(r->data);
	r->type = CTL_REPLY_FILE;
	r->status = 0;
	r->data = data;
	r->len = len;
}

uint64_t ctl_reply_defer(struct ctl_reply *r, unsigned wait_ms)
{
	free(r->data);
	r->data = NULL;
	r->len = 0;
	r->type = 0;
	r->defer_ms = wait_ms ? wait_ms : 1;
	return r->ticket;
}

static int make_parent(const char *path, lp_error *err)
{
	char *dir = strdup(path);
	if (!dir)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	char *slash = strrchr(dir, '/');
	int rc = LP_OK;
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			rc = lp_error_set(err, lp_from_errno(errno), "cannot create %s for the control socket: %s",
					  dir, strerror(errno));
	}
	free(dir);
	return rc;
}

/* A socket file at path: in use by a live daemon (error), or stale (gone). */
static int clear_stale(const char *path, const struct sockaddr_un *sa, lp_error *err)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return LP_OK;
	if (!S_ISSOCK(st.st_mode))
		return lp_error_set(err, LP_EINVAL, "%s exists and is not a socket: choose another socket path", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lp_error_set(err, LP_EIO, "cannot create a socket: %s", strerror(errno));
	int live = connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0;
	close(fd);
	if (live)
		return lp_error_set(err, LP_EINVAL, "a daemon already listens on %s (stop it with 'loupe ctl stop')", path);
	unlink(path);
	return LP_OK;
}

int ctl_server_new(ctl_server **out, const char *path, unsigned mode,
		   gid_t gid, ctl_handler fn, void *ctx, lp_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return lp_error_set(err, LP_EINVAL, "socket path %s is longer than %zu bytes", path, sizeof sa.sun_path - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int rc = make_parent(path, err);
	if (rc)
		return rc;
	rc = clear_stale(path, &sa, err);
	if (rc)
		return rc;
	ctl_server *s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	s->fn = fn;
	s->ctx = ctx;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		rc = lp_error_set(err, LP_EIO, "cannot create a socket: %s", strerror(errno));
		goto fail;
	}
	/* bound with no access for anyone but the daemon's user, then given
	 * its group and its mode: nobody connects before they are set (the
	 * daemon has no other thread yet to mind the umask) */
	mode_t old = umask(0177);
	int b = bind(s->fd, (struct sockaddr *)&sa, sizeof sa);
	int be = errno;
	umask(old);
	if (b != 0) {
		rc = lp_error_set(err, lp_from_errno(be), "cannot listen on %s: %s", path, strerror(be));
		goto fail;
	}
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) {
		int e = errno;
		rc = lp_error_set(err, lp_from_errno(e), "cannot give %s group %u: %s", path, (unsigned)gid, strerror(e));
		unlink(path);
		goto fail;
	}
	if (chmod(path, mode) != 0 || listen(s->fd, CTL_MAX_CLIENTS) != 0) {
		int e = errno;
		rc = lp_error_set(err, lp_from_errno(e), "cannot listen on %s: %s", s->path, strerror(e));
		unlink(path);
		goto fail;
	}
	*out = s;
	return LP_OK;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s);
	return rc;
}

static void client_close(ctl_server *s, size_t i)
{
	struct client *c = &s->clients[i];
	close(c->fd);
	free(c->in);
	free(c->out);
	s->clients[i] = s->clients[--s->nclients];
}

/* Sends what it can; true when the client is done with (closed). */
static bool client_flush(ctl_server *s, size_t i)
{
	struct client *c = &s->clients[i];
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (w <= 0) {
			client_close(s, i);
			return true;
		}
		c->outoff += (size_t)w;
	}
	/* all sent: half-close so the client sees the end, then wait a little
	 * for it to close first (closing with unread input would reset) */
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	c->deadline_ms = now_ms() + LINGER_MS;
	return false;
}

static bool client_reply(ctl_server *s, size_t i, struct ctl_reply *r)
{
	struct client *c = &s->clients[i];
	uint8_t *buf;
	size_t len;
	int rc = ctl_encode_reply(r->type, r->status, r->data, r->len, &buf, &len);
	free(r->data);
	r->data = NULL;
	if (rc) {
		static const char msg[] = "reply too large or out of memory";
		if (ctl_encode_reply(CTL_REPLY_ERROR, 1, msg, sizeof msg - 1, &buf, &len)) {
			client_close(s, i);
			return true;
		}
	}
	free(c->in);
	c->in = NULL;
	c->inlen = 0;
	c->out = buf;
	c->outlen = len;
	c->outoff = 0;
	c->state = C_WRITING;
	c->deadline_ms = now_ms() + CTL_REPLY_DEADLINE_MS;
	return client_flush(s, i);
}

static bool client_error(ctl_server *s, size_t i, uint32_t status, const char *msg)
{
	struct ctl_reply r = { 0 };
	ctl_reply_text(&r, status, "%s", msg);
	return client_reply(s, i, &r);
}

/* A whole frame arrived: run the command. */
static bool client_request(ctl_server *s, size_t i, const struct ctl_frame *f)
{
	struct client *c = &s->clients[i];
	if (f->type != CTL_REQUEST)
		return client_error(s, i, 2, "expected a request, got a reply frame");
	lp_error err = { 0 };
	struct ctl_request req;
	if (ctl_parse_request(f->body, f->len, &req.argv, &req.argc, &err))
		return client_error(s, i, 2, err.msg);
	struct ctl_reply r = { .ticket = ++s->last_ticket };
	s->fn(s->ctx, &c->peer, &req, &r);
	free(req.argv);
	if (r.defer_ms) {
		/* the client waits; what it sends meanwhile is dropped */
		free(r.data);
		free(c->in);
		c->in = NULL;
		c->inlen = 0;
		c->state = C_WAITING;
		c->ticket = r.ticket;
		c->deadline_ms = now_ms() + r.defer_ms;
		return false;
	}
	if (!r.type)
		ctl_reply_text(&r, 1, "the daemon has no answer to this command");
	return client_reply(s, i, &r);
}

/* Reads what is there; true when the client is gone. */
static bool client_read(ctl_server *s, size_t i)
{
	struct client *c = &s->clients[i];
	uint8_t discard[4096];
	for (int rounds = 0; rounds < 16; rounds++) {
		if (c->state != C_READING) {
			/* a reply is due or queued: what else arrives is
			 * dropped */
			ssize_t r = recv(c->fd, discard, sizeof discard, MSG_DONTWAIT);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return false;
			if (r <= 0 && c->state == C_LINGER) {
				client_close(s, i);
				return true;
			}
			if (r <= 0) {
				c->eof = true;	/* the write side says */
				return false;
			}
			continue;
		}
		size_t want = CTL_HEADER_LEN + CTL_MAX_REQUEST - c->inlen;
		if (want > READ_CHUNK)
			want = READ_CHUNK;
		if (!c->in) {
			c->in = malloc(CTL_HEADER_LEN + CTL_MAX_REQUEST);
			if (!c->in) {
				client_close(s, i);
				return true;
			}
		}
		ssize_t r = recv(c->fd, c->in + c->inlen, want, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (r < 0) {
			client_close(s, i);
			return true;
		}
		if (r == 0) {
			if (!c->inlen) {	/* connected and left */
				client_close(s, i);
				return true;
			}
			char msg[160];
			snprintf(msg, sizeof msg, "truncated ctl request: the connection ended after %zu bytes",
				 c->inlen);
			return client_error(s, i, 2, msg);
		}
		c->inlen += (size_t)r;
		struct ctl_frame f;
		lp_error err = { 0 };
		int rc = ctl_decode(c->in, c->inlen, CTL_MAX_REQUEST, &f, &err);
		if (rc == LP_OK)
			return client_request(s, i, &f);
		if (rc != CTL_AGAIN)
			return client_error(s, i, 2, err.msg);
	}
	return false;
}

/* Tells a client it was refused, in a frame of the protocol (an error
 * reply "busy"), and closes.  Best effort: its request, sent or not, is
 * never read, and on a Unix socket the reply stays readable after the
 * close. */
static void refuse_busy(int fd, const char *msg)
{
	uint8_t *buf;
	size_t len;
	if (ctl_encode_reply(CTL_REPLY_ERROR, 1, msg, strlen(msg), &buf, &len) == 0) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)w;
		free(buf);
	}
	close(fd);
}

/* Why a new connection of peer cannot have a slot, or NULL. */
static const char *no_room(const ctl_server *s, const struct ctl_peer *p)
{
	if (s->nclients >= CTL_MAX_CLIENTS)
		return "busy: the daemon serves as many clients as it can: try again";
	if (ctl_peer_privileged(p))
		return NULL;
	size_t mine = 0, others = 0;
	for (size_t i = 0; i < s->nclients; i++) {
		if (ctl_peer_privileged(&s->clients[i].peer))
			continue;
		others++;
		mine += s->clients[i].peer.uid == p->uid;
	}
	if (mine >= CTL_MAX_PER_USER)
		return "busy: your user has as many connections to the daemon as it may have: let one finish";
	if (others >= CTL_MAX_CLIENTS - CTL_ROOT_RESERVED)
		return "busy: the daemon serves as many users as it can: try again";
	return NULL;
}

static void accept_all(ctl_server *s)
{
	for (int n = 0; n < CTL_MAX_CLIENTS; n++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;	/* EAGAIN, or a client gone before accept */
		struct ctl_peer peer;
		if (ctl_peer_get(fd, &peer) != 0) {
			close(fd);
			continue;
		}
		const char *busy = no_room(s, &peer);
		if (busy) {
			refuse_busy(fd, busy);
			continue;
		}
		struct client *c = &s->clients[s->nclients++];
		memset(c, 0, sizeof *c);
		c->fd = fd;
		c->peer = peer;
		c->state = C_READING;
		c->deadline_ms = now_ms() + CTL_REQUEST_DEADLINE_MS;
	}
}

size_t ctl_server_pollfds(ctl_server *s, struct pollfd *fds, size_t cap)
{
	size_t n = 0;
	if (cap > n)
		fds[n++] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	for (size_t i = 0; i < s->nclients && n < cap; i++) {
		const struct client *c = &s->clients[i];
		short ev = c->eof ? 0 : POLLIN;
		if (c->state == C_WRITING)
			ev |= POLLOUT;
		fds[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
	}
	return n;
}

int ctl_server_timeout_ms(const ctl_server *s)
{
	if (!s->nclients)
		return -1;
	uint64_t now = now_ms(), first = UINT64_MAX;
	for (size_t i = 0; i < s->nclients; i++)
		if (s->clients[i].deadline_ms < first)
			first = s->clients[i].deadline_ms;
	return first <= now ? 0 : (int)(first - now);
}

static ssize_t find_client(const ctl_server *s, int fd)
{
	for (size_t i = 0; i < s->nclients; i++)
		if (s->clients[i].fd == fd)
			return (ssize_t)i;
	return -1;
}

void ctl_server_handle(ctl_server *s, const struct pollfd *fds, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (!fds[k].revents)
			continue;
		if (fds[k].fd == s->fd) {
			accept_all(s);
			continue;
		}
		ssize_t i = find_client(s, fds[k].fd);
		if (i < 0)
			continue;	/* closed earlier in this round */
		short re = fds[k].revents;
		if ((re & POLLOUT) && s->clients[i].state == C_WRITING &&
		    client_flush(s, (size_t)i))
			continue;
		if (re & (POLLIN | POLLHUP | POLLERR)) {
			if (client_read(s, (size_t)i))
				continue;
			/* a hang-up with nothing left to read: gone; one
			 * waiting for a deferred reply could not read it
			 * anyway (a client that only shut its writing side
			 * gets no POLLHUP and waits on) */
			if ((re & (POLLHUP | POLLERR)) &&
			    (!(re & POLLIN) || s->clients[i].state == C_WAITING))
				client_close(s, (size_t)i);
		}
	}
	uint64_t now = now_ms();
	for (size_t i = 0; i < s->nclients; ) {
		struct client *c = &s->clients[i];
		if (c->deadline_ms > now) {
			i++;
			continue;
		}
		if (c->state == C_READING || c->state == C_WAITING) {
			size_t before = s->nclients;
			if (c->state == C_READING)
				client_error(s, i, 2, "ctl request timed out: send it whole within 5 s");
			else
				client_error(s, i, 1, "the daemon did not finish the command in time");
			if (s->nclients < before)
				continue;	/* closed; slot i holds another */
			i++;
		} else {
			client_close(s, i);
		}
	}
}

static ssize_t find_ticket(const ctl_server *s, uint64_t ticket)
{
	for (size_t i = 0; i < s->nclients; i++)
		if (s->clients[i].state == C_WAITING && s->clients[i].ticket == ticket)
			return (ssize_t)i;
	return -1;
}

int ctl_server_complete(ctl_server *s, uint64_t ticket, struct ctl_reply *r)
{
	ssize_t i = ticket ? find_ticket(s, ticket) : -1;
	if (i < 0) {
		free(r->data);
		r->data = NULL;
		return LP_ENOTFOUND;
	}
	if (!r->type)
		ctl_reply_text(r, 1, "the daemon has no answer to this command");
	client_reply(s, (size_t)i, r);
	return LP_OK;
}

bool ctl_server_waiting(const ctl_server *s, uint64_t ticket)
{
	return ticket && find_ticket(s, ticket) >= 0;
}

void ctl_server_free(ctl_server *s)
{
	if (!s)
		return;
	while (s->nclients)
		client_close(s, s->nclients - 1);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s);
}
