/* Interactive SVG flame graphs, in the manner of Brendan Gregg's
 * flamegraph.pl: one box per node of the call tree (stacks merged by frame
 * text), widths by weight, children in alphabetical order, coloured by
 * kind (Python warm yellow, native red-orange, idle blue, task green,
 * thread grey-violet).  The boxes are static SVG, so that any viewer shows
 * the graph; an embedded script adds hover details, click to zoom, reset
 * and a search (Ctrl-F) that shows the matched share.
 *
 * Large profiles stay usable: siblings narrower than MIN_WIDTH_PX are
 * merged into one box "[N small frames]" and their subtrees are not drawn,
 * so the file grows with what can be seen, not with the profile. */
#include "formats/writer_util.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_WIDTH 1200.0
#define PAD 10.0
#define FRAME_H 16
#define FONT_SIZE 12
#define CHAR_W 7.0		/* width of a character at FONT_SIZE, about */
#define TOP_H 64		/* title, subtitle, buttons */
#define BOTTOM_H 34		/* details line */
#define MIN_WIDTH_PX 0.3

/* One box to draw. */
struct box {
	uint32_t node;		/* fold node, or UINT32_MAX for a merged box */
	uint32_t depth;
	uint32_t merged;	/* boxes merged into this one */
	double x;		/* in weight units from the left */
	uint64_t w[2];
};

struct boxes {
	struct box *b;
	size_t len, cap;
};

static int box_push(struct boxes *bs, struct box b)
{
	if (bs->len == bs->cap) {
		size_t nc = bs->cap ? bs->cap * 2 : 1024;
		struct box *n = realloc(bs->b, nc * sizeof *n);
		if (!n)
			return LP_ENOMEM;
		bs->b = n;
		bs->cap = nc;
	}
	bs->b[bs->len++] = b;
	return LP_OK;
}

/* Lays out the tree depth first with an explicit stack (stacks may be
 * MAX_INTERN_STACK_LEN deep). */
static int layout(const struct fold *f, double scale, struct boxes *out,
		  uint32_t *max_depth)
{
	struct pending { uint32_t node; double x; } *st = NULL;
	size_t sl = 0, sc = 0;
	int rc = LP_ENOMEM;
	*max_depth = 0;
	if (!f->n[0].w[0])
		return LP_OK;
	st = malloc(64 * sizeof *st);
	if (!st)
		return LP_ENOMEM;
	sc = 64;
	st[sl++] = (struct pending){ 0, 0 };
	while (sl) {
		struct pending cur = st[--sl];
		const struct fold_node *n = &f->n[cur.node];
		if (box_push(out, (struct box){ cur.node, n->depth, 0, cur.x,
						{ n->w[0], n->w[1] } }))
			goto out;
		if (n->depth > *max_depth)
			*max_depth = n->depth;
		uint32_t *kids;
		size_t nk;
		if (fold_children(f, cur.node, &kids, &nk))
			goto out;
		double x = cur.x;
		struct box merged = { UINT32_MAX, n->depth + 1, 0, 0, { 0, 0 } };
		for (size_t i = 0; i < nk; i++) {
			const struct fold_node *c = &f->n[kids[i]];
			if (!c->w[0])
				continue;	/* only in the base of a diff */
			if ((double)c->w[0] * scale < MIN_WIDTH_PX) {
				merged.merged++;
				merged.w[0] += c->w[0];
				merged.w[1] += c->w[1];
				continue;
			}
			if (sl == sc) {
				struct pending *ns = realloc(st, 2 * sc * sizeof *ns);
				if (!ns) {
					free(kids);
					goto out;
				}
				st = ns;
				sc *= 2;
			}
			st[sl++] = (struct pending){ kids[i], x };
			x += (double)c->w[0];
		}
		free(kids);
		/* the small ones go together after the drawn siblings */
		if (merged.merged && (double)merged.w[0] * scale >= MIN_WIDTH_PX) {
			merged.x = x;
			if (box_push(out, merged))
				goto out;
			if (merged.depth > *max_depth)
				*max_depth = merged.depth;
		}
	}
	rc = LP_OK;
out:
	free(st);
	return rc;
}

static uint32_t text_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Colour by kind, varied a little by name so neighbours stand apart. */
static void kind_colour(const struct fold_node *n, const char *text,
			char *buf, size_t len)
{
	uint32_t h = text_hash(text);
	double v = (h & 0xff) / 255.0, v2 = ((h >> 8) & 0xff) / 255.0;
	int r, g, b;
	if (n && n->idle[0] * 2 > n->w[0]) {	/* mostly idle: blue */
		r = 90 + (int)(50 * v);
		g = 140 + (int)(50 * v);
		b = 215 + (int)(35 * v2);
	} else if (!n || n->kind == FOLD_OTHER) {
		r = g = 180 + (int)(40 * v);
		b = 190 + (int)(40 * v);
	} else if (n->kind == FOLD_PYTHON) {
		r = 225 + (int)(30 * v);
		g = 170 + (int)(60 * v2);
		b = 40 + (int)(40 * v);
	} else if (n->kind == FOLD_NATIVE) {
		r = 220 + (int)(35 * v);
		g = 80 + (int)(70 * v2);
		b = 50 + (int)(30 * v);
	} else if (n->kind == FOLD_TASK) {
		r = 80 + (int)(50 * v);
		g = 180 + (int)(50 * v2);
		b = 80 + (int)(40 * v);
	} else {
		r = 170 + (int)(30 * v);
		g = 150 + (int)(30 * v);
		b = 200 + (int)(40 * v2);
	}
	snprintf(buf, len, "rgb(%d,%d,%d)", r, g, b);
}

/* Red for a grown share, blue for a shrunk one, by the change relative to
 * the largest change in the graph (flamegraph.pl's differential colours). */
static void diff_colour(double delta, double max_delta, char *buf, size_t len)
{
	double s = max_delta > 0 ? fabs(delta) / max_delta : 0;
	if (s > 1)
		s = 1;
	int fade = (int)(210 * (1 - s));
	if (delta > 0)
		snprintf(buf, len, "rgb(255,%d,%d)", 45 + fade, 45 + fade);
	else if (delta < 0)
		snprintf(buf, len, "rgb(%d,%d,255)", 45 + fade, 45 + fade);
	else
		snprintf(buf, len, "rgb(250,250,250)");
}

/* "func (/long/path/file.py:12)" is labelled "func (file.py:12)": the
 * base name is what tells frames apart at a glance; the whole path stays
 * in the tooltip.  Anything else is its own label. */
static const char *short_label(const char *text, char *buf, size_t len)
{
	size_t n = strlen(text);
	const char *open = strrchr(text, '(');
	if (n < 4 || text[n - 1] != ')' || !open || open == text ||
	    open[-1] != ' ')
		return text;
	const char *slash = NULL;
	for (const char *p = open + 1; p < text + n - 1; p++)
		if (*p == '/')
			slash = p;
	if (!slash)
		return text;
	int w = snprintf(buf, len, "%.*s(%s", (int)(open + 1 - text) - 1, text,
			 slash + 1);
	return w > 0 && (size_t)w < len ? buf : text;
}

/* The visible label: text cut to fit width px ("" when under 3 chars). */
static void put_label(FILE *fp, const char *full, double width)
{
	int chars = (int)((width - 6) / CHAR_W);
	char shortened[512];
	const char *text = short_label(full, shortened, sizeof shortened);
	size_t len = strlen(text);
	if (chars < 3)
		return;
	if (len <= (size_t)chars) {
		xml_escape(fp, text);
		return;
	}
	size_t cut = (size_t)chars - 2;
	/* not inside a UTF-8 sequence */
	while (cut > 0 && ((unsigned char)text[cut] & 0xc0) == 0x80)
		cut--;
	char *tmp = malloc(cut + 3);
	if (!tmp)
		return;
	memcpy(tmp, text, cut);
	memcpy(tmp + cut, "..", 3);
	xml_escape(fp, tmp);
	free(tmp);
}

static const char script[] =
"<script type=\"text/ecmascript\"><![CDATA[\n"
"'use strict';\n"
"/* no global named like a window property (frames, name): a browser\n"
"   would keep its own */\n"
"var fg, details, matchedtxt, unzoombtn, searchbtn, inverted, W, searching = null;\n"
"var SEP = ' \\u2014 ';\n"
"function init(evt) {\n"
"  fg = document.getElementById('frames');\n"
"  details = document.getElementById('details').firstChild;\n"
"  matchedtxt = document.getElementById('matched');\n"
"  unzoombtn = document.getElementById('unzoom');\n"
"  searchbtn = document.getElementById('search');\n"
"  inverted = document.documentElement.getAttribute('data-inverted') === '1';\n"
"  W = +document.documentElement.getAttribute('width');\n"
"  fg.addEventListener('mouseover', function (e) { var g = frame(e.target); if (g) details.nodeValue = title_of(g); });\n"
"  fg.addEventListener('mouseout', function (e) { details.nodeValue = ' '; });\n"
"  fg.addEventListener('click', function (e) { var g = frame(e.target); if (g) zoom(g); });\n"
"  window.addEventListener('keydown', function (e) {\n"
"    if ((e.ctrlKey || e.metaKey) && (e.key === 'f' || e.keyCode === 70)) { e.preventDefault(); search_prompt(); }\n"
"    else if (e.key === 'Escape') { reset_search(); }\n"
"  });\n"
"}\n"
"function frame(el) { while (el && el !== fg) { if (el.classList && el.classList.contains('f')) return el; el = el.parentNode; } return null; }\n"
"function title_of(g) { return g.getElementsByTagName('title')[0].textContent; }\n"
"function label_of(g) { var t = title_of(g), i = t.lastIndexOf(SEP); return i < 0 ? t : t.substring(0, i); }\n"
"function short_of(n) { var m = /^(.* \\()[^()]*\\/([^()\\/]*\\))$/.exec(n); return m ? m[1] + m[2] : n; }\n"
"function rect(g) { var r = g.getElementsByTagName('rect')[0]; if (g._x === undefined) { g._x = +r.getAttribute('x'); g._w = +r.getAttribute('width'); g._y = +r.getAttribute('y'); g._fill = r.getAttribute('fill'); } return r; }\n"
"function fit(g) {\n"
"  var r = rect(g), t = g.getElementsByTagName('text')[0], w = +r.getAttribute('width'), n = short_of(label_of(g)), c = Math.floor((w - 6) / 7);\n"
"  t.setAttribute('x', +r.getAttribute('x') + 3);\n"
"  t.textContent = c < 3 ? '' : (n.length <= c ? n : n.substring(0, c - 2) + '..');\n"
"}\n"
"function place(g, x, w, show, parent) {\n"
"  var r = rect(g); r.setAttribute('x', x); r.setAttribute('width', w);\n"
"  g.style.display = show ? '' : 'none'; g.style.opacity = parent ? 0.5 : ''; if (show) fit(g);\n"
"}\n"
"function zoom(z) {\n"
"  rect(z); var zx = z._x, zw = z._w, zy = z._y, s = (W - 20) / zw, eps = 1e-6 * zw, all = fg.children;\n"
"  for (var i = 0; i < all.length; i++) {\n"
"    var g = all[i]; rect(g);\n"
"    var deeper = inverted ? g._y >= zy : g._y <= zy;\n"
"    if (deeper && g._x >= zx - eps && g._x + g._w <= zx + zw + eps) place(g, 10 + (g._x - zx) * s, g._w * s, true, false);\n"
"    else if (!deeper && g._x <= zx + eps && g._x + g._w >= zx + zw - eps) place(g, 10, W - 20, true, true);\n"
"    else place(g, 0, 0, false, false);\n"
"  }\n"
"  unzoombtn.style.opacity = 1;\n"
"}\n"
"function unzoom() {\n"
"  var all = fg.children;\n"
"  for (var i = 0; i < all.length; i++) { rect(all[i]); place(all[i], all[i]._x, all[i]._w, true, false); }\n"
"  unzoombtn.style.opacity = 0;\n"
"}\n"
"function search_prompt() {\n"
"  if (searching) { reset_search(); return; }\n"
"  var term = prompt('Search for (regular expression):', '');\n"
"  if (term) search(term);\n"
"}\n"
"function reset_search() {\n"
"  var all = fg.children;\n"
"  for (var i = 0; i < all.length; i++) { var r = rect(all[i]); r.setAttribute('fill', all[i]._fill); }\n"
"  matchedtxt.textContent = ' '; searchbtn.style.opacity = 0.6; searching = null;\n"
"}\n"
"function search(term) {\n"
"  var re; try { re = new RegExp(term); } catch (e) { alert('not a regular expression: ' + term); return; }\n"
"  var all = fg.children, spans = [], width = 0;\n"
"  for (var i = 0; i < all.length; i++) {\n"
"    var g = all[i], r = rect(g);\n"
"    if (g._y === undefined || !re.test(label_of(g))) continue;\n"
"    r.setAttribute('fill', 'rgb(230,0,230)');\n"
"    spans.push([g._x, g._x + g._w]);\n"
"  }\n"
"  /* nested matches count once: the share is the union of their spans */\n"
"  spans.sort(function (a, b) { return a[0] - b[0]; });\n"
"  var end = -1;\n"
"  for (var j = 0; j < spans.length; j++) {\n"
"    if (spans[j][0] >= end) { width += spans[j][1] - spans[j][0]; end = spans[j][1]; }\n"
"    else if (spans[j][1] > end) { width += spans[j][1] - end; end = spans[j][1]; }\n"
"  }\n"
"  matchedtxt.textContent = 'Matched: ' + (100 * width / (W - 20)).toFixed(1) + '%';\n"
"  searchbtn.style.opacity = 1; searching = term;\n"
"}\n"
"]]></script>\n";

static const char style[] =
"<style type=\"text/css\">\n"
"text { font-family: Verdana, sans-serif; font-size: 12px; fill: rgb(0,0,0); }\n"
"#title { font-size: 17px; text-anchor: middle; }\n"
"#subtitle { font-size: 12px; text-anchor: middle; fill: rgb(90,90,90); }\n"
"#unzoom, #search { cursor: pointer; }\n"
"#frames > g:hover > rect { stroke: black; stroke-width: 0.5; cursor: pointer; }\n"
"#frames text { pointer-events: none; }\n"
"</style>\n";

/* ---- the hottest lines of a function, for its boxes' tooltips ---- */

/* Lines named in a tooltip. */
#define TIP_LINES 3

/* Tooltip texts by fold text id: "; hottest lines: line 22: 95.0%, ..." for
 * every box of a Python function (whatever its line), NULL elsewhere. */
struct tips {
	char **by_text;
	size_t n;
};

struct tip_entry {
	uint32_t key;		/* text of the function without its line */
	uint32_t node;		/* text of its boxes (with the line when
				 * the graph keeps lines) */
	int32_t line;
	uint64_t w;
};

static int cmp_tip(const void *a, const void *b)
{
	const struct tip_entry *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->w != y->w)
		return x->w > y->w ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

static void tips_fini(struct tips *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->by_text[i]);
	free(t->by_text);
	t->by_text = NULL;
	t->n = 0;
}

/* The text of frame id as fold_add_profile names it (ftext_get), interned
 * in f->texts. */
static uint32_t frame_text(struct fold *f, const profile *p, uint32_t id,
			   bool lines)
{
	const struct frame *fr = profile_frame(p, id);
	size_t len = profile_str_len(p, fr->func) + profile_str_len(p, fr->file) +
		     profile_str_len(p, fr->module) + 64;
	char small[512];
	char *tmp = len > sizeof small ? malloc(len) : small;
	if (!tmp)
		return PROFILE_NOID;
	format_frame(p, id, lines, tmp, len > sizeof small ? len : sizeof small);
	uint32_t t = profile_intern_cstr(f->texts, tmp);
	if (tmp != small)
		free(tmp);
	return t;
}

/* Each Python function's lines weighted as the graph is (wall samples in
 * wall and gil mode, CPU ones in cpu mode), counted once per stack: the
 * share of a line is of the function's samples. */
static int tips_build(struct tips *t, struct fold *f, const profile *p,
		      const struct output_opts *o)
{
	struct profile_func_stats *st = NULL;
	struct tip_entry *e = NULL;
	size_t n = 0, ne = 0;
	int rc = LP_ENOMEM;
	if (profile_func_stats(p, true, &st, &n) != LP_OK)
		return LP_ENOMEM;
	e = malloc((n ? n : 1) * sizeof *e);
	if (!e)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct frame *fr = profile_frame(p, st[i].frame);
		uint64_t w = o->mode == MODE_CPU ? st[i].total_cpu_samples
						 : st[i].total_samples;
		if (!fr || fr->kind != FRAME_PYTHON || fr->line <= 0 || !w)
			continue;
		uint32_t key = frame_text(f, p, st[i].frame, false);
		uint32_t node = frame_text(f, p, st[i].frame, o->lines);
		if (key == PROFILE_NOID || node == PROFILE_NOID)
			goto out;
		e[ne++] = (struct tip_entry){ key, node, fr->line, w };
	}
	qsort(e, ne, sizeof *e, cmp_tip);
	t->n = profile_nstrs(f->texts);
	t->by_text = calloc(t->n ? t->n : 1, sizeof *t->by_text);
	if (!t->by_text)
		goto out;
	for (size_t i = 0; i < ne;) {
		size_t j = i;
		uint64_t sum = 0;
		while (j < ne && e[j].key == e[i].key)
			sum += e[j++].w;
		char tip[48 * TIP_LINES + 32];
		int k = snprintf(tip, sizeof tip, "; hottest lines: ");
		for (size_t m = i; m < j && m < i + TIP_LINES; m++)
			k += snprintf(tip + k, sizeof tip - (size_t)k,
				      "%sline %d: %.1f%%", m > i ? ", " : "",
				      (int)e[m].line,
				      100.0 * (double)e[m].w / (double)sum);
		for (size_t m = i; m < j; m++) {
			if (e[m].node >= t->n || t->by_text[e[m].node])
				continue;
			if (!(t->by_text[e[m].node] = strdup(tip)))
				goto out;
		}
		i = j;
	}
	rc = LP_OK;
out:
	if (rc != LP_OK)
		tips_fini(t);
	free(e);
	free(st);
	return rc;
}

/* Writes the tree: diff is whether w[1] holds a base to compare with;
 * tips (NULL: none) add a function's hottest lines to its boxes. */
static int write_svg(const struct fold *f, FILE *fp,
		     const struct output_opts *o, bool diff,
		     const char *title, const char *subtitle,
		     const struct tips *tips)
{
	struct boxes bs = { 0 };
	uint64_t total = f->n[0].w[0];
	double span = IMAGE_WIDTH - 2 * PAD;
	double scale = total ? span / (double)total : 0;
	uint32_t max_depth;
	if (layout(f, scale, &bs, &max_depth)) {
		free(bs.b);
		return LP_ENOMEM;
	}
	double max_delta = 0;
	if (diff) {
		for (size_t i = 0; i < bs.len; i++) {
			double d = (f->total[0] ? (double)bs.b[i].w[0] / f->total[0] : 0) -
				   (f->total[1] ? (double)bs.b[i].w[1] / f->total[1] : 0);
			if (fabs(d) > max_delta)
				max_delta = fabs(d);
		}
	}
	int height = TOP_H + (int)(max_depth + 1) * FRAME_H + BOTTOM_H;
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%.0f\" height=\"%d\" viewBox=\"0 0 %.0f %d\" "
		"data-inverted=\"%d\" onload=\"init(evt)\">\n",
		IMAGE_WIDTH, height, IMAGE_WIDTH, height, o->inverted ? 1 : 0);
	fputs(style, fp);
	fputs(script, fp);
	fprintf(fp, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%d\" "
		"fill=\"rgb(248,248,242)\"/>\n", IMAGE_WIDTH, height);
	fprintf(fp, "<text id=\"title\" x=\"%.0f\" y=\"24\">", IMAGE_WIDTH / 2);
	xml_escape(fp, title);
	fprintf(fp, "</text>\n<text id=\"subtitle\" x=\"%.0f\" y=\"42\">",
		IMAGE_WIDTH / 2);
	xml_escape(fp, subtitle);
	fprintf(fp, "</text>\n"
		"<text id=\"unzoom\" x=\"%.0f\" y=\"24\" style=\"opacity:0\" "
		"onclick=\"unzoom()\">Reset Zoom</text>\n"
		"<text id=\"search\" x=\"%.0f\" y=\"24\" style=\"opacity:0.6\" "
		"text-anchor=\"end\" onclick=\"search_prompt()\">Search (Ctrl-F)</text>\n"
		"<text id=\"details\" x=\"%.0f\" y=\"%d\"> </text>\n"
		"<text id=\"matched\" x=\"%.0f\" y=\"%d\" text-anchor=\"end\"> </text>\n"
		"<g id=\"frames\">\n",
		PAD, IMAGE_WIDTH - PAD, PAD, height - 12, IMAGE_WIDTH - PAD,
		height - 12);
	for (size_t i = 0; i < bs.len; i++) {
		const struct box *b = &bs.b[i];
		const struct fold_node *n = b->node == UINT32_MAX ? NULL : &f->n[b->node];
		char merged_text[64];
		const char *text;
		if (n) {
			text = profile_str(f->texts, n->text);
		} else {
			snprintf(merged_text, sizeof merged_text,
				 "[%" PRIu32 " small frames]", b->merged);
			text = merged_text;
		}
		double x = PAD + b->x * scale, w = (double)b->w[0] * scale;
		int y = o->inverted ? TOP_H + (int)b->depth * FRAME_H
				    : TOP_H + (int)(max_depth - b->depth) * FRAME_H;
		char colour[48];
		double share = total ? 100.0 * (double)b->w[0] / (double)total : 0;
		fputs("<g class=\"f\"><title>", fp);
		xml_escape(fp, text);
		fprintf(fp, " \xe2\x80\x94 %" PRIu64 " sample%s, %.2f%%", b->w[0],
			b->w[0] == 1 ? "" : "s", share);
		if (n && tips && n->text < tips->n && tips->by_text[n->text])
			fputs(tips->by_text[n->text], fp);
		if (diff) {
			double base = f->total[1] ? 100.0 * (double)b->w[1] / (double)f->total[1] : 0;
			double now = f->total[0] ? 100.0 * (double)b->w[0] / (double)f->total[0] : 0;
			fprintf(fp, " (base %.2f%%, %+.2f points)", base, now - base);
			diff_colour(now - base, 100.0 * max_delta, colour, sizeof colour);
		} else {
			kind_colour(n, text, colour, sizeof colour);
		}
		fprintf(fp, "</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
			"height=\"%d\" fill=\"%s\" rx=\"2\"/><text x=\"%.2f\" "
			"y=\"%d\">", x, y, w, FRAME_H - 1, colour, x + 3,
			y + FRAME_H - 4);
		put_label(fp, text, w);
		fputs("</text></g>\n", fp);
	}
	fputs("</g>\n</svg>\n", fp);
	free(bs.b);
	return ferror(fp) ? LP_EIO : LP_OK;
}

static void make_subtitle(const profile *p, const struct output_opts *o,
			  uint64_t total, const char *extra, char *buf,
			  size_t len)
{
	const char *runtime = profile_meta(p, "runtime");
	snprintf(buf, len, "%s mode, %.1f s, %" PRIu64 " samples%s%s%s",
		 writer_mode_name(o->mode), writer_duration_ns(p) / 1e9, total,
		 runtime ? ", " : "", runtime ? runtime : "", extra);
}

int flamegraph_write(const profile *p, FILE *fp, const struct output_opts *o)
{
	struct fold f;
	if (fold_init(&f))
		return LP_ENOMEM;
	int rc = fold_add_profile(&f, p, o, 0);
	if (rc == LP_OK) {
		char target[256], title[320], sub[512];
		writer_target(p, target, sizeof target);
		snprintf(title, sizeof title, "%s: %s",
			 o->inverted ? "Icicle graph" : "Flame graph", target);
		make_subtitle(p, o, f.total[0], "", sub, sizeof sub);
		struct tips tips = { 0 };
		rc = tips_build(&tips, &f, p, o);
		if (rc == LP_OK)
			rc = write_svg(&f, fp, o, false,
				       o->title ? o->title : title, sub, &tips);
		tips_fini(&tips);
	}
	fold_fini(&f);
	return rc;
}

int flamegraph_write_diff(const profile *base, const profile *cur, FILE *fp,
			  const struct output_opts *o)
{
	struct fold f;
	if (fold_init(&f))
		return LP_ENOMEM;
	int rc = fold_add_profile(&f, cur, o, 0);
	if (rc == LP_OK)
		rc = fold_add_profile(&f, base, o, 1);
	if (rc == LP_OK) {
		char target[256], title[320], sub[512], extra[128];
		writer_target(cur, target, sizeof target);
		snprintf(title, sizeof title, "Differential flame graph: %s",
			 target);
		snprintf(extra, sizeof extra,
			 "; base %" PRIu64 " samples; red grew, blue shrank",
			 f.total[1]);
		make_subtitle(cur, o, f.total[0], extra, sub, sizeof sub);
		rc = write_svg(&f, fp, o, true, o->title ? o->title : title, sub,
			       NULL);
	}
	fold_fini(&f);
	return rc;
}
