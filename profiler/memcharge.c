/* Memory growth charged to stacks (memcharge.h).  The resident set is read
 * from /proc/PID/statm, whose second field the kernel keeps per mm without
 * walking page tables (proc(5)); smaps_rollup would be exact to the byte
 * but walks every mapping, too slow for every tick. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "memcharge.h"
#include "procfs.h"

struct pending {
	uint32_t stack;
	uint64_t cpu_ns;
};

struct memcharge {
	int statm;
	bool in_tick, have_prev;
	uint64_t tick_time, prev_rss;
	int64_t delta;			/* change charged to this tick */
	struct pending *pend;		/* this tick's samples */
	size_t npend;
	double *grow, *rel;		/* bytes by stack id of the source */
	size_t nstacks;
	struct memcharge_stats st;
};

int memcharge_new(memcharge **out, int procfd, lp_error *err)
{
	memcharge *m = calloc(1, sizeof *m);
	if (!m || !(m->pend = calloc(MAX_THREADS, sizeof *m->pend))) {
		free(m);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	m->statm = openat(procfd, "statm", O_RDONLY | O_CLOEXEC);
	if (m->statm < 0) {
		int e = errno;
		free(m->pend);
		free(m);
		return lp_error_set(err, e == ENOENT || e == ESRCH ? LP_ENOPROC
				    : LP_EPERM, "cannot open /proc/PID/statm: %s",
				    strerror(e));
	}
	*out = m;
	return LP_OK;
}

void memcharge_free(memcharge *m)
{
	if (!m)
		return;
	close(m->statm);
	free(m->pend);
	free(m->grow);
	free(m->rel);
	free(m);
}

static int grow_to(memcharge *m, uint32_t stack)
{
	if (stack < m->nstacks)
		return LP_OK;
	size_t n = m->nstacks ? m->nstacks : 256;
	while (n <= stack)
		n *= 2;
	double *g = realloc(m->grow, n * sizeof *g);
	if (!g)
		return LP_ENOMEM;
	m->grow = g;
	double *r = realloc(m->rel, n * sizeof *r);
	if (!r)
		return LP_ENOMEM;
	m->rel = r;
	memset(g + m->nstacks, 0, (n - m->nstacks) * sizeof *g);
	memset(r + m->nstacks, 0, (n - m->nstacks) * sizeof *r);
	m->nstacks = n;
	return LP_OK;
}

/* Splits the tick's change over its samples by CPU time. */
static int close_tick(memcharge *m)
{
	if (!m->in_tick || !m->delta)
		return LP_OK;
	uint64_t total = 0;
	for (size_t i = 0; i < m->npend; i++)
		total += m->pend[i].cpu_ns;
	uint64_t mag = (uint64_t)(m->delta < 0 ? -m->delta : m->delta);
	if (!total) {
		m->st.uncharged += mag;
		return LP_OK;
	}
	for (size_t i = 0; i < m->npend; i++) {
		if (!m->pend[i].cpu_ns)
			continue;
		if (grow_to(m, m->pend[i].stack) != LP_OK)
			return LP_ENOMEM;
		double share = (double)mag * (double)m->pend[i].cpu_ns /
			       (double)total;
		(m->delta > 0 ? m->grow : m->rel)[m->pend[i].stack] += share;
	}
	if (m->delta > 0)
		m->st.grown += mag;
	else
		m->st.released += mag;
	return LP_OK;
}

int memcharge_sink(void *ctx, const profile *p, const struct sample *s)
{
	(void)p;
	memcharge *m = ctx;
	if (!m->in_tick || s->time_ns != m->tick_time) {
		int rc = close_tick(m);
		if (rc != LP_OK)
			return rc;
		char buf[256];
		uint64_t rss;
		m->in_tick = true;
		m->tick_time = s->time_ns;
		m->npend = 0;
		m->delta = 0;
		if (procfs_pread(m->statm, buf, sizeof buf) <= 0 ||
		    procfs_statm_rss(buf, &rss) != 0)
			return LP_OK;	/* the target is ending: no charge */
		if (m->have_prev)
			m->delta = (int64_t)(rss - m->prev_rss);
		else
			m->st.rss_first = rss;
		m->have_prev = true;
		m->prev_rss = rss;
		m->st.rss_last = rss;
		m->st.ticks++;
	}
	if (m->npend < MAX_THREADS)
		m->pend[m->npend++] = (struct pending){ s->stack, s->cpu_ns };
	return LP_OK;
}

/* src's frame in dst's strings. */
static uint32_t copy_frame(const profile *src, profile *dst, uint32_t id)
{
	const struct frame *f = profile_frame(src, id);
	if (!f)
		return PROFILE_NOID;
	struct frame c = *f;
	c.func = profile_intern_str(dst, profile_str(src, f->func),
				    profile_str_len(src, f->func));
	c.file = profile_intern_str(dst, profile_str(src, f->file),
				    profile_str_len(src, f->file));
	c.module = profile_intern_str(dst, profile_str(src, f->module),
				      profile_str_len(src, f->module));
	if (c.func == PROFILE_NOID || c.file == PROFILE_NOID ||
	    c.module == PROFILE_NOID)
		return PROFILE_NOID;
	return profile_intern_frame(dst, &c);
}

static int fill(const double *w, size_t n, const profile *src, profile *dst,
		int32_t pid)
{
	uint32_t *ids = malloc(MAX_INTERN_STACK_LEN * sizeof *ids);
	if (!ids)
		return LP_ENOMEM;
	int rc = LP_OK;
	for (size_t i = 0; i < n && rc == LP_OK; i++) {
		uint64_t bytes = (uint64_t)llround(w[i]);
		if (!bytes)
			continue;
		size_t len = 0;
		const uint32_t *fr = profile_stack(src, (uint32_t)i, &len);
		if (!fr || len > MAX_INTERN_STACK_LEN)
			continue;
		for (size_t k = 0; k < len && rc == LP_OK; k++)
			if ((ids[k] = copy_frame(src, dst, fr[k])) == PROFILE_NOID)
				rc = LP_ENOMEM;
		uint32_t stack = rc == LP_OK ? profile_intern_stack(dst, ids, len)
					     : PROFILE_NOID;
		if (stack == PROFILE_NOID) {
			rc = LP_ENOMEM;
			break;
		}
		struct profile_agg a = { .stack = stack, .pid = pid, .tid = pid,
					 .samples = bytes,
					 .cpu_samples = bytes };
		rc = profile_add_agg(dst, &a);
	}
	free(ids);
	return rc;
}

int memcharge_finish(memcharge *m, const profile *src, profile *grow,
		     profile *release, int32_t pid, lp_error *err)
{
	int rc = close_tick(m);
	m->in_tick = false;
	if (rc == LP_OK)
		rc = fill(m->grow, m->nstacks, src, grow, pid);
	if (rc == LP_OK)
		rc = fill(m->rel, m->nstacks, src, release, pid);
	if (rc != LP_OK)
		return lp_error_set(err, rc, "out of memory");
	return LP_OK;
}

const struct memcharge_stats *memcharge_stats(const memcharge *m)
{
	return &m->st;
}

void memcharge_stack(const memcharge *m, uint32_t stack, double *grown,
		     double *released)
{
	bool in = stack < m->nstacks;
	*grown = in ? m->grow[stack] : 0.0;
	*released = in ? m->rel[stack] : 0.0;
}

void memcharge_reset(memcharge *m)
{
	if (m->nstacks) {
		memset(m->grow, 0, m->nstacks * sizeof *m->grow);
		memset(m->rel, 0, m->nstacks * sizeof *m->rel);
	}
	memset(&m->st, 0, sizeof m->st);
	m->in_tick = m->have_prev = false;
	m->npend = 0;
	m->delta = 0;
}
