/* loupe top's live view: the sampler in a thread of its own, the table
 * drawn on the terminal (ncurses), or printed every second where the
 * terminal cannot place the cursor.  ui/cmd_top.c opens what it shows. */
#ifndef LOUPE_UI_TOP_VIEW_H
#define LOUPE_UI_TOP_VIEW_H

#include <stdbool.h>

#include "error.h"
#include "options.h"
#include "profile.h"
#include "sampler.h"
#include "target.h"

/* What the command hands the view, and how the sampling ended. */
struct top_session {
	const struct cli_opts *o;	/* the user's choices */
	target *t;
	profile *p;
	sampler *s;			/* set up on p, not started */
	bool use_screen;		/* top_can_use_screen() */
	int sampler_rc;			/* out: sampler_run's result */
	lp_error sampler_err;		/* out: its error */
};

/* Whether stdin and stdout are a terminal that can place the cursor (else
 * the view prints plain tables).  Asked before a command started with --
 * gets /dev/null for its output. */
bool top_can_use_screen(void);

/* Runs the sampler and shows it until the sampling ends or the user quits
 * (the target runs on); the sampler's thread is joined on return.  0, or 1
 * after printing why the view could not start. */
int top_view_run(struct top_session *ts);

#endif
