/* Protocol-buffers wire format encoding (pb.h).  Wire types: 0 varint,
 * 2 length-delimited; a key is field << 3 | wire type. */
#include "pb.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

void pb_free(struct pb *m)
{
	free(m->b);
	memset(m, 0, sizeof *m);
}

void pb_reset(struct pb *m)
{
	m->len = 0;
}

void pb_raw(struct pb *m, const void *data, size_t len)
{
	if (m->err)
		return;
	if (m->len + len > m->cap) {
		size_t nc = m->cap ? m->cap : 256;
		while (nc < m->len + len) {
			if (nc > SIZE_MAX / 2) {
				m->err = LP_ENOMEM;
				return;
			}
			nc *= 2;
		}
		unsigned char *n = realloc(m->b, nc);
		if (!n) {
			m->err = LP_ENOMEM;
			return;
		}
		m->b = n;
		m->cap = nc;
	}
	if (len)
		memcpy(m->b + m->len, data, len);
	m->len += len;
}

void pb_varint(struct pb *m, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	while (v >= 0x80) {
		tmp[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (unsigned char)v;
	pb_raw(m, tmp, n);
}

void pb_uint(struct pb *m, uint32_t field, uint64_t v)
{
	pb_varint(m, (uint64_t)field << 3 | 0);
	pb_varint(m, v);
}

void pb_int(struct pb *m, uint32_t field, int64_t v)
{
	pb_uint(m, field, (uint64_t)v);
}

void pb_bytes(struct pb *m, uint32_t field, const void *data, size_t len)
{
	pb_varint(m, (uint64_t)field << 3 | 2);
	pb_varint(m, len);
	pb_raw(m, data, len);
}

void pb_msg(struct pb *m, uint32_t field, const struct pb *sub)
{
	if (sub->err && !m->err)
		m->err = sub->err;
	pb_bytes(m, field, sub->b, sub->len);
}

void pb_packed(struct pb *m, uint32_t field, const uint64_t *v, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t x = v[i];
		do {
			len++;
			x >>= 7;
		} while (x);
	}
	pb_varint(m, (uint64_t)field << 3 | 2);
	pb_varint(m, len);
	for (size_t i = 0; i < n; i++)
		pb_varint(m, v[i]);
}
