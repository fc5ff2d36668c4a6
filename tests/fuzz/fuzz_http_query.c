/* The HTTP endpoint's request checks (ui/daemon_http.c).  Its handler is
 * static and HTTP parsing is libmicrohttpd's, so this harness includes the
 * file and stands in for the few libmicrohttpd calls it makes: the input is
 * a request line "METHOD TARGET" (or a bare TARGET, for GET), whose query
 * is split and %-decoded as libmicrohttpd does, and the handler is called
 * as libmicrohttpd would.  A profile is asked for only with a valid pid
 * and duration, and every request gets exactly one response. */
#include "fuzz.h"
#include "daemon_http.c"

#include <ctype.h>

#define MAX_ARGS 64

struct MHD_Connection {
	char *keys[MAX_ARGS], *vals[MAX_ARGS];
	size_t nargs;
	unsigned code;		/* of the queued response, 0: none */
	int queued;
};

struct MHD_Response {
	void *data;
	size_t len;
	enum MHD_ResponseMemoryMode mode;
};

const char *MHD_lookup_connection_value(struct MHD_Connection *c,
					enum MHD_ValueKind kind,
					const char *key)
{
	if (kind != MHD_GET_ARGUMENT_KIND)
		return NULL;
	for (size_t i = 0; i < c->nargs; i++)
		if (strcmp(c->keys[i], key) == 0)
			return c->vals[i];
	return NULL;
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
						      enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = malloc(sizeof *r);
	if (!r)
		abort();
	r->data = buffer;
	r->len = size;
	r->mode = mode;
	if (size)
		(void)((volatile char *)buffer)[size - 1];	/* readable */
	return r;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r,
					const char *header, const char *content)
{
	if (!header || !content)
		abort();
	return MHD_YES;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned code,
				   struct MHD_Response *r)
{
	if (c->queued++)
		abort();	/* one response per request */
	c->code = code;
	return MHD_YES;
}

void MHD_destroy_response(struct MHD_Response *r)
{
	if (r->mode == MHD_RESPMEM_MUST_FREE)
		free(r->data);
	free(r);
}

/* Not reached by the handler; here so that the file links without the
 * library. */
struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
				    MHD_AcceptPolicyCallback apc, void *apc_cls,
				    MHD_AccessHandlerCallback dh, void *dh_cls,
				    ...)
{
	return NULL;
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
}

const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d,
						enum MHD_DaemonInfoType t, ...)
{
	return NULL;
}

static char *metrics(void *ctx)
{
	return strdup("loupe_targets 1\n");
}

static int profile_cb(void *ctx, pid_t pid, double seconds, uint8_t **data,
		      size_t *len, lp_error *err)
{
	if (pid <= 0 || !isfinite(seconds) || !(seconds > 0) ||
	    seconds > DAEMON_HTTP_MAX_SECONDS)
		abort();
	switch (pid % 5) {
	case 0:
		*data = malloc(3);
		if (!*data)
			abort();
		memcpy(*data, "\x1f\x8b", 3);
		*len = 3;
		return LP_OK;
	case 1: return lp_error_set(err, LP_ENOPROC, "no process %d", (int)pid);
	case 2: return lp_error_set(err, LP_EPERM, "not yours");
	case 3: return LP_EINVAL;
	default: return lp_error_set(err, LP_EIO, "broken");
	}
}

static int hexval(char ch)
{
	return isdigit((unsigned char)ch) ? ch - '0' :
	       isxdigit((unsigned char)ch) ? tolower((unsigned char)ch) - 'a' + 10 :
					     -1;
}

/* In place: %XX decoded (libmicrohttpd's MHD_http_unescape). */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		int hi, lo;
		if (*s == '%' && (hi = hexval(s[1])) >= 0 &&
		    (lo = hexval(s[2])) >= 0) {
			*o++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

FUZZ_ONE(http_query)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t n = nul ? (size_t)(nul - data) : size;
	char *line = malloc(n + 1);
	if (!line)
		return 0;
	memcpy(line, data, n);
	line[n] = '\0';
	char *method = "GET", *target = line, *sp = strchr(line, ' ');
	if (sp) {
		*sp = '\0';
		method = line;
		target = sp + 1;
	}
	struct MHD_Connection c = { 0 };
	char *q = strchr(target, '?');
	if (q) {
		*q++ = '\0';
		for (char *tok = strtok(q, "&"); tok && c.nargs < MAX_ARGS;
		     tok = strtok(NULL, "&")) {
			char *eq = strchr(tok, '=');
			if (eq)
				*eq++ = '\0';
			unescape(tok);
			if (eq)
				unescape(eq);
			c.keys[c.nargs] = tok;
			c.vals[c.nargs++] = eq;	/* NULL: "key" alone */
		}
	}
	unescape(target);
	struct daemon_http h = { .ops = { .metrics = metrics,
					  .profile = profile_cb } };
	size_t upload = 0;
	void *state = NULL;
	enum MHD_Result r = handle(&h, &c, target, method, "HTTP/1.1", NULL,
				   &upload, &state);
	if (r != MHD_YES || c.queued != 1 || c.code < 200 || c.code > 599)
		abort();
	free(line);
	return 0;
}
