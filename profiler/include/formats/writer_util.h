/* Helpers the viewer formats share (flamegraph, speedscope, chrome, pprof,
 * pstats, diff): frame texts cached per frame id, a call tree folded from
 * the aggregates, JSON/XML escaping and the recording's figures (period,
 * duration, title).  Internal to profiler/formats and the commands that
 * write JSON or diff (ui/cmd_diff.c, ui/cmd_heap.c, ui/report). */
#ifndef LOUPE_WRITER_UTIL_H
#define LOUPE_WRITER_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "formats.h"

/* The text of each frame of p as format_frame gives it, interned in texts
 * (which several ftext may share, so that two profiles' frames of the same
 * text get the same id: the diff matches functions that way). */
struct ftext {
	const profile *p;
	profile *texts;
	uint32_t *cache;	/* per frame id; PROFILE_NOID: not yet */
	size_t n;
	bool lines;
};
int ftext_init(struct ftext *ft, const profile *p, profile *texts,
	       bool lines);
void ftext_fini(struct ftext *ft);
/* Text id of frame id (PROFILE_NOID on ENOMEM). */
uint32_t ftext_get(struct ftext *ft, uint32_t frame);
/* Text id of "thread TID (name)" for the --threads root. */
uint32_t ftext_thread(struct ftext *ft, int32_t pid, int32_t tid);
/* Text id of "process PID (comm)", the root of a process tree's stacks
 * (output_process_roots). */
uint32_t ftext_process(struct ftext *ft, int32_t pid);

/* The call tree of the weighted stacks: node 0 is the root ("all"); a
 * node is (parent, text), so stacks merge by their frames' texts.  Two
 * weights per node so that a diff can fold a base and a new profile into
 * one tree.  Memory grows with distinct tree nodes, never with samples. */
enum fold_kind { FOLD_PYTHON, FOLD_NATIVE, FOLD_TASK, FOLD_THREAD,
		 FOLD_OTHER };
struct fold_node {
	uint32_t text;		/* id in fold.texts */
	uint32_t parent;
	uint32_t child, sibling;	/* first child, next sibling (0: none) */
	uint32_t depth;
	uint8_t kind;		/* enum fold_kind */
	uint64_t w[2];		/* total weight (which = 0 new, 1 base) */
	uint64_t idle[2];	/* of which idle samples */
};
struct fold {
	profile *texts;
	struct fold_node *n;
	size_t len, cap;
	uint32_t *slots;	/* open addressing: node index + 1 */
	size_t nslots;
	uint64_t total[2];
	uint32_t max_depth;
};
int fold_init(struct fold *f);
void fold_fini(struct fold *f);
/* Adds every aggregate of p weighed under o (which: 0 or 1), under a
 * process root and a thread root when o asks for them. */
int fold_add_profile(struct fold *f, const profile *p,
		     const struct output_opts *o, int which);
/* Children of node i sorted by text (malloc'ed array; *n set). */
int fold_children(const struct fold *f, uint32_t i, uint32_t **out,
		  size_t *n);

/* JSON string literal of s (with the quotes); XML text/attribute. */
void json_string(FILE *fp, const char *s);
void xml_escape(FILE *fp, const char *s);

/* Seconds between samples (1 / the "rate" metadata; 0.01 if unknown). */
double writer_period_s(const profile *p);
/* Length of the recording in ns: the "duration_ns" metadata, else the
 * timeline's span, else the busiest thread's samples times the period. */
uint64_t writer_duration_ns(const profile *p);
const char *writer_mode_name(enum sample_mode m);
/* "comm (PID 123)", "PID 123" or "profile" into buf. */
void writer_target(const profile *p, char *buf, size_t len);

#endif
