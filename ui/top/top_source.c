/* loupe top's source view (top_source.h). */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "text_escape.h"
#include "top_model.h"
#include "top_source.h"

/* Width of a share column, its leading space included; of the heat bar. */
#define SHARE_W 9
#define HEAT_W 8

void top_source_init(struct top_source *v)
{
	memset(v, 0, sizeof *v);
	top_lines_init(&v->tl);
}

void top_source_fini(struct top_source *v)
{
	top_source_close(v);
	top_lines_fini(&v->tl);
}

void top_source_close(struct top_source *v)
{
	top_source_free(&v->sf);
	v->sf.why[0] = '\0';
	v->open = false;
}

bool top_source_pick(struct top_source *v, const profile *p, uint32_t frame,
		     int pid, int32_t only_pid, char *why, size_t why_len)
{
	const struct frame *f = profile_frame(p, frame);
	if (!f || f->kind != FRAME_PYTHON) {
		snprintf(why, why_len, "no source for this row: %s",
			 f && f->kind == FRAME_NATIVE ? "native code"
						      : "not a Python function");
		return false;
	}
	const char *func = profile_str(p, f->func);
	const char *file = profile_str(p, f->file);
	top_source_close(v);
	v->func = f->func;
	v->file = f->file;
	v->pid = pid;
	v->only_pid = only_pid;
	text_escape(func ? func : "?", v->name, sizeof v->name);
	text_escape(file ? file : "", v->path, sizeof v->path);
	snprintf(v->raw_path, sizeof v->raw_path, "%s", file ? file : "");
	v->scroll = 0;
	v->centre = true;
	return true;
}

void top_source_load_file(struct top_source *v)
{
	top_source_load(&v->sf, v->pid, v->raw_path);
	v->open = true;
}

void top_source_update(struct top_source *v, const profile *p, int metric)
{
	v->metric = metric;
	v->oom = top_lines_compute(&v->tl, p, v->func, v->file, v->only_pid,
				    metric) != LP_OK;
}

/* The rows shown: every line of the file, or without it every line with
 * figures.  Row i is line row_line(v, i). */
static size_t nrows(const struct top_source *v)
{
	return v->sf.nlines ? v->sf.nlines : v->tl.n;
}

static int32_t row_line(const struct top_source *v, size_t i)
{
	return v->sf.nlines ? (int32_t)i + 1 : v->tl.v[i].line;
}

static size_t hot_row(const struct top_source *v)
{
	if (v->tl.hot >= v->tl.n)
		return 0;
	int32_t line = v->tl.v[v->tl.hot].line;
	if (!v->sf.nlines)
		return v->tl.hot;
	return line >= 1 && (size_t)line <= v->sf.nlines ? (size_t)line - 1 : 0;
}

static void put(int y, int x, int width, const char *s, bool utf8)
{
	char out[4 * TOP_SOURCE_LINE_MAX + 1200];
	if (width <= 0 || x >= COLS)
		return;
	top_fit_text(s, width, utf8, out, sizeof out);
	mvaddstr(y, x, out);
}

static void share(char *buf, size_t len, const struct top_lines *tl,
		  uint64_t n, int metric)
{
	if (!n)
		snprintf(buf, len, "%*s", SHARE_W, "");
	else
		snprintf(buf, len, "%*.1f%%", SHARE_W - 1,
			 top_lines_pct(tl, n, metric));
}

void top_source_draw(struct top_source *v, int first, int last, bool utf8,
		     int heading_pair)
{
	char line[4 * TOP_SOURCE_LINE_MAX + 1200], text[4 * TOP_SOURCE_LINE_MAX + 64];
	const struct top_lines *tl = &v->tl;
	if (last - first < 3)
		return;
	/* what is shown, and where it came from */
	if (tl->hot < tl->n)
		snprintf(line, sizeof line, "%s (%s)  hottest line %d%s", v->name,
			 v->path, (int)tl->v[tl->hot].line,
			 v->oom ? "  [out of memory: figures not updated]" : "");
	else
		snprintf(line, sizeof line, "%s (%s)  no samples yet", v->name,
			 v->path);
	attron(A_BOLD);
	put(first, 0, COLS, line, utf8);
	attroff(A_BOLD);
	first++;
	if (v->sf.why[0]) {
		snprintf(line, sizeof line, "source not shown: %s; figures by line number",
			 v->sf.why);
		put(first++, 0, COLS, line, utf8);
	}
	attr_t head = heading_pair ? COLOR_PAIR(heading_pair) : A_REVERSE;
	attron(head);
	mvhline(first, 0, ' ', COLS);
	snprintf(line, sizeof line, "%*s%*s%*s%*s %-*s %6s  %s", SHARE_W,
		 "%OwnWall", SHARE_W, "%TotWall", SHARE_W, "%OwnCPU", SHARE_W,
		 "%TotCPU", HEAT_W, "Heat", "Line", "Source");
	put(first, 0, COLS, line, utf8);
	attroff(head);
	first++;

	int rows = last - first;
	size_t n = nrows(v);
	if (v->centre && tl->hot < tl->n) {
		v->scroll = (int)hot_row(v) - rows / 2;
		v->centre = false;
	}
	int max_scroll = (int)n - rows;
	if (v->scroll > max_scroll)
		v->scroll = max_scroll;
	if (v->scroll < 0)
		v->scroll = 0;
	uint64_t hot_own = 0, hot_tot = 0;
	if (tl->hot < tl->n) {
		hot_own = tl->v[tl->hot].own[v->metric];
		hot_tot = tl->v[tl->hot].total[v->metric];
	}
	/* the heat is the line's own share next to the hottest line's (its
	 * total share for a function that is never the leaf) */
	for (int y = first; y < last; y++) {
		size_t i = (size_t)(y - first + v->scroll);
		if (i >= n)
			break;
		int32_t ln = row_line(v, i);
		long at = top_lines_find(tl, ln);
		const struct top_line *l = at >= 0 ? &tl->v[at] : NULL;
		char ow[24], tw[24], oc[24], tc[24], heat[HEAT_W + 1];
		share(ow, sizeof ow, tl, l ? l->own[0] : 0, 0);
		share(tw, sizeof tw, tl, l ? l->total[0] : 0, 0);
		share(oc, sizeof oc, tl, l ? l->own[1] : 0, 1);
		share(tc, sizeof tc, tl, l ? l->total[1] : 0, 1);
		double h = 0;
		if (l && hot_own)
			h = (double)l->own[v->metric] / (double)hot_own;
		else if (l && hot_tot)
			h = (double)l->total[v->metric] / (double)hot_tot;
		top_heat_bar(h, HEAT_W - 1, heat, sizeof heat);
		bool hot = at >= 0 && (size_t)at == tl->hot;
		if (!top_source_line(&v->sf, ln, text, sizeof text))
			text[0] = '\0';
		snprintf(line, sizeof line, "%s%s%s%s %-*s %c%5d  %s", ow, tw, oc,
			 tc, HEAT_W - 1, heat, hot ? '>' : ' ', (int)ln, text);
		if (hot)
			attron(A_BOLD);
		put(y, 0, COLS, line, utf8);
		if (hot)
			attroff(A_BOLD);
	}
	if (n == 0)
		put(first, 0, COLS, "no samples in this function yet", utf8);
}

bool top_source_key(struct top_source *v, int ch, int page)
{
	switch (ch) {
	case KEY_UP: v->scroll--; break;
	case KEY_DOWN: v->scroll++; break;
	case KEY_PPAGE: v->scroll -= page; break;
	case KEY_NPAGE: v->scroll += page; break;
	case KEY_HOME: v->scroll = 0; break;
	case KEY_END: v->scroll = (int)nrows(v); break;
	default: return false;
	}
	return true;
}

const char *const *top_source_help(void)
{
	static const char *const text[] = {
		"loupe top source view keys",
		"",
		"Esc        back to the list of functions",
		"arrows, PgUp, PgDn   scroll the source",
		"Home, End  first and last line",
		"w c        which share picks the hottest line (wall, CPU)",
		"space      pause the display (sampling goes on)",
		"r          reset the counts",
		"?, h       this help; any key closes it",
		"q, Q, Ctrl-C   quit (the target runs on)",
		"",
		"%Own: the line running in this function (leaf); %Tot: this",
		"line on the stack.  Shares of all samples, updated at each",
		"refresh; Heat: own share next to the hottest line (marked >).",
		NULL,
	};
	return text;
}
