/* Writing the few types of Python's marshal format that a pstats file
 * holds (CPython Python/marshal.c): dict, tuple, str, int, float.  Python 3
 * reads every one of these whatever the marshal version; checked against
 * the real reader (pstats.Stats) by the functional tests.  Internal to
 * profiler/formats. */
#ifndef LOUPE_MARSHAL_H
#define LOUPE_MARSHAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void marshal_dict_begin(FILE *fp);
void marshal_dict_end(FILE *fp);	/* TYPE_NULL ends a dict */
void marshal_tuple(FILE *fp, uint32_t n);	/* then n objects */
void marshal_str(FILE *fp, const char *s, size_t len);
void marshal_int(FILE *fp, int64_t v);
void marshal_float(FILE *fp, double v);

#endif
