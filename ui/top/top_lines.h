/* A function's source with its figures per line (issue #24 point 4): the
 * per-line own and total samples, wall and CPU, of one Python function
 * (from the profile's frames, which keep the line executed), and its
 * source file read with bounds, from a target's own filesystem
 * (/proc/PID/root, so that a container's files are the ones shown) or
 * from the current one (report --lines on a recording).  No ncurses here:
 * loupe top's source view (top_source.c) and report --lines (cmd_report.c)
 * both print from it. */
#ifndef LOUPE_UI_TOP_LINES_H
#define LOUPE_UI_TOP_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Largest source file shown: a bigger one is refused, not read. */
#define TOP_SOURCE_MAX_BYTES (4u * 1024 * 1024)
/* Bytes of one source line shown (the rest is cut). */
#define TOP_SOURCE_LINE_MAX 512

/* Figures of one line: index 0 wall samples, 1 CPU samples (cpu_weight of
 * the on-CPU ones). */
struct top_line {
	int32_t line;
	uint64_t own[2];	/* the function was the leaf, at this line */
	uint64_t total[2];	/* the function was on the stack at this line
				 * (once per stack and line) */
	size_t seen;		/* top_lines_compute's: 1 + the last aggregate
				 * counted in total */
};

struct top_lines {
	struct top_line *v;	/* by line number */
	size_t n, cap;
	uint64_t all[2];	/* the profile's samples: the 100% */
	size_t hot;		/* index of the hottest line; n when none */
};

void top_lines_init(struct top_lines *tl);
void top_lines_fini(struct top_lines *tl);

/* The lines of the Python function named by the string ids func and file
 * (every line of it seen in p), of process pid's samples only when pid > 0
 * (the shares stay of all of p's samples, as top's rows are), hottest by
 * metric (0 wall, 1 CPU): most own samples, then most total.  One pass
 * over p's aggregates; allocates only when a line is new to tl.  LP_OK or
 * LP_ENOMEM. */
int top_lines_compute(struct top_lines *tl, const profile *p, uint32_t func,
		      uint32_t file, int32_t pid, int metric);
/* The share of samples in percent (0 when nothing was sampled). */
double top_lines_pct(const struct top_lines *tl, uint64_t samples, int metric);
/* Index of line in tl, or -1. */
long top_lines_find(const struct top_lines *tl, int32_t line);

/* A source file in memory, split into lines. */
struct top_source_file {
	char *buf;
	size_t len;
	size_t *starts;		/* offset of each line in buf */
	size_t nlines;
	char why[512];		/* why it is not shown; "" when read */
};

/* Reads path (as the code object names it) into sf.  pid > 0: from that
 * process's filesystem, an absolute path resolved inside /proc/PID/root,
 * a relative one beneath /proc/PID/cwd; pid <= 0: from the current
 * filesystem.  A file that is not regular or is over
 * TOP_SOURCE_MAX_BYTES is refused.  Returns 0 when read, -1 with sf->why
 * set otherwise (sf is then empty but valid). */
int top_source_load(struct top_source_file *sf, int pid, const char *path);
void top_source_free(struct top_source_file *sf);
/* Line number line (1-based) of sf, escaped for a terminal (text_escape)
 * with tabs expanded, cut to TOP_SOURCE_LINE_MAX bytes, into out.  False
 * when sf has no such line. */
bool top_source_line(const struct top_source_file *sf, int32_t line,
		     char *out, size_t len);

/* A heat bar of width cells for share (0..1 of the hottest line): '#'
 * cells then '.'; an empty string for 0. */
void top_heat_bar(double share, int width, char *out, size_t len);

#endif
