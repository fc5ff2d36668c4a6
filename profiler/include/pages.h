/* Large zeroed arrays of which little is ever touched (hash-indexed
 * caches: a sampler's frame caches, CPython's code objects): each in an
 * anonymous mapping of its own, never in malloc's heap, so that only the
 * pages used are resident.  malloc maps large blocks too, but it first
 * reuses a freed region of its heap that fits, and calloc then zeroes it
 * whole: a target's 1.3 MiB of sparse caches became resident there.
 * (This did not end the daemon's slow RSS growth over an hour of targets
 * coming and going: that has another cause.) */
#ifndef LOUPE_PAGES_H
#define LOUPE_PAGES_H

#include <stddef.h>

/* n zeroed bytes, or NULL (errno set). */
void *pages_zalloc(size_t n);
/* Frees what pages_zalloc(n) gave (NULL: nothing). */
void pages_free(void *p, size_t n);

#endif
