/* The .loupe writer (layout in raw_format.h).  While sampling it streams:
 * whatever of the profile a sample needs and was not written yet (strings,
 * frames, stacks, threads) goes first, then the sample; records collect in a
 * fixed buffer that goes out with one write(2) when full or on flush, so a
 * sample costs no allocation and no system call.  The file is
 * "<path>.tmp.<pid>" until close renames it (atomic_file.c's rules: a
 * device, FIFO or stdout is written directly); after a crash that file
 * still opens (the reader stops at the cut). */
#include "formats/formats.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic_util.h"
#include "bounds.h"
#include "clock.h"
#include "raw_format.h"

struct raw_writer {
	int fd;			/* streaming to dest.fd, or -1 */
	FILE *fp;		/* raw_write_profile: the caller's stream */
	atomic_file dest;	/* where fd goes (raw_writer_open) */
	unsigned char *buf;	/* RAW_WRITE_BUFFER bytes */
	size_t used;
	unsigned char *rec;	/* one payload being encoded */
	size_t rec_cap;
	/* how much of each profile table is written */
	size_t nstrs, nframes, nstacks;
	size_t nthreads;
	uint32_t *thread_names;	/* name written per thread index */
	size_t thread_names_cap;
	size_t nmeta;
	size_t nspans;
	uint32_t meta_values[MAX_META];	/* value written per meta index */
	uint64_t prev_time;
	uint64_t written;	/* bytes that reached the file */
	uint64_t since_flush;	/* raw_writer_sink's samples */
	int err;		/* sticky: the first failure */
	int err_errno;
};

/* Fixed records (all but STRING and STACK) hold at most this many bytes:
 * 9 varints. */
#define REC_SMALL (16 * RAW_VARINT_MAX)

static int fail(raw_writer *w, int code, int errnum)
{
	if (!w->err) {
		w->err = code;
		w->err_errno = errnum;
	}
	return w->err;
}

static int out_raw(raw_writer *w, const void *data, size_t len)
{
	const unsigned char *d = data;
	if (w->fp) {
		if (fwrite(d, 1, len, w->fp) != len)
			return fail(w, LP_EIO, errno ? errno : EIO);
		return LP_OK;
	}
	while (len) {
		ssize_t n = write(w->fd, d, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(w, atomic_errno_code(errno), errno);
		}
		d += n;
		len -= (size_t)n;
		w->written += (uint64_t)n;
	}
	return LP_OK;
}

static int drain(raw_writer *w)
{
	if (w->err)
		return w->err;
	int rc = out_raw(w, w->buf, w->used);
	w->used = 0;
	return rc;
}

static int out(raw_writer *w, const void *data, size_t len)
{
	if (w->err)
		return w->err;
	if (len > RAW_WRITE_BUFFER - w->used) {
		if (drain(w))
			return w->err;
		if (len > RAW_WRITE_BUFFER)
			return out_raw(w, data, len);
	}
	memcpy(w->buf + w->used, data, len);
	w->used += len;
	return LP_OK;
}

/* One record of type with the payload in w->rec[0..len). */
static int emit(raw_writer *w, int type, size_t len)
{
	unsigned char h[RAW_RECORD_HEADER];
	if (len > MAX_RECORD_LEN)
		return fail(w, LP_EINVAL, EFBIG);
	h[0] = (unsigned char)type;
	raw_put_u32(h + 1, (uint32_t)len);
	if (out(w, h, sizeof h))
		return w->err;
	return out(w, w->rec, len);
}

static int rec_reserve(raw_writer *w, size_t need)
{
	if (need <= w->rec_cap)
		return LP_OK;
	unsigned char *n = realloc(w->rec, need);
	if (!n)
		return fail(w, LP_ENOMEM, ENOMEM);
	w->rec = n;
	w->rec_cap = need;
	return LP_OK;
}

static int write_string(raw_writer *w, const profile *p, uint32_t id)
{
	size_t len = profile_str_len(p, id);
	if (rec_reserve(w, RAW_VARINT_MAX + len))
		return w->err;
	size_t n = raw_put_uv(w->rec, id);
	memcpy(w->rec + n, profile_str(p, id), len);
	return emit(w, RAW_STRING, n + len);
}

static int write_frame(raw_writer *w, const profile *p, uint32_t id)
{
	const struct frame *f = profile_frame(p, id);
	unsigned char *r = w->rec;
	size_t n = raw_put_uv(r, id);
	n += raw_put_uv(r + n, f->kind);
	n += raw_put_uv(r + n, f->func);
	n += raw_put_uv(r + n, f->file);
	n += raw_put_uv(r + n, f->module);
	n += raw_put_sv(r + n, f->line);
	n += raw_put_uv(r + n, f->offset);
	return emit(w, RAW_FRAME, n);
}

static int write_stack(raw_writer *w, const profile *p, uint32_t id)
{
	size_t len;
	const uint32_t *ids = profile_stack(p, id, &len);
	/* len <= MAX_INTERN_STACK_LEN: no overflow */
	if (rec_reserve(w, (len + 2) * RAW_VARINT_MAX))
		return w->err;
	size_t n = raw_put_uv(w->rec, id);
	n += raw_put_uv(w->rec + n, len);
	for (size_t i = 0; i < len; i++)
		n += raw_put_uv(w->rec + n, ids[i]);
	return emit(w, RAW_STACK, n);
}

static int write_thread(raw_writer *w, const struct profile_thread *t)
{
	size_t n = raw_put_uv(w->rec, (uint32_t)t->pid);
	n += raw_put_uv(w->rec + n, (uint32_t)t->tid);
	n += raw_put_uv(w->rec + n, t->name);
	return emit(w, RAW_THREAD, n);
}

/* Writes the strings, frames and stacks of p not written yet, in that order
 * (a frame needs its strings, a stack its frames). */
static int sync_tables(raw_writer *w, const profile *p)
{
	size_t ns = profile_nstrs(p), nf = profile_nframes(p),
	       nk = profile_nstacks(p);
	for (; w->nstrs < ns && !w->err; w->nstrs++)
		write_string(w, p, (uint32_t)w->nstrs);
	for (; w->nframes < nf && !w->err; w->nframes++)
		write_frame(w, p, (uint32_t)w->nframes);
	for (; w->nstacks < nk && !w->err; w->nstacks++)
		write_stack(w, p, (uint32_t)w->nstacks);
	return w->err;
}

/* New threads, and with all set, threads renamed since they were written. */
static int sync_threads(raw_writer *w, const profile *p, bool all)
{
	size_t nt;
	const struct profile_thread *th = profile_threads(p, &nt);
	if (nt > w->thread_names_cap) {
		size_t cap = w->thread_names_cap ? w->thread_names_cap : 64;
		while (cap < nt)
			cap *= 2;
		uint32_t *n = realloc(w->thread_names, cap * sizeof *n);
		if (!n)
			return fail(w, LP_ENOMEM, ENOMEM);
		w->thread_names = n;
		w->thread_names_cap = cap;
	}
	if (sync_tables(w, p))
		return w->err;
	for (size_t i = all ? 0 : w->nthreads; i < nt && !w->err; i++) {
		if (i < w->nthreads && w->thread_names[i] == th[i].name)
			continue;
		write_thread(w, &th[i]);
		w->thread_names[i] = th[i].name;
	}
	w->nthreads = nt;
	return w->err;
}

static int sync_meta(raw_writer *w, const profile *p)
{
	size_t nm = profile_nmeta(p);
	if (sync_tables(w, p))
		return w->err;
	for (size_t i = 0; i < nm && i < MAX_META && !w->err; i++) {
		uint32_t k, v;
		profile_meta_ids(p, i, &k, &v);
		if (i < w->nmeta && w->meta_values[i] == v)
			continue;
		size_t n = raw_put_uv(w->rec, k);
		n += raw_put_uv(w->rec + n, v);
		emit(w, RAW_META, n);
		w->meta_values[i] = v;
	}
	if (nm > w->nmeta)
		w->nmeta = nm < MAX_META ? nm : MAX_META;
	return w->err;
}

static int sync_spans(raw_writer *w, const profile *p)
{
	size_t n;
	const struct profile_span *sp = profile_spans(p, &n);
	if (n <= w->nspans || sync_tables(w, p))
		return w->err;
	for (; w->nspans < n && !w->err; w->nspans++) {
		const struct profile_span *s = &sp[w->nspans];
		unsigned char *r = w->rec;
		size_t k = raw_put_uv(r, s->start_ns);
		k += raw_put_uv(r + k, s->dur_ns);
		k += raw_put_uv(r + k, (uint32_t)s->pid);
		k += raw_put_uv(r + k, (uint32_t)s->tid);
		k += raw_put_uv(r + k, s->cat);
		k += raw_put_uv(r + k, s->name);
		k += raw_put_uv(r + k, s->detail);
		emit(w, RAW_SPAN, k);
	}
	return w->err;
}

static int sync_all(raw_writer *w, const profile *p)
{
	sync_tables(w, p);
	sync_threads(w, p, true);
	sync_meta(w, p);
	sync_spans(w, p);
	return w->err;
}

static int write_header(raw_writer *w, uint64_t start_ns)
{
	unsigned char h[RAW_HEADER_SIZE];
	memcpy(h, RAW_MAGIC, RAW_MAGIC_LEN);
	raw_put_u16(h + 6, RAW_VERSION_MAJOR << 8 | RAW_VERSION_MINOR);
	raw_put_u16(h + 8, 0);
	raw_put_u64(h + 10, start_ns);
	return out(w, h, sizeof h);
}

static raw_writer *writer_alloc(void)
{
	raw_writer *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->fd = w->dest.fd = w->dest.dirfd = -1;
	/* id 0 of every table is implicit */
	w->nstrs = w->nframes = w->nstacks = 1;
	w->buf = malloc(RAW_WRITE_BUFFER);
	w->rec = malloc(REC_SMALL);
	w->rec_cap = REC_SMALL;
	if (!w->buf || !w->rec) {
		free(w->buf);
		free(w->rec);
		free(w);
		return NULL;
	}
	return w;
}

static void writer_free(raw_writer *w)
{
	free(w->buf);
	free(w->rec);
	free(w->thread_names);
	atomic_dest_free(&w->dest);
	free(w);
}

int raw_writer_open_flags(raw_writer **outp, const char *path,
			  unsigned flags, lp_error *err)
{
	*outp = NULL;
	raw_writer *w = writer_alloc();
	if (!w)
		return lp_error_set(err, LP_ENOMEM, "cannot write %s: out of memory",
				    path);
	int rc = atomic_dest_open(&w->dest, path, flags, err);
	if (rc) {
		writer_free(w);
		return rc;
	}
	w->fd = w->dest.fd;
	/* the header goes out at once: even a run killed before its first
	 * flush leaves a file the reader recognizes */
	if (write_header(w, clock_ns(CLOCK_REALTIME)) ||
	    drain(w)) {
		int e = w->err_errno;
		atomic_dest_discard(&w->dest);
		writer_free(w);
		return atomic_write_error(err, path, e);
	}
	*outp = w;
	return LP_OK;
}

int raw_writer_open(raw_writer **outp, const char *path, lp_error *err)
{
	return raw_writer_open_flags(outp, path, 0, err);
}

static int write_sample(raw_writer *w, const struct sample *s)
{
	unsigned char *r = w->rec;
	size_t n = raw_put_sv(r, (int64_t)(s->time_ns - w->prev_time));
	w->prev_time = s->time_ns;
	n += raw_put_uv(r + n, (uint32_t)s->pid);
	n += raw_put_uv(r + n, (uint32_t)s->tid);
	n += raw_put_uv(r + n, s->stack);
	n += raw_put_uv(r + n, s->flags);
	n += raw_put_uv(r + n, s->cpu_ns);
	n += raw_put_uv(r + n, s->task);
	uint32_t wt = s->weight ? s->weight : 1;
	bool cpu_w = (s->flags & SAMPLE_ON_CPU) && s->cpu_weight &&
		     s->cpu_weight != wt;
	if (wt > 1 || cpu_w)
		n += raw_put_uv(r + n, wt);
	if (cpu_w)
		n += raw_put_uv(r + n, s->cpu_weight);
	return emit(w, RAW_SAMPLE, n);
}

int raw_writer_sample(raw_writer *w, const profile *p, const struct sample *s)
{
	if (w->err)
		return w->err;
	if (s->stack >= profile_nstacks(p) || s->task >= profile_nstrs(p))
		return LP_EINVAL;
	/* steady state: everything the sample names is written already */
	if (s->stack >= w->nstacks || s->task >= w->nstrs)
		sync_tables(w, p);
	size_t nt;
	profile_threads(p, &nt);
	if (nt > w->nthreads)
		sync_threads(w, p, false);
	if (w->err)
		return w->err;
	return write_sample(w, s);
}

int raw_writer_sink(void *ctx, const profile *p, const struct sample *s)
{
	raw_writer *w = ctx;
	int rc = raw_writer_sample(w, p, s);
	if (rc == LP_OK && ++w->since_flush >= RAW_SINK_FLUSH) {
		w->since_flush = 0;
		rc = raw_writer_flush(w, p);
	}
	return rc;
}

int raw_writer_flush(raw_writer *w, const profile *p)
{
	if (w->err)
		return w->err;
	if (p)
		sync_all(w, p);
	return drain(w);
}

int raw_writer_close(raw_writer *w, const profile *p, lp_error *err)
{
	int e = 0, rc;
	if (p)
		sync_all(w, p);
	emit(w, RAW_END, 0);
	drain(w);
	e = w->err ? w->err_errno : atomic_dest_finish(&w->dest);
	w->fd = -1;
	if (e || w->err) {
		const char *why = w->err == LP_ENOMEM ? "out of memory" :
							strerror(e ? e : EIO);
		rc = w->err == LP_ENOMEM ? LP_ENOMEM : atomic_errno_code(e);
		if (w->written > RAW_HEADER_SIZE && w->dest.tmp) {
			/* a recording is never lost: what reached the disk
			 * (the reader stops where it ends) stays, named */
			lp_error_set(err, rc,
				     "cannot write %s: %s — the samples "
				     "written so far are in %s",
				     w->dest.path, why, w->dest.tmp);
			atomic_dest_free(&w->dest);
		} else {
			lp_error_set(err, rc, "cannot write %s: %s",
				     w->dest.path, why);
			atomic_dest_discard(&w->dest);
		}
		writer_free(w);
		return rc;
	}
	writer_free(w);
	return LP_OK;
}

uint64_t raw_writer_size(const raw_writer *w)
{
	return w->written + w->used;
}

void raw_writer_abort(raw_writer *w)
{
	if (!w)
		return;
	atomic_dest_discard(&w->dest);
	writer_free(w);
}

int raw_write_profile(const profile *p, FILE *fp)
{
	raw_writer *w = writer_alloc();
	if (!w)
		return LP_ENOMEM;
	w->fp = fp;
	write_header(w, profile_start_ns(p));
	sync_all(w, p);
	size_t nt, na;
	const struct sample *tl = profile_timeline(p, &nt);
	const struct profile_agg *aggs = profile_aggs(p, &na);
	/* the timeline only when it holds every sample (aggregates added
	 * whole, e.g. read from an AGG file, have no timeline) */
	if (profile_timeline_whole(p)) {
		for (size_t i = 0; i < nt && !w->err; i++)
			write_sample(w, &tl[i]);
	} else {
		for (size_t i = 0; i < na && !w->err; i++) {
			const struct profile_agg *a = &aggs[i];
			unsigned char *r = w->rec;
			size_t n = raw_put_uv(r, a->stack);
			n += raw_put_uv(r + n, (uint32_t)a->pid);
			n += raw_put_uv(r + n, (uint32_t)a->tid);
			n += raw_put_uv(r + n, a->task);
			n += raw_put_uv(r + n, a->samples);
			n += raw_put_uv(r + n, a->cpu_samples);
			n += raw_put_uv(r + n, a->gil_samples);
			n += raw_put_uv(r + n, a->idle_samples);
			n += raw_put_uv(r + n, a->cpu_ns);
			emit(w, RAW_AGG, n);
		}
	}
	emit(w, RAW_END, 0);
	drain(w);
	int rc = w->err;
	writer_free(w);
	return rc;
}

int raw_write(const profile *p, FILE *fp, const struct output_opts *o)
{
	(void)o;
	return raw_write_profile(p, fp);
}
