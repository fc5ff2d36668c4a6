/* pprof: a gzipped profile.proto (github.com/google/pprof, proto/
 * profile.proto), as `go tool pprof`, Grafana Pyroscope and Parca read it.
 *
 * Field numbers used (profile.proto):
 *   Profile   1 sample_type, 2 sample, 3 mapping, 4 location, 5 function,
 *             6 string_table, 9 time_nanos, 10 duration_nanos,
 *             11 period_type, 12 period, 13 comment, 14 default_sample_type
 *   ValueType 1 type, 2 unit (string indices)
 *   Sample    1 location_id (packed, leaf first), 2 value (packed), 3 label
 *   Label     1 key, 2 str, 3 num
 *   Mapping   1 id, 5 filename, 7 has_functions, 8 has_filenames,
 *             9 has_line_numbers
 *   Location  1 id, 2 mapping_id, 4 line
 *   Line      1 function_id, 2 line
 *   Function  1 id, 2 name, 3 system_name, 4 filename
 *
 * Choices:
 * - every sample carries four values, whatever the mode: wall_samples,
 *   cpu_samples, gil_samples (counts) and cpu (nanoseconds); the mode picks
 *   default_sample_type (wall_samples, cpu_samples, gil_samples);
 * - one pprof sample per aggregate (stack, thread, task), labelled with
 *   pid, thread_id, thread_name and task, so pprof's -tagfocus and
 *   Pyroscope's labels split by thread; the size grows with distinct
 *   stacks;
 * - a recording of a process tree also labels each sample with its
 *   process's command ("process") and, unless processes are merged, gives
 *   each stack a root location "process PID (comm)" above the --threads
 *   one; opts.pid keeps one process's samples;
 * - a location per frame text (per line unless --no-lines), a function per
 *   (name, file); every location belongs to one mapping, the target's
 *   executable, marked as already symbolized so pprof does not try to;
 * - a profile of many services (the daemon's host-wide scrape: metadata
 *   "service.PID") also labels each sample service, comm and thread (the
 *   thread's name, else its id), the labels of the continuous profilers'
 *   scrapes;
 * - string index 0 is "", as the format requires. */
#include "formats/writer_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pb.h"

struct idmap {
	uint32_t *id;		/* per text id: our id, 0 none */
	size_t cap;
};

static int idmap_get(struct idmap *m, uint32_t text, uint32_t **slot)
{
	if (text >= m->cap) {
		size_t nc = m->cap ? m->cap : 256;
		while (nc <= text)
			nc *= 2;
		uint32_t *n = realloc(m->id, nc * sizeof *n);
		if (!n)
			return LP_ENOMEM;
		memset(n + m->cap, 0, (nc - m->cap) * sizeof *n);
		m->id = n;
		m->cap = nc;
	}
	*slot = &m->id[text];
	return LP_OK;
}

struct pp {
	const profile *p;
	profile *strs;		/* the string table: ids are indices */
	profile *texts;
	struct ftext loc_ft, fn_ft;
	struct idmap locs, fns;
	uint32_t nlocs, nfns;
	struct pb out, msg, sub;
	bool lines;
};

static uint64_t str(struct pp *c, const char *s)
{
	uint32_t id = profile_intern_cstr(c->strs, s ? s : "");
	if (id == PROFILE_NOID) {
		c->out.err = LP_ENOMEM;
		return 0;
	}
	return id;
}

static void value_type(struct pp *c, uint32_t field, const char *type,
		       const char *unit)
{
	pb_reset(&c->sub);
	pb_uint(&c->sub, 1, str(c, type));
	pb_uint(&c->sub, 2, str(c, unit));
	pb_msg(&c->out, field, &c->sub);
}

/* The function id of frame (defined on first use). */
static uint32_t function_of(struct pp *c, uint32_t frame, const char *text)
{
	uint32_t t = frame == PROFILE_NOID ? profile_intern_cstr(c->texts, text)
					   : ftext_get(&c->fn_ft, frame);
	uint32_t *slot;
	if (t == PROFILE_NOID || idmap_get(&c->fns, t, &slot)) {
		c->out.err = LP_ENOMEM;
		return 0;
	}
	if (*slot)
		return *slot;
	*slot = ++c->nfns;
	const struct frame *f = frame == PROFILE_NOID ? NULL : profile_frame(c->p, frame);
	const char *name = profile_str(c->texts, t), *file = NULL;
	if (f && f->kind == FRAME_PYTHON && f->func) {
		name = profile_str(c->p, f->func);
		file = profile_str(c->p, f->file);
	} else if (f && f->kind == FRAME_NATIVE) {
		file = profile_str(c->p, f->module);
	}
	pb_reset(&c->msg);
	pb_uint(&c->msg, 1, *slot);
	pb_uint(&c->msg, 2, str(c, name));
	/* system_name only for native symbols: pprof demangles a name equal
	 * to it, which empties Python's "<module>" */
	if (f && f->kind == FRAME_NATIVE)
		pb_uint(&c->msg, 3, str(c, name));
	pb_uint(&c->msg, 4, str(c, file));
	pb_msg(&c->out, 5, &c->msg);
	return *slot;
}

/* The location id of frame (frame PROFILE_NOID: the synthetic one named
 * text). */
static uint32_t location_of(struct pp *c, uint32_t frame, const char *text)
{
	uint32_t t = frame == PROFILE_NOID ? profile_intern_cstr(c->texts, text)
					   : ftext_get(&c->loc_ft, frame);
	uint32_t *slot;
	if (t == PROFILE_NOID || idmap_get(&c->locs, t, &slot)) {
		c->out.err = LP_ENOMEM;
		return 0;
	}
	if (*slot)
		return *slot;
	*slot = ++c->nlocs;
	uint32_t id = *slot;
	uint32_t fn = function_of(c, frame, text);
	const struct frame *f = frame == PROFILE_NOID ? NULL : profile_frame(c->p, frame);
	pb_reset(&c->sub);
	pb_uint(&c->sub, 1, fn);
	pb_int(&c->sub, 2, f && c->lines && f->line > 0 ? f->line : 0);
	pb_reset(&c->msg);
	pb_uint(&c->msg, 1, id);
	pb_uint(&c->msg, 2, 1);
	pb_msg(&c->msg, 4, &c->sub);
	pb_msg(&c->out, 4, &c->msg);
	return id;
}

static void label(struct pp *c, struct pb *sample, const char *key,
		  const char *s, int64_t num)
{
	pb_reset(&c->sub);
	pb_uint(&c->sub, 1, str(c, key));
	if (s)
		pb_uint(&c->sub, 2, str(c, s));
	else
		pb_int(&c->sub, 3, num);
	pb_msg(sample, 3, &c->sub);
}

/* service, comm and thread labels, for a sample of a process that has a
 * service (metadata "service.PID"). */
static void service_labels(struct pp *c, struct pb *sample, const profile *p,
			   const struct profile_agg *a)
{
	char key[40];
	snprintf(key, sizeof key, "service.%" PRId32, a->pid);
	const char *svc = profile_meta(p, key);
	if (!svc)
		return;
	label(c, sample, "service", svc, 0);
	const char *comm = output_process_comm(p, a->pid);
	if (comm)
		label(c, sample, "comm", comm, 0);
	uint32_t nm = profile_thread_name(p, a->pid, a->tid);
	char tid[16];
	snprintf(tid, sizeof tid, "%" PRId32, a->tid);
	label(c, sample, "thread", nm ? profile_str(p, nm) : tid, 0);
}

static int gzip_to(FILE *fp, const unsigned char *data, size_t len)
{
	z_stream zs;
	unsigned char chunk[65536];
	memset(&zs, 0, sizeof zs);
	/* 15 + 16: a gzip header and trailer instead of zlib's */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return LP_ENOMEM;
	int rc = LP_OK;
	size_t off = 0;
	int flush;
	do {
		size_t in = len - off > (1u << 30) ? (1u << 30) : len - off;
		zs.next_in = (unsigned char *)data + off;
		zs.avail_in = (uInt)in;
		off += in;
		flush = off == len ? Z_FINISH : Z_NO_FLUSH;
		do {
			zs.next_out = chunk;
			zs.avail_out = sizeof chunk;
			if (deflate(&zs, flush) == Z_STREAM_ERROR) {
				rc = LP_EIO;
				goto out;
			}
			size_t have = sizeof chunk - zs.avail_out;
			if (fwrite(chunk, 1, have, fp) != have) {
				rc = LP_EIO;
				goto out;
			}
		} while (zs.avail_out == 0);
	} while (flush != Z_FINISH);
out:
	deflateEnd(&zs);
	return rc;
}

int pprof_write(const profile *p, FILE *fp, const struct output_opts *o)
{
	struct pp c = { .p = p, .lines = o->lines };
	struct pb sample = { 0 };
	uint64_t *locs = NULL;
	size_t lcap = 0;
	int rc = LP_ENOMEM;
	c.strs = profile_new();
	c.texts = profile_new();
	if (!c.strs || !c.texts ||
	    ftext_init(&c.loc_ft, p, c.texts, o->lines) ||
	    ftext_init(&c.fn_ft, p, c.texts, false))
		goto out;
	str(&c, "");	/* index 0 */

	/* a profile weighted by bytes (heap --traces, record --mode memory)
	 * names its first value in metadata "bytes" */
	const char *bytes = profile_meta(p, "bytes");
	value_type(&c, 1, bytes ? bytes : "wall_samples",
		   bytes ? "bytes" : "count");
	value_type(&c, 1, "cpu_samples", "count");
	value_type(&c, 1, "gil_samples", "count");
	value_type(&c, 1, "cpu", "nanoseconds");

	pb_reset(&c.msg);
	pb_uint(&c.msg, 1, 1);
	pb_uint(&c.msg, 5, str(&c, profile_meta(p, "target.exe")));
	pb_uint(&c.msg, 7, 1);
	pb_uint(&c.msg, 8, 1);
	pb_uint(&c.msg, 9, 1);
	pb_msg(&c.out, 3, &c.msg);

	size_t na;
	const struct profile_agg *a = profile_aggs(p, &na);
	bool procs = output_process_roots(p, o);
	const char *sub = profile_meta(p, "subprocesses");
	bool tree = sub && strcmp(sub, "on") == 0;
	for (size_t i = 0; i < na; i++) {
		if (!a[i].samples && !a[i].cpu_ns)
			continue;
		if (o->pid && a[i].pid != o->pid)
			continue;
		size_t n;
		const uint32_t *ids = profile_stack(p, a[i].stack, &n);
		size_t need = n + 3;
		if (need > lcap) {
			uint64_t *nl = realloc(locs, need * sizeof *nl);
			if (!nl)
				goto out;
			locs = nl;
			lcap = need;
		}
		size_t k = 0;
		for (size_t j = n; j-- > 0;)
			locs[k++] = location_of(&c, ids[j], NULL);
		if (!n)
			locs[k++] = location_of(&c, PROFILE_NOID, "<no stack>");
		if (o->threads) {
			char tname[64 + 1024];
			uint32_t nm = profile_thread_name(p, a[i].pid, a[i].tid);
			snprintf(tname, sizeof tname, nm ? "thread %" PRId32 " (%s)"
				 : "thread %" PRId32, a[i].tid,
				 nm ? profile_str(p, nm) : "");
			locs[k++] = location_of(&c, PROFILE_NOID, tname);
		}
		if (procs) {
			char pname[64 + 1024];
			format_process(p, a[i].pid, pname, sizeof pname);
			locs[k++] = location_of(&c, PROFILE_NOID, pname);
		}
		uint64_t values[4] = { a[i].samples, a[i].cpu_samples,
				       a[i].gil_samples, a[i].cpu_ns };
		pb_reset(&sample);
		pb_packed(&sample, 1, locs, k);
		pb_packed(&sample, 2, values, 4);
		label(&c, &sample, "pid", NULL, a[i].pid);
		if (tree) {
			const char *comm = output_process_comm(p, a[i].pid);
			if (comm)
				label(&c, &sample, "process", comm, 0);
		}
		label(&c, &sample, "thread_id", NULL, a[i].tid);
		uint32_t nm = profile_thread_name(p, a[i].pid, a[i].tid);
		if (nm)
			label(&c, &sample, "thread_name", profile_str(p, nm), 0);
		if (a[i].task)
			label(&c, &sample, "task", profile_str(p, a[i].task), 0);
		service_labels(&c, &sample, p, &a[i]);
		pb_msg(&c.out, 2, &sample);
		if (c.out.err)
			goto out;
	}

	pb_int(&c.out, 9, (int64_t)profile_start_ns(p));
	pb_int(&c.out, 10, (int64_t)writer_duration_ns(p));
	value_type(&c, 11, bytes ? "space" : "wall",
		   bytes ? "bytes" : "nanoseconds");
	pb_int(&c.out, 12, bytes ? 1 : (int64_t)(writer_period_s(p) * 1e9));
	char target[256], comment[400];
	writer_target(p, target, sizeof target);
	snprintf(comment, sizeof comment, "loupe: %s, %s mode", target,
		 writer_mode_name(o->mode));
	pb_int(&c.out, 13, (int64_t)str(&c, comment));
	pb_int(&c.out, 14, (int64_t)str(&c, o->mode == MODE_CPU ? "cpu_samples"
				      : o->mode == MODE_GIL ? "gil_samples"
				      : bytes ? bytes : "wall_samples"));
	/* the string table last: every string is interned by now */
	size_t nstr = profile_nstrs(c.strs);
	for (uint32_t i = 0; i < nstr; i++)
		pb_bytes(&c.out, 6, profile_str(c.strs, i),
			 profile_str_len(c.strs, i));
	if (c.out.err || c.msg.err || c.sub.err || sample.err)
		goto out;
	rc = gzip_to(fp, c.out.b, c.out.len);
	if (rc == LP_OK && ferror(fp))
		rc = LP_EIO;
out:
	free(locs);
	pb_free(&sample);
	pb_free(&c.out);
	pb_free(&c.msg);
	pb_free(&c.sub);
	free(c.locs.id);
	free(c.fns.id);
	ftext_fini(&c.loc_ft);
	ftext_fini(&c.fn_ft);
	profile_free(c.texts);
	profile_free(c.strs);
	return rc;
}

/* A table as a pprof (loupe heap): one sample per row, at a location of
 * its own whose one line names a function of the row's name; the values
 * of row i are values[i * ntypes + k] for sample type k (type, unit). */
int pprof_write_table(FILE *fp, const char *const *types,
		      const char *const *units, size_t ntypes,
		      const char *const *names, const uint64_t *values,
		      size_t nrows)
{
	struct pb out = { 0 }, sub = { 0 }, line = { 0 };
	/* strings: "", then each type and unit, then each name */
	size_t sidx = 1;
	for (size_t k = 0; k < ntypes; k++) {
		pb_reset(&sub);
		pb_uint(&sub, 1, sidx++);
		pb_uint(&sub, 2, sidx++);
		pb_msg(&out, 1, &sub);
	}
	for (size_t i = 0; i < nrows; i++) {
		uint64_t loc = i + 1;
		pb_reset(&sub);
		pb_packed(&sub, 1, &loc, 1);
		pb_packed(&sub, 2, values + i * ntypes, ntypes);
		pb_msg(&out, 2, &sub);
	}
	for (size_t i = 0; i < nrows; i++) {
		pb_reset(&line);
		pb_uint(&line, 1, i + 1);	/* function_id */
		pb_reset(&sub);
		pb_uint(&sub, 1, i + 1);	/* id */
		pb_msg(&sub, 4, &line);
		pb_msg(&out, 4, &sub);
	}
	for (size_t i = 0; i < nrows; i++) {
		pb_reset(&sub);
		pb_uint(&sub, 1, i + 1);
		pb_uint(&sub, 2, sidx + i);	/* name */
		pb_uint(&sub, 3, sidx + i);	/* system_name */
		pb_msg(&out, 5, &sub);
	}
	pb_bytes(&out, 6, "", 0);
	for (size_t k = 0; k < ntypes; k++) {
		pb_bytes(&out, 6, types[k], strlen(types[k]));
		pb_bytes(&out, 6, units[k], strlen(units[k]));
	}
	for (size_t i = 0; i < nrows; i++)
		pb_bytes(&out, 6, names[i], strlen(names[i]));
	int rc = out.err ? out.err : sub.err ? sub.err : line.err;
	if (!rc)
		rc = gzip_to(fp, out.b, out.len);
	pb_free(&out);
	pb_free(&sub);
	pb_free(&line);
	return rc;
}
