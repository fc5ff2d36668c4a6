/* Well-formed UTF-8 (RFC 3629): what a name read from a target may be
 * printed as, and what it must be to be taken as text at all. */
#ifndef LOUPE_UTF8_H
#define LOUPE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of the well-formed character of 2 to 4 bytes at p, of which avail
 * may be read; 0 for ASCII, a stray byte, an overlong form, a surrogate,
 * past U+10FFFF or cut at avail.  Reads no further than the first byte
 * that does not continue the character. */
size_t utf8_char_len(const unsigned char *p, size_t avail);

/* Whether n bytes are well-formed UTF-8. */
bool utf8_valid(const char *s, size_t n);

#endif
