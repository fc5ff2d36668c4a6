/* Python's pstats format: the marshalled dict that cProfile's
 * Profile.dump_stats writes and pstats.Stats / snakeviz read (CPython
 * Lib/pstats.py, load_stats and add_func_stats):
 *
 *   {(file, line, name): (cc, nc, tt, ct, {caller key: (cc, nc, tt, ct)})}
 *
 * derived from samples, since a sampler counts no calls:
 * - nc ("calls") is the number of samples in which the function is on the
 *   stack, once per occurrence; cc ("primitive calls") once per sample
 *   whatever the recursion, so nc > cc marks recursion as in cProfile;
 * - tt (own time) is the samples with the function as leaf, ct (cumulative
 *   time) those with it anywhere, each sample weighing one period
 *   (1 / rate) seconds; the mode picks which samples count;
 * - callers are the frames right below on the stack, with the same figures
 *   restricted to that caller;
 * - a function is (name, file) for Python, (symbol, module) for native:
 *   lines are merged whatever --no-lines says, and the key's line is the
 *   lowest line sampled in it (the format wants the definition's line,
 *   which a sample does not carry; the lowest is the nearest to it);
 *   native functions take line 0 and their module as file ("~" without
 *   one), as cProfile does for built-ins;
 * - a recording of a process tree gets, per process, a synthetic function
 *   ("~", 0, "process PID (comm)") that calls the roots of its stacks, so
 *   that snakeviz shows each process as a tree of its own (unless
 *   opts.merge_processes). */
#include "formats/writer_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "marshal.h"

struct fstat {
	uint32_t frame;		/* a frame of the function; PROFILE_NOID for
				 * a process's synthetic root */
	uint32_t text;		/* its text id */
	int32_t line;		/* lowest line sampled, 0 when none */
	uint64_t cc, nc, own, cum;
	uint64_t seen;		/* 1 + index of the last aggregate counted */
};

struct edge {
	uint32_t callee, caller;
	uint64_t cc, nc, own, cum;
	uint64_t seen;
};

struct edges {
	struct edge *e;
	size_t len, cap;
	uint32_t *slots;	/* index + 1 */
	size_t nslots;
};

static uint32_t edge_hash(uint32_t a, uint32_t b)
{
	return (uint32_t)((((uint64_t)a << 32) | b) * 0x9e3779b97f4a7c15ull >> 32);
}

static int edges_rehash(struct edges *es)
{
	size_t ns = es->nslots ? es->nslots * 2 : 1024;
	uint32_t *s = calloc(ns, sizeof *s);
	if (!s)
		return LP_ENOMEM;
	for (size_t i = 0; i < es->len; i++) {
		size_t k = edge_hash(es->e[i].callee, es->e[i].caller) & (ns - 1);
		while (s[k])
			k = (k + 1) & (ns - 1);
		s[k] = (uint32_t)i + 1;
	}
	free(es->slots);
	es->slots = s;
	es->nslots = ns;
	return LP_OK;
}

static struct edge *edge_get(struct edges *es, uint32_t callee, uint32_t caller)
{
	if (!es->nslots && edges_rehash(es))
		return NULL;
	size_t k = edge_hash(callee, caller) & (es->nslots - 1);
	for (; es->slots[k]; k = (k + 1) & (es->nslots - 1)) {
		struct edge *e = &es->e[es->slots[k] - 1];
		if (e->callee == callee && e->caller == caller)
			return e;
	}
	if (es->len == es->cap) {
		size_t nc = es->cap ? es->cap * 2 : 256;
		struct edge *n = realloc(es->e, nc * sizeof *n);
		if (!n)
			return NULL;
		es->e = n;
		es->cap = nc;
	}
	es->e[es->len] = (struct edge){ .callee = callee, .caller = caller };
	es->slots[k] = (uint32_t)++es->len;
	if (2 * es->len > es->nslots && edges_rehash(es))
		return NULL;
	return &es->e[es->len - 1];
}

static int edge_cmp(const void *x, const void *y)
{
	const struct edge *a = x, *b = y;
	if (a->callee != b->callee)
		return a->callee < b->callee ? -1 : 1;
	return a->caller < b->caller ? -1 : a->caller > b->caller;
}

static void put_key(FILE *fp, const profile *p, const struct fstat *s,
		    const char *text)
{
	const struct frame *f = s->frame == PROFILE_NOID ? NULL
			       : profile_frame(p, s->frame);
	const char *file = "~", *name = text;
	if (!f) {
		/* the process root: a built-in-like key, ("~", 0, text) */
	} else if (f->kind == FRAME_PYTHON && f->func) {
		name = profile_str(p, f->func);
		if (f->file)
			file = profile_str(p, f->file);
	} else if (f->kind == FRAME_NATIVE && f->module) {
		file = profile_str(p, f->module);
	}
	marshal_tuple(fp, 3);
	marshal_str(fp, file, strlen(file));
	marshal_int(fp, f && f->kind == FRAME_PYTHON ? s->line : 0);
	marshal_str(fp, name, strlen(name));
}

int pstats_write(const profile *p, FILE *fp, const struct output_opts *o)
{
	int rc = LP_ENOMEM;
	profile *texts = profile_new();
	struct ftext ft = { 0 };
	uint32_t *fn_of_text = NULL;	/* text id -> function index + 1 */
	size_t ftcap = 0;
	struct fstat *fs = NULL;
	size_t nfs = 0, fscap = 0;
	uint32_t *fns = NULL;
	size_t fnscap = 0;
	struct edges es = { 0 };
	double period = writer_period_s(p);

	if (!texts || ftext_init(&ft, p, texts, false))
		goto out;
	size_t na;
	const struct profile_agg *a = profile_aggs(p, &na);
	bool procs = output_process_roots(p, o);
	size_t off = procs ? 1 : 0;	/* the process's synthetic caller */
	for (size_t ai = 0; ai < na; ai++) {
		uint64_t w = output_weight(&a[ai], o);
		size_t n;
		const uint32_t *ids = profile_stack(p, a[ai].stack, &n);
		if (!w || !n)
			continue;
		size_t m = n + off;
		if (m > fnscap) {
			uint32_t *nf = realloc(fns, m * sizeof *nf);
			if (!nf)
				goto out;
			fns = nf;
			fnscap = m;
		}
		for (size_t j = 0; j < m; j++) {
			uint32_t frame = j < off ? PROFILE_NOID : ids[j - off];
			uint32_t t = j < off ? ftext_process(&ft, a[ai].pid)
					     : ftext_get(&ft, frame);
			if (t == PROFILE_NOID)
				goto out;
			if (t >= ftcap) {
				size_t nc = ftcap ? ftcap : 256;
				while (nc <= t)
					nc *= 2;
				uint32_t *nm = realloc(fn_of_text, nc * sizeof *nm);
				if (!nm)
					goto out;
				memset(nm + ftcap, 0, (nc - ftcap) * sizeof *nm);
				fn_of_text = nm;
				ftcap = nc;
			}
			if (!fn_of_text[t]) {
				if (nfs == fscap) {
					size_t nc = fscap ? fscap * 2 : 256;
					struct fstat *nf = realloc(fs, nc * sizeof *nf);
					if (!nf)
						goto out;
					fs = nf;
					fscap = nc;
				}
				fs[nfs] = (struct fstat){ .frame = frame, .text = t };
				fn_of_text[t] = (uint32_t)++nfs;
			}
			uint32_t fn = fn_of_text[t] - 1;
			fns[j] = fn;
			const struct frame *fr = j < off ? NULL : profile_frame(p, frame);
			if (fr && fr->line > 0 && (!fs[fn].line || fr->line < fs[fn].line))
				fs[fn].line = fr->line;
			fs[fn].nc += w;
			if (fs[fn].seen != ai + 1) {
				fs[fn].seen = ai + 1;
				fs[fn].cc += w;
				fs[fn].cum += w;
			}
			if (j == 0)
				continue;
			struct edge *e = edge_get(&es, fn, fns[j - 1]);
			if (!e)
				goto out;
			e->nc += w;
			if (e->seen != ai + 1) {
				e->seen = ai + 1;
				e->cc += w;
				e->cum += w;
			}
		}
		fs[fns[m - 1]].own += w;
		if (m > 1) {
			struct edge *e = edge_get(&es, fns[m - 1], fns[m - 2]);
			if (!e)
				goto out;
			e->own += w;
		}
	}
	/* es.e is NULL when no sample counts (an empty or gil-filtered
	 * recording): qsort(NULL, 0) is undefined (C11 7.22.5, UBSan) */
	if (es.len > 1)
		qsort(es.e, es.len, sizeof *es.e, edge_cmp);

	marshal_dict_begin(fp);
	size_t ei = 0;
	for (uint32_t fn = 0; fn < nfs; fn++) {
		const struct fstat *s = &fs[fn];
		put_key(fp, p, s, profile_str(texts, s->text));
		marshal_tuple(fp, 5);
		marshal_int(fp, (int64_t)s->cc);
		marshal_int(fp, (int64_t)s->nc);
		marshal_float(fp, (double)s->own * period);
		marshal_float(fp, (double)s->cum * period);
		marshal_dict_begin(fp);
		while (ei < es.len && es.e[ei].callee < fn)
			ei++;
		for (; ei < es.len && es.e[ei].callee == fn; ei++) {
			const struct edge *e = &es.e[ei];
			const struct fstat *c = &fs[e->caller];
			put_key(fp, p, c, profile_str(texts, c->text));
			marshal_tuple(fp, 4);
			marshal_int(fp, (int64_t)e->cc);
			marshal_int(fp, (int64_t)e->nc);
			marshal_float(fp, (double)e->own * period);
			marshal_float(fp, (double)e->cum * period);
		}
		marshal_dict_end(fp);
	}
	marshal_dict_end(fp);
	rc = ferror(fp) ? LP_EIO : LP_OK;
out:
	free(es.e);
	free(es.slots);
	free(fns);
	free(fs);
	free(fn_of_text);
	ftext_fini(&ft);
	profile_free(texts);
	return rc;
}
