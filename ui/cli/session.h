/* What the sampling commands share: the stop flag set by signals, and
 * opening the target given by -p or -- CMD with the user-facing errors. */
#ifndef LOUPE_UI_SESSION_H
#define LOUPE_UI_SESSION_H

#include <signal.h>

#include "options.h"
#include "sampler.h"
#include "target.h"

extern volatile sig_atomic_t session_stop;

/* SIGINT, SIGTERM and SIGHUP set session_stop; SIGPIPE is ignored. */
void session_catch_signals(void);

/* Attaches or spawns; prints the error and returns 1 on failure. */
int session_open_target(const struct cli_opts *o, target **out);

/* Builds the sampler; prints the error and returns 1 on failure. */
int session_open_sampler(const struct cli_opts *o, target *t, profile *p,
			 sampler **out);

/* Finds out before sampling, not after an hour of it, that o->output cannot
 * be written (or is a link without --follow, a directory...): prints the
 * error and returns 1 then. */
int session_check_output(const struct cli_opts *o);

/* Prints the sampler's warning (task mode fell back), once. */
void session_warn(sampler *s);

#endif
