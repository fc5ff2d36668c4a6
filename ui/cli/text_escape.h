/* Names that come from a target or a recording, made safe to print on a
 * terminal: a function called "a\n\x1b[2J" must neither forge a line nor
 * clear the screen (issue #17). */
#ifndef LOUPE_UI_TEXT_ESCAPE_H
#define LOUPE_UI_TEXT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Room for a name of up to 1024 bytes, every byte escaped (\xHH). */
#define TEXT_ESCAPE_MAX (4 * 1024 + 1)

/* s into out (len bytes, len >= 1) with what a terminal acts on written
 * out: control characters as \n, \r, \t, \e or \xHH (C0 and DEL), the C1
 * controls U+0080..U+009F as \u0080..\u009f, and bytes that are not UTF-8
 * as \xHH; everything else (printable ASCII, valid UTF-8) as is.  Cut,
 * never inside an escape or a character, when out is too small.  Returns
 * out. */
const char *text_escape(const char *s, char *out, size_t len);

/* Writes s escaped as above to fp. */
void text_fputs(const char *s, FILE *fp);

#endif
