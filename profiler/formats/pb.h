/* A minimal protocol-buffers encoder (wire format: varints, length-
 * delimited fields, packed repeated varints) for the pprof writer.  Only
 * what profile.proto needs; checked against `go tool pprof`, a real
 * decoder, by the functional tests.  Internal to profiler/formats. */
#ifndef LOUPE_PB_H
#define LOUPE_PB_H

#include <stddef.h>
#include <stdint.h>

/* A growable buffer; failed allocations stick in .err (LP_ENOMEM), so that
 * a writer checks once at the end. */
struct pb {
	unsigned char *b;
	size_t len, cap;
	int err;
};

void pb_free(struct pb *m);
void pb_reset(struct pb *m);
void pb_raw(struct pb *m, const void *data, size_t len);
void pb_varint(struct pb *m, uint64_t v);
/* field of wire type 0 (int64/uint64 as varint); written even when 0 */
void pb_uint(struct pb *m, uint32_t field, uint64_t v);
/* int64 field: negative values as 10-byte two's complement varints */
void pb_int(struct pb *m, uint32_t field, int64_t v);
/* field of wire type 2 */
void pb_bytes(struct pb *m, uint32_t field, const void *data, size_t len);
void pb_msg(struct pb *m, uint32_t field, const struct pb *sub);
/* packed repeated uint64 */
void pb_packed(struct pb *m, uint32_t field, const uint64_t *v, size_t n);

#endif
