/* The task view people can read: in a --tasks profile every task is a root
 * frame of its own, so a service's hundreds of request tasks are hundreds
 * of slivers.  format_write groups them by their outermost coroutine: one
 * tower per coroutine whose root says how many tasks it stands for
 * ("312 tasks: handle"), the await chains and stacks below it merged as
 * any stacks are.  A coroutine with one task keeps that task's own frame.
 * --per-task (output_opts.per_task) keeps the old view; the chrome trace,
 * a timeline, and the raw recording are never grouped. */
#include "formats/formats.h"

#include "bounds.h"

#include <stdlib.h>
#include <string.h>

/* Beyond this many distinct outermost coroutines the profile is written
 * as it is: grouping would not make it readable anyway. */
#define MAX_GROUPS 4096

struct group {
	uint32_t func, file;	/* the outermost coroutine (p's string ids) */
	uint32_t ntasks;
	uint32_t first_task;	/* p's task frame id, for a lone task */
	uint32_t qframe;	/* q's root frame of the group */
};

struct grouping {
	const profile *p;
	profile *q;
	size_t nf;
	uint32_t *task_group;	/* p's frame id -> group + 1, 0: none */
	uint32_t *qframe;	/* p's frame id -> q's, PROFILE_NOID: not yet */
	struct group *g;
	size_t ng;
	uint32_t *ids;		/* one stack of q being built */
};

/* The first task frame of a stack and the frame after it (its outermost
 * coroutine), or -1. */
static long task_at(const profile *p, const uint32_t *ids, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct frame *f = profile_frame(p, ids[k]);
		if (f && f->kind == FRAME_TASK)
			return (long)k;
	}
	return -1;
}

static int find_groups(struct grouping *G, bool *any)
{
	size_t na;
	const struct profile_agg *a = profile_aggs(G->p, &na);
	*any = false;
	for (size_t i = 0; i < na; i++) {
		size_t n;
		const uint32_t *ids = profile_stack(G->p, a[i].stack, &n);
		long k = task_at(G->p, ids, n);
		if (k < 0 || ids[k] >= G->nf || G->task_group[ids[k]])
			continue;
		*any = true;
		uint32_t func = 0, file = 0;
		const struct frame *root = (size_t)k + 1 < n ?
			profile_frame(G->p, ids[k + 1]) : NULL;
		if (root && root->kind == FRAME_PYTHON) {
			func = root->func;
			file = root->file;
		}
		size_t j = 0;
		while (j < G->ng && (G->g[j].func != func || G->g[j].file != file))
			j++;
		if (j == G->ng) {
			if (G->ng == MAX_GROUPS)
				return LP_EUNSUPPORTED;
			G->g[G->ng++] = (struct group){ func, file, 0, ids[k],
							PROFILE_NOID };
		}
		G->g[j].ntasks++;
		G->task_group[ids[k]] = (uint32_t)j + 1;
	}
	return LP_OK;
}

static uint32_t copy_str(struct grouping *G, uint32_t id)
{
	if (!id)
		return 0;
	return profile_intern_str(G->q, profile_str(G->p, id),
				  profile_str_len(G->p, id));
}

static uint32_t copy_frame(struct grouping *G, uint32_t id)
{
	if (id >= G->nf)
		return PROFILE_NOID;
	if (G->qframe[id] != PROFILE_NOID)
		return G->qframe[id];
	const struct frame *f = profile_frame(G->p, id);
	if (!f)
		return PROFILE_NOID;
	struct frame c = *f;
	c.func = copy_str(G, f->func);
	c.file = copy_str(G, f->file);
	c.module = copy_str(G, f->module);
	if (c.func == PROFILE_NOID || c.file == PROFILE_NOID ||
	    c.module == PROFILE_NOID)
		return PROFILE_NOID;
	return G->qframe[id] = profile_intern_frame(G->q, &c);
}

/* q's root frame of a task frame: its group's, or its own when alone. */
static uint32_t group_frame(struct grouping *G, uint32_t id)
{
	struct group *g = &G->g[G->task_group[id] - 1];
	if (g->ntasks == 1 || !g->func)
		return copy_frame(G, id);
	if (g->qframe == PROFILE_NOID) {
		struct frame c = { .kind = FRAME_TASK,
				   .func = copy_str(G, g->func),
				   .file = copy_str(G, g->file),
				   .line = (int32_t)(g->ntasks > INT32_MAX ?
						     INT32_MAX : g->ntasks) };
		if (c.func == PROFILE_NOID || c.file == PROFILE_NOID)
			return PROFILE_NOID;
		g->qframe = profile_intern_frame(G->q, &c);
	}
	return g->qframe;
}

static int copy_profile(struct grouping *G)
{
	const profile *p = G->p;
	for (size_t i = 0; i < profile_nmeta(p); i++) {
		const char *k, *v;
		profile_meta_at(p, i, &k, &v);
		if (profile_set_meta(G->q, k, v))
			return LP_ENOMEM;
	}
	profile_set_start_ns(G->q, profile_start_ns(p));
	size_t nt;
	const struct profile_thread *th = profile_threads(p, &nt);
	for (size_t i = 0; i < nt; i++)
		if (profile_set_thread(G->q, th[i].pid, th[i].tid,
				       th[i].name ? profile_str(p, th[i].name) : ""))
			return LP_ENOMEM;
	uint32_t *ids = G->ids;
	size_t na;
	const struct profile_agg *a = profile_aggs(p, &na);
	for (size_t i = 0; i < na; i++) {
		size_t n;
		const uint32_t *in = profile_stack(p, a[i].stack, &n);
		if (n > MAX_INTERN_STACK_LEN)
			return LP_EINVAL;
		long k = task_at(p, in, n);
		for (size_t j = 0; j < n; j++) {
			ids[j] = (long)j == k && in[j] < G->nf && G->task_group[in[j]] ?
				 group_frame(G, in[j]) : copy_frame(G, in[j]);
			if (ids[j] == PROFILE_NOID)
				return LP_ENOMEM;
		}
		struct profile_agg c = a[i];
		c.stack = profile_intern_stack(G->q, ids, n);
		c.task = copy_str(G, a[i].task);
		if (c.stack == PROFILE_NOID || c.task == PROFILE_NOID)
			return LP_ENOMEM;
		int rc = profile_add_agg(G->q, &c);
		if (rc)
			return rc;
	}
	return LP_OK;
}

int task_groups_build(const profile *p, profile **out)
{
	*out = NULL;
	struct grouping G = { .p = p, .nf = profile_nframes(p) };
	G.task_group = calloc(G.nf ? G.nf : 1, sizeof *G.task_group);
	G.qframe = malloc((G.nf ? G.nf : 1) * sizeof *G.qframe);
	G.g = malloc(MAX_GROUPS * sizeof *G.g);
	G.ids = malloc(MAX_INTERN_STACK_LEN * sizeof *G.ids);
	int rc = LP_ENOMEM;
	bool any = false;
	if (!G.task_group || !G.qframe || !G.g || !G.ids)
		goto out;
	for (size_t i = 0; i < G.nf; i++)
		G.qframe[i] = PROFILE_NOID;
	rc = find_groups(&G, &any);
	if (rc == LP_EUNSUPPORTED || (rc == LP_OK && !any)) {
		rc = LP_OK;	/* written as it is */
		goto out;
	}
	if (rc)
		goto out;
	G.q = profile_new();
	if (!G.q) {
		rc = LP_ENOMEM;
		goto out;
	}
	rc = copy_profile(&G);
	if (rc) {
		profile_free(G.q);
		G.q = NULL;
	}
	*out = G.q;
out:
	free(G.task_group);
	free(G.qframe);
	free(G.g);
	free(G.ids);
	return rc;
}

int format_write(const struct format_info *fi, const profile *p, FILE *fp,
		 const struct output_opts *o)
{
	if (fi->timeline || fi->format == FORMAT_RAW || (o && o->per_task))
		return fi->write(p, fp, o);
	profile *q;
	int rc = task_groups_build(p, &q);
	if (rc)
		return rc;
	rc = fi->write(q ? q : p, fp, o);
	profile_free(q);
	return rc;
}
