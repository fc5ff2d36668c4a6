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
