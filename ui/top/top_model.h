/* The table loupe top shows, computed from a profile apart from any
 * terminal code: one row per function (or per function and thread), with
 * own and total samples for wall, CPU and GIL time.
 *
 * Two steps so that a paused view can still be sorted and filtered:
 * top_model_compute aggregates the profile (needs the profile, so the caller
 * holds the sampler's lock), top_model_view filters and sorts the rows it
 * made (needs only the model). */
#ifndef LOUPE_UI_TOP_MODEL_H
#define LOUPE_UI_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/formats.h"
#include "memcharge.h"
#include "profile.h"
#include "sampler.h"

/* Metrics, indexes of top_row.own / .total: the same order as enum
 * sample_mode (wall, cpu, gil). */
#define TOP_NMETRICS 3
/* Longest row text kept (a longer name is cut; the view truncates to the
 * terminal anyway). */
#define TOP_NAME_MAX 256
/* Columns of figures: own and total % of the mode, own and total % of the
 * other metric, own and total seconds of the mode. */
#define TOP_NCOLS 6

struct top_row {
	uint32_t frame;		/* a frame naming the function */
	int32_t tid;		/* per-thread rows: the thread, else 0 */
	int32_t pid;		/* per-thread or per-process rows: the
				 * process, else 0 */
	uint64_t own[TOP_NMETRICS];	/* the function is the leaf */
	uint64_t total[TOP_NMETRICS];	/* anywhere on the stack (once per
					 * stack under recursion) */
	uint64_t ntasks;	/* task view: distinct tasks seen in it */
	/* The memory column (top_agg_opts.mem): bytes of RSS growth and
	 * release charged to the stacks the function is on (once per stack
	 * under recursion), a stack's charge split among its threads by
	 * their CPU time */
	double grown, released;
	char name[TOP_NAME_MAX];	/* "func (file.py:12)", "func (libc.so.6)",
					 * "libfoo.so+0x1a2b" */
	/* The parts of name a narrow or wide layout rearranges: name's
	 * first func_len bytes are the function; where is the file's (or
	 * native module's) path as the target names it, "" when name has
	 * none; line the line shown, 0 for none. */
	size_t func_len;
	int32_t line;
	char where[TOP_NAME_MAX];
	/* Trends (top_trend.c, set after each compute): the change of the
	 * row's own share over the last 10 s against the 50 s before, per
	 * metric, in millionths; and its slot in the trend table, -1 for
	 * none. */
	int64_t change[TOP_NMETRICS];
	int32_t trend_slot;
};

struct top_thread {
	int32_t pid, tid;
	uint64_t samples, cpu_samples;
	char name[32];		/* "" when unnamed */
};

/* One process of the profile (--subprocesses: of the tree).  The list
 * keeps the order processes were first met and keeps those that exit, so
 * that the process view does not jump when one appears or exits; only
 * beyond TOP_MAX_EXITED exited ones do the oldest go. */
#define TOP_MAX_EXITED 256
struct top_proc {
	int32_t pid, ppid;	/* ppid 0: unknown */
	char comm[32];		/* "" when unknown */
	char state;		/* its main thread's scheduler letter, 'X'
				 * exited, 0 unknown (no sampler view) */
	size_t nthreads;	/* live threads (sampler), else threads with
				 * samples */
	uint64_t samples, cpu_samples;	/* in the profile */
	uint64_t cpu_ns;
	bool in_profile;	/* has samples since the last reset */
	/* CPU% over the last refresh (top_model_cpu_rate) */
	double cpu_pct;
	uint64_t prev_cpu_ns;
};

/* What changes the aggregation (top_model_compute). */
struct top_agg_opts {
	bool by_line;		/* false: lines of one function count as one */
	bool hide_native;	/* drop native frames from stacks */
	bool per_thread;	/* a row per (function, thread) */
	bool per_process;	/* a row per (function, process) */
	int32_t tid;		/* only this thread; 0: all */
	bool tasks;		/* task view: only samples of asyncio tasks
				 * (--tasks), a row per coroutine with the
				 * number of tasks seen in it */
	/* the memory charged to the profile's stacks (memcharge.h), read
	 * under the same lock as the profile; NULL: no memory figures */
	const memcharge *mem;
};

/* What changes only the view (top_model_view). */
struct top_view_opts {
	enum sample_mode mode;		/* which metric the first columns and
					 * the seconds use */
	enum sample_mode sort_metric;
	bool sort_total;		/* sort by total, else by own */
	bool sort_change;		/* sort by the change of the own share
					 * of sort_metric over the last 10 s
					 * (key x), over the column sort */
	/* sort by the memory column: 1 bytes grown, 2 released, 0 not
	 * (then the figures' sort) */
	int sort_memory;
	bool sort_follows;		/* sort_metric is the mode's: it
					 * changes with the mode (w, c, g);
					 * off once the user chose a column */
	const char *filter;		/* case-insensitive substring of the
					 * row text; NULL or "": all rows */
};

struct top_model {
	/* Aggregation: every row, in no order. */
	struct top_row *rows;
	size_t nrows, rows_cap;
	/* Samples of the threads that pass the filter, per metric: the 100%
	 * of the percentages. */
	uint64_t totals[TOP_NMETRICS];
	uint64_t idle;		/* of which idle */
	uint64_t no_function;	/* samples whose stack had no function left
				 * (empty, or all native when hidden) */
	/* memory charged to the threads that pass the filter (bytes) */
	double mem_grown, mem_released;
	/* Every thread seen (thread filter or not), by tid. */
	struct top_thread *threads;
	size_t nthreads, threads_cap;
	/* Every process met since top_model_init, first met first. */
	struct top_proc *procs;
	size_t nprocs, procs_cap;
	size_t procs_in_profile;	/* of which with samples now */
	uint64_t rate_prev_ns;		/* top_model_cpu_rate's last time */
	/* View: indexes into rows, filtered and sorted. */
	size_t *view;
	size_t nview, view_cap;
};

void top_model_init(struct top_model *m);
void top_model_fini(struct top_model *m);

/* Rebuilds the rows from p.  LP_OK or LP_ENOMEM (the model is then empty).
 * Clears the view: call top_model_view next. */
int top_model_compute(struct top_model *m, const profile *p,
		      const struct top_agg_opts *o);

/* Merges what the sampler knows of its processes (sampler_proc_at: the
 * root first, exited ones kept) into m->procs: command, parent, state,
 * live threads.  A process of m that the views no longer list is marked
 * exited.  LP_OK or LP_ENOMEM. */
int top_model_procs(struct top_model *m, const struct sampler_proc_view *v,
		    size_t n);

/* Each process's CPU% (of one CPU) since the previous call, from its CPU
 * time in the profile; calls less than min_ns apart change nothing, so
 * that a redraw for a key does not measure a short window.  A reset
 * profile (CPU time gone down) starts again from 0. */
void top_model_cpu_rate(struct top_model *m, uint64_t now_ns,
			uint64_t min_ns);

/* Index in m->procs of pid, or -1. */
int top_proc_index(const struct top_model *m, int32_t pid);

/* "5 processes: 4 running, 1 sleeping, 2 exited" (states as far as
 * known). */
void top_procs_text(const struct top_model *m, char *buf, size_t len);

/* A state letter as a word: "running", "sleeping", "exited"... */
const char *top_state_name(char state);

/* Filters and sorts the rows into m->view.  LP_OK or LP_ENOMEM. */
int top_model_view(struct top_model *m, const struct top_view_opts *o);

/* Percent of the metric's total, 0 when nothing was sampled. */
double top_pct(const struct top_model *m, uint64_t samples,
	       enum sample_mode metric);

/* The figure columns for a mode, left to right. */
struct top_column {
	enum sample_mode metric;
	bool total;		/* total, else own */
	bool seconds;		/* seconds, else percent */
	const char *title;
};
void top_columns(enum sample_mode mode, struct top_column out[TOP_NCOLS]);
/* The column that shows the sort (a percent column when the metric is on
 * screen), or -1 when it is not among the mode's columns. */
int top_sort_column(const struct top_view_opts *o);
/* Sets the sort from a column's name as top shows it, case and '%'
 * aside: OwnWall, TotWall, OwnCPU, TotCPU, OwnGIL, TotGIL (that
 * metric), OwnSecs, TotSecs (the mode's), GrowKiB or FreeKiB (the
 * memory column: sort_memory).  -1 for another name. */
int top_sort_by_name(struct top_view_opts *o, const char *name);
/* Sets the mode; a sort that follows the mode follows it. */
void top_set_mode(struct top_view_opts *o, enum sample_mode mode);
/* Sets the sort to what column col (0-based) of the mode shows. */
void top_sort_by_column(struct top_view_opts *o, int col);
/* The value of a row in a column: percent, or seconds at rate_hz. */
double top_cell(const struct top_model *m, const struct top_row *r,
		const struct top_column *c, double rate_hz);

/* The memory column's headings, the unit in their names. */
#define TOP_MEM_GROWN "GrowKiB"
#define TOP_MEM_RELEASED "FreeKiB"

/* Index in m->threads of tid, or -1. */
int top_thread_index(const struct top_model *m, int32_t tid);

const char *top_mode_name(enum sample_mode mode);

/* Copies s into out cut to at most width terminal columns (as the current
 * locale counts them): a longer text ends with an ellipsis ("\u2026" when
 * utf8, else "...") instead of running on or wrapping.  Characters that
 * are not printable (control bytes, invalid sequences) come out as '?'. */
void top_fit_text(const char *s, int width, bool utf8, char *out, size_t len);
/* Columns s takes on the terminal, as top_fit_text counts them. */
int top_text_width(const char *s);

/* A row's function and place in one column: "func (file.py:12)" in at
 * most width columns, prefix (a PID, a thread) first.  When it is too
 * long, the middle of the function's qualified name goes first
 * ("crunch_rep\u2026<listcomp>"), then the file's base name (its middle);
 * the line number never goes. */
void top_fit_located(const char *prefix, const struct top_row *r, int width,
		     bool utf8, char *out, size_t len);
/* The function alone (for a layout with a file:line column), prefix
 * first, the middle of a long qualified name cut. */
void top_fit_function(const char *prefix, const struct top_row *r, int width,
		      bool utf8, char *out, size_t len);
/* "path:line" (line 0: "path") in at most width columns: leading
 * directories give way first ("\u2026/targets/x.py:12"), then the middle
 * of the base name; never the line. */
void top_fit_path(const char *path, int32_t line, int width, bool utf8,
		  char *out, size_t len);

#endif
