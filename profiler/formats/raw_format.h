/* The .loupe raw format on disk, shared by raw_writer.c and raw_reader.c.
 *
 * Versioned, append-only, crash-safe: a fixed header, then records that each
 * carry their type and length, so a reader skips what it does not know and
 * stops cleanly where a crash cut the file.  All fixed-width integers are
 * little-endian.
 *
 * Header (RAW_HEADER_SIZE = 18 bytes):
 *   0..5    magic "LOUPE\0"
 *   6..7    u16 version: major << 8 | minor (1.0 = 0x0100).  A reader
 *           refuses another major; a later minor only appends fields to
 *           records or adds record types, which an older reader skips.
 *   8..9    u16 flags, none defined yet (written 0, ignored when read)
 *   10..17  u64 wall-clock start of the recording, unix ns (0: unknown)
 *
 * Record (RAW_RECORD_HEADER = 5 bytes, then the payload):
 *   0       u8 type (enum raw_record_type)
 *   1..4    u32 payload length, at most MAX_RECORD_LEN (bounds.h)
 *   5..     payload
 *
 * Payload fields are LEB128 varints: "uv" unsigned (7 bits a byte, low
 * group first, at most 10 bytes), "sv" signed zigzag-encoded ((n << 1) ^
 * (n >> 63)) as a uv.  pid and tid are written as their uint32 value.  A
 * reader ignores bytes after the fields it knows.
 *
 *   STRING  uv id, then the bytes of the string (the rest of the payload,
 *           no terminating NUL)
 *   FRAME   uv id, uv kind, uv func, uv file, uv module, sv line, uv offset
 *           (func/file/module are string ids; see struct frame)
 *   STACK   uv id, uv n, n x uv frame id, root first
 *   THREAD  uv pid, uv tid, uv name (string id); a later record for the
 *           same thread renames it
 *   META    uv key, uv value (string ids); a later record for the same key
 *           replaces the value
 *   SAMPLE  sv time delta (ns since the time of the previous SAMPLE record,
 *           the first one relative to 0), uv pid, uv tid, uv stack,
 *           uv flags (enum sample_flags), uv cpu_ns, uv task (string id),
 *           from 1.1 uv weight (sampling periods the sample stands for,
 *           written only when above 1 or when cpu_weight follows;
 *           absent: 1), from 1.3 uv cpu_weight (struct sample; written
 *           only when an on-CPU sample's differs from weight; absent:
 *           weight)
 *   AGG     uv stack, uv pid, uv tid, uv task, uv samples, uv cpu_samples,
 *           uv gil_samples, uv idle_samples, uv cpu_ns (a profile written
 *           without its timeline)
 *   END     empty; written by a clean close, absent after a crash
 *   SPAN    (1.2) uv start_ns, uv dur_ns, uv pid, uv tid, uv cat, uv name,
 *           uv detail (string ids): a span of struct profile_span (the
 *           tracer's loop ticks and stalls), in the order added
 *
 * Ids of strings, frames and stacks are dense per table: id 0 of each is
 * implicit (the empty string, the "none" frame, the empty stack) and never
 * written; the record defining id k (k >= 1) comes right after the one
 * defining k - 1 and before any record that uses k.
 */
#ifndef LOUPE_RAW_FORMAT_H
#define LOUPE_RAW_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define RAW_MAGIC "LOUPE\0"
#define RAW_MAGIC_LEN 6
#define RAW_VERSION_MAJOR 1
#define RAW_VERSION_MINOR 3
#define RAW_HEADER_SIZE 18
#define RAW_RECORD_HEADER 5
/* Bytes of one varint at most. */
#define RAW_VARINT_MAX 10

enum raw_record_type {
	RAW_STRING = 1,
	RAW_FRAME = 2,
	RAW_STACK = 3,
	RAW_THREAD = 4,
	RAW_META = 5,
	RAW_SAMPLE = 6,
	RAW_AGG = 7,
	RAW_END = 8,
	RAW_SPAN = 9,
};

static inline size_t raw_put_uv(unsigned char *b, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		b[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	b[n++] = (unsigned char)v;
	return n;
}

static inline size_t raw_put_sv(unsigned char *b, int64_t v)
{
	return raw_put_uv(b, ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0));
}

static inline void raw_put_u16(unsigned char *b, uint16_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
}

static inline void raw_put_u32(unsigned char *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static inline void raw_put_u64(unsigned char *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t raw_get_u16(const unsigned char *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t raw_get_u32(const unsigned char *b)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static inline uint64_t raw_get_u64(const unsigned char *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* A cursor over one payload. */
struct raw_cursor {
	const unsigned char *p, *end;
	int bad;		/* set by a read past the end or a bad varint */
};

static inline uint64_t raw_get_uv(struct raw_cursor *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end) {
			c->bad = 1;
			return 0;
		}
		unsigned char byte = *c->p++;
		/* the 10th byte holds bit 63 only */
		if (shift == 63 && byte > 1) {
			c->bad = 1;
			return 0;
		}
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
	}
	c->bad = 1;
	return 0;
}

static inline int64_t raw_get_sv(struct raw_cursor *c)
{
	uint64_t u = raw_get_uv(c);
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

#endif
