#include "maps.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "error.h"

/* Line format (proc(5)): "start-end perms offset major:minor inode   path",
 * where path is optional, may hold spaces, and ends in " (deleted)" when the
 * file was unlinked. */

static const char *parse_hex(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;
	for (; p < end && digits < 16; p++, digits++) {
		int c = (unsigned char)*p, d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits)
		return NULL;
	*out = v;
	return p;
}

static const char *parse_dec(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;
	for (; p < end && *p >= '0' && *p <= '9' && digits < 20; p++, digits++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (!digits)
		return NULL;
	*out = v;
	return p;
}

static const char *skip_spaces(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Parses one line [p, end).  On success fills e, points path and path_len
 * at the path inside the line and returns 1. */
static int parse_line(const char *p, const char *end, struct map_entry *e,
		      const char **path, size_t *path_len)
{
	uint64_t v;
	memset(e, 0, sizeof *e);
	if (!(p = parse_hex(p, end, &e->start)) || p >= end || *p++ != '-')
		return 0;
	if (!(p = parse_hex(p, end, &e->end)) || e->end <= e->start)
		return 0;
	p = skip_spaces(p, end);
	if (end - p < 4)
		return 0;
	if (p[0] == 'r')
		e->perms |= MAP_PERM_R;
	if (p[1] == 'w')
		e->perms |= MAP_PERM_W;
	if (p[2] == 'x')
		e->perms |= MAP_PERM_X;
	if (p[3] == 'p')
		e->perms |= MAP_PERM_P;
	p = skip_spaces(p + 4, end);
	if (!(p = parse_hex(p, end, &e->offset)))
		return 0;
	p = skip_spaces(p, end);
	if (!(p = parse_hex(p, end, &v)) || p >= end || *p++ != ':')
		return 0;
	e->dev_major = (unsigned)v;
	if (!(p = parse_hex(p, end, &v)))
		return 0;
	e->dev_minor = (unsigned)v;
	p = skip_spaces(p, end);
	if (!(p = parse_dec(p, end, &e->inode)))
		return 0;
	p = skip_spaces(p, end);
	/* The rest of the line, spaces included, is the path. */
	size_t len = (size_t)(end - p);
	static const char deleted[] = " (deleted)";
	if (len >= sizeof deleted - 1 &&
	    !memcmp(p + len - (sizeof deleted - 1), deleted, sizeof deleted - 1)) {
		len -= sizeof deleted - 1;
		e->deleted = 1;
	}
	if (len > MAX_PATH_LEN)
		len = MAX_PATH_LEN;
	*path = p;
	*path_len = len;
	return 1;
}

static int cmp_start(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int maps_parse(const char *text, size_t len, struct maps *out)
{
	const char *p = text, *end = text + len;
	size_t lines = 0;
	memset(out, 0, sizeof *out);

	for (const char *q = p; q < end; q++)
		if (*q == '\n')
			lines++;
	lines++;
	if (lines > MAX_MAPS)
		lines = MAX_MAPS;
	/* Every path is a substring of its line, so len + one NUL per line
	 * bounds the string store. */
	out->v = calloc(lines, sizeof *out->v);
	out->strings = malloc(len + lines + 1);
	if (!out->v || !out->strings) {
		maps_fini(out);
		return LP_ENOMEM;
	}
	/* Offsets first: path pointers are fixed up once the store is final. */
	size_t used = 0;
	int sorted = 1;
	while (p < end && out->n < lines) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct map_entry e;
		const char *path;
		size_t plen;
		if (parse_line(p, le, &e, &path, &plen)) {
			memcpy(out->strings + used, path, plen);
			out->strings[used + plen] = '\0';
			e.path = (const char *)(uintptr_t)used;
			used += plen + 1;
			if (out->n && e.start < out->v[out->n - 1].start)
				sorted = 0;
			out->v[out->n++] = e;
		}
		p = nl ? nl + 1 : end;
	}
	for (size_t i = 0; i < out->n; i++)
		out->v[i].path = out->strings + (uintptr_t)out->v[i].path;
	if (!sorted)
		qsort(out->v, out->n, sizeof *out->v, cmp_start);
	return LP_OK;
}

int maps_read(int procfd, struct maps *out)
{
	int fd = openat(procfd, "maps", O_RDONLY | O_CLOEXEC);
	memset(out, 0, sizeof *out);
	if (fd < 0)
		return lp_errno_class(errno, LP_USE_PROC);
	/* A maps file has no size; grow the buffer.  MAX_MAPS lines of at
	 * most ~MAX_PATH_LEN+100 bytes bounds it. */
	size_t cap = 64 * 1024, len = 0;
	const size_t limit = (size_t)MAX_MAPS * 256;
	char *buf = malloc(cap);
	int rc = LP_OK;
	if (!buf) {
		rc = LP_ENOMEM;
		goto out_close;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= limit)
				break;
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				rc = LP_ENOMEM;
				goto out_free;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = lp_errno_class(errno, LP_USE_PROC);
			goto out_free;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	rc = maps_parse(buf, len, out);
out_free:
	free(buf);
out_close:
	close(fd);
	return rc;
}

void maps_fini(struct maps *m)
{
	free(m->v);
	free(m->strings);
	memset(m, 0, sizeof *m);
}

const struct map_entry *maps_find(const struct maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct map_entry *e = &m->v[mid];
		if (addr < e->start)
			hi = mid;
		else if (addr >= e->end)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

const struct map_entry *maps_find_file(const struct maps *m, const char *prefix)
{
	size_t plen = strlen(prefix);
	for (size_t i = 0; i < m->n; i++) {
		const char *path = m->v[i].path;
		if (path[0] != '/')
			continue;
		const char *base = strrchr(path, '/') + 1;
		if (!strncmp(base, prefix, plen))
			return &m->v[i];
	}
	return NULL;
}
