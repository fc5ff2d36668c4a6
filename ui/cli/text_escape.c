/* Escaping of names for the terminal (text_escape.h). */
#include "text_escape.h"

#include <string.h>

#include "utf8.h"

/* The text standing for the character at p: into piece (at most 7 bytes
 * and a NUL), or p itself; *used is how many bytes of s it covers. */
static size_t piece_of(const unsigned char *p, char *piece, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = p[0];
	*used = 1;
	if (c >= 0x20 && c < 0x7f) {
		piece[0] = (char)c;
		return 1;
	}
	if (c < 0x80) {
		const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" :
				    c == '\t' ? "\\t" : c == 0x1b ? "\\e" : NULL;
		if (named) {
			memcpy(piece, named, 2);
			return 2;
		}
	} else {
		size_t n = utf8_char_len(p, strnlen((const char *)p, 4));
		if (n == 2 && c == 0xc2 && p[1] < 0xa0) {
			/* a C1 control: CSI (U+009B) starts an escape */
			memcpy(piece, "\\u00", 4);
			piece[4] = hex[p[1] >> 4];
			piece[5] = hex[p[1] & 15];
			*used = 2;
			return 6;
		}
		if (n) {
			memcpy(piece, p, n);
			*used = n;
			return n;
		}
	}
	piece[0] = '\\';
	piece[1] = 'x';
	piece[2] = hex[c >> 4];
	piece[3] = hex[c & 15];
	return 4;
}

const char *text_escape(const char *s, char *out, size_t len)
{
	size_t at = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		char piece[8];
		size_t used, n = piece_of(p, piece, &used);
		if (at + n + 1 > len)
			break;
		memcpy(out + at, piece, n);
		at += n;
		p += used;
	}
	out[at] = '\0';
	return out;
}

void text_fputs(const char *s, FILE *fp)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		char piece[8];
		size_t used, n = piece_of(p, piece, &used);
		fwrite(piece, 1, n, fp);
		p += used;
	}
}
