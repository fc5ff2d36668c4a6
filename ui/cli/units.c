/* Durations and sizes as people write them in options and config files. */
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int units_duration(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || !(v > 0) || isspace((unsigned char)*s))
		return -1;
	static const struct { const char *unit; double mul; } units[] = {
		{ "", 1 }, { "s", 1 }, { "ms", 1e-3 }, { "m", 60 }, { "h", 3600 },
		{ "d", 86400 },
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].unit) == 0) {
			/* 1e306d is finite, its seconds not */
			if (!isfinite(v * units[i].mul))
				return -1;
			*out = v * units[i].mul;
			return 0;
		}
	return -1;
}

int units_size(const char *s, uint64_t *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || !(v > 0))
		return -1;
	double mul = 1;
	const char *u = end;
	switch (*u) {
	case 'K': case 'k': mul = 1024.0; u++; break;
	case 'M': mul = 1024.0 * 1024; u++; break;
	case 'G': mul = 1024.0 * 1024 * 1024; u++; break;
	case 'T': mul = 1024.0 * 1024 * 1024 * 1024; u++; break;
	default: break;
	}
	if (mul > 1 && *u == 'i')
		u++;
	if (*u == 'B')
		u++;
	if (*u || (mul == 1 && u > end + 1))
		return -1;
	double b = v * mul;
	if (b < 1 || b > 1e18)
		return -1;
	*out = (uint64_t)b;
	return 0;
}
