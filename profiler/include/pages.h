/* Large blocks of which little may be touched (hash-indexed caches, a
 * walk's frame array, blocks filled as they are used): each in an
 * anonymous mapping of its own, never in malloc's heap, so that only the
 * pages used are resident.  malloc maps large blocks too, but it first
 * serves them from a freed region of its heap that fits, whatever the
 * mmap threshold: as a daemon's targets come and go, its large blocks
 * move into the heap, where calloc zeroes them whole and the pages an
 * earlier block touched stay resident. */
#ifndef LOUPE_PAGES_H
#define LOUPE_PAGES_H

#include <stddef.h>

/* n zeroed bytes, or NULL (errno set). */
void *pages_zalloc(size_t n);
/* Frees what pages_zalloc(n) gave (NULL: nothing). */
void pages_free(void *p, size_t n);
/* p (of old bytes, or NULL) grown or shrunk to n, its contents kept, the
 * rest zeroed; NULL when it cannot be (p is then unchanged). */
void *pages_resize(void *p, size_t old, size_t n);

#endif
