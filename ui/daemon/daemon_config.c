/* The daemon's configuration file: an INI-like format read line by line.
 *
 *   # comment                      ('#' or ';' at a line's start, or after
 *                                   a blank following a value)
 *   key = value                    global keys, before any section
 *   [target NAME]                  then one section per target
 *   key = value                    its keys
 *
 * A value may be written in double quotes (to keep spaces at its ends).
 * Every key may appear once per section; an unknown key, a bad value or a
 * section without pid, python, exe, cmdline, unit or cgroup is an error
 * naming the line. */
#include "daemon_config.h"

#include "units.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RATE_HZ 1000.0	/* a continuous profiler has no use above */

int daemon_parse_listen(const char *s, char *host, size_t hostlen,
			unsigned *port)
{
	const char *colon, *h = s;
	size_t hl;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strchr(s, ':');
		if (!colon || strchr(colon + 1, ':'))
			return -1;	/* an IPv6 address goes in brackets */
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, hostlen, "127.0.0.1");
	unsigned char buf[16];
	if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1)
		return -1;
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p < 0 || p > 65535 ||
	    !isdigit((unsigned char)colon[1]))
		return -1;
	*port = (unsigned)p;
	return 0;
}

int daemon_config_defaults(struct daemon_config *c)
{
	memset(c, 0, sizeof *c);
	c->dir = strdup(DAEMON_DEFAULT_DIR);
	c->socket = strdup(DAEMON_DEFAULT_SOCKET);
	if (!c->dir || !c->socket) {
		daemon_config_free(c);
		return LP_ENOMEM;
	}
	c->window_s = 60;
	c->retention_age_s = 86400;
	c->retention_size = 1ull << 30;
	c->max_cpu = 1;
	c->max_targets = 64;
	c->max_snapshot = 64ull << 20;
	c->socket_mode = DAEMON_SOCKET_MODE_DEFAULT;
	c->max_targets_per_user = 8;
	c->max_sections_per_user = 4;
	return LP_OK;
}

void daemon_config_free(struct daemon_config *c)
{
	free(c->dir);
	free(c->socket);
	free(c->socket_group);
	free(c->http);
	free(c->http_token_file);
	free(c->http_tls_cert);
	free(c->http_tls_key);
	for (size_t i = 0; i < c->ntargets; i++) {
		free(c->targets[i].pids);
		free(c->targets[i].exe);
		free(c->targets[i].cmdline);
		free(c->targets[i].cgroup);
		free(c->targets[i].unit);
	}
	free(c->targets);
	memset(c, 0, sizeof *c);
}

/* The parser's state: where it is, what each section has seen. */
struct parser {
	const char *name;
	int line;
	struct daemon_config *c;
	struct daemon_target_cfg *t;	/* current section, NULL: global */
	unsigned seen;			/* keys of this section given, by bit */
	lp_error *err;
};

static int fail(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parser *ps, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return lp_error_set(ps->err, LP_EINVAL, "%s:%d: %s", ps->name, ps->line, msg);
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || *end || x == 0 || x > max)
		return -1;
	*out = x;
	return 0;
}

static int set_str(char **dst, const char *v)
{
	char *s = strdup(v);
	if (!s)
		return LP_ENOMEM;
	free(*dst);
	*dst = s;
	return LP_OK;
}

static bool pid_listed(const struct daemon_target_cfg *t, pid_t pid)
{
	for (size_t i = 0; i < t->npids; i++)
		if (t->pids[i] == pid)
			return true;
	return false;
}

/* "123", "123 456", "123, 456" */
static int parse_pids(struct parser *ps, const char *v)
{
	struct daemon_target_cfg *t = ps->t;
	const char *p = v;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		char *end;
		errno = 0;
		long x = isdigit((unsigned char)*p) ? strtol(p, &end, 10) : -1;
		if (x <= 0 || errno || x > INT_MAX ||
		    (*end && *end != ' ' && *end != '\t' && *end != ','))
			return fail(ps, "invalid pid list '%s': expected process IDs separated by spaces or commas", v);
		if (t->npids >= DAEMON_CONFIG_MAX_PIDS)
			return fail(ps, "more than %d PIDs in one section", DAEMON_CONFIG_MAX_PIDS);
		if (pid_listed(t, (pid_t)x))
			return fail(ps, "PID %ld listed twice", x);
		pid_t *np = realloc(t->pids, (t->npids + 1) * sizeof *np);
		if (!np)
			return lp_error_set(ps->err, LP_ENOMEM, "out of memory");
		t->pids = np;
		t->pids[t->npids++] = (pid_t)x;
		p = end;
	}
	if (!t->npids)
		return fail(ps, "pid needs at least one process ID");
	return LP_OK;
}

/* Keys of the global part and of a section; the bit index is the key's
 * position in its table (duplicates are found by it). */
static const char *const global_keys[] = {
	"dir", "window", "retention_age", "retention_size", "max_cpu",
	"max_targets", "max_snapshot", "socket", "socket_mode", "http",
	"socket_group", "max_targets_per_user", "max_sections_per_user",
	"http_token_file", "http_open", "http_tls_cert", "http_tls_key",
};
static const char *const target_keys[] = {
	"pid", "exe", "cmdline", "cgroup", "rate", "mode", "native", "tasks",
	"subprocesses", "python", "unit", "service",
};

static int key_index(const char *const *keys, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return (int)i;
	return -1;
}

static int set_global(struct parser *ps, int k, const char *v)
{
	struct daemon_config *c = ps->c;
	unsigned long u;
	switch (k) {
	case 0: /* dir */
	case 7: /* socket */
		if (v[0] != '/')
			return fail(ps, "%s must be an absolute path, not '%s'", global_keys[k], v);
		if (strlen(v) > 200)
			return fail(ps, "%s is too long (at most 200 characters)", global_keys[k]);
		return set_str(k == 0 ? &c->dir : &c->socket, v) ? fail(ps, "out of memory") : 0;
	case 1: /* window */
		if (units_duration(v, &c->window_s) || c->window_s < 1 ||
		    c->window_s > 86400)
			return fail(ps, "invalid window '%s': expected a duration from 1s to 24h, such as 60s or 10m", v);
		return 0;
	case 2: /* retention_age */
		if (strcmp(v, "0") == 0 || strcmp(v, "off") == 0) {
			c->retention_age_s = 0;
			return 0;
		}
		if (units_duration(v, &c->retention_age_s))
			return fail(ps, "invalid retention_age '%s': expected a duration such as 30m, 24h or 7d, or off", v);
		return 0;
	case 3: /* retention_size */
		if (strcmp(v, "0") == 0 || strcmp(v, "off") == 0) {
			c->retention_size = 0;
			return 0;
		}
		if (units_size(v, &c->retention_size))
			return fail(ps, "invalid retention_size '%s': expected a size such as 500M or 2G, or off", v);
		return 0;
	case 4: { /* max_cpu */
		char *end;
		errno = 0;
		double x = strtod(v, &end);
		if (errno || end == v || (*end && strcmp(end, "%") != 0) ||
		    !(x > 0 && x <= 100))
			return fail(ps, "invalid max_cpu '%s': expected a percentage of one core, more than 0 and at most 100, such as 1%%", v);
		c->max_cpu = x;
		return 0;
	}
	case 5: /* max_targets */
		if (parse_uint(v, 100000, &u))
			return fail(ps, "invalid max_targets '%s': expected a number from 1 to 100000", v);
		c->max_targets = (unsigned)u;
		return 0;
	case 6: /* max_snapshot */
		if (units_size(v, &c->max_snapshot) || c->max_snapshot > (1ull << 31))
			return fail(ps, "invalid max_snapshot '%s': expected a size up to 2G, such as 64M", v);
		return 0;
	case 8: { /* socket_mode */
		char *end;
		errno = 0;
		unsigned long m = strtoul(v, &end, 8);
		if (errno || end == v || *end || m > 0777 || !isdigit((unsigned char)*v))
			return fail(ps, "invalid socket_mode '%s': expected an octal mode such as 0660", v);
		c->socket_mode = (unsigned)m;
		return 0;
	}
	case 9: { /* http */
		char host[64];
		unsigned port;
		if (strcmp(v, "off") == 0) {
			free(c->http);
			c->http = NULL;
			return 0;
		}
		/* unix:PATH: a Unix socket (sun_path holds 108 bytes) */
		bool unix_ok = strncmp(v, "unix:/", 6) == 0 && strlen(v + 5) < 108;
		if (!unix_ok && daemon_parse_listen(v, host, sizeof host, &port))
			return fail(ps, "invalid http '%s': expected ADDRESS:PORT such as 127.0.0.1:6060 or [::1]:6060, "
				    "unix:/PATH, or off", v);
		return set_str(&c->http, v) ? fail(ps, "out of memory") : 0;
	}
	case 10: /* socket_group: a name or a number, checked at start */
		if (!*v || strlen(v) > 64 || strchr(v, '/'))
			return fail(ps, "invalid socket_group '%s': expected a group name or number", v);
		return set_str(&c->socket_group, v) ? fail(ps, "out of memory") : 0;
	case 11: /* max_targets_per_user */
	case 12: /* max_sections_per_user */
		if (strcmp(v, "0") == 0) {
			u = 0;
		} else if (parse_uint(v, 100000, &u)) {
			return fail(ps, "invalid %s '%s': expected a number from 0 to 100000", global_keys[k], v);
		}
		*(k == 11 ? &c->max_targets_per_user : &c->max_sections_per_user) = (unsigned)u;
		return 0;
	case 13: /* http_token_file */
	case 15: /* http_tls_cert */
	case 16: /* http_tls_key */
		if (v[0] != '/')
			return fail(ps, "%s must be an absolute path, not '%s'", global_keys[k], v);
		return set_str(k == 13 ? &c->http_token_file : k == 15 ? &c->http_tls_cert : &c->http_tls_key, v) ?
		       fail(ps, "out of memory") : 0;
	case 14: /* http_open */
		if (strcmp(v, "no") == 0) {
			c->http_open = false;
			return 0;
		}
		if (strcmp(v, DAEMON_HTTP_OPEN_ACK) != 0)
			return fail(ps, "http_open is '%s' or no: an endpoint without a token lets every local user "
				    "read every profile", DAEMON_HTTP_OPEN_ACK);
		c->http_open = true;
		return 0;
	}
	return fail(ps, "internal: key %d", k);
}

static int set_target(struct parser *ps, int k, const char *v)
{
	struct daemon_target_cfg *t = ps->t;
	switch (k) {
	case 0:
		return parse_pids(ps, v);
	case 1: case 2:
		return set_str(k == 1 ? &t->exe : &t->cmdline, v) ? fail(ps, "out of memory") : 0;
	case 3: {
		/* /sys/fs/cgroup/X is accepted for X: what ls shows */
		const char *root = "/sys/fs/cgroup";
		if (strncmp(v, root, strlen(root)) == 0 &&
		    (v[strlen(root)] == '/' || !v[strlen(root)]))
			v += strlen(root);
		if (v[0] != '/')
			return fail(ps, "invalid cgroup '%s': expected a path such as /system.slice/app.service", v);
		char *s = strdup(v);
		if (!s)
			return fail(ps, "out of memory");
		/* "/a/b/" is "/a/b" (but "/" stays) */
		for (size_t n = strlen(s); n > 1 && s[n - 1] == '/'; n--)
			s[n - 1] = '\0';
		free(t->cgroup);
		t->cgroup = s;
		return 0;
	}
	case 4: {
		char *end;
		errno = 0;
		t->rate = strtod(v, &end);
		if (errno || end == v || *end || !(t->rate > 0 && t->rate <= MAX_RATE_HZ))
			return fail(ps, "invalid rate '%s': expected samples per second, more than 0 and at most %.0f", v, MAX_RATE_HZ);
		return 0;
	}
	case 5:
		if (format_mode_from_name(v, &t->mode) != 0)
			return fail(ps, "invalid mode '%s': use wall, cpu or gil", v);
		return 0;
	case 6: case 7: case 8: {
		bool *b = k == 6 ? &t->native : k == 7 ? &t->tasks : &t->subprocesses;
		if (parse_bool(v, b))
			return fail(ps, "invalid %s '%s': use yes or no", target_keys[k], v);
		return 0;
	}
	case 9:
		/* "all" reads best alone: every Python process of the host */
		if (strcmp(v, "all") == 0)
			v = "yes";
		if (parse_bool(v, &t->python))
			return fail(ps, "invalid python '%s': use all, yes or no", v);
		return 0;
	case 10:
		if (!*v || strchr(v, '/'))
			return fail(ps, "invalid unit '%s': expected a systemd unit name or glob such as app.service or web-*", v);
		return set_str(&t->unit, v) ? fail(ps, "out of memory") : 0;
	case 11:
		if (strcmp(v, "section") == 0)
			t->service = SERVICE_SECTION;
		else if (strcmp(v, "unit") == 0)
			t->service = SERVICE_UNIT;
		else if (strcmp(v, "cgroup") == 0)
			t->service = SERVICE_CGROUP;
		else
			return fail(ps, "invalid service '%s': use section, unit or cgroup", v);
		return 0;
	}
	return fail(ps, "internal: key %d", k);
}

/* The section just ended must say which processes it means. */
static int end_section(struct parser *ps)
{
	struct daemon_target_cfg *t = ps->t;
	if (!t)
		return 0;
	int line = ps->line;
	ps->line = t->line;
	int rc = 0;
	bool matcher = t->exe || t->cmdline || t->cgroup || t->unit || t->python;
	if (!t->npids && !matcher)
		rc = fail(ps, "[target %s] says no process: give pid, python, exe, cmdline, unit or cgroup", t->name);
	else if (t->npids && matcher)
		rc = fail(ps, "[target %s]: pid cannot be combined with python, exe, cmdline, unit or cgroup (use two sections)", t->name);
	ps->line = line;
	return rc;
}

static bool name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '-' || ch == '.';
}

static int start_section(struct parser *ps, char *s)
{
	/* s is "[...]" with the brackets */
	size_t n = strlen(s);
	if (s[n - 1] != ']')
		return fail(ps, "section header without its closing ']'");
	s[n - 1] = '\0';
	char *p = s + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strcmp(p, "target") == 0)
		return fail(ps, "[target] needs a name: [target NAME]");
	if (strncmp(p, "target", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return fail(ps, "unknown section '[%s': expected [target NAME]", p);
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	char *e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	if (!*p)
		return fail(ps, "[target] needs a name: [target NAME]");
	if (strlen(p) > DAEMON_TARGET_NAME_MAX)
		return fail(ps, "target name '%s' is longer than %d characters", p, DAEMON_TARGET_NAME_MAX);
	for (char *q = p; *q; q++)
		if (!name_char(*q))
			return fail(ps, "invalid target name '%s': use letters, digits, '_', '-' and '.'", p);
	if (p[0] == '.')
		return fail(ps, "invalid target name '%s': it may not start with '.'", p);
	struct daemon_config *c = ps->c;
	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, p) == 0)
			return fail(ps, "duplicate section [target %s] (first on line %d)", p, c->targets[i].line);
	if (c->ntargets >= DAEMON_CONFIG_MAX_TARGETS)
		return fail(ps, "more than %d target sections", DAEMON_CONFIG_MAX_TARGETS);
	int rc = end_section(ps);
	if (rc)
		return rc;
	struct daemon_target_cfg *nt = realloc(c->targets, (c->ntargets + 1) * sizeof *nt);
	if (!nt)
		return fail(ps, "out of memory");
	c->targets = nt;
	struct daemon_target_cfg *t = &c->targets[c->ntargets++];
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", p);
	t->line = ps->line;
	t->rate = DAEMON_DEFAULT_RATE;
	t->mode = MODE_CPU;
	ps->t = t;
	ps->seen = 0;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A '#' or ';' that starts the text or follows a blank begins a comment
 * (so "a#b" keeps its '#', and "x = 1   # why" is x = 1). */
static bool comment_at(const char *s, const char *p)
{
	return (*p == '#' || *p == ';') && (p == s || is_blank(p[-1]));
}

static bool only_comment(const char *s)
{
	while (is_blank(*s))
		s++;
	return !*s || comment_at(s, s);
}

static void cut_comment(char *v)
{
	for (char *p = v; *p; p++)
		if (comment_at(v, p)) {
			*p = '\0';
			break;
		}
	char *e = v + strlen(v);
	while (e > v && is_blank(e[-1]))
		*--e = '\0';
}

static int parse_line(struct parser *ps, char *s)
{
	/* trim */
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		cut_comment(s);
		return start_section(ps, s);
	}
	char *eq = strchr(s, '=');
	if (!eq)
		return fail(ps, "expected 'key = value' or '[target NAME]', got '%s'", s);
	char *key = s, *val = eq + 1;
	char *ke = eq;
	while (ke > key && (ke[-1] == ' ' || ke[-1] == '\t'))
		ke--;
	*ke = '\0';
	while (*val == ' ' || *val == '\t')
		val++;
	if (val[0] == '"') {
		char *close = strchr(val + 1, '"');
		if (!close)
			return fail(ps, "value of %s opens a quote it does not close", key);
		if (!only_comment(close + 1))
			return fail(ps, "value of %s has '%s' after its closing quote", key, close + 1);
		*close = '\0';
		val++;
	} else {
		cut_comment(val);
	}
	if (!*key)
		return fail(ps, "a line with '=' but no key");
	const char *const *keys = ps->t ? target_keys : global_keys;
	size_t nkeys = ps->t ? sizeof target_keys / sizeof *target_keys :
			       sizeof global_keys / sizeof *global_keys;
	int k = key_index(keys, nkeys, key);
	if (k < 0) {
		bool other = key_index(ps->t ? global_keys : target_keys,
				       ps->t ? sizeof global_keys / sizeof *global_keys :
					       sizeof target_keys / sizeof *target_keys,
				       key) >= 0;
		if (other && ps->t)
			return fail(ps, "%s is a global key: put it before the first [target] section", key);
		if (other)
			return fail(ps, "%s belongs in a [target NAME] section", key);
		return fail(ps, "unknown key '%s'%s", key,
			    ps->t ? " in a [target] section (see loupe.conf(5))" : " (see loupe.conf(5))");
	}
	if (ps->seen & (1u << k))
		return fail(ps, "duplicate key %s%s%s", key,
			    ps->t ? " in [target " : "", ps->t ? ps->t->name : "");
	ps->seen |= 1u << k;
	if (!*val && !(ps->t && k == 0))
		return fail(ps, "%s needs a value", key);
	return ps->t ? set_target(ps, k, val) : set_global(ps, k, val);
}

int daemon_config_parse(const char *text, size_t len, const char *name,
			struct daemon_config *c, lp_error *err)
{
	int rc = daemon_config_defaults(c);
	if (rc)
		return lp_error_set(err, rc, "out of memory");
	struct parser ps = { .name = name, .c = c, .err = err };
	char *line = malloc(DAEMON_CONFIG_MAX_LINE + 1);
	if (!line) {
		daemon_config_free(c);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	size_t pos = 0;
	while (pos < len && !rc) {
		ps.line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > DAEMON_CONFIG_MAX_LINE) {
			rc = fail(&ps, "line longer than %d bytes", DAEMON_CONFIG_MAX_LINE);
			break;
		}
		if (memchr(text + pos, '\0', n)) {
			rc = fail(&ps, "a NUL byte: this is not a text file");
			break;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		rc = parse_line(&ps, line);
		pos += n + 1;
	}
	if (!rc)
		rc = end_section(&ps);
	free(line);
	if (rc)
		daemon_config_free(c);
	return rc;
}

int daemon_config_load(const char *path, struct daemon_config *c,
		       lp_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lp_error_set(err, lp_from_errno(errno), "cannot read config %s: %s (give another with --config FILE)",
				    path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return lp_error_set(err, LP_EINVAL, "config %s is not a regular file", path);
	}
	if (st.st_size > DAEMON_CONFIG_MAX_BYTES) {
		close(fd);
		return lp_error_set(err, LP_EINVAL, "config %s is larger than %u bytes: not a config file",
				    path, DAEMON_CONFIG_MAX_BYTES);
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			close(fd);
			free(buf);
			return lp_error_set(err, LP_EIO, "cannot read config %s: %s", path, strerror(e));
		}
		got += (size_t)r;
	}
	close(fd);
	int rc = daemon_config_parse(buf, got, path, c, err);
	free(buf);
	return rc;
}

int daemon_socket_access(const struct daemon_config *c, unsigned *mode,
			 gid_t *gid, lp_error *err)
{
	*gid = (gid_t)-1;
	if (c->socket_group) {
		const struct group *g = getgrnam(c->socket_group);
		char *end;
		errno = 0;
		unsigned long n = strtoul(c->socket_group, &end, 10);
		if (g)
			*gid = g->gr_gid;
		else if (isdigit((unsigned char)c->socket_group[0]) && !*end && !errno && n < UINT_MAX)
			*gid = (gid_t)n;
		else
			return lp_error_set(err, LP_EINVAL, "socket_group %s: no such group (addgroup --system %s, or set another)",
					    c->socket_group, c->socket_group);
	} else {
		const struct group *g = getgrnam(DAEMON_SOCKET_GROUP);
		if (g)
			*gid = g->gr_gid;
	}
	if (c->socket_mode != DAEMON_SOCKET_MODE_DEFAULT)
		*mode = c->socket_mode;
	else
		*mode = *gid != (gid_t)-1 ? 0660 : 0600;
	return LP_OK;
}
