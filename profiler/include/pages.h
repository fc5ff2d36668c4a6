/* Large zeroed arrays of which little is ever touched (hash-indexed
 * caches: a sampler's frame caches, CPython's code objects): each in an
 * anonymous mapping of its own, never in malloc's heap, so that only the
 * pages used are resident.  malloc maps large blocks too, but it first
 * reuses a freed region of its heap that fits, and calloc then zeroes it
 * whole: in a daemon whose targets come and go, ever more of the 0.6 and
 * 0.75 MiB blocks each target allocates landed in the heap and became
 * resident (its RSS grew 2 MiB in 20 minutes, its live data flat). */
#ifndef LOUPE_PAGES_H
#define LOUPE_PAGES_H

#include <stddef.h>

/* n zeroed bytes, or NULL (errno set). */
void *pages_zalloc(size_t n);
/* Frees what pages_zalloc(n) gave (NULL: nothing). */
void pages_free(void *p, size_t n);

#endif
