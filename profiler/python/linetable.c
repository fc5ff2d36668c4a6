/* Line numbers from CPython line tables: co_lnotab (2.7 to 3.9), the 3.10
 * co_linetable and the 3.11+ location table.  The bytes come from another
 * process and may be anything: every read is checked against len, every
 * sum is done in 64 bits so that garbage cannot overflow, and each loop
 * advances by at least one byte per turn, so it ends within len turns. */
#include <limits.h>

#include "python/linetable.h"

/* Line arithmetic in 64 bits, clamped back into int at the end: a table
 * of MAX_LINETABLE_LEN bytes of garbage moves the line by at most
 * 2^32 per entry, far from the limits of int64_t. */
static int clamp_line(int64_t line)
{
	if (line < 0 || line > INT_MAX)
		return 0;
	return (int)line;
}

/* co_lnotab: pairs (address increment, line increment), both bytes; the
 * line of an instruction is the sum of the line increments of every pair
 * whose summed address is at or below it (Objects/lnotab_notes.txt;
 * PyCode_Addr2Line of 2.7 to 3.9).  An odd trailing byte is ignored, as
 * CPython does (size / 2 pairs). */
static int lnotab(const uint8_t *tab, size_t len, int firstlineno,
		  uint32_t lasti, int sign)
{
	int64_t line = firstlineno;
	uint64_t addr = 0;
	size_t i;

	if (!tab)
		return firstlineno;
	for (i = 0; i + 1 < len; i += 2) {
		addr += tab[i];
		if (addr > lasti)
			break;
		line += sign ? (int8_t)tab[i + 1] : tab[i + 1];
	}
	return clamp_line(line);
}

int py_line_lnotab(const uint8_t *tab, size_t len, int firstlineno,
		   uint32_t lasti_bytes)
{
	/* Signed from 3.6: bpo-26107 allowed negative line increments. */
	return lnotab(tab, len, firstlineno, lasti_bytes, 1);
}

int py_line_lnotab_unsigned(const uint8_t *tab, size_t len, int firstlineno,
			    uint32_t lasti_bytes)
{
	return lnotab(tab, len, firstlineno, lasti_bytes, 0);
}

/* 3.10 co_linetable: each pair (start delta as an unsigned byte, line
 * delta as a signed byte) is one address range [end, end + delta) whose
 * line is the running line plus the line delta, or none when the delta is
 * -128, which leaves the running line alone (3.10 Objects/lnotab_notes.txt
 * and advance() in Objects/codeobject.c).  Empty ranges only carry line
 * changes too large for one byte. */
int py_line_linetable310(const uint8_t *tab, size_t len, int firstlineno,
			 uint32_t lasti_bytes)
{
	int64_t line = firstlineno;
	uint64_t end = 0;
	size_t i;

	if (!tab)
		return firstlineno;
	for (i = 0; i + 1 < len; i += 2) {
		int8_t ldelta = (int8_t)tab[i + 1];
		uint64_t start = end;

		end += tab[i];
		if (ldelta != -128)
			line += ldelta;
		if (lasti_bytes >= start && lasti_bytes < end)
			return ldelta == -128 ? 0 : clamp_line(line);
	}
	return firstlineno;
}

/* 3.11+ location table (Objects/locations.md, InternalDocs/locations.md
 * from 3.13 on, same format through 3.14).  An entry starts with a byte
 * with bit 7 set: bits 3-6 are the kind, bits 0-2 the length in code
 * units minus one; continuation bytes have bit 7 clear. */
enum {
	LOC_ONE_LINE0 = 10,	/* 10, 11, 12: line delta 0, 1, 2 */
	LOC_ONE_LINE2 = 12,
	LOC_NO_COLUMNS = 13,	/* svarint line delta */
	LOC_LONG = 14,		/* svarint line delta, then columns */
	LOC_NONE = 15,		/* no location: the instruction has no line */
	CODE_UNIT = 2,		/* sizeof(_Py_CODEUNIT) */
	/* A varint of a 32-bit value takes at most 6 chunks of 6 bits; more
	 * is garbage and ends the read (CPython's writer never emits it). */
	MAX_VARINT_CHUNKS = 6,
};

/* Reads a varint at tab[*pos]: 6-bit chunks, least significant first, bit
 * 6 set on every chunk but the last (Objects/locations.md).  Returns 0 and
 * leaves *pos alone when the bytes run out, meet an entry start (bit 7) or
 * go on too long. */
static int read_varint(const uint8_t *tab, size_t len, size_t *pos,
		       uint64_t *out)
{
	uint64_t val = 0;
	size_t p = *pos;
	unsigned shift = 0;
	int n;

	for (n = 0; n < MAX_VARINT_CHUNKS; n++) {
		uint8_t b;

		if (p >= len || (tab[p] & 0x80))
			return 0;
		b = tab[p++];
		val |= (uint64_t)(b & 0x3f) << shift;
		shift += 6;
		if (!(b & 0x40)) {
			*pos = p;
			*out = val;
			return 1;
		}
	}
	return 0;
}

/* Signed varint: the low bit of the unsigned varint is the sign, the rest
 * the magnitude. */
static int read_svarint(const uint8_t *tab, size_t len, size_t *pos,
			int64_t *out)
{
	uint64_t u;

	if (!read_varint(tab, len, pos, &u))
		return 0;
	*out = (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
	return 1;
}

int py_line_location(const uint8_t *tab, size_t len, int firstlineno,
		     uint32_t lasti_bytes)
{
	int64_t line = firstlineno;
	uint64_t end = 0;
	size_t pos = 0;

	if (!tab)
		return firstlineno;
	/* pos grows by at least one byte a turn: at most len turns. */
	while (pos < len) {
		uint8_t first = tab[pos];
		unsigned kind = (first >> 3) & 15;
		uint64_t start = end;
		int64_t delta = 0;
		int has_line = 1;
		size_t p = pos + 1;

		if (!(first & 0x80))
			return firstlineno;	/* not an entry start: garbage */
		end += (uint64_t)((first & 7) + 1) * CODE_UNIT;
		if (kind == LOC_NONE) {
			has_line = 0;
		} else if (kind == LOC_NO_COLUMNS || kind == LOC_LONG) {
			if (!read_svarint(tab, len, &p, &delta))
				return firstlineno;
		} else if (kind >= LOC_ONE_LINE0 && kind <= LOC_ONE_LINE2) {
			delta = kind - LOC_ONE_LINE0;
		}
		line += delta;
		if (lasti_bytes >= start && lasti_bytes < end)
			return has_line ? clamp_line(line) : 0;
		/* Skip the columns: every byte up to the next entry start,
		 * as CPython's advance() does. */
		while (p < len && !(tab[p] & 0x80))
			p++;
		pos = p;
	}
	return firstlineno;
}
