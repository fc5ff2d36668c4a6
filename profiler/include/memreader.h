/* The one interface through which remote memory is read.  A live target
 * implements it with process_vm_readv (profiler/target.c); tests and fuzzers
 * implement it over memory images (mem_image below), so every walker over
 * remote data runs without a live process. */
#ifndef LOUPE_MEMREADER_H
#define LOUPE_MEMREADER_H

#include <stddef.h>
#include <stdint.h>

struct remote_iov {
	uint64_t addr;	/* address in the target */
	void *local;	/* where to copy */
	size_t len;
};

typedef struct mem_reader mem_reader;
struct mem_reader {
	/* Reads every iov in full, in as few system calls as it can.
	 * Returns LP_OK, LP_EFAULT when any byte was unreadable (the readable
	 * iovs are still filled), LP_ENOPROC / LP_EPERM when the target is gone
	 * or refuses us (the target is over). */
	int (*readv)(mem_reader *self, const struct remote_iov *iov, size_t n);
	/* Counts readv calls, for benchmarks (reads per sample). */
	uint64_t calls;
};

static inline int mem_readv(mem_reader *r, const struct remote_iov *iov,
			    size_t n)
{
	r->calls++;
	return r->readv(r, iov, n);
}

static inline int mem_read(mem_reader *r, uint64_t addr, void *buf, size_t len)
{
	struct remote_iov v = { addr, buf, len };
	return mem_readv(r, &v, 1);
}

/* Reads a pointer-sized little-endian word. */
int mem_read_u64(mem_reader *r, uint64_t addr, uint64_t *out);

/* Copies a field out of a buffer holding a copied remote struct; never cast
 * remote bytes to C types.  Offsets come from layout tables. */
#define GET_MEMBER(type, buf, off) \
	({ type v__; memcpy(&v__, (const char *)(buf) + (off), sizeof v__); v__; })

/* A set of memory regions standing in for a process: for unit tests and
 * fuzzing of walkers. */
typedef struct mem_image mem_image;
mem_image *mem_image_new(void);
void mem_image_free(mem_image *img);
/* Copies len bytes of data to appear at addr.  Returns LP_OK or LP_ENOMEM. */
int mem_image_add(mem_image *img, uint64_t addr, const void *data, size_t len);
mem_reader *mem_image_reader(mem_image *img);

#endif
