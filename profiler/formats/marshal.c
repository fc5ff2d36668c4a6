/* Python marshal encoding of dict, tuple, str, int and float (marshal.h).
 * Type codes from CPython's Python/marshal.c; lengths and 32-bit ints are
 * little-endian; no FLAG_REF, so no object is shared. */
#include "marshal.h"

#include <string.h>

#define TYPE_NULL '0'
#define TYPE_INT 'i'
#define TYPE_LONG 'l'
#define TYPE_BINARY_FLOAT 'g'
#define TYPE_UNICODE 'u'
#define TYPE_TUPLE '('
#define TYPE_DICT '{'

static void put_u32(FILE *fp, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	fwrite(b, 1, 4, fp);
}

void marshal_dict_begin(FILE *fp)
{
	fputc(TYPE_DICT, fp);
}

void marshal_dict_end(FILE *fp)
{
	fputc(TYPE_NULL, fp);
}

void marshal_tuple(FILE *fp, uint32_t n)
{
	fputc(TYPE_TUPLE, fp);
	put_u32(fp, n);
}

void marshal_str(FILE *fp, const char *s, size_t len)
{
	fputc(TYPE_UNICODE, fp);
	put_u32(fp, (uint32_t)len);
	fwrite(s, 1, len, fp);
}

void marshal_int(FILE *fp, int64_t v)
{
	if (v >= INT32_MIN && v <= INT32_MAX) {
		fputc(TYPE_INT, fp);
		put_u32(fp, (uint32_t)(int32_t)v);
		return;
	}
	/* TYPE_LONG: a signed count of 15-bit digits, low digit first */
	uint64_t m = v < 0 ? -(uint64_t)v : (uint64_t)v;
	unsigned char digits[10][2];
	int32_t n = 0;
	while (m) {
		digits[n][0] = (unsigned char)(m & 0xff);
		digits[n][1] = (unsigned char)((m >> 8) & 0x7f);
		m >>= 15;
		n++;
	}
	fputc(TYPE_LONG, fp);
	put_u32(fp, (uint32_t)(v < 0 ? -n : n));
	for (int32_t i = 0; i < n; i++)
		fwrite(digits[i], 1, 2, fp);
}

void marshal_float(FILE *fp, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(bits >> (8 * i));
	fputc(TYPE_BINARY_FLOAT, fp);
	fwrite(b, 1, 8, fp);
}
