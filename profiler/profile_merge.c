/* Copying samples between two profiles.  Ids are a profile's own, so each
 * string, frame and stack of the source is interned once into the
 * destination and its new id remembered for the rest of the copy. */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

struct copier {
	const profile *p;
	profile *q;
	uint32_t *str, *frame, *stack;	/* p id -> q id, PROFILE_NOID: not yet */
	size_t nstr, nframe, nstack;
};

static uint32_t copy_str(struct copier *c, uint32_t id)
{
	if (id >= c->nstr)
		return PROFILE_NOID;
	if (c->str[id] == PROFILE_NOID)
		c->str[id] = profile_intern_str(c->q, profile_str(c->p, id),
						profile_str_len(c->p, id));
	return c->str[id];
}

static uint32_t copy_frame(struct copier *c, uint32_t id)
{
	if (id >= c->nframe)
		return PROFILE_NOID;
	if (c->frame[id] != PROFILE_NOID)
		return c->frame[id];
	struct frame f = *profile_frame(c->p, id);
	f.func = copy_str(c, f.func);
	f.file = copy_str(c, f.file);
	f.module = copy_str(c, f.module);
	if (f.func == PROFILE_NOID || f.file == PROFILE_NOID ||
	    f.module == PROFILE_NOID)
		return PROFILE_NOID;
	return c->frame[id] = profile_intern_frame(c->q, &f);
}

static uint32_t copy_stack(struct copier *c, uint32_t id)
{
	if (id >= c->nstack)
		return PROFILE_NOID;
	if (c->stack[id] != PROFILE_NOID)
		return c->stack[id];
	size_t n;
	const uint32_t *ids = profile_stack(c->p, id, &n);
	uint32_t *fr = malloc((n ? n : 1) * sizeof *fr);
	if (!fr)
		return PROFILE_NOID;
	for (size_t j = 0; j < n; j++) {
		/* p's frames stay put while q grows: they are p's */
		fr[j] = copy_frame(c, ids[j]);
		if (fr[j] == PROFILE_NOID) {
			free(fr);
			return PROFILE_NOID;
		}
	}
	c->stack[id] = profile_intern_stack(c->q, fr, n);
	free(fr);
	return c->stack[id];
}

static uint32_t *id_map(size_t n)
{
	uint32_t *m = malloc((n ? n : 1) * sizeof *m);
	if (m)
		memset(m, 0xff, (n ? n : 1) * sizeof *m);
	return m;
}

static bool wanted(int32_t pid, int32_t want)
{
	return want < 0 || pid == want;
}

static int copy_samples(struct copier *c, int32_t pid)
{
	const profile *p = c->p;
	profile *q = c->q;
	size_t n, nq;
	const struct sample *tl = profile_timeline(p, &n);
	profile_timeline(q, &nq);
	/* the timeline only where q can keep one whole */
	if (n && (nq || profile_total_samples(q) == 0)) {
		profile_keep_timeline(q, true);
		for (size_t i = 0; i < n; i++) {
			if (!wanted(tl[i].pid, pid))
				continue;
			struct sample s = tl[i];
			s.stack = copy_stack(c, s.stack);
			s.task = copy_str(c, s.task);
			if (s.stack == PROFILE_NOID || s.task == PROFILE_NOID ||
			    profile_add_sample(q, &s))
				return LP_ENOMEM;
		}
		return LP_OK;
	}
	const struct profile_agg *a = profile_aggs(p, &n);
	for (size_t i = 0; i < n; i++) {
		if (!wanted(a[i].pid, pid))
			continue;
		struct profile_agg g = a[i];
		g.stack = copy_stack(c, g.stack);
		g.task = copy_str(c, g.task);
		if (g.stack == PROFILE_NOID || g.task == PROFILE_NOID ||
		    profile_add_agg(q, &g))
			return LP_ENOMEM;
	}
	return LP_OK;
}

static int copy(struct copier *c, int32_t pid)
{
	const profile *p = c->p;
	profile *q = c->q;
	for (size_t i = 0; i < profile_nmeta(p); i++) {
		const char *k, *v;
		profile_meta_at(p, i, &k, &v);
		if (profile_set_meta(q, k, v))
			return LP_ENOMEM;
	}
	uint64_t start = profile_start_ns(p);
	if (start && (!profile_start_ns(q) || start < profile_start_ns(q)))
		profile_set_start_ns(q, start);
	size_t n;
	const struct profile_thread *th = profile_threads(p, &n);
	for (size_t i = 0; i < n; i++)
		if (wanted(th[i].pid, pid) && th[i].name &&
		    profile_set_thread(q, th[i].pid, th[i].tid, profile_str(p, th[i].name)))
			return LP_ENOMEM;
	int rc = copy_samples(c, pid);
	if (rc)
		return rc;
	const struct profile_span *sp = profile_spans(p, &n);
	for (size_t i = 0; i < n; i++) {
		if (!wanted(sp[i].pid, pid))
			continue;
		struct profile_span s = sp[i];
		s.cat = copy_str(c, s.cat);
		s.name = copy_str(c, s.name);
		s.detail = copy_str(c, s.detail);
		if (s.cat == PROFILE_NOID || s.name == PROFILE_NOID ||
		    s.detail == PROFILE_NOID || profile_add_span(q, &s))
			return LP_ENOMEM;
	}
	return LP_OK;
}

int profile_merge(profile *q, const profile *p, int32_t pid)
{
	struct copier c = {
		.p = p, .q = q,
		.nstr = profile_nstrs(p), .nframe = profile_nframes(p),
		.nstack = profile_nstacks(p),
	};
	c.str = id_map(c.nstr);
	c.frame = id_map(c.nframe);
	c.stack = id_map(c.nstack);
	int rc = c.str && c.frame && c.stack ? copy(&c, pid) : LP_ENOMEM;
	free(c.str);
	free(c.frame);
	free(c.stack);
	return rc;
}
