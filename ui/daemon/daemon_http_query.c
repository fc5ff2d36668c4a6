/* Checks of the profile request's query string: see daemon_http_query.h. */
#include "daemon_http_query.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { KEY_PID, KEY_SECONDS, KEY_SERVICE, NKEYS };
static const char *const keys[NKEYS] = { "pid", "seconds", "service" };

void daemon_http_query_init(struct daemon_http_query *q)
{
	q->pid = 0;
	q->service[0] = '\0';
	q->seconds = DAEMON_HTTP_DEFAULT_SECONDS;
	q->seen = 0;
}

/* At most this much of a value is quoted back in a message. */
#define QUOTE_MAX 32

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

/* A service name as the daemon makes them (daemon_match.h): nothing
 * else can name one. */
static int parse_service(const char *s, char *out)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > DAEMON_HTTP_SERVICE_MAX ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.@-") != n)
		return -1;
	memcpy(out, s, n + 1);
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	/* digits and one '.', nothing strtod would also take (hex, inf,
	 * nan, exponents, signs, spaces) */
	if (!s || !*s || strspn(s, "0123456789.") != strlen(s))
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || !(v > 0) || v > DAEMON_HTTP_MAX_SECONDS)
		return -1;
	*out = v;
	return 0;
}

int daemon_http_query_arg(struct daemon_http_query *q, const char *key,
			  const char *value, lp_error *err)
{
	int k;
	for (k = 0; k < NKEYS && strcmp(keys[k], key) != 0; k++)
		;
	if (k == NKEYS)
		return lp_error_set(err, LP_EINVAL, "unknown parameter '%.*s': expected pid=PID, service=NAME and seconds=N",
				    QUOTE_MAX, key);
	if (q->seen & (1u << k))
		return lp_error_set(err, LP_EINVAL, "%s is given twice", keys[k]);
	q->seen |= 1u << k;
	if (k == KEY_PID && parse_pid(value, &q->pid))
		return lp_error_set(err, LP_EINVAL, "invalid pid '%.*s': expected a process ID",
				    QUOTE_MAX, value ? value : "");
	if (k == KEY_SERVICE && parse_service(value, q->service))
		return lp_error_set(err, LP_EINVAL, "invalid service '%.*s': expected a service name",
				    QUOTE_MAX, value ? value : "");
	if (k == KEY_SECONDS && parse_seconds(value, &q->seconds))
		return lp_error_set(err, LP_EINVAL, "invalid seconds '%.*s': expected more than 0 and at most %d",
				    QUOTE_MAX, value ? value : "", DAEMON_HTTP_MAX_SECONDS);
	return LP_OK;
}

int daemon_http_query_finish(const struct daemon_http_query *q, lp_error *err)
{
	/* neither pid nor service is every target; but a bare path is a
	 * mistake rather than a host-wide scrape, which scrapers ask with
	 * seconds=N */
	if (!q->seen)
		return lp_error_set(err, LP_EINVAL, "give seconds=N (every target), service=NAME or pid=PID");
	return LP_OK;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* s[0..n) decoded into out (at least n + 1 bytes); -1 on a NUL byte. */
static int unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
			   hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		if (c == '\0')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int daemon_http_query_parse(const char *s, size_t len,
			    struct daemon_http_query *q, lp_error *err)
{
	daemon_http_query_init(q);
	if (len > DAEMON_HTTP_QUERY_MAX)
		return lp_error_set(err, LP_EINVAL, "query string of %zu bytes: at most %d", len,
				    DAEMON_HTTP_QUERY_MAX);
	char key[DAEMON_HTTP_QUERY_MAX + 1], value[DAEMON_HTTP_QUERY_MAX + 1];
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && s[end] != '&')
			end++;
		if (end > i) {	/* "a&&b": empty arguments are skipped, as MHD does */
			const char *eq = memchr(s + i, '=', end - i);
			size_t kl = eq ? (size_t)(eq - (s + i)) : end - i;
			if (unescape(s + i, kl, key) ||
			    (eq && unescape(eq + 1, (size_t)(s + end - eq - 1), value)))
				return lp_error_set(err, LP_EINVAL, "a parameter holds a NUL byte");
			int rc = daemon_http_query_arg(q, key, eq ? value : NULL, err);
			if (rc)
				return rc;
		}
		i = end + 1;
	}
	return daemon_http_query_finish(q, err);
}

bool daemon_http_bearer_ok(const char *header, const char *token)
{
	static const char scheme[] = "bearer";	/* case-insensitive (RFC 7235) */
	if (!header || !token)
		return false;
	for (size_t i = 0; i < sizeof scheme - 1; i++)
		if ((header[i] | 0x20) != scheme[i])
			return false;
	const char *p = header + sizeof scheme - 1;
	if (*p != ' ')
		return false;
	while (*p == ' ')
		p++;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	/* every byte of the token is compared whatever the given one holds:
	 * the time says at most the given length, never the token's prefix */
	size_t tl = strlen(token);
	unsigned char diff = n != tl;
	for (size_t i = 0; i < tl; i++)
		diff |= (unsigned char)token[i] ^ (unsigned char)(i < n ? p[i] : 0);
	return diff == 0;
}
