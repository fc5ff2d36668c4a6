#include "pages.h"

#include <sys/mman.h>

void *pages_zalloc(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void pages_free(void *p, size_t n)
{
	if (p)
		munmap(p, n ? n : 1);
}

void *pages_resize(void *p, size_t old, size_t n)
{
	if (!p)
		return pages_zalloc(n);
	void *q = mremap(p, old ? old : 1, n ? n : 1, MREMAP_MAYMOVE);
	return q == MAP_FAILED ? NULL : q;
}
