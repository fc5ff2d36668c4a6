/* Durations and sizes as people write them (options, config files). */
#ifndef LOUPE_UI_UNITS_H
#define LOUPE_UI_UNITS_H

#include <stdint.h>

/* "90" or "90s", "500ms", "10m", "2h", "7d", "1.5m" -> seconds (> 0).
 * 0 or -1. */
int units_duration(const char *s, double *out);
/* "4096", "512K", "500M", "2G", "1T" (powers of 1024, optional B or iB)
 * -> bytes (> 0).  0 or -1. */
int units_size(const char *s, uint64_t *out);

#endif
