#include "libc_cond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf.h"
#include "error.h"

/* struct __pthread_cond_s: __wseq and __g1_start (8 bytes each), then up
 * to 2.40 __g_refs[2], __g_size[2], __g1_orig_size, __wrefs (36); from
 * 2.41 __g_size[2], __g1_orig_size, __wrefs (28).  Before 2.25 the old
 * condvar had __nwaiters with another meaning: not read. */
int libc_cond_wrefs_for(int major, int minor)
{
	if (major != 2 || minor < 25)
		return -1;
	return minor >= 41 ? 28 : 36;
}

bool libc_version_in(const char *buf, size_t len, int *major, int *minor)
{
	static const char lib[] = "GNU C Library", rel[] = "release version ";
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *g = memmem(p, (size_t)(end - p), lib, sizeof lib - 1);
		if (!g)
			return false;
		/* the banner is one line: its version within 200 bytes */
		size_t room = (size_t)(end - g) < 200 ? (size_t)(end - g) : 200;
		const char *r = memmem(g, room, rel, sizeof rel - 1);
		int a, b;
		if (r && r + sizeof rel - 1 < end &&
		    sscanf(r + sizeof rel - 1, "%d.%d", &a, &b) == 2 &&
		    a > 0 && a < 100 && b >= 0 && b < 1000) {
			*major = a;
			*minor = b;
			return true;
		}
		p = g + 1;
	}
	return false;
}

/* The banner is in .rodata, a few MiB in at most. */
#define SCAN_CHUNK 65536
#define SCAN_MAX (16u << 20)
#define SCAN_KEEP 256

int libc_cond_wrefs_offset(int procfd, const struct maps *m)
{
	const struct map_entry *e = maps_find_file(m, "libc.so.6");
	if (!e)
		e = maps_find_file(m, "libc-2.");
	if (!e)
		return -1;	/* musl, a static binary: no count known */
	int fd;
	if (elf_open_mapped(procfd, e, &fd) != LP_OK)
		return -1;
	char *buf = malloc(SCAN_CHUNK + SCAN_KEEP);
	size_t have = 0;
	int major = 0, minor = 0;
	bool found = false;
	for (off_t at = 0; buf && !found && at < (off_t)SCAN_MAX;) {
		ssize_t n = pread(fd, buf + have, SCAN_CHUNK, at);
		if (n <= 0)
			break;
		at += n;
		size_t len = have + (size_t)n;
		found = libc_version_in(buf, len, &major, &minor);
		/* a banner cut by the chunk's end is found in the next */
		have = len < SCAN_KEEP ? len : SCAN_KEEP;
		memmove(buf, buf + len - have, have);
	}
	free(buf);
	close(fd);
	return found ? libc_cond_wrefs_for(major, minor) : -1;
}

bool libc_cond_waiters(uint32_t wrefs, uint32_t max, uint32_t *waiters)
{
	/* bit 0: process-shared (never for CPython's GIL), bit 1: the
	 * clock, bit 2: a waker waits for the last reference to go */
	if (wrefs & 1)
		return false;
	if ((wrefs >> 3) > max)
		return false;
	*waiters = wrefs >> 3;
	return true;
}
