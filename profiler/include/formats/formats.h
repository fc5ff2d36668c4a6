/* Output formats: one writer per format, the .loupe raw reader, and atomic
 * file replacement shared by all of them. */
#ifndef LOUPE_FORMATS_H
#define LOUPE_FORMATS_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "profile.h"

enum output_format {
	FORMAT_NONE = 0,
	FORMAT_COLLAPSED,
	FORMAT_FLAMEGRAPH,
	FORMAT_SPEEDSCOPE,
	FORMAT_CHROME,
	FORMAT_PPROF,
	FORMAT_PSTATS,
	FORMAT_RAW,
};

enum sample_mode { MODE_WALL = 0, MODE_CPU, MODE_GIL };

struct output_opts {
	enum sample_mode mode;	/* which samples count */
	bool threads;		/* a root frame per thread */
	bool lines;		/* keep line numbers (false: by function) */
	bool idle;		/* keep idle samples in cpu mode */
	/* A recording of a process tree (metadata "subprocesses") gets a
	 * root frame "process PID (comm)" per process unless merged. */
	bool merge_processes;
	int32_t pid;		/* only this process's samples; 0: all */
	/* flamegraph only */
	bool inverted;		/* icicle: roots at the top */
	const char *title;	/* NULL: "Flame graph: TARGET" */
	/* format_write_file (o may be NULL for the raw format): a symbolic
	 * link at the path is followed
	 * (OUTPUT_FOLLOW), not refused */
	bool follow;
	/* --tasks: a root per task, not per outermost coroutine
	 * (task_groups.c) */
	bool per_task;
};

/* A whole profile to a stream: LP_OK, LP_ENOMEM, LP_EIO (and
 * LP_EUNSUPPORTED from chrome without a timeline).  o may be NULL for the
 * raw format only. */
typedef int (*format_writer)(const profile *p, FILE *fp,
			     const struct output_opts *o);

/* The format table (format_names.c), the one list of formats that record,
 * trace, report, top, diff and the daemon use. */
#define FORMAT_MAX_ALIASES 2
#define FORMAT_MAX_EXTS 3
struct format_info {
	enum output_format format;
	const char *name;	/* given to --format and printed */
	const char *aliases[FORMAT_MAX_ALIASES];	/* also accepted, never
							 * printed; NULL ends */
	const char *exts[FORMAT_MAX_EXTS];	/* file name endings; NULL ends */
	format_writer write;
	bool timeline;		/* needs the sample timeline kept */
};
/* Every format, in the order they are listed to the user. */
const struct format_info *format_table(size_t *n);
/* The entry of f; NULL for FORMAT_NONE or no such format. */
const struct format_info *format_info(enum output_format f);
/* Writes p in fi's format to fp: the one way every command writes a
 * viewer format, with a --tasks profile's tasks grouped by their
 * outermost coroutine unless o->per_task (task_groups.c). */
int format_write(const struct format_info *fi, const profile *p, FILE *fp,
		 const struct output_opts *o);
/* The grouped copy of p, or *out NULL when p has no task to group. */
int task_groups_build(const profile *p, profile **out);

/* "collapsed" (or an alias) -> FORMAT_COLLAPSED...; FORMAT_NONE when
 * unknown. */
enum output_format format_from_name(const char *name);
/* The same with the one-line error for an unknown name: LP_EINVAL
 * "unknown format 'X': use collapsed, flamegraph, ... pstats or loupe". */
int format_parse(const char *name, enum output_format *f, lp_error *err);
/* From the file name's extension (the longest that matches, any case);
 * FORMAT_NONE when unknown. */
enum output_format format_from_path(const char *path);
/* The name of f, "none" when it has none. */
const char *format_name(enum output_format f);
int format_mode_from_name(const char *name, enum sample_mode *mode);

/* Whether a sample aggregate counts under opts, and with what weight: wall
 * counts every sample (idle too), cpu the on-CPU ones (plus idle ones with
 * opts.idle), gil those that held the GIL (writer_util.c). */
uint64_t output_weight(const struct profile_agg *a,
		       const struct output_opts *o);

/* Text of a frame as shown: "func (file:line)" for Python (without the line
 * when !lines), "func" or "module+0xoff" for native, "task NAME",
 * "thread TID (name)", "process PID (comm)".  Returns LP_OK, LP_EINVAL for
 * an unknown id, LP_ETRUNCATED when buf was too small (text cut, still
 * terminated). */
int format_frame(const profile *p, uint32_t frame, bool lines, char *buf,
		 size_t len);

/* Processes of a recording of a process tree (frame_text.c).  Whether its
 * stacks get a root "process PID (comm)" under o: the metadata
 * "subprocesses" is "on" and o does not merge processes.  Above the
 * --threads root when both are on. */
bool output_process_roots(const profile *p, const struct output_opts *o);
/* pid's command name: the metadata "process.PID", else the name of its
 * main thread (tid == pid); NULL when neither is known. */
const char *output_process_comm(const profile *p, int32_t pid);
/* "process PID (comm)", or "process PID"; LP_OK or LP_ETRUNCATED. */
int format_process(const profile *p, int32_t pid, char *buf, size_t len);

/* Output files (atomic_file.c says which paths are written how): a
 * regular file (or none yet) is replaced atomically through a temporary
 * beside it; "-" and /dev/stdout (/dev/stderr, /dev/fd/N), a character
 * device, a FIFO or a Unix socket are written directly; a symbolic link is
 * refused unless OUTPUT_FOLLOW; anything else is refused.  Opening one also
 * removes the temporaries that dead runs left in its directory. */
#define OUTPUT_FOLLOW 1u	/* --follow: a link at the path is written
				 * through (its target), not refused */
typedef struct atomic_file {
	FILE *fp;
	char *path;	/* as given (messages) */
	char *tmp;	/* the temporary's path; NULL when written directly */
	int fd;		/* the temporary, or the direct target */
	int dirfd;	/* the directory examined; -1 for stdout and the like */
	char *name;	/* the file's name in dirfd */
	char *tmpname;	/* the temporary's name in dirfd */
	bool direct;	/* written in place, never renamed */
} atomic_file;
int atomic_file_open(atomic_file *af, const char *path, lp_error *err);
int atomic_file_open_flags(atomic_file *af, const char *path, unsigned flags,
			   lp_error *err);
/* fflush, fsync, rename into place (nothing to rename when direct). */
int atomic_file_commit(atomic_file *af, lp_error *err);
void atomic_file_abort(atomic_file *af);
/* Whether path may be written under flags (the checks of
 * atomic_file_open, a temporary created and removed), without writing it
 * (a FIFO is not opened, so its reader sees no end).  LP_OK or a message. */
int output_check(const char *path, unsigned flags, lp_error *err);

/* Writers of a whole profile. */
/* Folded stacks, sorted, one line per distinct text; the empty stack is
 * "<no stack>" (collapsed.c lists every choice).  LP_OK, LP_ENOMEM, LP_EIO. */
int collapsed_write(const profile *p, FILE *fp, const struct output_opts *o);

/* The viewers' formats.  Each returns LP_OK, LP_ENOMEM or LP_EIO. */
/* Interactive SVG flame graph (flamegraph.c: layout, colours, script). */
int flamegraph_write(const profile *p, FILE *fp, const struct output_opts *o);
/* Differential flame graph: widths from cur, red where a frame's share of
 * the total grew since base, blue where it shrank. */
int flamegraph_write_diff(const profile *base, const profile *cur, FILE *fp,
			  const struct output_opts *o);
/* speedscope's file format: one sampled profile per thread. */
int speedscope_write(const profile *p, FILE *fp, const struct output_opts *o);
/* Chrome trace event JSON (Perfetto, chrome://tracing) from the timeline:
 * LP_EUNSUPPORTED when p kept none (see profile_keep_timeline). */
int chrome_write(const profile *p, FILE *fp, const struct output_opts *o);
/* Gzipped pprof profile.proto. */
int pprof_write(const profile *p, FILE *fp, const struct output_opts *o);
/* A table as a gzipped pprof (loupe heap): a sample per row, its location
 * a function named for the row; values[i * ntypes + k] is row i's value of
 * sample type k (types[k], units[k]). */
int pprof_write_table(FILE *fp, const char *const *types,
		      const char *const *units, size_t ntypes,
		      const char *const *names, const uint64_t *values,
		      size_t nrows);
/* Python's pstats marshal format (pstats.Stats, snakeviz). */
int pstats_write(const profile *p, FILE *fp, const struct output_opts *o);

/* Whether format f needs the sample timeline kept (chrome): its table
 * entry says. */
bool format_needs_timeline(enum output_format f);

/* Writes p in format f to path, atomically.  LP_EUNSUPPORTED with a
 * message when the chrome format finds no timeline. */
int format_write_file(const profile *p, enum output_format f,
		      const char *path, const struct output_opts *o,
		      lp_error *err);

/* The raw .loupe format: streamed while sampling (strings, frames and stacks
 * as they first appear, then samples), so a crash loses at most the last
 * unflushed buffer and the reader still opens the file. */
typedef struct raw_writer raw_writer;
int raw_writer_open(raw_writer **out, const char *path, lp_error *err);
/* The same with OUTPUT_* flags (atomic_file's rules for path). */
int raw_writer_open_flags(raw_writer **out, const char *path, unsigned flags,
			  lp_error *err);
/* Appends one sample, first writing any string/frame/stack/thread/meta of p
 * not yet written. */
int raw_writer_sample(raw_writer *w, const profile *p, const struct sample *s);
/* Writes what is new in p (metadata, threads) and flushes to the file. */
int raw_writer_flush(raw_writer *w, const profile *p);
/* Writes what is new in p (may be NULL), an END record, fsyncs and renames
 * into place; frees w.  On failure the temporary is kept when it holds
 * samples (the message names it), so a recording is never lost. */
int raw_writer_close(raw_writer *w, const profile *p, lp_error *err);
/* Removes the temporary file; frees w. */
void raw_writer_abort(raw_writer *w);
/* Bytes of the recording so far, buffered ones included (status line). */
uint64_t raw_writer_size(const raw_writer *w);
/* Writes a whole profile (report/diff conversions); with its timeline when
 * kept, else its aggregates. */
int raw_write_profile(const profile *p, FILE *fp);
/* The same as the format table's writer (o unused). */
int raw_write(const profile *p, FILE *fp, const struct output_opts *o);
/* A sampler_sink (sampler.h, tracer_run) streaming every sample to the
 * raw_writer ctx, flushed every RAW_SINK_FLUSH samples (and the metadata
 * with them) so that a killed loupe leaves a readable file.  The one sink
 * of record -o FILE.loupe and trace -o FILE.loupe. */
#define RAW_SINK_FLUSH 4096
int raw_writer_sink(void *ctx, const profile *p, const struct sample *s);

struct raw_read_info {
	unsigned version;
	bool truncated;		/* the file ended inside a record */
	uint64_t records;
};
/* Replays a .loupe file into p (which may keep its timeline, and may hold
 * data already: ids are translated).  A file cut inside a record gives
 * LP_OK with info->truncated; LP_EFORMAT "X is not a loupe recording" for
 * another file or major version, LP_EFORMAT "X: corrupt ... record" for
 * damage (what came before it stays in p). */
int raw_read_file(const char *path, profile *p, struct raw_read_info *info,
		  lp_error *err);
/* The same, calling progress now and then with the bytes read so far and
 * the file's size (0 when unknown), and once at the end with done == total
 * (front ends draw a progress bar; the reader never prints). */
typedef void (*raw_progress_fn)(void *ctx, uint64_t done, uint64_t total);
int raw_read_file_progress(const char *path, profile *p,
			   struct raw_read_info *info, raw_progress_fn progress,
			   void *progress_ctx, lp_error *err);

#endif
