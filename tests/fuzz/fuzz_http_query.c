/* The HTTP endpoint's request checks (ui/daemon/daemon_http_query.c), the
 * pure functions ui/daemon/daemon_http.c calls: the input is a raw query
 * string (after '?'), as daemon_http_query_parse takes it; when it holds a
 * newline, what follows is also tried as an Authorization header against
 * the token before it.  A query that passes names a valid pid (or none: 0,
 * every target), a service name within its bound and a valid duration;
 * one that does not is a 400 with its reason. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "daemon_http_query.h"

FUZZ_ONE(http_query)
{
	struct daemon_http_query q;
	lp_error err = { 0 };
	int rc = daemon_http_query_parse((const char *)data, size, &q, &err);
	if (rc == LP_OK) {
		if (q.pid < 0 || !isfinite(q.seconds) || !(q.seconds > 0) ||
		    q.seconds > DAEMON_HTTP_MAX_SECONDS ||
		    !memchr(q.service, '\0', sizeof q.service))
			abort();
	} else if (rc != LP_EINVAL || !err.msg[0]) {
		abort();
	}
	const uint8_t *nl = memchr(data, '\n', size);
	if (nl) {
		size_t tl = (size_t)(nl - data), hl = size - tl - 1;
		char *token = strndup((const char *)data, tl);
		char *header = strndup((const char *)nl + 1, hl);
		if (!token || !header)
			abort();
		/* trailing blanks are optional whitespace (RFC 9110) */
		size_t n = strlen(header), t = strlen(token);
		while (n && (header[n - 1] == ' ' || header[n - 1] == '\t'))
			n--;
		if (daemon_http_bearer_ok(header, token) &&
		    (n < t || memcmp(header + n - t, token, t) != 0))
			abort();	/* let in without the token */
		free(token);
		free(header);
	}
	return 0;
}
