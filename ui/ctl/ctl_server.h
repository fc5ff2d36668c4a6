/* The daemon's side of the control socket: a listening Unix socket and its
 * clients, all nonblocking, driven from the daemon's own poll loop.  A
 * client sends one request and gets one reply; a malformed, oversized or
 * truncated request gets an error reply, a client that stalls is dropped
 * at its deadline, and none of it ever blocks the loop.  A command that
 * takes long (ctl trace) is answered later: its handler defers the reply,
 * and the loop completes it when the work, done elsewhere, ends. */
#ifndef LOUPE_UI_CTL_SERVER_H
#define LOUPE_UI_CTL_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl_peer.h"
#include "ctl_proto.h"
#include "error.h"

#define CTL_MAX_CLIENTS 32		/* connections served at once */
#define CTL_ROOT_RESERVED 8		/* of which only root's may take */
#define CTL_MAX_PER_USER 4		/* at once from one other uid */
#define CTL_REQUEST_DEADLINE_MS 5000	/* to send a whole request (a
					 * silent client is dropped then) */
#define CTL_REPLY_DEADLINE_MS 30000	/* to read a whole reply */

struct ctl_request {
	int argc;
	char **argv;		/* argv[0] is the command */
};

/* What a handler answers: text or a file's bytes, and a status as loupe's
 * exit status (0 done, 1 failed, 2 usage error).  Filled through the
 * ctl_reply_* helpers; the server frees it. */
struct ctl_reply {
	enum ctl_type type;
	uint32_t status;
	uint8_t *data;
	size_t len;
	uint64_t ticket;	/* set by the server: names this request */
	unsigned defer_ms;	/* > 0: answered later (ctl_reply_defer) */
};

/* Text reply (an error when status != 0), printf-style. */
void ctl_reply_text(struct ctl_reply *r, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* File reply: takes data (malloc'd). */
void ctl_reply_file(struct ctl_reply *r, uint8_t *data, size_t len);
/* No reply now: the client waits, at most wait_ms (> 0), while the server
 * goes on serving the others, until ctl_server_complete(ticket) answers
 * it; past wait_ms it gets an error reply.  Returns the ticket (never 0)
 * that names the request. */
uint64_t ctl_reply_defer(struct ctl_reply *r, unsigned wait_ms);

typedef void (*ctl_handler)(void *ctx, const struct ctl_peer *peer,
			    const struct ctl_request *req,
			    struct ctl_reply *reply);

typedef struct ctl_server ctl_server;

/* Listens on path (its directory is created 0755 when missing), the socket
 * of group gid (-1: the daemon's) and mode.  A stale socket left by a dead
 * daemon is replaced; a live one is an error "a daemon already listens on
 * PATH".  A connection beyond CTL_MAX_CLIENTS, beyond CTL_MAX_PER_USER of
 * one uid other than root, or into the CTL_ROOT_RESERVED slots from
 * another uid is answered with an error reply "busy" and closed. */
int ctl_server_new(ctl_server **out, const char *path, unsigned mode,
		   gid_t gid, ctl_handler fn, void *ctx, lp_error *err);
/* The descriptors to poll (the listening socket, then the clients); at
 * most 1 + CTL_MAX_CLIENTS.  Returns how many were written. */
size_t ctl_server_pollfds(ctl_server *s, struct pollfd *fds, size_t cap);
/* Milliseconds until the next client deadline, -1 when none. */
int ctl_server_timeout_ms(const ctl_server *s);
/* Serves what the poll said is ready (fds as filled by pollfds, revents
 * set) and drops clients past their deadline. */
void ctl_server_handle(ctl_server *s, const struct pollfd *fds, size_t n);
/* Answers the deferred request ticket with r (whose data it takes).
 * LP_ENOTFOUND, dropping r, when its client is no longer there (it left,
 * or its wait ran out). */
int ctl_server_complete(ctl_server *s, uint64_t ticket, struct ctl_reply *r);
/* Whether the client of the deferred request ticket still waits. */
bool ctl_server_waiting(const ctl_server *s, uint64_t ticket);
/* Closes every connection and the socket, and removes it. */
void ctl_server_free(ctl_server *s);

#endif
