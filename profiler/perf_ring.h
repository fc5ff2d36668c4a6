/* A perf_event ring buffer, read in place: the event's system call, the
 * mapping (a control page, then 2^n data pages), and a bounded walk over
 * its records that a hostile or corrupt ring (a head past the size,
 * records of size 0 or past the end) never makes crash or loop.  Shared
 * by the native sampler (perf_native.c) and the on-CPU tracker
 * (oncpu.c). */
#ifndef LOUPE_PERF_RING_H
#define LOUPE_PERF_RING_H

#include <linux/perf_event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A record's size is a u16: a scratch buffer this big joins any record
 * cut by the ring's end. */
#define PERF_RING_MAX_RECORD (64u * 1024)

struct perf_ring {
	unsigned char *base;	/* control page (perf_event_mmap_page),
				 * then data_len bytes of data */
	size_t page;		/* the control page's size */
	size_t data_len;	/* a power of two */
};

struct perf_ring_stats {
	uint64_t bad;		/* corrupt states met (each resyncs the
				 * ring to its head) */
	uint64_t joined;	/* records cut by the ring's end, joined */
};

/* perf_event_open(2) with FD_CLOEXEC, no group: an fd, or -1 and errno. */
int perf_ring_event_open(struct perf_event_attr *a, pid_t tid, int cpu);

/* Maps fd's ring: page bytes of control, data_len (a power of two) of
 * data.  0, or -1 and errno. */
int perf_ring_map(struct perf_ring *r, int fd, size_t page, size_t data_len);
void perf_ring_unmap(struct perf_ring *r);

/* Called for each record in ring order: rec holds the whole record
 * (header included, h->size bytes), valid during the call.  Returns true
 * to consume it, false to stop before it (it is read again next time). */
typedef bool (*perf_ring_fn)(void *ctx, const struct perf_event_header *h,
			     const unsigned char *rec);

/* Hands the ring's records to fn, giving the space back as it goes.
 * scratch: PERF_RING_MAX_RECORD bytes.  Bounded by the ring's size: a
 * malformed header or position drops what is left (counted in st->bad).
 * Returns the records consumed. */
size_t perf_ring_read(const struct perf_ring *r, unsigned char *scratch,
		      perf_ring_fn fn, void *ctx, struct perf_ring_stats *st);

#endif
