#include "perf_ring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int perf_ring_event_open(struct perf_event_attr *a, pid_t tid, int cpu)
{
	return (int)syscall(SYS_perf_event_open, a, tid, cpu, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

int perf_ring_map(struct perf_ring *r, int fd, size_t page, size_t data_len)
{
	r->base = NULL;
	r->page = page;
	r->data_len = data_len;
	if (!data_len || (data_len & (data_len - 1))) {
		errno = EINVAL;
		return -1;
	}
	void *b = mmap(NULL, page + data_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	if (b == MAP_FAILED)
		return -1;
	r->base = b;
	return 0;
}

void perf_ring_unmap(struct perf_ring *r)
{
	if (r->base)
		munmap(r->base, r->page + r->data_len);
	r->base = NULL;
}

size_t perf_ring_read(const struct perf_ring *r, unsigned char *scratch,
		      perf_ring_fn fn, void *ctx, struct perf_ring_stats *st)
{
	struct perf_event_mmap_page *mp = (void *)r->base;
	const unsigned char *data = r->base + r->page;
	size_t len = r->data_len, mask = len - 1, n = 0;
	if (len < sizeof(struct perf_event_header) || (len & mask))
		return 0;
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = mp->data_tail;
	/* The kernel never runs more than a ring ahead of us, and records
	 * are 8-byte aligned (so a header never wraps): anything else is
	 * not a ring to trust; start again from its head. */
	if (head - tail > len || tail % 8) {
		st->bad++;
		__atomic_store_n(&mp->data_tail, head, __ATOMIC_RELEASE);
		return 0;
	}
	while (tail < head) {
		struct perf_event_header h;
		size_t off = (size_t)(tail & mask);
		memcpy(&h, data + off, sizeof h);
		if (h.size < sizeof h || h.size % 8 || h.size > head - tail) {
			st->bad++;
			tail = head;
			break;
		}
		const unsigned char *p = data + off;
		if (off + h.size > len) {
			size_t first = len - off;
			memcpy(scratch, data + off, first);
			memcpy(scratch + first, data, h.size - first);
			p = scratch;
			st->joined++;
		}
		if (!fn(ctx, &h, p))
			break;
		tail += h.size;
		n++;
		/* Give the space back as we go: the kernel may write while
		 * the caller works on the next record. */
		__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}
