/* Memory images of a live interpreter for the walker's and the asyncio
 * reader's unit tests: a mem_reader that records every region it read,
 * the image replaying them, and copies to corrupt. */
#ifndef LOUPE_TESTS_MEM_CAPTURE_H
#define LOUPE_TESTS_MEM_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "memreader.h"

struct region {
	uint64_t addr;
	size_t len;
	uint8_t *data;
};

/* Wraps inner: reader() records every fully successful read (an EFAULT
 * batch still filled its readable iovs, but which ones is not known). */
struct capture {
	mem_reader base;
	mem_reader *inner;
	struct region *v;
	size_t n, cap;
};

void capture_init(struct capture *c, mem_reader *inner);

/* An image of regions v[0, n); later ones win where they overlap. */
mem_image *regions_image(const struct region *v, size_t n);
/* A deep copy, to corrupt. */
struct region *regions_copy(const struct region *v, size_t n);
void regions_free(struct region *v, size_t n);

#endif
