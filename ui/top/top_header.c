#include "top_header.h"

#include <stdio.h>
#include <string.h>

#include "sampler_status.h"
#include "top_trend.h"

/* Appends part to buf when the line stays within width columns (parts are
 * ASCII except the bar, whose columns are given). */
struct line {
	char *buf;
	size_t len, n;
	int width, cols;
};

static bool add(struct line *l, const char *part, int cols)
{
	size_t pl = strlen(part);
	const char *sep = l->n ? "  " : "";
	int sc = l->n ? 2 : 0;
	if (l->cols + sc + cols > l->width || l->n + strlen(sep) + pl + 1 > l->len)
		return false;
	memcpy(l->buf + l->n, sep, strlen(sep));
	l->n += strlen(sep);
	memcpy(l->buf + l->n, part, pl);
	l->n += pl;
	l->buf[l->n] = '\0';
	l->cols += sc + cols;
	return true;
}

static bool add_text(struct line *l, const char *part)
{
	return add(l, part, (int)strlen(part));
}

/* "[#######..]": achieved cells full, the missed share light (at least
 * one cell when any tick was missed, so that a small share shows). */
static int bar(char *buf, size_t len, int cells, double achieved,
	       double missed, bool utf8)
{
	int full = (int)(achieved * cells + 0.5);
	int light = missed > 0 ? (int)(missed * cells + 0.5) : 0;
	if (missed > 0 && light < 1)
		light = 1;
	if (full > cells - light)
		full = cells - light;
	size_t n = 0;
	if (full > cells)
		full = cells;
	if (full < 0)
		full = 0;
	buf[n++] = '[';
	for (int i = 0; i < cells && n + 4 < len; i++) {
		const char *c = i < full ? (utf8 ? "\u2588" : "#") : (utf8 ? "\u2591" : ".");
		memcpy(buf + n, c, strlen(c));
		n += strlen(c);
	}
	buf[n++] = ']';
	buf[n] = '\0';
	return cells + 2;
}

size_t top_header_rate(const struct top_header_in *in, int width, bool utf8,
		       char *buf, size_t len)
{
	struct line l = { buf, len, 0, width, 0 };
	char part[256], b[128];
	if (!len)
		return 0;
	buf[0] = '\0';
	double secs = (double)in->elapsed_ns / 1e9;
	double got = secs > 0 ? (double)in->ticks / secs : 0.0;
	uint64_t due = in->ticks + in->missed;
	double missed = due ? 100.0 * (double)in->missed / (double)due : 0.0;
	double achieved = in->rate_hz > 0 ? got / in->rate_hz : 0.0;
	snprintf(part, sizeof part, "rate %.1f/%g Hz", got, in->rate_hz);
	add_text(&l, part);
	/* room kept for the counts of lost samples, which come before the
	 * bar: "  N failed  N partial  N lost" */
	int reserve = 0;
	if (in->failed[PY_WALK_OK])
		reserve += snprintf(part, sizeof part, "  %llu failed",
				    (unsigned long long)in->failed[PY_WALK_OK]);
	if (in->truncated)
		reserve += snprintf(part, sizeof part, "  %llu partial",
				    (unsigned long long)in->truncated);
	if (in->errors)
		reserve += snprintf(part, sizeof part, "  %llu lost",
				    (unsigned long long)in->errors);
	snprintf(part, sizeof part, "%.1f%% missed", missed);
	/* the bar between the two, as wide as the line lets it be */
	int room = width - l.cols - 2 - (int)strlen(part) - 2 - 2 - reserve;
	int cells = room > 20 ? 20 : room;
	if (cells >= 5 && due) {
		int bc = bar(b, sizeof b, cells, achieved, missed / 100.0, utf8);
		add(&l, b, bc);
	}
	add_text(&l, part);
	if (in->failed[PY_WALK_OK]) {
		char f[200];
		sampler_failed_text(in->failed, f, sizeof f);
		if (!add_text(&l, f)) {
			snprintf(part, sizeof part, "%llu failed",
				 (unsigned long long)in->failed[PY_WALK_OK]);
			add_text(&l, part);
		}
	}
	if (in->truncated) {
		snprintf(part, sizeof part, "%llu partial (walk stopped short of the root)",
			 (unsigned long long)in->truncated);
		if (!add_text(&l, part)) {
			snprintf(part, sizeof part, "%llu partial",
				 (unsigned long long)in->truncated);
			add_text(&l, part);
		}
	}
	if (in->errors) {
		snprintf(part, sizeof part, "%llu lost (memory read failed)",
			 (unsigned long long)in->errors);
		if (!add_text(&l, part)) {
			snprintf(part, sizeof part, "%llu lost",
				 (unsigned long long)in->errors);
			add_text(&l, part);
		}
	}
	return l.n;
}

size_t top_header_states(const struct top_header_in *in, int width,
			 char *buf, size_t len)
{
	struct line l = { buf, len, 0, width, 0 };
	char part[200];
	if (!len)
		return 0;
	buf[0] = '\0';
	if (in->tasks) {
		size_t all = in->tasks_running + in->tasks_waiting;
		if (in->ready_known) {
			size_t ready = in->tasks_ready < in->tasks_waiting ?
					       in->tasks_ready : in->tasks_waiting;
			snprintf(part, sizeof part, "tasks %zu: %zu running, "
				 "%zu ready, %zu waiting", all,
				 in->tasks_running, ready,
				 in->tasks_waiting - ready);
			add_text(&l, part);
		} else {
			snprintf(part, sizeof part, "tasks %zu: %zu running, "
				 "%zu waiting", all, in->tasks_running,
				 in->tasks_waiting);
			add_text(&l, part);
			add_text(&l, "ready n/a");
		}
	}
	snprintf(part, sizeof part, "threads %u: %u on CPU", in->threads,
		 in->on_cpu);
	if (in->python)
		snprintf(part + strlen(part), sizeof part - strlen(part),
			 ", %u holding GIL", in->gil);
	snprintf(part + strlen(part), sizeof part - strlen(part),
		 ", %u idle", in->idle);
	if (!add_text(&l, part))
		return l.n;
	if (!add_text(&l, "(idle: system call, lock or GIL wait)"))
		add_text(&l, "(syscall/lock/GIL)");
	if (in->python && in->gil_wait_known) {
		snprintf(part, sizeof part, "%u waiting for GIL", in->gil_wait);
		add_text(&l, part);
	} else {
		add_text(&l, in->python ? "GIL wait n/a" : "GIL n/a");
	}
	if (in->gc_known) {
		snprintf(part, sizeof part, "%u in GC", in->gc);
		add_text(&l, part);
	} else {
		add_text(&l, "GC n/a");
	}
	return l.n;
}

size_t top_header_top3(const struct top_model *m,
		       const struct top_view_opts *vo, int width, bool utf8,
		       char *buf, size_t len)
{
	struct line l = { buf, len, 0, width, 0 };
	struct top_column cols[TOP_NCOLS];
	char part[TOP_NAME_MAX + 64], name[TOP_NAME_MAX + 8];
	if (!len)
		return 0;
	buf[0] = '\0';
	if (!m->nview)
		return 0;
	int k = (unsigned)vo->sort_metric < TOP_NMETRICS ? (int)vo->sort_metric : 0;
	top_columns((enum sample_mode)k, cols);
	bool mem = vo->sort_memory && !vo->sort_change;
	snprintf(part, sizeof part, "top by %s%s:", vo->sort_change ? "change of " : "",
		 mem ? (vo->sort_memory == 2 ? "KiB of RSS released"
					     : "KiB of RSS grown") :
		 vo->sort_total ? cols[1].title : cols[0].title);
	add_text(&l, part);
	/* the three share what is left */
	int each = (width - l.cols) / 3 - 2;
	for (size_t v = 0; v < m->nview && v < 3; v++) {
		const struct top_row *r = &m->rows[m->view[v]];
		char fig[32];
		uint64_t x = vo->sort_total ? r->total[k] : r->own[k];
		if (vo->sort_change) {
			char c[24];
			top_trend_change_text(r, k, c, sizeof c);
			snprintf(fig, sizeof fig, " %s", c);
		} else if (mem) {
			snprintf(fig, sizeof fig, " %.0f",
				 (vo->sort_memory == 2 ? r->released : r->grown)
				 / 1024.0);
		} else {
			snprintf(fig, sizeof fig, " %.1f%%", top_pct(m, x, (enum sample_mode)k));
		}
		int room = each - (int)strlen(fig);
		if (room < 6)
			room = 6;
		if (room > 40)
			room = 40;
		top_fit_function("", r, room, utf8, name, sizeof name);
		snprintf(part, sizeof part, "%s%s", name, fig);
		if (!add(&l, part, top_text_width(name) + (int)strlen(fig)))
			break;
	}
	return l.n;
}
