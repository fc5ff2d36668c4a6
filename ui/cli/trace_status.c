#include "trace_status.h"

#include <stdio.h>

static void fill(void *ctx, struct status_figures *f)
{
	struct trace_status *ts = ctx;
	pthread_mutex_lock(&ts->lock);
	const struct tracer_stats *st = tracer_stats(ts->tr);
	size_t nstalls;
	tracer_stalls(ts->tr, &nstalls);
	f->samples = st->samples;
	f->threads = target_nthreads(ts->t);
	f->processes = 1;
	if (ts->w) {
		f->output_bytes = raw_writer_size(ts->w);
	} else if (ts->output) {
		f->output_bytes = profile_memory(ts->p);
		f->output_in_memory = true;
	} else {
		f->no_output = true;
	}
	if (tracer_found_loop(ts->tr))
		snprintf(f->extra, sizeof f->extra, "%zu stall%s, %llu syscalls",
			 nstalls, nstalls == 1 ? "" : "s",
			 (unsigned long long)st->events);
	else
		snprintf(f->extra, sizeof f->extra, "no event loop yet, %llu syscalls",
			 (unsigned long long)st->events);
	pthread_mutex_unlock(&ts->lock);
	f->rate_hz = 0;	/* stacks only while a loop is busy: no steady rate */
	f->duration_s = ts->duration;
}

void trace_status_start(struct trace_status *ts, const struct cli_opts *o,
			tracer *tr, target *t, const profile *p,
			const raw_writer *w)
{
	ts->tr = tr;
	ts->t = t;
	ts->p = p;
	ts->w = w;
	ts->output = o->output != NULL;
	ts->duration = o->duration;
	ts->line = NULL;
	pthread_mutex_init(&ts->lock, NULL);
	tracer_set_lock(tr, &ts->lock);
	if (status_line_start(&ts->line, "loupe trace", o->quiet, fill, ts) != 0 ||
	    !ts->line) {
		ts->line = NULL;
		tracer_set_lock(tr, NULL);
	}
}

void trace_status_stop(struct trace_status *ts)
{
	if (!ts->tr)
		return;
	status_line_stop(ts->line);
	tracer_set_lock(ts->tr, NULL);
	pthread_mutex_destroy(&ts->lock);
	ts->line = NULL;
	ts->tr = NULL;
}
