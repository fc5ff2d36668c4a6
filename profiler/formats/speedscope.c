/* speedscope's file format (https://www.speedscope.app/file-format-schema.json,
 * speedscope's src/lib/file-format-spec.ts): shared.frames with name, file
 * and line, then one "sampled" profile per thread whose samples are stacks
 * of frame indices (root first) and whose weights are sample counts under
 * the mode (unit "none", as py-spy writes).  The profile holds aggregates,
 * not the timeline, so each (stack, thread, task) is one weighted sample:
 * the file grows with distinct stacks, not with time.  A recording of a
 * process tree keeps the same profile per (process, thread), each named
 * "comm (PID 123) / thread 456 (name)", since speedscope's profile list
 * is where a reader picks what to look at. */
#include "formats/writer_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct agg_ref {
	int32_t pid, tid;
	uint32_t i;
};

static int agg_ref_cmp(const void *x, const void *y)
{
	const struct agg_ref *a = x, *b = y;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* The frame entry of one text: Python frames split into name, file and
 * line; the others keep their text as name (native with its module as
 * file). */
static void put_frame(FILE *fp, const profile *p, uint32_t frame, bool lines,
		      const char *text)
{
	const struct frame *f = frame == PROFILE_NOID ? NULL : profile_frame(p, frame);
	fputs("{\"name\":", fp);
	if (f && f->kind == FRAME_PYTHON && f->func) {
		json_string(fp, profile_str(p, f->func));
		if (f->file) {
			fputs(",\"file\":", fp);
			json_string(fp, profile_str(p, f->file));
			if (lines && f->line > 0)
				fprintf(fp, ",\"line\":%" PRId32, f->line);
		}
	} else {
		json_string(fp, text);
		if (f && f->kind == FRAME_NATIVE && f->module) {
			fputs(",\"file\":", fp);
			json_string(fp, profile_str(p, f->module));
		}
	}
	fputc('}', fp);
}

int speedscope_write(const profile *p, FILE *fp, const struct output_opts *o)
{
	int rc = LP_ENOMEM;
	profile *texts = profile_new();
	struct ftext ft = { 0 };
	uint32_t *sidx = NULL;	/* per text id: speedscope index + 1 */
	uint32_t *rep = NULL;	/* per speedscope index: a frame id */
	size_t sidx_cap = 0, nframes = 0, rep_cap = 0;
	struct agg_ref *refs = NULL;
	size_t na, nr = 0;
	const struct profile_agg *a = profile_aggs(p, &na);

	if (!texts || ftext_init(&ft, p, texts, o->lines))
		goto out;
	refs = malloc((na ? na : 1) * sizeof *refs);
	if (!refs)
		goto out;
	uint32_t nostack = profile_intern_cstr(texts, "<no stack>");
	for (size_t i = 0; i < na; i++) {
		if (!output_weight(&a[i], o))
			continue;
		refs[nr++] = (struct agg_ref){ a[i].pid, a[i].tid, (uint32_t)i };
		size_t n;
		const uint32_t *ids = profile_stack(p, a[i].stack, &n);
		for (size_t j = 0; j < (n ? n : 1); j++) {
			uint32_t t = n ? ftext_get(&ft, ids[j]) : nostack;
			if (t == PROFILE_NOID)
				goto out;
			if (t >= sidx_cap) {
				size_t nc = sidx_cap ? sidx_cap : 256;
				while (nc <= t)
					nc *= 2;
				uint32_t *ns = realloc(sidx, nc * sizeof *ns);
				if (!ns)
					goto out;
				memset(ns + sidx_cap, 0, (nc - sidx_cap) * sizeof *ns);
				sidx = ns;
				sidx_cap = nc;
			}
			if (sidx[t])
				continue;
			if (nframes == rep_cap) {
				size_t nc = rep_cap ? rep_cap * 2 : 256;
				uint32_t *nrep = realloc(rep, nc * sizeof *nrep);
				if (!nrep)
					goto out;
				rep = nrep;
				rep_cap = nc;
			}
			rep[nframes] = n ? ids[j] : PROFILE_NOID;
			sidx[t] = (uint32_t)++nframes;
		}
	}
	if (nr > 1)
		qsort(refs, nr, sizeof *refs, agg_ref_cmp);

	const char *sub = profile_meta(p, "subprocesses");
	bool tree = sub && strcmp(sub, "on") == 0;
	char target[256];
	writer_target(p, target, sizeof target);
	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
	      "\"exporter\":\"loupe\",\"name\":", fp);
	char name[400];
	snprintf(name, sizeof name, "%s (%s mode)", target,
		 writer_mode_name(o->mode));
	json_string(fp, o->title ? o->title : name);
	fputs(",\"shared\":{\"frames\":[", fp);
	for (size_t i = 0; i < nframes; i++) {
		if (i)
			fputc(',', fp);
		if (rep[i] == PROFILE_NOID) {
			fputs("{\"name\":\"<no stack>\"}", fp);
			continue;
		}
		uint32_t t = ftext_get(&ft, rep[i]);
		put_frame(fp, p, rep[i], o->lines, profile_str(texts, t));
	}
	fputs("]},\"profiles\":[", fp);
	size_t nprof = 0, active = 0;
	uint64_t best = 0;
	for (size_t s = 0; s < nr;) {
		size_t e = s;
		uint64_t total = 0;
		while (e < nr && refs[e].pid == refs[s].pid &&
		       refs[e].tid == refs[s].tid)
			total += output_weight(&a[refs[e++].i], o);
		if (total > best) {
			best = total;
			active = nprof;
		}
		uint32_t tn = ftext_thread(&ft, refs[s].pid, refs[s].tid);
		if (tn == PROFILE_NOID)
			goto out;
		fputs(nprof++ ? ",{" : "{", fp);
		fputs("\"type\":\"sampled\",\"name\":", fp);
		if (tree) {
			/* "python3.11 (PID 123) / thread 456 (name)" */
			char pname[1024 + 1200];
			const char *comm = output_process_comm(p, refs[s].pid);
			snprintf(pname, sizeof pname, "%s%sPID %" PRId32 "%s / %s",
				 comm ? comm : "", comm ? " (" : "", refs[s].pid,
				 comm ? ")" : "", profile_str(texts, tn));
			json_string(fp, pname);
		} else {
			json_string(fp, profile_str(texts, tn));
		}
		fprintf(fp, ",\"unit\":\"none\",\"startValue\":0,"
			"\"endValue\":%" PRIu64 ",\"samples\":[", total);
		for (size_t k = s; k < e; k++) {
			size_t n;
			const uint32_t *ids = profile_stack(p, a[refs[k].i].stack, &n);
			fputs(k > s ? ",[" : "[", fp);
			if (!n)
				fprintf(fp, "%" PRIu32, sidx[nostack] - 1);
			for (size_t j = 0; j < n; j++)
				fprintf(fp, j ? ",%" PRIu32 : "%" PRIu32,
					sidx[ftext_get(&ft, ids[j])] - 1);
			fputc(']', fp);
		}
		fputs("],\"weights\":[", fp);
		for (size_t k = s; k < e; k++)
			fprintf(fp, k > s ? ",%" PRIu64 : "%" PRIu64,
				output_weight(&a[refs[k].i], o));
		fputs("]}", fp);
		s = e;
	}
	fprintf(fp, "],\"activeProfileIndex\":%zu}\n", active);
	rc = ferror(fp) ? LP_EIO : LP_OK;
out:
	free(refs);
	free(rep);
	free(sidx);
	ftext_fini(&ft);
	profile_free(texts);
	return rc;
}
