/* The wire format between 'loupe ctl' and 'loupe daemon' over a Unix stream
 * socket: one request, one reply, each a frame
 *
 *   offset 0  "LPCT"          magic
 *          4  u8  version     CTL_VERSION
 *          5  u8  type        CTL_REQUEST, CTL_REPLY_TEXT/FILE/ERROR
 *          6  u16 reserved    0
 *          8  u32 length      of the body, big-endian
 *         12  body
 *
 * A request's body is its argv: 1 to CTL_MAX_ARGS strings, each ended by a
 * NUL (so the body ends with one).  A reply's body is a u32 status
 * (big-endian: 0 done, 1 failed, 2 usage error, as loupe's exit status)
 * then text (TEXT, ERROR: one line) or a file's bytes (FILE). */
#ifndef LOUPE_UI_CTL_PROTO_H
#define LOUPE_UI_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CTL_MAGIC "LPCT"
#define CTL_VERSION 1
#define CTL_HEADER_LEN 12
#define CTL_MAX_REQUEST (64u * 1024)	/* body of a request */
#define CTL_MAX_ARGS 64			/* strings in a request */
/* A reply may carry a snapshot: up to the daemon's max_snapshot (at most
 * 2 GiB, see daemon_config.c) plus the status word; the length field's
 * own bound. */
#define CTL_MAX_REPLY ((uint64_t)UINT32_MAX)

/* trace PID [-d S]: S when not given, and its bound; loupe ctl waits S
 * plus a margin for the reply. */
#define CTL_TRACE_DEFAULT_S 10.0
#define CTL_TRACE_MAX_S 300.0

enum ctl_type {
	CTL_REQUEST = 1,
	CTL_REPLY_TEXT = 2,
	CTL_REPLY_FILE = 3,
	CTL_REPLY_ERROR = 4,
};

/* LP_OK: a whole frame is at buf; CTL_AGAIN: not yet (read more). */
#define CTL_AGAIN (-1)

struct ctl_frame {
	enum ctl_type type;
	const uint8_t *body;	/* into the decoded buffer */
	uint32_t len;
	size_t frame_len;	/* header + body: bytes to consume */
};

/* Decodes the frame at the start of buf[0..len).  max_body bounds the
 * body's length (what the reader is willing to hold).  LP_OK with f
 * filled, CTL_AGAIN when more bytes are needed, LP_EFORMAT with err set for
 * a frame that is not ours, of another version, of an unknown type or too
 * large (checked from the header alone, before the body arrives). */
int ctl_decode(const uint8_t *buf, size_t len, uint64_t max_body,
	       struct ctl_frame *f, lp_error *err);

/* A request's argv from its body: argv[i] point into a malloc'd copy
 * (*argv_out is one allocation, free it); argc returned.  LP_EFORMAT for a
 * body that is empty, not NUL-terminated or holds too many strings. */
int ctl_parse_request(const uint8_t *body, size_t len, char ***argv_out,
		      int *argc, lp_error *err);

/* Frames into a malloc'd buffer.  LP_ENOMEM, LP_EINVAL (too long). */
int ctl_encode_request(int argc, char *const *argv, uint8_t **out,
		       size_t *len);
int ctl_encode_reply(enum ctl_type type, uint32_t status, const void *data,
		     size_t dlen, uint8_t **out, size_t *len);
/* The status word of a reply body (0 when the body is shorter). */
uint32_t ctl_reply_status(const struct ctl_frame *f);

#endif
