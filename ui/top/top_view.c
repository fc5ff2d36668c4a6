/* loupe top's live view (its command is ui/cmd_top.c).  The sampler runs in
 * a thread of its own and the main thread draws, so that a slow terminal
 * never costs a sample: the two meet only under the sampler's lock, for as
 * long as it takes to aggregate the profile into the model's arrays
 * (top_model.c); drawing happens outside it. */
#include <curses.h>
#include <langinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "clock.h"
#include "formats/formats.h"
#include "memcharge.h"
#include "options.h"
#include "profile.h"
#include "sampler.h"
#include "sampler_status.h"
#include "session.h"
#include "top_header.h"
#include "top_snapshot.h"
#include "top_trend.h"
#include "top_model.h"
#include "top_source.h"
#include "top_view.h"

/* Last: term.h defines macros named like ordinary words (lines, columns). */
#include <term.h>

/* How often the figures are recomputed, and how long getch waits for a key
 * between checks of the sampler (short enough that an exit shows at
 * once, long enough that an idle view costs nothing). */
#define REFRESH_NS 1000000000ull
#define KEY_WAIT_MS 100
/* How long a message in the footer stays. */
#define MESSAGE_NS 4000000000ull
#define FILTER_MAX 128
/* Width of a figure column, its leading space included. */
#define COL_W 11
/* Rows of a plain table (no screen to scroll). */
#define PLAIN_ROWS 20

enum { PAIR_TITLE = 1, PAIR_HEADING, PAIR_ALERT, PAIR_DIM };

struct thread_seen {
	int32_t tid;
	uint64_t samples, cpu_samples;
};

struct top {
	struct cli_opts o;
	target *t;
	profile *p;
	sampler *s;
	pthread_mutex_t lock;
	pthread_t thread;
	bool thread_started;
	atomic_bool sampler_done;
	int sampler_rc;
	lp_error sampler_err;
	bool python, native_sampled;
	char target_desc[160];

	struct top_model m;
	struct top_agg_opts ao;
	struct top_view_opts vo;
	char filter[FILTER_MAX];
	bool editing, paused, help, finished;
	bool procs_view;	/* key p: a row per process */
	struct sampler_proc_view *views;	/* compute's copy */
	size_t views_cap;
	bool interrupted;	/* ended by a signal, not by the sampler */

	/* Figures copied under the lock. */
	struct sampler_stats st, st_base;
	uint64_t start_ns, last_compute_ns;
	/* Threads sampled in the last refresh, and of those on CPU. */
	struct thread_seen *prev;
	size_t nprev, prev_cap;
	uint64_t prev_ns;
	size_t live_threads, active_threads;

	/* The header's figures (top_header.c), the trends (top_trend.c)
	 * and the aggregation they were counted under. */
	struct top_header_in hin;
	top_trend *trend;
	struct top_agg_opts trend_ao;
	uint64_t trend_base;	/* st_base.ticks: r resets the trends */
	int head_h;		/* header lines: the table's heading below */
	uint64_t rate_ns, rate_ticks, rate_missed;	/* the rate's window */

	/* The memory column (key m, --memory, --sort GrowKiB): RSS growth
	 * charged to the stacks that ran (memcharge.c), made when first
	 * asked and fed by the sampler's thread from then on, under the
	 * lock; shown or not. */
	memcharge *mem;
	int32_t mem_pid;	/* the process whose RSS it reads */
	bool mem_shown;

	int scroll;
	struct top_source src;	/* Enter: the first row's source */
	char msg[200];
	uint64_t msg_until;
	bool colors, utf8;
	SCREEN *screen;
};

static void say(struct top *tp, const char *text)
{
	snprintf(tp->msg, sizeof tp->msg, "%s", text);
	tp->msg_until = clock_mono_ns() + MESSAGE_NS;
}

/* The sampler's sink (under the lock): the memory charge, once asked,
 * of the samples of the process whose RSS it reads (not its children's,
 * with --subprocesses). */
static int mem_sink(void *ctx, const profile *p, const struct sample *s)
{
	struct top *tp = ctx;
	if (!tp->mem || s->pid != tp->mem_pid)
		return LP_OK;
	return memcharge_sink(tp->mem, p, s);
}

static void *sampler_thread(void *arg)
{
	struct top *tp = arg;
	tp->sampler_rc = sampler_run(tp->s, &session_stop, mem_sink, tp,
				     &tp->sampler_err);
	atomic_store(&tp->sampler_done, true);
	return NULL;
}

/* Threads sampled since the last refresh: those whose counts grew.  A
 * recomputation for a key right after a refresh would see too short a
 * span, so the counts move on only once per refresh period. */
static void count_threads(struct top *tp)
{
	const struct top_model *m = &tp->m;
	uint64_t now = clock_mono_ns();
	if (tp->nprev && now - tp->prev_ns < REFRESH_NS / 2)
		return;
	tp->prev_ns = now;
	size_t live = 0, active = 0, j = 0;
	/* both lists are in tid order (top_model_compute sorts them) */
	for (size_t i = 0; i < m->nthreads; i++) {
		const struct top_thread *th = &m->threads[i];
		uint64_t ps = 0, pc = 0;
		while (j < tp->nprev && tp->prev[j].tid < th->tid)
			j++;
		if (j < tp->nprev && tp->prev[j].tid == th->tid) {
			ps = tp->prev[j].samples;
			pc = tp->prev[j].cpu_samples;
		}
		/* after a reset the counts start again from 0 */
		if (ps > th->samples)
			ps = pc = 0;
		live += th->samples > ps;
		active += th->cpu_samples > pc;
	}
	tp->live_threads = live;
	tp->active_threads = active;
	if (m->nthreads > tp->prev_cap) {
		struct thread_seen *a = realloc(tp->prev, m->nthreads * sizeof *a);
		if (!a) {
			tp->nprev = 0;
			return;
		}
		tp->prev = a;
		tp->prev_cap = m->nthreads;
	}
	for (size_t i = 0; i < m->nthreads; i++)
		tp->prev[i] = (struct thread_seen){ m->threads[i].tid,
						    m->threads[i].samples,
						    m->threads[i].cpu_samples };
	tp->nprev = m->nthreads;
}

/* The header's figures, under the lock: the sampler's since the last
 * reset, its last tick's threads, and the last tick's tasks. */
static void header_inputs(struct top *tp)
{
	struct top_header_in *h = &tp->hin;
	const struct sampler_stats *st = &tp->st, *b = &tp->st_base;
	h->rate_hz = tp->o.rate;
	/* the rate over the last refresh (at least half a period, so that
	 * a recomputation for a key does not measure a short window) */
	uint64_t now = clock_mono_ns();
	if (!tp->rate_ns || st->ticks < tp->rate_ticks) {
		tp->rate_ns = tp->start_ns;
		tp->rate_ticks = tp->rate_missed = 0;
	}
	if (now - tp->rate_ns >= REFRESH_NS / 2) {
		h->ticks = st->ticks - tp->rate_ticks;
		h->missed = st->missed - tp->rate_missed;
		h->elapsed_ns = now - tp->rate_ns;
		tp->rate_ns = now;
		tp->rate_ticks = st->ticks;
		tp->rate_missed = st->missed;
	}
	for (size_t i = 0; i < PY_WALK_NFAILS; i++)
		h->failed[i] = st->failed[i] - b->failed[i];
	h->truncated = st->truncated - b->truncated;
	h->errors = st->errors - b->errors;
	h->python = tp->python;
	h->threads = st->tick_threads;
	h->on_cpu = st->tick_on_cpu;
	h->gil = st->tick_gil;
	h->idle = st->tick_idle;
	h->gc_known = st->gc_known;
	h->gc = st->tick_gc;
	h->gil_wait_known = st->gil_wait_known;
	h->gil_wait = st->tick_gil_wait;
	const aio_reader *a = tp->o.tasks ? sampler_tasks(tp->s) : NULL;
	h->tasks = a != NULL;
	h->tasks_running = h->tasks_waiting = h->tasks_done = 0;
	h->tasks_ready = 0;
	h->ready_known = a && aio_reader_ready_known(a);
	if (a) {
		size_t n, dropped;
		const struct aio_task *t = aio_reader_tasks(a, &n, &dropped);
		for (size_t i = 0; i < n; i++) {
			if (t[i].state != AIO_PENDING) {
				h->tasks_done++;
			} else if (t[i].running) {
				h->tasks_running++;
			} else {
				h->tasks_waiting++;
				h->tasks_ready += t[i].ready;
			}
		}
	}
}

/* Aggregates the profile (under the lock, and only that), then sorts and
 * filters outside it. */
static void compute(struct top *tp)
{
	int rc;
	pthread_mutex_lock(&tp->lock);
	tp->ao.mem = tp->mem;
	rc = top_model_compute(&tp->m, tp->p, &tp->ao);
	tp->st = *sampler_stats(tp->s);
	header_inputs(tp);
	/* The sampler's processes (state, parent, threads): copied by the
	 * model, so read under the lock. */
	size_t nv = sampler_nprocs(tp->s);
	if (rc == LP_OK && nv > tp->views_cap) {
		struct sampler_proc_view *v = realloc(tp->views, nv * sizeof *v);
		if (v) {
			tp->views = v;
			tp->views_cap = nv;
		}
	}
	if (nv > tp->views_cap)
		nv = tp->views_cap;
	for (size_t i = 0; i < nv; i++)
		sampler_proc_at(tp->s, i, &tp->views[i]);
	if (rc == LP_OK)
		rc = top_model_procs(&tp->m, tp->views, nv);
	if (tp->src.open)
		top_source_update(&tp->src, tp->p, tp->vo.mode == MODE_CPU);
	pthread_mutex_unlock(&tp->lock);
	tp->last_compute_ns = clock_mono_ns();
	if (rc == LP_OK)
		top_model_cpu_rate(&tp->m, tp->last_compute_ns, REFRESH_NS / 2);
	if (rc == LP_OK && tp->trend) {
		/* another aggregation has other rows: their history starts
		 * again */
		struct top_agg_opts now = tp->ao;
		now.mem = NULL;	/* the memory column adds no rows */
		if (memcmp(&tp->trend_ao, &now, sizeof now) != 0 ||
		    tp->trend_base != tp->st_base.ticks)
			top_trend_reset(tp->trend);
		tp->trend_ao = now;
		tp->trend_base = tp->st_base.ticks;
		top_trend_update(tp->trend, &tp->m, tp->last_compute_ns);
	}
	if (rc == LP_OK)
		rc = top_model_view(&tp->m, &tp->vo);
	if (rc != LP_OK)
		say(tp, "out of memory: figures not updated");
	count_threads(tp);
}

static void view(struct top *tp)
{
	if (top_model_view(&tp->m, &tp->vo) != LP_OK)
		say(tp, "out of memory: view not updated");
}

/* ---- drawing ---- */

static void fit_text(const struct top *tp, const char *s, int width, char *out,
		     size_t len)
{
	top_fit_text(s, width, tp->utf8, out, len);
}

static void put_fit(struct top *tp, int y, int x, int width, const char *s)
{
	char out[1024];
	fit_text(tp, s, width, out, sizeof out);
	mvaddstr(y, x, out);
}

static void style_on(struct top *tp, int pair, attr_t plain)
{
	if (tp->colors)
		attron(COLOR_PAIR(pair) | (pair == PAIR_HEADING ? 0 : A_BOLD));
	else
		attron(plain);
}

static void style_off(struct top *tp, int pair, attr_t plain)
{
	if (tp->colors)
		attroff(COLOR_PAIR(pair) | A_BOLD);
	else
		attroff(plain);
}

static void fmt_duration(char *buf, size_t len, uint64_t ns)
{
	uint64_t s = ns / 1000000000ull;
	if (s >= 3600)
		snprintf(buf, len, "%llu:%02llu:%02llu",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%llu:%02llu", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
}

/* Layouts by width (loupe(1) names them):
 *   120 columns and more: the six figure columns, the function, and
 *     file:line in a column of its own;
 *   96 and more: six figure columns, then "function (file:line)";
 *   76 and more: the four shares (own and total of wall and CPU, or of
 *     the mode and the other metric), no seconds;
 *   narrower (the minimal layout): the mode's own and total share.
 * The function column cuts the middle of a long qualified name before the
 * file's, and never the line number (top_fit_located). */
#define WIDE_MIN 120
static int visible_columns(int width)
{
	if (width >= 6 * COL_W + 30)
		return 6;
	if (width >= 4 * COL_W + 32)
		return 4;
	return 2;
}

/* The memory column (two cells: KiB grown and freed) after the figures;
 * the figures give way to it first on a narrow terminal. */
static int mem_width(const struct top *tp)
{
	return tp->mem_shown ? 2 * COL_W : 0;
}

static int figure_columns(const struct top *tp, int width)
{
	return visible_columns(width - mem_width(tp));
}

/* A row's memory cells (r NULL: the headings, the sorted one in [ ]),
 * appended to buf. */
static void mem_cells(const struct top *tp, const struct top_row *r,
		      char *buf, size_t len)
{
	size_t at = strlen(buf);
	for (int i = 0; i < 2 && at < len; i++) {
		char cell[32];
		const char *title = i ? TOP_MEM_RELEASED : TOP_MEM_GROWN;
		bool sorted = tp->vo.sort_memory == i + 1 && !tp->vo.sort_change;
		if (!r)
			snprintf(cell, sizeof cell, sorted ? "[%s]" : "%s ", title);
		else
			snprintf(cell, sizeof cell, "%.0f ",
				 (i ? r->released : r->grown) / 1024.0);
		int n = snprintf(buf + at, len - at, "%*s", COL_W, cell);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

/* Width of the file:line column (0: none), the rest of the row being
 * the function's. */
static int place_width(int width)
{
	if (width < WIDE_MIN)
		return 0;
	int w = (width - (6 * COL_W + 1)) * 2 / 5;
	return w < 20 ? 20 : w > 60 ? 60 : w;
}

/* Positions of the mode's columns on screen: the shares first, the
 * seconds only when there is room for all six. */
static void shown_columns(int nshown, int idx[TOP_NCOLS])
{
	for (int i = 0; i < nshown; i++)
		idx[i] = i;
}

static uint64_t elapsed_ns(const struct top *tp)
{
	uint64_t now = tp->finished ? tp->start_ns + tp->st.elapsed_ns : clock_mono_ns();
	return now - tp->start_ns;
}

/* Whether the target is a tree of processes: --subprocesses, or a
 * profile with several (the header counts them, rows show their PID). */
static bool several_procs(const struct top *tp)
{
	return tp->o.subprocesses || tp->m.procs_in_profile > 1;
}

/* Whether rows carry a PID column: rows per process (not merged) of
 * several processes. */
static bool pid_column(const struct top *tp)
{
	return tp->m.procs_in_profile > 1 && !tp->ao.tasks &&
	       (tp->ao.per_process || tp->ao.per_thread);
}

/* The figures line of the header. */
static void figures_text(const struct top *tp, char *line, size_t len)
{
	const struct top_model *m = &tp->m;
	uint64_t ticks = tp->st.ticks - tp->st_base.ticks;
	uint64_t missed = tp->st.missed - tp->st_base.missed;
	uint64_t wall = m->totals[MODE_WALL];
	int n = snprintf(line, len,
			 "samples %llu taken, %llu missed  threads %zu, %zu active  idle %.1f%%",
			 (unsigned long long)ticks, (unsigned long long)missed,
			 tp->live_threads, tp->active_threads,
			 wall ? 100.0 * (double)m->idle / (double)wall : 0.0);
	if (tp->python && n > 0 && (size_t)n < len)
		n += snprintf(line + n, len - (size_t)n, "  GIL %.1f%%",
			      top_pct(m, m->totals[MODE_GIL], MODE_WALL));
	/* the failed samples and why: the rate line (top_header.c) */
	if (several_procs(tp) && n > 0 && (size_t)n < len) {
		char procs[160];
		top_procs_text(m, procs, sizeof procs);
		snprintf(line + n, len - (size_t)n, "  %s", procs);
	}
}

/* The settings line of the header. */
static void settings_text(const struct top *tp, char *line, size_t len)
{
	const struct top_model *m = &tp->m;
	char thr[80] = "all";
	if (tp->ao.tid) {
		int i = top_thread_index(m, tp->ao.tid);
		snprintf(thr, sizeof thr, "%d%s%s%s", (int)tp->ao.tid,
			 i >= 0 && m->threads[i].name[0] ? " (" : "",
			 i >= 0 ? m->threads[i].name : "",
			 i >= 0 && m->threads[i].name[0] ? ")" : "");
	}
	int n = snprintf(line, len, "mode %s  %s  threads %s%s  native %s",
			 top_mode_name(tp->vo.mode),
			 tp->ao.by_line ? "by line" : "by function", thr,
			 tp->ao.per_thread ? ", a row each" : "",
			 !tp->native_sampled ? "off" : tp->ao.hide_native ? "hidden" : "shown");
	if (tp->filter[0] && n > 0 && (size_t)n < len)
		n += snprintf(line + n, len - (size_t)n,
			      "  filter \"%s\" (%zu of %zu)", tp->filter,
			      m->nview, m->nrows);
	if (tp->ao.tasks && n > 0 && (size_t)n < len)
		n += snprintf(line + n, len - (size_t)n, "  TASKS");
	if (tp->mem_shown && n > 0 && (size_t)n < len)
		n += snprintf(line + n, len - (size_t)n,
			      "  memory in KiB of RSS: %.0f grown, %.0f freed",
			      m->mem_grown / 1024.0, m->mem_released / 1024.0);
	if (tp->paused && n > 0 && (size_t)n < len)
		snprintf(line + n, len - (size_t)n, "  [PAUSED]");
}

static void draw_header(struct top *tp)
{
	char line[512], el[32];
	fmt_duration(el, sizeof el, elapsed_ns(tp));

	style_on(tp, PAIR_TITLE, A_BOLD);
	snprintf(line, sizeof line, "loupe top - %s", tp->target_desc);
	put_fit(tp, 0, 0, COLS - 16, line);
	style_off(tp, PAIR_TITLE, A_BOLD);
	snprintf(line, sizeof line, "elapsed %s", el);
	if (COLS > 16 + (int)strlen(line))
		mvaddstr(0, COLS - (int)strlen(line), line);
	figures_text(tp, line, sizeof line);
	put_fit(tp, 1, 0, COLS, line);
	int y = 2;
	if (tp->head_h >= 4) {
		top_header_rate(&tp->hin, COLS, tp->utf8, line, sizeof line);
		put_fit(tp, y++, 0, COLS, line);
	}
	if (tp->head_h >= 5) {
		top_header_states(&tp->hin, COLS, line, sizeof line);
		put_fit(tp, y++, 0, COLS, line);
	}
	if (tp->head_h >= 6) {
		top_header_top3(&tp->m, &tp->vo, COLS, tp->utf8, line, sizeof line);
		put_fit(tp, y++, 0, COLS, line);
	}
	settings_text(tp, line, sizeof line);
	put_fit(tp, y, 0, COLS, line);
}

/* Header lines for the terminal's height: all six from 16 lines; shorter,
 * the top three go first, then the threads' states, then the rate (the
 * three lines of before). */
static int header_height(void)
{
	return LINES >= 16 ? 6 : LINES >= 14 ? 5 : LINES >= 12 ? 4 : 3;
}

/* The headings of the figure columns, or a row's figures, nshown columns
 * of COL_W characters each. */
static void figures_row(const struct top *tp, const struct top_row *r,
			int nshown, char *buf, size_t len)
{
	struct top_column cols[TOP_NCOLS];
	int idx[TOP_NCOLS];
	int sorted = top_sort_column(&tp->vo);
	size_t at = 0;
	top_columns(tp->vo.mode, cols);
	shown_columns(nshown, idx);
	buf[0] = '\0';
	for (int i = 0; i < nshown && at < len; i++) {
		const struct top_column *c = &cols[idx[i]];
		char cell[64];
		if (!r && idx[i] == sorted && !tp->vo.sort_change)
			snprintf(cell, sizeof cell, "[%s]", c->title);
		else if (!r)
			snprintf(cell, sizeof cell, "%s ", c->title);
		else if (c->seconds)
			snprintf(cell, sizeof cell, "%.2f ",
				 top_cell(&tp->m, r, c, tp->o.rate));
		else
			snprintf(cell, sizeof cell, "%.1f%% ",
				 top_cell(&tp->m, r, c, tp->o.rate));
		int n = snprintf(buf + at, len - at, "%*s", COL_W, cell);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

/* What comes before a row's function: its process and thread first,
 * where a cut name cannot lose them, or its task count. */
static void row_prefix(const struct top *tp, const struct top_row *r,
		       char *buf, size_t len)
{
	if (pid_column(tp) && tp->ao.per_thread)
		snprintf(buf, len, "%7d [%d] ", (int)r->pid, (int)r->tid);
	else if (pid_column(tp))
		snprintf(buf, len, "%7d ", (int)r->pid);
	else if (tp->ao.tasks)
		snprintf(buf, len, "[%llu] ", (unsigned long long)r->ntasks);
	else if (tp->ao.per_thread)
		snprintf(buf, len, "[%d] ", (int)r->tid);
	else
		buf[0] = '\0';
}

/* A row's name in width columns: "function (file:line)", or with place_w
 * the function in the first width - place_w - 1 columns and file:line
 * in the last place_w. */
static void row_text(const struct top *tp, const struct top_row *r,
		     int width, int place_w, char *buf, size_t len)
{
	char prefix[48];
	row_prefix(tp, r, prefix, sizeof prefix);
	if (!place_w) {
		top_fit_located(prefix, r, width, tp->utf8, buf, len);
		return;
	}
	char func[TOP_NAME_MAX + 48], place[TOP_NAME_MAX];
	int func_w = width - place_w - 1;
	top_fit_function(prefix, r, func_w, tp->utf8, func, sizeof func);
	place[0] = '\0';
	if (r->where[0])
		top_fit_path(r->where, r->line, place_w, tp->utf8, place,
			     sizeof place);
	/* pad the function to its column (as many bytes more than columns
	 * as its characters take) */
	int pad = func_w - top_text_width(func);
	snprintf(buf, len, "%s%*s %s", func, pad > 0 ? pad : 0, "", place);
}

/* The heading of the name column. */
static const char *name_heading(const struct top *tp)
{
	if (tp->ao.tasks)
		return "[tasks] coroutine";
	if (pid_column(tp))
		return tp->ao.per_thread ? "    PID [thread] function" : "    PID function";
	return tp->ao.per_thread ? "[thread] function" : "function";
}

/* The process view (key p): a row per process, in the order they were
 * found, exited ones kept and marked. */
#define PROC_HEADING "    PID    PPID S  THR   %Wall    %CPU  COMMAND"

static void proc_text(const struct top *tp, const struct top_proc *e,
		      char *buf, size_t len)
{
	uint64_t all = 0;
	for (size_t i = 0; i < tp->m.nprocs; i++)
		all += tp->m.procs[i].samples;
	char ppid[16] = "-";
	if (e->ppid)
		snprintf(ppid, sizeof ppid, "%d", (int)e->ppid);
	snprintf(buf, len, "%7d %7s %c %4zu %6.1f%% %6.1f%%  %s%s", (int)e->pid,
		 ppid, e->state ? e->state : '?', e->nthreads,
		 all ? 100.0 * (double)e->samples / (double)all : 0.0,
		 e->cpu_pct, e->comm[0] ? e->comm : "?",
		 e->state == 'X' ? " (exited)" : "");
}

static void draw_procs(struct top *tp)
{
	int hy = tp->head_h, first = hy + 1, last = LINES - 2;
	char line[256];
	style_on(tp, PAIR_HEADING, A_REVERSE);
	mvhline(hy, 0, ' ', COLS);
	put_fit(tp, hy, 0, COLS, PROC_HEADING);
	style_off(tp, PAIR_HEADING, A_REVERSE);
	int rows = last - first;
	int max_scroll = (int)tp->m.nprocs - (rows > 0 ? rows : 0);
	if (tp->scroll > max_scroll)
		tp->scroll = max_scroll;
	if (tp->scroll < 0)
		tp->scroll = 0;
	for (int y = first; y < last; y++) {
		size_t i = (size_t)(y - first + tp->scroll);
		if (i >= tp->m.nprocs)
			break;
		const struct top_proc *e = &tp->m.procs[i];
		proc_text(tp, e, line, sizeof line);
		if (e->state == 'X')
			style_on(tp, PAIR_DIM, A_DIM);
		put_fit(tp, y, 0, COLS, line);
		if (e->state == 'X')
			style_off(tp, PAIR_DIM, A_DIM);
	}
	if (tp->m.nprocs == 0 && first < last)
		put_fit(tp, first, 0, COLS, "no samples yet");
}

/* The trend block (key x) between the figures and the function
 * (top_trend.c): the change of the own share over the last 10 s, the
 * sort, and the sparkline of the last minute in 30 cells of 2 s, 20 of
 * 3 s or 12 of 5 s, the widest that leaves the function TREND_NAME_MIN
 * columns (160 columns have 30 cells, 120 none).  A narrower terminal
 * drops the sparkline first, then the figure columns; the change, being
 * the sort, stays. */
#define CHG_W 9
#define TREND_NAME_MIN 40
static int trend_width(const struct top *tp, int *chg_w, int *spark)
{
	static const int cells[] = { 30, 20, 12 };
	*chg_w = *spark = 0;
	if (!tp->trend || !tp->vo.sort_change)
		return 0;
	*chg_w = CHG_W;
	int room = COLS - (figure_columns(tp, COLS) * COL_W + mem_width(tp) + 1) -
		   CHG_W;
	for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++)
		if (room - (cells[i] + 1) >= TREND_NAME_MIN) {
			*spark = cells[i];
			break;
		}
	return *chg_w + (*spark ? *spark + 2 : 0);
}

/* A row's trend cells (r NULL: the headings) at x. */
static void draw_trend(struct top *tp, int y, int x, const struct top_row *r,
		       int chg_w, int spark)
{
	char cell[32], sp[TOP_TREND_SECS * 4 + 1];
	int metric = (int)tp->vo.sort_metric;
	if (chg_w) {
		if (!r)
			snprintf(cell, sizeof cell, "[Chg10s]");
		else
			top_trend_change_text(r, metric, cell, sizeof cell);
		char out[48];
		snprintf(out, sizeof out, "%*s", chg_w - 1, cell);
		put_fit(tp, y, x, chg_w, out);
	}
	if (spark) {
		if (!r)
			snprintf(sp, sizeof sp, "trend %ds", TOP_TREND_SECS);
		else
			top_trend_spark(tp->trend, r, metric, spark, tp->utf8, sp, sizeof sp);
		put_fit(tp, y, x + chg_w + 1, spark, sp);
	}
}

static void draw_table(struct top *tp)
{
	int nshown = figure_columns(tp, COLS);
	int hy = tp->head_h;
	int first = hy + 1, last = LINES - 2;	/* rows of the table */
	int chg_w, spark, trend_w = trend_width(tp, &chg_w, &spark);
	int trend_x = nshown * COL_W + mem_width(tp) + 1;
	int name_x = trend_x + trend_w;
	int place_w = place_width(COLS - trend_w - mem_width(tp));
	char buf[(TOP_NCOLS + 2) * COL_W + 8];
	char name[3 * TOP_NAME_MAX];

	/* the heading line, across the whole width */
	style_on(tp, PAIR_HEADING, A_REVERSE);
	mvhline(hy, 0, ' ', COLS);
	figures_row(tp, NULL, nshown, buf, sizeof buf);
	if (tp->mem_shown)
		mem_cells(tp, NULL, buf, sizeof buf);
	put_fit(tp, hy, 0, COLS, buf);
	if (trend_w && name_x < COLS)
		draw_trend(tp, hy, trend_x, NULL, chg_w, spark);
	if (name_x < COLS)
		put_fit(tp, hy, name_x, COLS - name_x, name_heading(tp));
	if (place_w)
		put_fit(tp, hy, COLS - place_w, place_w,
			tp->ao.by_line ? "file:line" : "file");
	style_off(tp, PAIR_HEADING, A_REVERSE);

	int rows = last - first;
	if (rows < 0)
		rows = 0;
	int max_scroll = (int)tp->m.nview - rows;
	if (tp->scroll > max_scroll)
		tp->scroll = max_scroll;
	if (tp->scroll < 0)
		tp->scroll = 0;
	for (int y = first; y < last; y++) {
		size_t v = (size_t)(y - first + tp->scroll);
		if (v >= tp->m.nview)
			break;
		const struct top_row *r = &tp->m.rows[tp->m.view[v]];
		figures_row(tp, r, nshown, buf, sizeof buf);
		if (tp->mem_shown)
			mem_cells(tp, r, buf, sizeof buf);
		/* the first row is the one Enter opens */
		if (y == first)
			attron(A_BOLD);
		put_fit(tp, y, 0, COLS, buf);
		if (trend_w && name_x < COLS)
			draw_trend(tp, y, trend_x, r, chg_w, spark);
		if (name_x < COLS) {
			row_text(tp, r, COLS - name_x, place_w, name, sizeof name);
			put_fit(tp, y, name_x, COLS - name_x, name);
		}
		if (y == first)
			attroff(A_BOLD);
	}
	if (tp->m.nview == 0 && first < last) {
		const char *why = tp->filter[0] ? "no function matches the filter"
			: tp->paused ? "no samples (paused)" : "no samples yet";
		put_fit(tp, first, name_x < COLS ? name_x : 0, COLS, why);
	}
}

/* Why sampling ended. */
static void finish_text(const struct top *tp, char *line, size_t len)
{
	if (tp->sampler_rc != LP_OK)
		snprintf(line, len, "%s", tp->sampler_err.msg);
	else if (sampler_target_exited(tp->s))
		snprintf(line, len, "PID %d exited", (int)target_pid(tp->t));
	else if (tp->interrupted)
		snprintf(line, len, "stopped");
	else
		snprintf(line, len, "sampling ended after %g s", tp->o.duration);
}

static void draw_footer(struct top *tp)
{
	char line[640];
	int y = LINES - 1;
	if (tp->editing) {
		snprintf(line, sizeof line, "filter: %s", tp->filter);
		put_fit(tp, y, 0, COLS - 1, line);
		curs_set(1);
		return;
	}
	curs_set(0);
	if (tp->msg[0] && clock_mono_ns() < tp->msg_until) {
		style_on(tp, PAIR_ALERT, A_BOLD);
		put_fit(tp, y, 0, COLS, tp->msg);
		style_off(tp, PAIR_ALERT, A_BOLD);
		return;
	}
	if (tp->finished) {
		finish_text(tp, line, sizeof line);
		strncat(line, ": last figures shown, q quits", sizeof line - strlen(line) - 1);
		style_on(tp, PAIR_ALERT, A_BOLD);
		put_fit(tp, y, 0, COLS, line);
		style_off(tp, PAIR_ALERT, A_BOLD);
		return;
	}
	style_on(tp, PAIR_DIM, A_NORMAL);
	if (tp->src.open)
		put_fit(tp, y, 0, COLS, "Esc back  arrows, PgUp, PgDn scroll  "
			"w/c hottest by  space pause  ? help  q quit");
	else
		put_fit(tp, y, 0, COLS,
			"Enter source  ? help  q quit  1-6 </> sort  w/c/g mode  / filter  Esc clear  "
			"space pause  r reset  t/T threads  p processes  n native  l lines  a tasks  m memory");
	style_off(tp, PAIR_DIM, A_NORMAL);
}

/* The help: every key handle_key and filter_key take, with what it does
 * now (tests/functional/test_top_layouts.py compares the two). */
static void draw_help(struct top *tp)
{
	char now_mode[96], now_t[96], now_n[96], now_l[96], now_f[200];
	char now_x[96], now_m[96];
	snprintf(now_m, sizeof now_m,
		 "m          memory column: RSS KiB grown, freed (now %s)",
		 tp->mem_shown ? "shown" : "hidden");
	snprintf(now_x, sizeof now_x,
		 "x          trends: Chg10s column and sort, sparkline (now %s)",
		 tp->vo.sort_change ? "on" : "off");
	snprintf(now_mode, sizeof now_mode,
		 "w c g      mode: wall, CPU or GIL shares first (now %s)",
		 top_mode_name(tp->vo.mode));
	snprintf(now_t, sizeof now_t,
		 "t          a row per function and thread (now %s)",
		 tp->ao.per_thread ? "on" : "off");
	snprintf(now_n, sizeof now_n,
		 "n          hide or show native frames (now %s)",
		 !tp->native_sampled ? "not sampled: --native" :
		 tp->ao.hide_native ? "hidden" : "shown");
	snprintf(now_l, sizeof now_l,
		 "l          one row per line or per function (now per %s)",
		 tp->ao.by_line ? "line" : "function");
	snprintf(now_f, sizeof now_f,
		 "/          filter rows by a substring; Enter keeps (now %s%s%s)",
		 tp->filter[0] ? "\"" : "none", tp->filter,
		 tp->filter[0] ? "\"" : "");
	const char *const text[] = {
		"loupe top keys",
		"",
		"1-6, < >   sort by a column on screen (the sorted one in [ ])",
		"Enter      the source of the first row (bold), per line",
		now_mode,
		"a          task view (--tasks): coroutines of asyncio tasks,",
		"           wall includes suspended time; [N] = tasks in it",
		now_t,
		"T          show one thread, the next, ... then all",
		"p          a row per process (--subprocesses)",
		now_n,
		now_l,
		now_f,
		"Esc        clear the filter (also while typing one)",
		now_x,
		"           (change of own share over 10 s; the last 60 s drawn",
		"           where the function keeps 40 columns, else dropped)",
		now_m,
		"s          snapshot: write what is shown to loupe-PID-TIME.EXT",
		"space      pause the display (sampling goes on)",
		"r          reset the counts (and what -o will write)",
		"arrows, PgUp, PgDn, Home, End   scroll",
		"?, h       this help; any key closes it",
		"q, Q, Ctrl-C   quit (the target runs on)",
		"",
		"%Own: the function running (leaf); %Tot: anywhere on the",
		"stack.  Secs = samples / rate.  Narrower than 96 columns the",
		"Secs go, narrower than 76 the other metric (loupe(1)).",
	};
	const char *const *help_text = text;
	int n = (int)(sizeof text / sizeof text[0]);
	if (tp->src.open) {
		help_text = top_source_help();
		for (n = 0; help_text[n]; n++)
			;
	}
	int w = 66 < COLS - 2 ? 66 : COLS - 2;
	int h = n + 2 < LINES ? n + 2 : LINES;
	int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
	if (w < 4 || h < 3)
		return;
	for (int y = 0; y < h; y++)
		mvhline(y0 + y, x0, ' ', w);
	style_on(tp, PAIR_TITLE, A_BOLD);
	put_fit(tp, y0, x0 + 1, w - 2, help_text[0]);
	style_off(tp, PAIR_TITLE, A_BOLD);
	for (int i = 1; i < n && i + 1 < h; i++)
		put_fit(tp, y0 + i, x0 + 1, w - 2, help_text[i]);
}

static void draw(struct top *tp)
{
	tp->head_h = header_height();
	erase();
	if (LINES >= 1)
		draw_header(tp);
	if (LINES >= 6 && tp->src.open)
		top_source_draw(&tp->src, 3, LINES - 1, tp->utf8,
				tp->colors ? PAIR_HEADING : 0);
	else if (LINES >= 6 && tp->procs_view)
		draw_procs(tp);
	else if (LINES >= 6)
		draw_table(tp);
	if (LINES >= 5)
		draw_footer(tp);
	if (tp->help)
		draw_help(tp);
	if (tp->editing)
		move(LINES - 1, 8 + (int)strlen(tp->filter) < COLS ? 8 + (int)strlen(tp->filter) : COLS - 1);
	refresh();
}

/* ---- keys ---- */

/* Key x: the sort by the change of the own share over the last 10 s, or
 * back to the column sort of before. */
static void toggle_trend_sort(struct top *tp)
{
	if (!tp->trend) {
		say(tp, "no trends: out of memory at start");
		return;
	}
	tp->vo.sort_change = !tp->vo.sort_change;
	tp->scroll = 0;
	view(tp);
	say(tp, tp->vo.sort_change ?
	    "trends: sorted by the change of the own share over the last 10 s (x: off)" :
	    "trends off: sorted by the column again");
}

/* Starts the memory charge (first asked): from the next tick on, under
 * the lock.  false, with the reason said, when /proc/PID/statm cannot
 * be opened. */
static bool start_memory(struct top *tp)
{
	if (tp->mem)
		return true;
	memcharge *m = NULL;
	lp_error err = { 0 };
	if (memcharge_new(&m, target_procfd(tp->t), &err) != LP_OK) {
		char text[sizeof tp->msg];
		snprintf(text, sizeof text, "no memory column: %.150s", err.msg);
		say(tp, text);
		return false;
	}
	pthread_mutex_lock(&tp->lock);
	tp->mem = m;
	pthread_mutex_unlock(&tp->lock);
	return true;
}

/* Key m: the memory column, shown or hidden (the charge goes on); a sort
 * by it goes with it. */
static void toggle_memory(struct top *tp)
{
	if (!tp->mem_shown && !start_memory(tp))
		return;
	tp->mem_shown = !tp->mem_shown;
	if (!tp->mem_shown)
		tp->vo.sort_memory = 0;
	compute(tp);
	say(tp, tp->mem_shown ?
	    "memory: KiB of RSS grown and freed while each row's stacks ran, since shown (m: hide)" :
	    "memory column hidden");
}

/* Key s: what is on screen (mode, filter, thread, the counts since the
 * last reset) to a file named as record names one without -o, in the
 * format of -o/--format (default a flame graph). */
static void snapshot(struct top *tp)
{
	/* a relative name of a few dozen characters */
	char path[128], text[sizeof tp->msg];
	struct top_snapshot_opts so = {
		.mode = tp->vo.mode,
		.filter = tp->filter,
		.tid = tp->ao.tid,
		.threads = tp->ao.per_thread,
		.by_line = tp->ao.by_line,
		.merge_processes = !tp->ao.per_process,
		.format = tp->o.format,
	};
	lp_error err = { 0 };
	if (top_snapshot_name(target_pid(tp->t), so.format, path, sizeof path)) {
		say(tp, "snapshot not written: cannot read the clock");
		return;
	}
	pthread_mutex_lock(&tp->lock);
	profile *q = top_snapshot_copy(tp->p, &so);
	pthread_mutex_unlock(&tp->lock);
	if (!q) {
		say(tp, "snapshot not written: out of memory");
		return;
	}
	int rc = top_snapshot_write(q, &so, path, &err);
	profile_free(q);
	if (rc != LP_OK)
		snprintf(text, sizeof text, "snapshot not written: %.170s",
			 err.msg[0] ? err.msg : lp_strerror(rc));
	else
		snprintf(text, sizeof text, "snapshot written to %s", path);
	say(tp, text);
}

/* The thread after the one shown in the filter, or 0 (all) after the
 * last. */
static int32_t next_thread(const struct top *tp)
{
	const struct top_model *m = &tp->m;
	if (m->nthreads == 0)
		return 0;
	if (!tp->ao.tid)
		return m->threads[0].tid;
	int i = top_thread_index(m, tp->ao.tid);
	if (i < 0 || (size_t)i + 1 >= m->nthreads)
		return 0;
	return m->threads[i + 1].tid;
}

/* Enter: the source view of the first row shown. */
static void open_source(struct top *tp)
{
	char why[160];
	if (tp->src.open || tp->procs_view)
		return;
	if ((size_t)tp->scroll >= tp->m.nview) {
		say(tp, "no row to show the source of");
		return;
	}
	const struct top_row *r = &tp->m.rows[tp->m.view[tp->scroll]];
	int pid = r->pid ? r->pid : (int)target_pid(tp->t);
	pthread_mutex_lock(&tp->lock);
	bool ok = top_source_pick(&tp->src, tp->p, r->frame, pid, r->pid,
				  why, sizeof why);
	pthread_mutex_unlock(&tp->lock);
	if (!ok) {
		say(tp, why);
		return;
	}
	top_source_load_file(&tp->src);
	pthread_mutex_lock(&tp->lock);
	top_source_update(&tp->src, tp->p, tp->vo.mode == MODE_CPU);
	pthread_mutex_unlock(&tp->lock);
}

/* Returns false when the view should end. */
static bool filter_key(struct top *tp, int ch)
{
	size_t n = strlen(tp->filter);
	switch (ch) {
	case '\n': case '\r': case KEY_ENTER:
		tp->editing = false;
		break;
	case 27:	/* Esc: no filter, the one set before included */
		tp->filter[0] = '\0';
		tp->editing = false;
		break;
	case KEY_BACKSPACE: case 127: case 8:
		if (n)
			tp->filter[n - 1] = '\0';
		break;
	default:
		if (ch >= 32 && ch < 256 && ch != 127 && n + 1 < sizeof tp->filter) {
			tp->filter[n] = (char)ch;
			tp->filter[n + 1] = '\0';
		}
		break;
	}
	tp->scroll = 0;
	view(tp);
	return true;
}

static bool handle_key(struct top *tp, int ch)
{
	int page = LINES - 6 > 1 ? LINES - 6 : 1;
	if (tp->editing)
		return filter_key(tp, ch);
	if (tp->help && ch != KEY_RESIZE) {
		tp->help = false;
		if (ch != 'q')
			return true;
	}
	if (tp->src.open && ch == 27) {
		top_source_close(&tp->src);
		return true;
	}
	if (tp->src.open && top_source_key(&tp->src, ch, page))
		return true;
	/* the list's own keys would change what is hidden behind the view */
	if (tp->src.open && ch > 0 && ch < 128 && strchr("123456<>atpTnl/", ch)) {
		say(tp, "a key of the list: Esc goes back to it first");
		return true;
	}
	switch (ch) {
	case 'q': case 'Q': case 3:
		return false;
	case '\n': case '\r': case KEY_ENTER:
		open_source(tp);
		break;
	case '1': case '2': case '3': case '4': case '5': case '6': {
		/* the number counts the columns on screen, which a narrow
		 * terminal has fewer of */
		int idx[TOP_NCOLS], nshown = figure_columns(tp, COLS);
		shown_columns(nshown, idx);
		if (ch - '1' < nshown) {
			top_sort_by_column(&tp->vo, idx[ch - '1']);
			view(tp);
		}
		break;
	}
	case '<': case '>': {
		int idx[TOP_NCOLS], nshown = figure_columns(tp, COLS), at = 0;
		int sorted = top_sort_column(&tp->vo);
		shown_columns(nshown, idx);
		for (int i = 0; i < nshown; i++)
			if (idx[i] == sorted)
				at = i;
		at = (at + (ch == '>' ? 1 : nshown - 1)) % nshown;
		top_sort_by_column(&tp->vo, idx[at]);
		view(tp);
		break;
	}
	case 'w':
		top_set_mode(&tp->vo, MODE_WALL);
		break;
	case 'c':
		top_set_mode(&tp->vo, MODE_CPU);
		break;
	case 'g':
		if (!tp->python)
			say(tp, "GIL mode needs a Python target");
		else
			top_set_mode(&tp->vo, MODE_GIL);
		break;
	case 'a':
		if (!tp->o.tasks) {
			say(tp, "the task view needs task sampling: start loupe top with --tasks");
			break;
		}
		pthread_mutex_lock(&tp->lock);
		bool off = sampler_tasks(tp->s) == NULL;
		pthread_mutex_unlock(&tp->lock);
		if (off && !tp->ao.tasks) {
			say(tp, "task sampling is off: this target's asyncio cannot be read (thread stacks only)");
			break;
		}
		tp->ao.tasks = !tp->ao.tasks;
		if (tp->ao.tasks) {
			/* coroutines by wall time, suspended included */
			tp->vo.mode = tp->vo.sort_metric = MODE_WALL;
			tp->vo.sort_total = true;
			tp->vo.sort_follows = true;
		}
		tp->scroll = 0;
		compute(tp);
		break;
	case 't':
		tp->ao.per_thread = !tp->ao.per_thread;
		compute(tp);
		break;
	case 'p':
		if (!several_procs(tp)) {
			say(tp, "one process: start loupe top with --subprocesses to see its children");
			break;
		}
		tp->procs_view = !tp->procs_view;
		tp->scroll = 0;
		break;
	case 'T':
		tp->ao.tid = next_thread(tp);
		tp->scroll = 0;
		compute(tp);
		break;
	case 'n':
		if (!tp->python)
			say(tp, "a native target has only native frames");
		else if (!tp->native_sampled)
			say(tp, "native frames are not sampled: start loupe top with --native");
		else {
			tp->ao.hide_native = !tp->ao.hide_native;
			compute(tp);
		}
		break;
	case 'l':
		tp->ao.by_line = !tp->ao.by_line;
		compute(tp);
		break;
	case ' ':
		tp->paused = !tp->paused;
		if (!tp->paused)
			compute(tp);
		break;
	case 'r':
		pthread_mutex_lock(&tp->lock);
		profile_reset_samples(tp->p);
		if (tp->mem)
			memcharge_reset(tp->mem);
		tp->st_base = *sampler_stats(tp->s);
		pthread_mutex_unlock(&tp->lock);
		tp->nprev = 0;
		compute(tp);
		say(tp, "counts reset");
		break;
	case 'x':
		toggle_trend_sort(tp);
		break;
	case 'm':
		toggle_memory(tp);
		break;
	case 's':
		snapshot(tp);
		break;
	case '/':
		tp->editing = true;
		break;
	case 27:	/* Esc */
		if (tp->filter[0]) {
			tp->filter[0] = '\0';
			tp->scroll = 0;
			view(tp);
			say(tp, "filter cleared");
		}
		break;
	case '?': case 'h':
		tp->help = true;
		break;
	case KEY_UP: tp->scroll--; break;
	case KEY_DOWN: tp->scroll++; break;
	case KEY_PPAGE: tp->scroll -= page; break;
	case KEY_NPAGE: tp->scroll += page; break;
	case KEY_HOME: tp->scroll = 0; break;
	case KEY_END: tp->scroll = (int)tp->m.nview; break;
	default:
		break;
	}
	return true;
}

/* ---- setup ---- */

/* Finds out before attaching whether the terminal can show the view, so
 * that nothing is left to undo.  A terminal that cannot place the cursor
 * (TERM=dumb, an unknown TERM) or no terminal at all gets plain tables. */
bool top_can_use_screen(void)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return false;
	int err = 0;
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return false;
	const char *cup = tigetstr("cup");
	bool addressable = cup && cup != (char *)-1;
	del_curterm(cur_term);
	return addressable;
}

static int start_sampler(struct top *tp)
{
	/* Signals go to the drawing thread: its getch wakes up and quits,
	 * and SIGWINCH reaches ncurses there. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&tp->thread, NULL, sampler_thread, tp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		cli_error("cannot start the sampling thread: %s", strerror(rc));
		return 1;
	}
	tp->thread_started = true;
	return 0;
}

static void stop_sampler(struct top *tp)
{
	if (!tp->thread_started)
		return;
	session_stop = 1;
	pthread_join(tp->thread, NULL);
	tp->thread_started = false;
}

static int open_screen(struct top *tp)
{
	/* ESC alone ends the filter prompt: do not wait a second for the
	 * rest of an escape sequence */
	set_escdelay(25);
	tp->screen = newterm(NULL, stdout, stdin);
	if (!tp->screen) {
		cli_error("cannot open the terminal: use 'loupe record'");
		return 1;
	}
	cbreak();	/* not raw: Ctrl-C stays SIGINT */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(KEY_WAIT_MS);
	tp->colors = has_colors() && getenv("NO_COLOR") == NULL;
	if (tp->colors) {
		start_color();
		use_default_colors();
		init_pair(PAIR_TITLE, COLOR_CYAN, -1);
		init_pair(PAIR_HEADING, COLOR_BLACK, COLOR_GREEN);
		init_pair(PAIR_ALERT, COLOR_YELLOW, -1);
		init_pair(PAIR_DIM, COLOR_BLUE, -1);
	}
	return 0;
}

/* ---- plain output ---- */

/* Columns of a plain table: $COLUMNS when the shell exports it. */
static int plain_width(void)
{
	const char *c = getenv("COLUMNS");
	int w = c ? atoi(c) : 0;
	return w >= 20 && w <= 1000 ? w : 100;
}

static void print_plain(struct top *tp)
{
	char line[1024], out[1024], el[32];
	char buf[(TOP_NCOLS + 2) * COL_W + 8];
	int width = plain_width();
	int nshown = figure_columns(tp, width);
	int name_x = nshown * COL_W + mem_width(tp) + 1;

	fmt_duration(el, sizeof el, elapsed_ns(tp));
	snprintf(line, sizeof line, "loupe top - %s  elapsed %s", tp->target_desc, el);
	fit_text(tp, line, width, out, sizeof out);
	printf("%s\n", out);
	figures_text(tp, line, sizeof line);
	fit_text(tp, line, width, out, sizeof out);
	printf("%s\n", out);
	if (several_procs(tp)) {
		/* no key to press: the processes come before the functions */
		fit_text(tp, PROC_HEADING, width, out, sizeof out);
		printf("%s\n", out);
		for (size_t i = 0; i < tp->m.nprocs; i++) {
			proc_text(tp, &tp->m.procs[i], line, sizeof line);
			fit_text(tp, line, width, out, sizeof out);
			printf("%s\n", out);
		}
	}
	figures_row(tp, NULL, nshown, buf, sizeof buf);
	if (tp->mem_shown)
		mem_cells(tp, NULL, buf, sizeof buf);
	fit_text(tp, name_heading(tp), width - name_x, out, sizeof out);
	printf("%s %s\n", buf, out);
	for (size_t v = 0; v < tp->m.nview && v < PLAIN_ROWS; v++) {
		const struct top_row *r = &tp->m.rows[tp->m.view[v]];
		figures_row(tp, r, nshown, buf, sizeof buf);
		if (tp->mem_shown)
			mem_cells(tp, r, buf, sizeof buf);
		row_text(tp, r, width - name_x, 0, out, sizeof out);
		printf("%s %s\n", buf, out);
	}
	if (tp->m.nview == 0)
		printf("no samples yet\n");
	if (tp->finished) {
		finish_text(tp, line, sizeof line);
		printf("%s\n", line);
	}
	printf("\n");
	fflush(stdout);
}

/* Without a screen: a table every second until the end of sampling. */
static void run_plain(struct top *tp)
{
	for (;;) {
		/* asleep until the next table (a signal ends the sleep) */
		uint64_t now;
		while (!session_stop && !atomic_load(&tp->sampler_done) &&
		       (now = clock_mono_ns()) - tp->last_compute_ns < REFRESH_NS) {
			uint64_t left = tp->last_compute_ns + REFRESH_NS - now;
			struct timespec nap = { (time_t)(left / 1000000000ull),
						(long)(left % 1000000000ull) };
			nanosleep(&nap, NULL);
		}
		if (session_stop || atomic_load(&tp->sampler_done)) {
			tp->interrupted = !atomic_load(&tp->sampler_done);
			stop_sampler(tp);
			tp->finished = true;
			compute(tp);
			print_plain(tp);
			return;
		}
		compute(tp);
		print_plain(tp);
	}
}

/* How long a wait for a key may last: until the next refresh or the end
 * of a message, not a fixed KEY_WAIT_MS: the view's wake-ups are on top of
 * the sampler's (at 100 Hz, ten more a second cost it a tenth more CPU).
 * A sampler that ended is seen at the next refresh at the latest, a key or
 * a signal at once. */
static int key_wait_ms(const struct top *tp)
{
	uint64_t now = clock_mono_ns(), until = now + REFRESH_NS;
	if (!tp->finished && !tp->paused &&
	    tp->last_compute_ns + REFRESH_NS < until)
		until = tp->last_compute_ns + REFRESH_NS;
	if (tp->msg[0] && tp->msg_until < until)
		until = tp->msg_until;
	uint64_t ms = until > now ? (until - now + 999999) / 1000000 : 0;
	return ms < KEY_WAIT_MS / 10 ? KEY_WAIT_MS / 10 : (int)ms;
}

static void run_view(struct top *tp)
{
	compute(tp);
	draw(tp);
	for (;;) {
		timeout(key_wait_ms(tp));
		int ch = getch();
		bool dirty = false;
		if (session_stop)
			break;
		if (ch != ERR) {
			if (!handle_key(tp, ch))
				break;
			dirty = true;
		}
		if (!tp->finished && atomic_load(&tp->sampler_done)) {
			pthread_join(tp->thread, NULL);
			tp->thread_started = false;
			tp->finished = true;
			compute(tp);
			dirty = true;
		}
		uint64_t now = clock_mono_ns();
		if (!tp->finished && !tp->paused &&
		    now - tp->last_compute_ns >= REFRESH_NS) {
			compute(tp);
			dirty = true;
		}
		if (tp->msg[0] && now >= tp->msg_until) {
			tp->msg[0] = '\0';
			dirty = true;
		}
		if (dirty)
			draw(tp);
	}
}

int top_view_run(struct top_session *ts)
{
	struct top *tp = calloc(1, sizeof *tp);
	if (!tp) {
		cli_error("out of memory");
		return 1;
	}
	const struct cli_opts *o = ts->o;
	int status = 1;
	bool screen = false;
	tp->o = *o;
	tp->t = ts->t;
	tp->p = ts->p;
	tp->s = ts->s;
	tp->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	top_model_init(&tp->m);
	top_source_init(&tp->src);
	pthread_mutex_init(&tp->lock, NULL);
	tp->python = sampler_is_python(tp->s);
	tp->native_sampled = o->native || !tp->python;
	if (top_trend_new(&tp->trend) != LP_OK)
		tp->trend = NULL;	/* the view goes on without trends */
	tp->head_h = 3;
	snprintf(tp->target_desc, sizeof tp->target_desc, "PID %d %s (%s)",
		 (int)target_pid(tp->t), target_comm(tp->t),
		 sampler_describe(tp->s));
	sampler_set_lock(tp->s, &tp->lock);
	sampler_watch_gc(tp->s, true);	/* the header's "in GC" */

	tp->ao.by_line = !o->no_lines;
	tp->ao.per_thread = o->threads;
	tp->ao.per_process = !o->merge_processes;
	tp->vo.mode = o->mode == MODE_GIL && !tp->python ? MODE_WALL : o->mode;
	/* the mode's own share first: in wall mode the blocking call, in cpu
	 * mode where work is done (--sort chose otherwise: checked by
	 * cmd_top) */
	tp->vo.sort_metric = tp->vo.mode;
	tp->vo.sort_total = false;
	tp->vo.sort_follows = true;
	if (o->sort)
		top_sort_by_name(&tp->vo, o->sort);
	tp->vo.filter = tp->filter;
	tp->mem_pid = (int32_t)target_pid(tp->t);
	if (o->memory || tp->vo.sort_memory) {
		lp_error err = { 0 };
		if (memcharge_new(&tp->mem, target_procfd(tp->t), &err) != LP_OK) {
			cli_error("%s", err.msg);
			goto out;
		}
		tp->mem_shown = true;
	}

	tp->start_ns = clock_mono_ns();
	tp->last_compute_ns = tp->start_ns;
	if (start_sampler(tp))
		goto out;
	if (!ts->use_screen) {
		run_plain(tp);
	} else {
		if (open_screen(tp))
			goto out;
		screen = true;
		run_view(tp);
		stop_sampler(tp);
		endwin();
		delscreen(tp->screen);
		screen = false;
	}
	ts->sampler_rc = tp->sampler_rc;
	ts->sampler_err = tp->sampler_err;
	status = 0;
out:
	stop_sampler(tp);
	if (screen) {
		endwin();
		delscreen(tp->screen);
	}
	/* the sampling thread is gone: the lock goes with the view */
	sampler_set_lock(tp->s, NULL);
	top_model_fini(&tp->m);
	top_source_fini(&tp->src);
	free(tp->views);
	free(tp->prev);
	top_trend_free(tp->trend);
	memcharge_free(tp->mem);
	pthread_mutex_destroy(&tp->lock);
	free(tp);
	return status;
}
