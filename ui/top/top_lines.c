/* A function's figures per line and its source file (top_lines.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __has_include
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2_H 1
#endif
#endif

#include "error.h"
#include "text_escape.h"
#include "top_lines.h"

void top_lines_init(struct top_lines *tl)
{
	memset(tl, 0, sizeof *tl);
}

void top_lines_fini(struct top_lines *tl)
{
	free(tl->v);
	memset(tl, 0, sizeof *tl);
}

long top_lines_find(const struct top_lines *tl, int32_t line)
{
	size_t lo = 0, hi = tl->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tl->v[mid].line == line)
			return (long)mid;
		if (tl->v[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The entry of line in tl, added (in line order) when new; NULL when out
 * of memory. */
static struct top_line *line_entry(struct top_lines *tl, int32_t line)
{
	long at = top_lines_find(tl, line);
	if (at >= 0)
		return &tl->v[at];
	if (tl->n == tl->cap) {
		size_t nc = tl->cap ? 2 * tl->cap : 64;
		struct top_line *v = realloc(tl->v, nc * sizeof *v);
		if (!v)
			return NULL;
		tl->v = v;
		tl->cap = nc;
	}
	size_t k = tl->n;
	while (k > 0 && tl->v[k - 1].line > line)
		k--;
	memmove(&tl->v[k + 1], &tl->v[k], (tl->n - k) * sizeof *tl->v);
	tl->v[k] = (struct top_line){ .line = line };
	tl->n++;
	return &tl->v[k];
}

/* One pass over the aggregates: a Python frame is (function, file, line),
 * so the frames of our function on a stack say at which lines it was;
 * the leaf's is its own line.  A line is counted once per stack (a
 * recursive function on the same line twice is one total). */
int top_lines_compute(struct top_lines *tl, const profile *p, uint32_t func,
		      uint32_t file, int32_t pid, int metric)
{
	struct profile_agg sum = profile_agg_sum(p);
	tl->n = 0;
	tl->all[0] = sum.samples;
	tl->all[1] = sum.cpu_samples;
	size_t na;
	const struct profile_agg *a = profile_aggs(p, &na);
	for (size_t ai = 0; ai < na; ai++) {
		if (pid > 0 && a[ai].pid != pid)
			continue;
		size_t len;
		const uint32_t *ids = profile_stack(p, a[ai].stack, &len);
		for (size_t j = 0; j < len; j++) {
			const struct frame *f = profile_frame(p, ids[j]);
			if (!f || f->kind != FRAME_PYTHON || f->func != func ||
			    f->file != file)
				continue;
			struct top_line *l = line_entry(tl, f->line);
			if (!l) {
				tl->n = 0;
				tl->hot = 0;
				return LP_ENOMEM;
			}
			if (l->seen != ai + 1) {
				l->seen = ai + 1;
				l->total[0] += a[ai].samples;
				l->total[1] += a[ai].cpu_samples;
			}
			if (j + 1 == len) {
				l->own[0] += a[ai].samples;
				l->own[1] += a[ai].cpu_samples;
			}
		}
	}
	tl->hot = tl->n;
	for (size_t i = 0; i < tl->n; i++) {
		const struct top_line *l = &tl->v[i];
		if (!l->own[metric] && !l->total[metric])
			continue;
		if (tl->hot == tl->n ||
		    l->own[metric] > tl->v[tl->hot].own[metric] ||
		    (l->own[metric] == tl->v[tl->hot].own[metric] &&
		     l->total[metric] > tl->v[tl->hot].total[metric]))
			tl->hot = i;
	}
	return LP_OK;
}

double top_lines_pct(const struct top_lines *tl, uint64_t samples, int metric)
{
	return tl->all[metric] ? 100.0 * (double)samples / (double)tl->all[metric]
			       : 0;
}

/* ---- the source file ---- */

#if defined(SYS_openat2) && defined(HAVE_OPENAT2_H)
static int open_resolved(int dirfd, const char *path, uint64_t resolve)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK |
					 O_NOCTTY,
				.resolve = resolve | RESOLVE_NO_MAGICLINKS };
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}
#else
static int open_resolved(int dirfd, const char *path, uint64_t resolve)
{
	(void)dirfd; (void)path; (void)resolve;
	errno = ENOSYS;
	return -1;
}
#define RESOLVE_IN_ROOT 0
#define RESOLVE_BENEATH 0
#endif

/* Opens path in pid's filesystem: inside its root (symbolic links
 * resolved there, not in ours) or beneath its working directory. */
static int open_in_target(int pid, const char *path)
{
	char dir[64];
	bool abs = path[0] == '/';
	snprintf(dir, sizeof dir, "/proc/%d/%s", pid, abs ? "root" : "cwd");
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	const char *rel = path;
	while (*rel == '/')
		rel++;
	int fd = open_resolved(dfd, rel, abs ? RESOLVE_IN_ROOT : RESOLVE_BENEATH);
	if (fd < 0 && errno == ENOSYS)
		/* before Linux 5.6: at least no link as the file itself */
		fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
				      O_NOCTTY | O_NOFOLLOW);
	int e = errno;
	close(dfd);
	errno = e;
	return fd;
}

void top_source_free(struct top_source_file *sf)
{
	free(sf->buf);
	free(sf->starts);
	sf->buf = NULL;
	sf->starts = NULL;
	sf->len = sf->nlines = 0;
}

int top_source_load(struct top_source_file *sf, int pid, const char *path)
{
	memset(sf, 0, sizeof *sf);
	char shown[256];
	text_escape(path ? path : "", shown, sizeof shown);
	if (!path || !path[0] || path[0] == '<') {
		/* "<string>", "<frozen ...>": no file behind it */
		snprintf(sf->why, sizeof sf->why, "no source file (%s)",
			 path && path[0] ? shown : "no name");
		return -1;
	}
	if (strlen(path) >= 4096) {
		snprintf(sf->why, sizeof sf->why, "file name too long");
		return -1;
	}
	int fd = pid > 0 ? open_in_target(pid, path)
			 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		snprintf(sf->why, sizeof sf->why, "cannot read %s: %s", shown,
			 strerror(errno));
		return -1;
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		snprintf(sf->why, sizeof sf->why, "cannot read %s: %s", shown,
			 strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(sf->why, sizeof sf->why, "%s is not a regular file", shown);
		close(fd);
		return -1;
	}
	if (sb.st_size > (off_t)TOP_SOURCE_MAX_BYTES) {
		snprintf(sf->why, sizeof sf->why,
			 "%s is too big to show (%lld bytes, at most %u)", shown,
			 (long long)sb.st_size, TOP_SOURCE_MAX_BYTES);
		close(fd);
		return -1;
	}
	/* the size may change under us: read at most the bound, plus one
	 * byte to see a file that grew past it */
	size_t cap = (size_t)sb.st_size + 1;
	sf->buf = malloc(cap + 1);
	if (!sf->buf) {
		snprintf(sf->why, sizeof sf->why, "out of memory");
		close(fd);
		return -1;
	}
	size_t got = 0;
	while (got < cap) {
		ssize_t r = read(fd, sf->buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(sf->why, sizeof sf->why, "cannot read %s: %s",
				 shown, strerror(errno));
			close(fd);
			top_source_free(sf);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got > TOP_SOURCE_MAX_BYTES) {
		snprintf(sf->why, sizeof sf->why, "%s is too big to show", shown);
		top_source_free(sf);
		return -1;
	}
	sf->buf[got] = '\0';
	sf->len = got;
	size_t n = 1;
	for (size_t i = 0; i < got; i++)
		n += sf->buf[i] == '\n';
	sf->starts = malloc(n * sizeof *sf->starts);
	if (!sf->starts) {
		snprintf(sf->why, sizeof sf->why, "out of memory");
		top_source_free(sf);
		return -1;
	}
	sf->starts[0] = 0;
	n = 1;
	for (size_t i = 0; i < got; i++)
		if (sf->buf[i] == '\n' && i + 1 < got)
			sf->starts[n++] = i + 1;
	sf->nlines = got ? n : 0;
	return 0;
}

bool top_source_line(const struct top_source_file *sf, int32_t line,
		     char *out, size_t len)
{
	if (len)
		out[0] = '\0';
	if (line < 1 || (size_t)line > sf->nlines || !len)
		return false;
	const char *s = sf->buf + sf->starts[line - 1];
	const char *end = memchr(s, '\n', sf->len - sf->starts[line - 1]);
	size_t n = end ? (size_t)(end - s) : strlen(s);
	char raw[TOP_SOURCE_LINE_MAX + 1];
	size_t k = 0;
	for (size_t i = 0; i < n && k < TOP_SOURCE_LINE_MAX; i++) {
		if (s[i] == '\t') {
			do
				raw[k++] = ' ';
			while (k % 8 && k < TOP_SOURCE_LINE_MAX);
		} else if (s[i] == '\r' && i + 1 == n) {
			break;	/* a CRLF file */
		} else if (s[i] == '\0') {
			raw[k++] = '?';
		} else {
			raw[k++] = s[i];
		}
	}
	raw[k] = '\0';
	text_escape(raw, out, len);
	return true;
}

void top_heat_bar(double share, int width, char *out, size_t len)
{
	if (!len)
		return;
	int k = 0;
	if (share > 0) {
		int cells = (int)(share * width + 0.5);
		if (cells < 1)
			cells = 1;
		if (cells > width)
			cells = width;
		for (int i = 0; i < width && (size_t)k + 1 < len; i++)
			out[k++] = i < cells ? '#' : '.';
	}
	out[k] = '\0';
}
