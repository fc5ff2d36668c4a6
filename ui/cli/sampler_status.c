#include "sampler_status.h"

#include <stdio.h>

static void fill(void *ctx, struct status_figures *f)
{
	struct sampler_status *ss = ctx;
	pthread_mutex_lock(&ss->lock);
	const struct sampler_stats *st = sampler_stats(ss->s);
	f->ticks = st->ticks;
	f->missed = st->missed;
	f->samples = st->samples;
	f->threads = target_nthreads(ss->t);
	f->processes = 1;
	if (ss->w) {
		f->output_bytes = raw_writer_size(ss->w);
	} else {
		f->output_bytes = profile_memory(ss->p);
		f->output_in_memory = true;
	}
	if (ss->extra)
		ss->extra(ss->extra_ctx, f->extra, sizeof f->extra);
	pthread_mutex_unlock(&ss->lock);
	f->rate_hz = ss->rate;
	f->duration_s = ss->duration;
}

void sampler_status_start(struct sampler_status *ss, const char *label,
			  const struct cli_opts *o, sampler *s, target *t,
			  const profile *p, const raw_writer *w)
{
	ss->line = NULL;
	ss->s = s;
	ss->t = t;
	ss->p = p;
	ss->w = w;
	ss->rate = o->rate;
	ss->duration = o->duration;
	pthread_mutex_init(&ss->lock, NULL);
	/* The lock first, so that the line never reads a tick half done. */
	sampler_set_lock(s, &ss->lock);
	if (status_line_start(&ss->line, label, o->quiet, fill, ss) != 0 ||
	    !ss->line) {
		ss->line = NULL;
		sampler_set_lock(s, NULL);
	}
}

void sampler_status_stop(struct sampler_status *ss)
{
	if (!ss->line && !ss->s)
		return;
	status_line_stop(ss->line);
	if (ss->s)
		sampler_set_lock(ss->s, NULL);
	pthread_mutex_destroy(&ss->lock);
	ss->line = NULL;
	ss->s = NULL;
}

size_t sampler_failed_text(const uint64_t failed[PY_WALK_NFAILS], char *buf,
			   size_t len)
{
	if (!len)
		return 0;
	buf[0] = '\0';
	if (!failed[PY_WALK_OK])
		return 0;
	size_t n = 0;
	int k = snprintf(buf, len, "%llu failed (",
			 (unsigned long long)failed[PY_WALK_OK]);
	for (unsigned r = PY_WALK_OK + 1; r < PY_WALK_NFAILS && k >= 0 &&
					  (n += (size_t)k) < len; r++)
		k = failed[r] ? snprintf(buf + n, len - n, "%s%s %llu",
					 buf[n - 1] == '(' ? "" : ", ",
					 py_walk_fail_str(r),
					 (unsigned long long)failed[r]) : 0;
	if (k >= 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, ")");
	return n < len ? n : len - 1;
}
