/* loupe report --lines (report_lines.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "report_lines.h"
#include "text_escape.h"
#include "top_lines.h"

/* Lines of context printed around the sampled ones. */
#define CONTEXT_LINES 2
/* Functions of one name printed at most (one per file). */
#define MAX_SECTIONS 16

static void print_section(const profile *p, uint32_t func, uint32_t file,
			  int metric, struct top_lines *tl)
{
	char name[TEXT_ESCAPE_MAX], path[TEXT_ESCAPE_MAX];
	char text[4 * TOP_SOURCE_LINE_MAX + 64];
	struct top_source_file sf;
	text_escape(profile_str(p, func), name, sizeof name);
	text_escape(profile_str(p, file), path, sizeof path);
	top_source_load(&sf, 0, profile_str(p, file));
	if (tl->hot < tl->n)
		printf("%s (%s): hottest line %d by %s own\n", name, path,
		       (int)tl->v[tl->hot].line, metric ? "CPU" : "wall");
	else
		printf("%s (%s): no samples\n", name, path);
	if (sf.why[0])
		printf("source not shown: %s; figures by line number\n", sf.why);
	printf("  %%Own CPU  %%Total CPU  %%Own wall  %%Total wall  Heat      Line  Source\n");
	int32_t lo = tl->n ? tl->v[0].line : 1, hi = tl->n ? tl->v[tl->n - 1].line : 0;
	if (sf.nlines) {
		lo = lo - CONTEXT_LINES < 1 ? 1 : lo - CONTEXT_LINES;
		hi = hi + CONTEXT_LINES;
		if (hi > (int32_t)sf.nlines)
			hi = (int32_t)sf.nlines;
	}
	uint64_t hot_own = 0, hot_tot = 0;
	if (tl->hot < tl->n) {
		hot_own = tl->v[tl->hot].own[metric];
		hot_tot = tl->v[tl->hot].total[metric];
	}
	size_t next = 0;
	for (int32_t ln = lo; ln <= hi; ln++) {
		long at = -1;
		if (sf.nlines) {
			at = top_lines_find(tl, ln);
		} else {
			/* no file: only the lines with figures */
			if (next >= tl->n)
				break;
			at = (long)next++;
			ln = tl->v[at].line;
		}
		const struct top_line *l = at >= 0 ? &tl->v[at] : NULL;
		bool source = top_source_line(&sf, ln, text, sizeof text);
		char heat[8];
		double h = 0;
		if (l && hot_own)
			h = (double)l->own[metric] / (double)hot_own;
		else if (l && hot_tot)
			h = (double)l->total[metric] / (double)hot_tot;
		top_heat_bar(h, 7, heat, sizeof heat);
		if (l)
			printf("  %7.1f  %10.1f  %9.1f  %11.1f  %-7s %c%5d  %s\n",
			       top_lines_pct(tl, l->own[1], 1),
			       top_lines_pct(tl, l->total[1], 1),
			       top_lines_pct(tl, l->own[0], 0),
			       top_lines_pct(tl, l->total[0], 0), heat,
			       (size_t)at == tl->hot ? '>' : ' ', (int)ln,
			       source ? text : "");
		else
			printf("  %7s  %10s  %9s  %11s  %-7s  %5d  %s\n", "", "",
			       "", "", "", (int)ln, source ? text : "");
	}
	top_source_free(&sf);
}

int report_lines(const profile *p, const char *func, enum sample_mode mode)
{
	int metric = mode == MODE_WALL ? 0 : 1;
	/* the (function, file) pairs of that name */
	uint32_t files[MAX_SECTIONS], fid = 0;
	size_t nfiles = 0, more = 0;
	size_t nstr = profile_nstrs(p);
	for (uint32_t i = 1; i < nstr && !fid; i++) {
		const char *s = profile_str(p, i);
		if (s && strcmp(s, func) == 0)
			fid = i;
	}
	size_t nfr = profile_nframes(p);
	for (uint32_t i = 0; fid && i < nfr; i++) {
		const struct frame *f = profile_frame(p, i);
		if (!f || f->kind != FRAME_PYTHON || f->func != fid)
			continue;
		bool seen = false;
		for (size_t k = 0; k < nfiles; k++)
			seen |= files[k] == f->file;
		if (seen)
			continue;
		if (nfiles < MAX_SECTIONS)
			files[nfiles++] = f->file;
		else
			more++;
	}
	if (!nfiles) {
		char e[TEXT_ESCAPE_MAX];
		cli_error("no Python function named '%s' in this recording (names as 'loupe report FILE' prints them, without the file)",
			  text_escape(func, e, sizeof e));
		return 2;
	}
	struct top_lines tl;
	top_lines_init(&tl);
	for (size_t k = 0; k < nfiles; k++) {
		if (top_lines_compute(&tl, p, fid, files[k], 0, metric) != LP_OK) {
			top_lines_fini(&tl);
			cli_error("out of memory");
			return 1;
		}
		if (k)
			printf("\n");
		print_section(p, fid, files[k], metric, &tl);
	}
	if (more)
		printf("\n(%zu more files define a function of that name)\n", more);
	top_lines_fini(&tl);
	return 0;
}
