#include "top_snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

static bool contains(const char *s, const char *needle)
{
	size_t n = strlen(needle);
	for (; s && *s; s++)
		if (strncasecmp(s, needle, n) == 0)
			return true;
	return false;
}

/* Whether a stack passes the view's filter: one of its frames names it. */
static bool stack_matches(const profile *p, uint32_t stack, const char *filter)
{
	size_t n;
	const uint32_t *f = profile_stack(p, stack, &n);
	for (size_t i = 0; i < n; i++) {
		const struct frame *fr = profile_frame(p, f[i]);
		if (!fr)
			continue;
		if (contains(profile_str(p, fr->func), filter) ||
		    contains(profile_str(p, fr->file), filter) ||
		    contains(profile_str(p, fr->module), filter))
			return true;
	}
	return false;
}

static uint32_t copy_str(profile *q, const profile *p, uint32_t id)
{
	if (!id)
		return 0;
	return profile_intern_str(q, profile_str(p, id), profile_str_len(p, id));
}

/* q's id of p's stack, its frames interned again (a bounded stack: the
 * profile's own). */
static uint32_t copy_stack(profile *q, const profile *p, uint32_t stack)
{
	size_t n;
	const uint32_t *f = profile_stack(p, stack, &n);
	uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
	if (!ids)
		return PROFILE_NOID;
	for (size_t i = 0; i < n; i++) {
		const struct frame *fr = profile_frame(p, f[i]);
		struct frame c = *fr;
		c.func = copy_str(q, p, fr->func);
		c.file = copy_str(q, p, fr->file);
		c.module = copy_str(q, p, fr->module);
		ids[i] = (c.func == PROFILE_NOID || c.file == PROFILE_NOID ||
			  c.module == PROFILE_NOID) ? PROFILE_NOID :
			profile_intern_frame(q, &c);
		if (ids[i] == PROFILE_NOID) {
			free(ids);
			return PROFILE_NOID;
		}
	}
	uint32_t id = profile_intern_stack(q, ids, n);
	free(ids);
	return id;
}

profile *top_snapshot_copy(const profile *p, const struct top_snapshot_opts *o)
{
	profile *q = profile_new();
	if (!q)
		return NULL;
	bool filtered = (o->filter && *o->filter) || o->tid;
	if (!filtered) {
		if (profile_merge(q, p, -1) != LP_OK)
			goto fail;
	} else {
		size_t na;
		/* the aggregates pointer moves when q grows, not p's */
		const struct profile_agg *a = profile_aggs(p, &na);
		for (size_t i = 0; i < na; i++) {
			if (o->tid && a[i].tid != o->tid)
				continue;
			if (o->filter && *o->filter &&
			    !stack_matches(p, a[i].stack, o->filter))
				continue;
			struct profile_agg c = a[i];
			c.stack = copy_stack(q, p, a[i].stack);
			c.task = 0;
			if (c.stack == PROFILE_NOID || profile_add_agg(q, &c) != LP_OK)
				goto fail;
		}
		size_t nt;
		const struct profile_thread *t = profile_threads(p, &nt);
		for (size_t i = 0; i < nt; i++)
			if (t[i].name && profile_set_thread(q, t[i].pid, t[i].tid,
						profile_str(p, t[i].name)) != LP_OK)
				goto fail;
		for (size_t i = 0; i < profile_nmeta(p); i++) {
			const char *k, *v;
			profile_meta_at(p, i, &k, &v);
			if (profile_set_meta(q, k, v) != LP_OK)
				goto fail;
		}
		profile_set_start_ns(q, profile_start_ns(p));
		if (o->filter && *o->filter &&
		    profile_set_meta(q, "filter", o->filter) != LP_OK)
			goto fail;
	}
	/* the mode on screen; every thread was sampled whatever the mode */
	if (profile_set_meta(q, "mode", o->mode == MODE_WALL ? "wall" :
			     o->mode == MODE_CPU ? "cpu" : "gil") != LP_OK ||
	    profile_set_meta(q, "samples", "all") != LP_OK)
		goto fail;
	return q;
fail:
	profile_free(q);
	return NULL;
}

int top_snapshot_name(int32_t pid, enum output_format f, char *buf,
		      size_t len)
{
	const struct format_info *fi = format_info(f == FORMAT_NONE ? FORMAT_FLAMEGRAPH : f);
	const char *ext = fi && fi->exts[0] ? fi->exts[0] : ".out";
	time_t now = time(NULL);
	struct tm tm;
	char when[32];
	if (!localtime_r(&now, &tm) ||
	    !strftime(when, sizeof when, "%Y%m%d-%H%M%S", &tm))
		return -1;
	snprintf(buf, len, "loupe-%d-%s%s", (int)pid, when, ext);
	struct stat st;
	for (int k = 2; k < 100 && lstat(buf, &st) == 0; k++)
		snprintf(buf, len, "loupe-%d-%s-%d%s", (int)pid, when, k, ext);
	return 0;
}

int top_snapshot_write(const profile *q, const struct top_snapshot_opts *o,
		       const char *path, lp_error *err)
{
	struct output_opts oo = {
		.mode = o->mode,
		.threads = o->threads,
		.lines = o->by_line,
		.idle = true,	/* what the view counts */
		.merge_processes = o->merge_processes,
	};
	enum output_format f = o->format == FORMAT_NONE ? FORMAT_FLAMEGRAPH : o->format;
	return format_write_file(q, f, path, &oo, err);
}
