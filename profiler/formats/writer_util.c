/* Shared helpers of the viewer formats (writer_util.h). */
#include "formats/writer_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int ftext_init(struct ftext *ft, const profile *p, profile *texts, bool lines)
{
	memset(ft, 0, sizeof *ft);
	ft->p = p;
	ft->texts = texts;
	ft->lines = lines;
	ft->n = profile_nframes(p);
	ft->cache = malloc((ft->n ? ft->n : 1) * sizeof *ft->cache);
	if (!ft->cache)
		return LP_ENOMEM;
	for (size_t i = 0; i < ft->n; i++)
		ft->cache[i] = PROFILE_NOID;
	return LP_OK;
}

void ftext_fini(struct ftext *ft)
{
	free(ft->cache);
	ft->cache = NULL;
}

uint32_t ftext_get(struct ftext *ft, uint32_t id)
{
	if (id >= ft->n)
		return profile_intern_cstr(ft->texts, "[invalid]");
	if (ft->cache[id] != PROFILE_NOID)
		return ft->cache[id];
	const profile *p = ft->p;
	const struct frame *f = profile_frame(p, id);
	/* demangled C++ names run to kilobytes: size the buffer to fit */
	size_t len = profile_str_len(p, f->func) + profile_str_len(p, f->file) +
		     profile_str_len(p, f->module) + 64;
	char small[512];
	char *tmp = len > sizeof small ? malloc(len) : small;
	if (!tmp)
		return PROFILE_NOID;
	format_frame(p, id, ft->lines, tmp, len > sizeof small ? len : sizeof small);
	ft->cache[id] = profile_intern_cstr(ft->texts, tmp);
	if (tmp != small)
		free(tmp);
	return ft->cache[id];
}

uint32_t ftext_thread(struct ftext *ft, int32_t pid, int32_t tid)
{
	char tmp[64 + 1024];
	uint32_t name = profile_thread_name(ft->p, pid, tid);
	if (name)
		snprintf(tmp, sizeof tmp, "thread %" PRId32 " (%s)", tid,
			 profile_str(ft->p, name));
	else
		snprintf(tmp, sizeof tmp, "thread %" PRId32, tid);
	return profile_intern_cstr(ft->texts, tmp);
}

uint32_t ftext_process(struct ftext *ft, int32_t pid)
{
	char tmp[64 + 1024];
	format_process(ft->p, pid, tmp, sizeof tmp);
	return profile_intern_cstr(ft->texts, tmp);
}

/* --- the folded call tree ------------------------------------------------ */

static uint32_t pair_hash(uint32_t parent, uint32_t text)
{
	uint64_t h = ((uint64_t)parent << 32 | text) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32);
}

static int fold_rehash(struct fold *f)
{
	size_t ns = f->nslots ? f->nslots * 2 : 1024;
	uint32_t *s = calloc(ns, sizeof *s);
	if (!s)
		return LP_ENOMEM;
	for (size_t i = 1; i < f->len; i++) {
		size_t k = pair_hash(f->n[i].parent, f->n[i].text) & (ns - 1);
		while (s[k])
			k = (k + 1) & (ns - 1);
		s[k] = (uint32_t)i + 1;
	}
	free(f->slots);
	f->slots = s;
	f->nslots = ns;
	return LP_OK;
}

int fold_init(struct fold *f)
{
	memset(f, 0, sizeof *f);
	f->texts = profile_new();
	f->cap = 1024;
	f->n = calloc(f->cap, sizeof *f->n);
	if (!f->texts || !f->n || fold_rehash(f)) {
		fold_fini(f);
		return LP_ENOMEM;
	}
	f->len = 1;	/* the root */
	f->n[0].text = profile_intern_cstr(f->texts, "all");
	f->n[0].kind = FOLD_OTHER;
	return LP_OK;
}

void fold_fini(struct fold *f)
{
	profile_free(f->texts);
	free(f->n);
	free(f->slots);
	memset(f, 0, sizeof *f);
}

/* The child of parent with text, created when absent; 0 on ENOMEM. */
static uint32_t fold_child(struct fold *f, uint32_t parent, uint32_t text,
			   uint8_t kind)
{
	size_t k = pair_hash(parent, text) & (f->nslots - 1);
	for (; f->slots[k]; k = (k + 1) & (f->nslots - 1)) {
		struct fold_node *n = &f->n[f->slots[k] - 1];
		if (n->parent == parent && n->text == text)
			return f->slots[k] - 1;
	}
	if (f->len >= UINT32_MAX - 1)
		return 0;
	if (f->len == f->cap) {
		struct fold_node *nn = realloc(f->n, 2 * f->cap * sizeof *nn);
		if (!nn)
			return 0;
		f->n = nn;
		f->cap *= 2;
	}
	uint32_t id = (uint32_t)f->len++;
	f->n[id] = (struct fold_node){ .text = text, .parent = parent,
				       .sibling = f->n[parent].child,
				       .depth = f->n[parent].depth + 1,
				       .kind = kind };
	f->n[parent].child = id;
	if (f->n[id].depth > f->max_depth)
		f->max_depth = f->n[id].depth;
	f->slots[k] = id + 1;
	/* keep the load under one half */
	if (2 * f->len > f->nslots && fold_rehash(f))
		return 0;
	return id;
}

static uint8_t fold_kind_of(uint32_t kind)
{
	switch (kind) {
	case FRAME_PYTHON: return FOLD_PYTHON;
	case FRAME_NATIVE: return FOLD_NATIVE;
	case FRAME_TASK: return FOLD_TASK;
	case FRAME_THREAD: case FRAME_PROCESS: return FOLD_THREAD;
	default: return FOLD_OTHER;
	}
}

int fold_add_profile(struct fold *f, const profile *p,
		     const struct output_opts *o, int which)
{
	struct ftext ft;
	if (ftext_init(&ft, p, f->texts, o->lines))
		return LP_ENOMEM;
	int rc = LP_ENOMEM;
	uint32_t nostack = profile_intern_cstr(f->texts, "<no stack>");
	bool procs = output_process_roots(p, o);
	size_t na;
	const struct profile_agg *a = profile_aggs(p, &na);
	for (size_t i = 0; i < na; i++) {
		uint64_t w = output_weight(&a[i], o);
		if (!w)
			continue;
		/* the idle part of w: all idle samples in wall mode, those
		 * kept by --idle in cpu mode */
		bool idle_counts = o->mode == MODE_WALL ||
				   (o->mode == MODE_CPU && o->idle);
		uint64_t idle = idle_counts ? a[i].idle_samples : 0;
		if (idle > w)
			idle = w;
		uint32_t node = 0;
		f->n[0].w[which] += w;
		f->n[0].idle[which] += idle;
		f->total[which] += w;
		size_t n;
		const uint32_t *ids = profile_stack(p, a[i].stack, &n);
		if (procs) {
			uint32_t t = ftext_process(&ft, a[i].pid);
			if (t == PROFILE_NOID ||
			    !(node = fold_child(f, node, t, FOLD_THREAD)))
				goto out;
			f->n[node].w[which] += w;
			f->n[node].idle[which] += idle;
		}
		if (o->threads) {
			uint32_t t = ftext_thread(&ft, a[i].pid, a[i].tid);
			if (t == PROFILE_NOID ||
			    !(node = fold_child(f, node, t, FOLD_THREAD)))
				goto out;
			f->n[node].w[which] += w;
			f->n[node].idle[which] += idle;
		}
		if (!n) {
			if (!(node = fold_child(f, node, nostack, FOLD_OTHER)))
				goto out;
			f->n[node].w[which] += w;
			f->n[node].idle[which] += idle;
		}
		for (size_t j = 0; j < n; j++) {
			uint32_t t = ftext_get(&ft, ids[j]);
			const struct frame *fr = profile_frame(p, ids[j]);
			if (t == PROFILE_NOID ||
			    !(node = fold_child(f, node, t,
						fold_kind_of(fr ? fr->kind : 0))))
				goto out;
			f->n[node].w[which] += w;
			f->n[node].idle[which] += idle;
		}
	}
	rc = LP_OK;
out:
	ftext_fini(&ft);
	return rc;
}

struct child_ref {
	const char *text;
	uint32_t id;
};

static int child_cmp(const void *a, const void *b)
{
	return strcmp(((const struct child_ref *)a)->text,
		      ((const struct child_ref *)b)->text);
}

int fold_children(const struct fold *f, uint32_t i, uint32_t **out, size_t *n)
{
	size_t k = 0;
	for (uint32_t c = f->n[i].child; c; c = f->n[c].sibling)
		k++;
	*n = k;
	*out = NULL;
	if (!k)
		return LP_OK;
	struct child_ref *r = malloc(k * sizeof *r);
	uint32_t *ids = malloc(k * sizeof *ids);
	if (!r || !ids) {
		free(r);
		free(ids);
		return LP_ENOMEM;
	}
	k = 0;
	for (uint32_t c = f->n[i].child; c; c = f->n[c].sibling)
		r[k++] = (struct child_ref){ profile_str(f->texts, f->n[c].text), c };
	/* alphabetical, as flamegraph.pl: the same profile draws the same */
	qsort(r, k, sizeof *r, child_cmp);
	for (size_t j = 0; j < k; j++)
		ids[j] = r[j].id;
	free(r);
	*out = ids;
	return LP_OK;
}

/* --- escaping --------------------------------------------------------------- */

void json_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (const unsigned char *c = (const unsigned char *)(s ? s : "");
	     *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(fp, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(fp, "\\u%04x", *c);
		else
			fputc(*c, fp);
	}
	fputc('"', fp);
}

void xml_escape(FILE *fp, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		switch (*c) {
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '&': fputs("&amp;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&apos;", fp); break;
		default:
			/* XML 1.0 allows no control character but tab, LF,
			 * CR */
			if (*c < 0x20 && *c != '\t' && *c != '\n' && *c != '\r')
				fputc(' ', fp);
			else
				fputc(*c, fp);
		}
	}
}

/* --- figures of the recording ---------------------------------------------- */

double writer_period_s(const profile *p)
{
	const char *r = profile_meta(p, "rate");
	double rate = r ? strtod(r, NULL) : 0;
	return rate > 0 ? 1.0 / rate : 0.01;
}

struct tsum {
	int32_t pid, tid;
	uint64_t samples;
};

static int tsum_cmp(const void *x, const void *y)
{
	const struct tsum *a = x, *b = y;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

uint64_t writer_duration_ns(const profile *p)
{
	const char *d = profile_meta(p, "duration_ns");
	if (d) {
		uint64_t v = strtoull(d, NULL, 10);
		if (v)
			return v;
	}
	size_t n;
	const struct sample *t = profile_timeline(p, &n);
	if (n)
		return t[n - 1].time_ns - t[0].time_ns +
		       (uint64_t)(writer_period_s(p) * 1e9);
	/* the busiest thread was sampled once a period: sum per thread over
	 * the aggregates sorted by thread */
	size_t na;
	const struct profile_agg *a = profile_aggs(p, &na);
	struct tsum *ts = malloc((na ? na : 1) * sizeof *ts);
	if (!ts)
		return (uint64_t)(profile_total_samples(p) * writer_period_s(p) * 1e9);
	for (size_t i = 0; i < na; i++)
		ts[i] = (struct tsum){ a[i].pid, a[i].tid, a[i].samples };
	if (na > 1)
		qsort(ts, na, sizeof *ts, tsum_cmp);
	uint64_t best = 0, run = 0;
	for (size_t i = 0; i < na; i++) {
		if (i && tsum_cmp(&ts[i], &ts[i - 1]))
			run = 0;
		run += ts[i].samples;
		if (run > best)
			best = run;
	}
	free(ts);
	return (uint64_t)(best * writer_period_s(p) * 1e9);
}

const char *writer_mode_name(enum sample_mode m)
{
	return m == MODE_CPU ? "cpu" : m == MODE_GIL ? "gil" : "wall";
}

void writer_target(const profile *p, char *buf, size_t len)
{
	const char *comm = profile_meta(p, "target.comm");
	const char *pid = profile_meta(p, "target.pid");
	if (comm && pid)
		snprintf(buf, len, "%s (PID %s)", comm, pid);
	else if (pid)
		snprintf(buf, len, "PID %s", pid);
	else if (comm)
		snprintf(buf, len, "%s", comm);
	else
		snprintf(buf, len, "profile");
}

/* What one aggregate weighs, in samples:
 *   wall  every sample, idle or not (opts.idle does not matter);
 *   cpu   the CPU time of samples taken on CPU (SAMPLE_ON_CPU), in
 *         periods, plus the idle ones (SAMPLE_IDLE) when opts.idle asks
 *         to keep them;
 *   gil   samples whose thread held the GIL (SAMPLE_GIL).
 * A sampler never marks one sample both on-CPU and idle (running vs
 * waiting); should it, cpu with idle is capped at the larger of the wall
 * and the CPU counts. */
uint64_t output_weight(const struct profile_agg *a,
		       const struct output_opts *o)
{
	uint64_t w;
	if (o->pid && a->pid != o->pid)
		return 0;
	switch (o->mode) {
	case MODE_CPU:
		/* CPU samples are the CPU time used over the period: a
		 * sample may stand for more of it than its wall weight. */
		if (!o->idle)
			return a->cpu_samples;
		w = a->cpu_samples + a->idle_samples;
		return w < a->samples ? w :
		       a->samples > a->cpu_samples ? a->samples : a->cpu_samples;
	case MODE_GIL:
		return a->gil_samples;
	case MODE_WALL:
	default:
		return a->samples;
	}
}
