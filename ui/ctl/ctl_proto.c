/* ctl frames: encoding and a decoder that trusts nothing it reads. */
#include "ctl_proto.h"

#include <stdlib.h>
#include <string.h>

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int ctl_decode(const uint8_t *buf, size_t len, uint64_t max_body,
	       struct ctl_frame *f, lp_error *err)
{
	/* judge what has arrived at once: garbage is refused from its first
	 * bytes, not after waiting for a header that never comes */
	size_t m = len < 4 ? len : 4;
	if (memcmp(buf, CTL_MAGIC, m) != 0)
		return lp_error_set(err, LP_EFORMAT, "not a loupe ctl message (bad magic): is the client 'loupe ctl'?");
	if (len > 4 && buf[4] != CTL_VERSION)
		return lp_error_set(err, LP_EFORMAT, "ctl protocol version %u, this daemon speaks %u: use the loupe ctl of the same version",
				    buf[4], CTL_VERSION);
	if (len > 5 && (buf[5] < CTL_REQUEST || buf[5] > CTL_REPLY_ERROR))
		return lp_error_set(err, LP_EFORMAT, "unknown ctl message type %u", buf[5]);
	if (len > 7 && (buf[6] || buf[7]))
		return lp_error_set(err, LP_EFORMAT, "malformed ctl header (reserved bytes set)");
	if (len < CTL_HEADER_LEN)
		return CTL_AGAIN;
	uint32_t body = get_be32(buf + 8);
	if (body > max_body)
		return lp_error_set(err, LP_EFORMAT, "ctl message of %u bytes is over the limit of %llu",
				    body, (unsigned long long)max_body);
	if (len - CTL_HEADER_LEN < body)
		return CTL_AGAIN;
	f->type = (enum ctl_type)buf[5];
	f->body = buf + CTL_HEADER_LEN;
	f->len = body;
	f->frame_len = CTL_HEADER_LEN + (size_t)body;
	return LP_OK;
}

int ctl_parse_request(const uint8_t *body, size_t len, char ***argv_out,
		      int *argc, lp_error *err)
{
	*argv_out = NULL;
	*argc = 0;
	if (len == 0)
		return lp_error_set(err, LP_EFORMAT, "empty ctl request: give a command");
	if (len > CTL_MAX_REQUEST)
		return lp_error_set(err, LP_EFORMAT, "ctl request over %u bytes", CTL_MAX_REQUEST);
	if (body[len - 1] != '\0')
		return lp_error_set(err, LP_EFORMAT, "malformed ctl request (arguments not NUL-terminated)");
	int n = 0;
	for (size_t i = 0; i < len; i++)
		if (body[i] == '\0')
			n++;
	if (n > CTL_MAX_ARGS)
		return lp_error_set(err, LP_EFORMAT, "ctl request with %d arguments, at most %d", n, CTL_MAX_ARGS);
	/* one block: the pointer array, then the strings */
	size_t ptrs = (size_t)(n + 1) * sizeof(char *);
	char **argv = malloc(ptrs + len);
	if (!argv)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	char *s = (char *)argv + ptrs;
	memcpy(s, body, len);
	for (int i = 0; i < n; i++) {
		argv[i] = s;
		s += strlen(s) + 1;
	}
	argv[n] = NULL;
	if (!argv[0][0]) {
		free(argv);
		return lp_error_set(err, LP_EFORMAT, "malformed ctl request (empty command)");
	}
	*argv_out = argv;
	*argc = n;
	return LP_OK;
}

static uint8_t *frame(enum ctl_type type, size_t body_len)
{
	uint8_t *b = malloc(CTL_HEADER_LEN + body_len);
	if (!b)
		return NULL;
	memcpy(b, CTL_MAGIC, 4);
	b[4] = CTL_VERSION;
	b[5] = (uint8_t)type;
	b[6] = b[7] = 0;
	put_be32(b + 8, (uint32_t)body_len);
	return b;
}

int ctl_encode_request(int argc, char *const *argv, uint8_t **out, size_t *len)
{
	size_t body = 0;
	if (argc < 1 || argc > CTL_MAX_ARGS)
		return LP_EINVAL;
	for (int i = 0; i < argc; i++) {
		body += strlen(argv[i]) + 1;
		if (body > CTL_MAX_REQUEST)
			return LP_EINVAL;
	}
	uint8_t *b = frame(CTL_REQUEST, body);
	if (!b)
		return LP_ENOMEM;
	uint8_t *p = b + CTL_HEADER_LEN;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		memcpy(p, argv[i], l);
		p += l;
	}
	*out = b;
	*len = CTL_HEADER_LEN + body;
	return LP_OK;
}

int ctl_encode_reply(enum ctl_type type, uint32_t status, const void *data,
		     size_t dlen, uint8_t **out, size_t *len)
{
	if (dlen > CTL_MAX_REPLY - 4 || dlen + 4 > UINT32_MAX)
		return LP_EINVAL;
	uint8_t *b = frame(type, dlen + 4);
	if (!b)
		return LP_ENOMEM;
	put_be32(b + CTL_HEADER_LEN, status);
	if (dlen)
		memcpy(b + CTL_HEADER_LEN + 4, data, dlen);
	*out = b;
	*len = CTL_HEADER_LEN + 4 + dlen;
	return LP_OK;
}

uint32_t ctl_reply_status(const struct ctl_frame *f)
{
	return f->len >= 4 ? get_be32(f->body) : 0;
}
