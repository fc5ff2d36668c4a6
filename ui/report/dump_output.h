/* loupe dump's output, for the command and for loupe ctl dump: every
 * thread's stack, innermost frame first (like py-spy dump); with tasks,
 * the asyncio task tree and the running task's stack (like
 * `python -m asyncio pstree`); or all of it as JSON. */
#ifndef LOUPE_UI_DUMP_OUTPUT_H
#define LOUPE_UI_DUMP_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "profile.h"
#include "sampler.h"
#include "target.h"

/* Takes one snapshot (sampler_snapshot) and writes it to out.  LP_OK, or
 * the snapshot's error (with err set). */
int dump_write(FILE *out, sampler *s, target *t, profile *p, bool tasks,
	       bool json, lp_error *err);
/* The same; with locals, each Python frame's local variables too
 * (py_frame_locals), read while the threads are as the stacks show. */
int dump_write_locals(FILE *out, sampler *s, target *t, profile *p,
		      bool tasks, bool json, bool locals, lp_error *err);

#endif
