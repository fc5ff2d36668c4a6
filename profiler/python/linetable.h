/* Line numbers from CPython code objects' line tables, decoded from bytes
 * copied out of the target.  Pure functions: no remote reads. */
#ifndef LOUPE_PY_LINETABLE_H
#define LOUPE_PY_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/* Every function takes the table bytes, co_firstlineno and the byte offset
 * of the current instruction from the start of the bytecode (callers convert
 * from code units where their version counts in them), and returns the line
 * number, or firstlineno when the table ends first (co_lnotab: the line
 * reached so far, as CPython's PyCode_Addr2Line up to 3.9 does), or 0 when
 * the table says the instruction has no line.  Reads never run past len. */

/* co_lnotab, 3.6 to 3.9: (byte increment, line increment) pairs; the line
 * increment is signed from 3.6 (Objects/lnotab_notes.txt). */
int py_line_lnotab(const uint8_t *tab, size_t len, int firstlineno,
		   uint32_t lasti_bytes);

/* co_lnotab of 2.7 (and 3.0 to 3.5): the line increment is unsigned, and
 * 2.7 does write increments from 128 to 255 (a gap of 151 lines is one
 * pair (n, 151)), which the signed reading would turn into -105. */
int py_line_lnotab_unsigned(const uint8_t *tab, size_t len, int firstlineno,
			    uint32_t lasti_bytes);

/* co_linetable, 3.10: (start delta, line delta) pairs with -128 meaning "no
 * line" (Objects/lnotab_notes.txt of 3.10). */
int py_line_linetable310(const uint8_t *tab, size_t len, int firstlineno,
			 uint32_t lasti_bytes);

/* co_linetable, 3.11 and later: the location table of
 * Objects/locations.md (entries of code-unit spans, varint / svarint line
 * deltas, short and one-line forms, no-location entries). */
int py_line_location(const uint8_t *tab, size_t len, int firstlineno,
		     uint32_t lasti_bytes);

#endif
