/* What the sampling commands share: the stop flag set by signals, and
 * opening the target given by -p or -- CMD with the user-facing errors. */
#ifndef LOUPE_UI_SESSION_H
#define LOUPE_UI_SESSION_H

#include <signal.h>

#include "formats/formats.h"
#include "options.h"
#include "sampler.h"
#include "target.h"

extern volatile sig_atomic_t session_stop;

/* SIGINT, SIGTERM and SIGHUP set session_stop; SIGPIPE is ignored. */
void session_catch_signals(void);

/* Attaches or spawns; prints the error and returns 1 on failure. */
int session_open_target(const struct cli_opts *o, target **out);

/* The sampler's options from the command line's. */
void session_sampler_opts(const struct cli_opts *o, struct sampler_opts *so);

/* Builds the sampler; prints the error and returns 1 on failure. */
int session_open_sampler(const struct cli_opts *o, target *t, profile *p,
			 sampler **out);

/* Finds out before sampling, not after an hour of it, that o->output cannot
 * be written (or is a link without --follow, a directory...): prints the
 * error and returns 1 then. */
int session_check_output(const struct cli_opts *o);

/* Prints the sampler's warning (task mode fell back), once. */
void session_warn(sampler *s);

/* -o FILE of record and trace: the raw format streamed while sampling
 * (raw_writer_sink, sink_ctx w), any other format written whole at the
 * end.  w is NULL unless the format is raw. */
struct session_output {
	raw_writer *w;
};
/* Opens the raw writer when o->format is raw; prints the error and
 * returns 1 on failure. */
int session_output_open(struct session_output *so, const struct cli_opts *o);
/* Closes the raw writer, or writes p whole in o->format; the error in
 * err. */
int session_output_write(struct session_output *so, const profile *p,
			 const struct cli_opts *o, const struct output_opts *oo,
			 lp_error *err);
/* Drops a raw recording not closed (its temporary removed). */
void session_output_abort(struct session_output *so);

#endif
