/* loupe top's source view (issue #24 point 4): Enter on a row shows its
 * function's source, read from the target's own filesystem, with own and
 * total wall and CPU per line as a heat column, recomputed at each
 * refresh, the hottest line marked; Esc goes back to the list.  The
 * figures and the file come from top_lines.c; this file draws them and
 * takes the view's keys (top_view.c hands them over while it is open). */
#ifndef LOUPE_UI_TOP_SOURCE_H
#define LOUPE_UI_TOP_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"
#include "top_lines.h"

struct top_source {
	bool open;
	int pid;		/* whose filesystem the file came from */
	int32_t only_pid;	/* a per-process row's process: only its
				 * samples; 0: every process's */
	uint32_t func, file;	/* string ids in the live profile */
	char name[512];		/* the function, escaped */
	char path[512];		/* its file, escaped */
	char raw_path[4096];	/* its file as the code object names it */
	int metric;		/* 0 wall, 1 CPU: which line is the hottest */
	struct top_source_file sf;
	struct top_lines tl;
	int scroll;		/* first line shown (index into the rows) */
	bool centre;		/* open centred on the hottest line */
	bool oom;
};

void top_source_init(struct top_source *v);
void top_source_fini(struct top_source *v);

/* Chooses the function that frame (of p) names, to be shown from pid's
 * filesystem with the samples of only_pid (0: all): copies its names, so
 * call it with the profile locked.
 * False, with the reason in why, when the frame is not a Python
 * function. */
bool top_source_pick(struct top_source *v, const profile *p, uint32_t frame,
		     int pid, int32_t only_pid, char *why, size_t why_len);
/* Reads the picked function's file and opens the view; without the lock,
 * so that the sampler never waits on a disk. */
void top_source_load_file(struct top_source *v);
/* Recomputes the figures per line (under the profile's lock). */
void top_source_update(struct top_source *v, const profile *p, int metric);
void top_source_close(struct top_source *v);

/* Draws the view between rows first and last (exclusive) of stdscr. */
void top_source_draw(struct top_source *v, int first, int last, bool utf8,
		     int heading_pair);
/* Scrolling keys (arrows, PgUp, PgDn, Home, End): true when ch was one. */
bool top_source_key(struct top_source *v, int ch, int page);
/* The help's lines for this view (NULL-terminated). */
const char *const *top_source_help(void);

#endif
