/* /proc, read in one place (see procfs.h). */
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- parsers ------------------------------------------------------------ */

int procfs_stat_parse(const char *line, int upto, struct procfs_stat *st)
{
	memset(st, 0, sizeof *st);
	const char *lp = strchr(line, '('), *rp = strrchr(line, ')');
	if (!lp || !rp || rp < lp)
		return 0;
	size_t cl = (size_t)(rp - lp - 1);
	if (cl >= sizeof st->comm)
		cl = sizeof st->comm - 1;
	memcpy(st->comm, lp + 1, cl);
	st->comm[cl] = '\0';
	if (upto > PROCFS_STAT_STARTSTACK)
		upto = PROCFS_STAT_STARTSTACK;
	const char *p = rp + 1;
	for (int field = PROCFS_STAT_STATE; field <= upto; field++) {
		if (*p != ' ')
			return field - 1;	/* cut short, or no separator */
		while (*p == ' ')
			p++;
		if (field == PROCFS_STAT_STATE) {
			if (!*p || *p == '\n')
				return field - 1;
			st->state = *p++;
			continue;
		}
		/* Every field after the state is a number; the signed ones
		 * (priority, nice) are not kept. */
		const char *digits = *p == '-' ? p + 1 : p;
		if (*digits < '0' || *digits > '9')
			return field - 1;
		char *end;
		unsigned long long v = strtoull(digits, &end, 10);
		if (*end && *end != ' ' && *end != '\n')
			return field - 1;
		p = end;
		switch (field) {
		case PROCFS_STAT_PPID: st->ppid = (pid_t)v; break;
		case PROCFS_STAT_FLAGS: st->flags = (unsigned long)v; break;
		case PROCFS_STAT_UTIME: st->utime = v; break;
		case PROCFS_STAT_STIME: st->stime = v; break;
		case PROCFS_STAT_NTHREADS: st->nthreads = (long)v; break;
		case PROCFS_STAT_STARTTIME: st->starttime = v; break;
		case PROCFS_STAT_STARTCODE: st->start_code = v; break;
		case PROCFS_STAT_ENDCODE: st->end_code = v; break;
		case PROCFS_STAT_STARTSTACK: st->start_stack = v; break;
		default: break;
		}
	}
	return upto;
}

const char *procfs_status_field(const char *status, const char *key)
{
	size_t kl = strlen(key);
	for (const char *line = status; line && *line;) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			const char *v = line + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

pid_t procfs_status_nspid(const char *status, pid_t fallback)
{
	/* "NSpid: HOST ... INNERMOST" (proc(5)); at most 32 levels
	 * (MAX_PID_NS_LEVEL), the loop's bound is twice that. */
	const char *p = procfs_status_field(status, "NSpid");
	if (!p)
		return fallback;
	const char *eol = strchr(p, '\n');
	long last = 0;
	for (int i = 0; i < 64 && (!eol || p < eol); i++) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || (eol && end > eol))
			break;
		last = v;
		p = end;
	}
	return last > 0 && last <= INT_MAX ? (pid_t)last : fallback;
}

long procfs_status_long(const char *status, const char *key, long fallback)
{
	const char *v = procfs_status_field(status, key);
	if (!v)
		return fallback;
	char *end;
	long x = strtol(v, &end, 10);
	return end == v ? fallback : x;
}

unsigned long long procfs_status_hex(const char *status, const char *key)
{
	const char *v = procfs_status_field(status, key);
	return v ? strtoull(v, NULL, 16) : 0;
}

/* ---- files -------------------------------------------------------------- */

int procfs_open_pid(int proc, pid_t pid)
{
	char path[32];
	if (pid <= 0) {
		errno = ENOENT;
		return -1;
	}
	snprintf(path, sizeof path, proc == AT_FDCWD ? "/proc/%d" : "%d",
		 (int)pid);
	/* O_PATH would not do: reads through openat() need a real fd. */
	return openat(proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* A decimal id of 1 to INT_MAX, or 0 for any other name (".", "self",
 * "sys", "thread-self"...). */
static pid_t name_id(const char *s)
{
	long v = 0;
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return 0;
	}
	return (pid_t)v;
}

int procfs_each_id(int dirfd, void *scratch, size_t len, procfs_id_fn fn,
		   void *ctx)
{
	char *buf = scratch;
	for (;;) {
		ssize_t n = getdents64(dirfd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (ssize_t at = 0; at < n;) {
			const struct dirent64 *de = (const void *)(buf + at);
			/* never from a kernel: stop rather than loop */
			if (de->d_reclen == 0 || at + de->d_reclen > n)
				return 0;
			at += de->d_reclen;
			pid_t id = name_id(de->d_name);
			if (!id)
				continue;
			int r = fn(ctx, id, (uint64_t)de->d_ino);
			if (r)
				return r;
		}
	}
}

ssize_t procfs_read(int dirfd, const char *name, char *buf, size_t size)
{
	if (size == 0) {
		errno = EINVAL;
		return -1;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	size_t got = 0;
	int e = 0;
	while (got < size - 1) {
		size_t want = size - 1 - got;
		ssize_t r = read(fd, buf + got, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			break;
		}
		got += (size_t)r;
		if ((size_t)r < want)
			break;	/* EOF, or all the file had */
	}
	close(fd);
	buf[got] = '\0';
	if (e && !got) {
		errno = e;
		return -1;
	}
	return (ssize_t)got;
}

ssize_t procfs_pread(int fd, char *buf, size_t size)
{
	if (size == 0) {
		errno = EINVAL;
		return -1;
	}
	ssize_t r;
	do
		r = pread(fd, buf, size - 1, 0);
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		buf[r] = '\0';
	return r;
}

int procfs_statm_rss(const char *line, uint64_t *bytes)
{
	unsigned long long size, resident;
	if (sscanf(line, "%llu %llu", &size, &resident) != 2)
		return -1;
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0 || resident > (UINT64_MAX >> 16))
		return -1;
	*bytes = (uint64_t)resident * (uint64_t)page;
	return 0;
}

ssize_t procfs_read_pid(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	return procfs_read(AT_FDCWD, path, buf, size);
}

void procfs_read_line(int dirfd, const char *name, char *out, size_t size)
{
	char buf[128];
	out[0] = '\0';
	if (size == 0 || procfs_read(dirfd, name, buf, sizeof buf) <= 0)
		return;
	size_t n = strcspn(buf, "\n");
	if (n >= size)
		n = size - 1;
	memcpy(out, buf, n);
	out[n] = '\0';
}

ssize_t procfs_read_cmdline(int dirfd, char *buf, size_t len)
{
	ssize_t n = procfs_read(dirfd, "cmdline", buf, len);
	if (n <= 0)
		return n;
	/* arguments are NUL-separated: join them with spaces */
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return n;
}
