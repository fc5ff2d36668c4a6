/* The status line of a sampling command (record, trace): its figures read
 * from the running sampler, under a lock the sampler takes for each tick. */
#ifndef LOUPE_UI_SAMPLER_STATUS_H
#define LOUPE_UI_SAMPLER_STATUS_H

#include <pthread.h>
#include <stdbool.h>

#include "formats/formats.h"
#include "options.h"
#include "profile.h"
#include "sampler.h"
#include "status_line.h"
#include "target.h"

struct sampler_status {
	pthread_mutex_t lock;	/* given to the sampler while the line runs */
	sampler *s;
	target *t;
	const profile *p;
	const raw_writer *w;	/* streamed output, or NULL: written at the
				 * end (the line shows the profile's memory) */
	double rate, duration;
	/* A command's own figure ("3 stalls"), called under the lock; may be
	 * NULL.  Set before sampler_status_start. */
	void (*extra)(void *ctx, char *buf, size_t len);
	void *extra_ctx;
	status_line *line;	/* NULL: not shown */
};

/* Shows the line (on a terminal, without -q) until sampler_status_stop;
 * call it between sampler_new and sampler_run, with ss zero-initialized
 * (extra and extra_ctx set, or left NULL).  Never fails the command:
 * without a line the command runs as before. */
void sampler_status_start(struct sampler_status *ss, const char *label,
			  const struct cli_opts *o, sampler *s, target *t,
			  const profile *p, const raw_writer *w);
/* Erases the line and takes the lock back from the sampler. */
void sampler_status_stop(struct sampler_status *ss);

/* The samples a sampler could not keep because a Python stack could not be
 * read whole (sampler_stats.failed, by reason): "19 failed (frames changed
 * during the read 19)", or "" when there are none.  Returns the length. */
size_t sampler_failed_text(const uint64_t failed[PY_WALK_NFAILS], char *buf,
			   size_t len);

#endif
