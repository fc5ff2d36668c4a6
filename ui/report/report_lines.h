/* loupe report FILE --lines FUNCTION: a function's figures per line (own
 * and total, CPU and wall) beside its source, read from the current
 * filesystem (issue #24 point 4). */
#ifndef LOUPE_UI_REPORT_LINES_H
#define LOUPE_UI_REPORT_LINES_H

#include "formats/formats.h"
#include "profile.h"

/* Prints every Python function of p named func (one section per file
 * that defines one).  Returns 0, 1 on a failure (printed), 2 when no
 * function has that name (printed, with a hint). */
int report_lines(const profile *p, const char *func, enum sample_mode mode);

#endif
