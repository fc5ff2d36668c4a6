/* The status line of loupe trace: its figures read from the running
 * tracer, under a lock tracer_run takes while it changes them. */
#ifndef LOUPE_UI_TRACE_STATUS_H
#define LOUPE_UI_TRACE_STATUS_H

#include <pthread.h>

#include "formats/formats.h"
#include "options.h"
#include "profile.h"
#include "status_line.h"
#include "target.h"
#include "tracer.h"

struct trace_status {
	pthread_mutex_t lock;	/* given to the tracer while the line runs */
	tracer *tr;
	target *t;
	const profile *p;
	const raw_writer *w;	/* streamed output, or NULL */
	bool output;		/* -o given */
	double duration;
	status_line *line;	/* NULL: not shown */
};

/* Shows the line (on a terminal, without -q) until trace_status_stop;
 * call it just before tracer_run.  Never fails the command. */
void trace_status_start(struct trace_status *ts, const struct cli_opts *o,
			tracer *tr, target *t, const profile *p,
			const raw_writer *w);
/* Erases the line and takes the lock back from the tracer. */
void trace_status_stop(struct trace_status *ts);

#endif
