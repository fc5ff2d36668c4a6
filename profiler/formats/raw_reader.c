/* The .loupe reader (layout in raw_format.h): replays a recording into a
 * profile.  A file may be cut anywhere by a crash, or be anything at all:
 * every length is bounded (MAX_RECORD_LEN), every id checked against what
 * the file defined before, ids of the file mapped to the profile's through
 * translation tables (the profile may hold other data already). */
#include "formats/formats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "raw_format.h"

/* File id -> profile id, for one table; [0] = 0 (implicit). */
struct idmap {
	uint32_t *ids;
	size_t n, cap;
};

static int idmap_add(struct idmap *m, uint32_t id)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		uint32_t *n = realloc(m->ids, cap * sizeof *n);
		if (!n)
			return LP_ENOMEM;
		m->ids = n;
		m->cap = cap;
	}
	m->ids[m->n++] = id;
	return LP_OK;
}

struct reader {
	const char *path;
	profile *p;
	struct idmap strs, frames, stacks;
	uint64_t prev_time;
	uint32_t *stack_buf;	/* MAX_INTERN_STACK_LEN ids */
	char *cut_buf;		/* a string cut to MAX_READ_STR_LEN, or NULL */
	lp_error *err;
	uint64_t offset;	/* of the record being read */
	raw_progress_fn progress;	/* may be NULL */
	void *progress_ctx;
	uint64_t size, reported;	/* of the file; offset last reported */
};

/* How often progress is reported: a callback per record would cost more
 * than the record. */
#define PROGRESS_STEP (256u << 10)

static int corrupt(struct reader *r, const char *what)
{
	return lp_error_set(r->err, LP_EFORMAT,
			    "%s: corrupt %s record at byte %" PRIu64
			    " — the recording is damaged",
			    r->path, what, r->offset);
}

static int nomem(struct reader *r)
{
	return lp_error_set(r->err, LP_ENOMEM, "cannot read %s: out of memory",
			    r->path);
}

/* A file id of table m, translated; false when the file never defined it. */
static bool map_id(const struct idmap *m, uint64_t file_id, uint32_t *out)
{
	if (file_id >= m->n)
		return false;
	*out = m->ids[file_id];
	return true;
}

/* Reads a uv that must fit 32 bits. */
static bool get_u32(struct raw_cursor *c, uint32_t *out)
{
	uint64_t v = raw_get_uv(c);
	if (c->bad || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int rec_string(struct reader *r, struct raw_cursor *c)
{
	uint64_t id = raw_get_uv(c);
	size_t len = (size_t)(c->end - c->p);
	if (c->bad || id != r->strs.n || len > MAX_INTERN_STR_LEN)
		return corrupt(r, "string");
	const char *s = (const char *)c->p;
	if (len > MAX_READ_STR_LEN) {
		/* no name is that long: keep its start, on a UTF-8 character
		 * boundary, and say it was cut */
		if (!r->cut_buf && !(r->cut_buf = malloc(MAX_READ_STR_LEN)))
			return nomem(r);
		size_t keep = MAX_READ_STR_LEN - 3;
		while (keep && (c->p[keep] & 0xc0) == 0x80)
			keep--;
		memcpy(r->cut_buf, c->p, keep);
		memcpy(r->cut_buf + keep, "...", 3);
		s = r->cut_buf;
		len = keep + 3;
	}
	uint32_t nid = profile_intern_str(r->p, s, len);
	if (nid == PROFILE_NOID || idmap_add(&r->strs, nid))
		return nomem(r);
	return LP_OK;
}

static int rec_frame(struct reader *r, struct raw_cursor *c)
{
	uint64_t id = raw_get_uv(c);
	uint64_t kind = raw_get_uv(c);
	uint64_t func = raw_get_uv(c), file = raw_get_uv(c),
		 module = raw_get_uv(c);
	int64_t line = raw_get_sv(c);
	uint64_t offset = raw_get_uv(c);
	struct frame f = { 0 };
	if (c->bad || id != r->frames.n || kind >= FRAME_KIND_COUNT ||
	    line < INT32_MIN || line > INT32_MAX ||
	    !map_id(&r->strs, func, &f.func) ||
	    !map_id(&r->strs, file, &f.file) ||
	    !map_id(&r->strs, module, &f.module))
		return corrupt(r, "frame");
	f.kind = (uint32_t)kind;
	f.line = (int32_t)line;
	f.offset = offset;
	uint32_t nid = profile_intern_frame(r->p, &f);
	if (nid == PROFILE_NOID || idmap_add(&r->frames, nid))
		return nomem(r);
	return LP_OK;
}

static int rec_stack(struct reader *r, struct raw_cursor *c)
{
	uint64_t id = raw_get_uv(c);
	uint64_t n = raw_get_uv(c);
	if (c->bad || id != r->stacks.n || n > MAX_INTERN_STACK_LEN)
		return corrupt(r, "stack");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t fid = raw_get_uv(c);
		if (c->bad || !map_id(&r->frames, fid, &r->stack_buf[i]))
			return corrupt(r, "stack");
	}
	uint32_t nid = profile_intern_stack(r->p, r->stack_buf, (size_t)n);
	if (nid == PROFILE_NOID || idmap_add(&r->stacks, nid))
		return nomem(r);
	return LP_OK;
}

static int rec_thread(struct reader *r, struct raw_cursor *c)
{
	uint32_t pid, tid, name;
	uint64_t fname;
	if (!get_u32(c, &pid) || !get_u32(c, &tid))
		return corrupt(r, "thread");
	fname = raw_get_uv(c);
	if (c->bad || !map_id(&r->strs, fname, &name))
		return corrupt(r, "thread");
	int rc = profile_set_thread(r->p, (int32_t)pid, (int32_t)tid,
				    profile_str(r->p, name));
	return rc ? nomem(r) : LP_OK;
}

static int rec_meta(struct reader *r, struct raw_cursor *c)
{
	uint32_t k, v;
	uint64_t fk = raw_get_uv(c), fv = raw_get_uv(c);
	if (c->bad || !map_id(&r->strs, fk, &k) || !map_id(&r->strs, fv, &v))
		return corrupt(r, "metadata");
	int rc = profile_set_meta(r->p, profile_str(r->p, k),
				  profile_str(r->p, v));
	if (rc == LP_EINVAL)
		return corrupt(r, "metadata");	/* over MAX_META keys */
	return rc ? nomem(r) : LP_OK;
}

static int rec_sample(struct reader *r, struct raw_cursor *c)
{
	struct sample s = { 0 };
	uint32_t pid, tid, flags;
	int64_t delta = raw_get_sv(c);
	if (c->bad || !get_u32(c, &pid) || !get_u32(c, &tid))
		return corrupt(r, "sample");
	uint64_t stack = raw_get_uv(c);
	if (c->bad || !map_id(&r->stacks, stack, &s.stack) ||
	    !get_u32(c, &flags))
		return corrupt(r, "sample");
	s.cpu_ns = raw_get_uv(c);
	uint64_t task = raw_get_uv(c);
	if (c->bad || !map_id(&r->strs, task, &s.task))
		return corrupt(r, "sample");
	if (c->p < c->end) {
		/* 1.1: the weight of a sample taken after missed deadlines */
		uint64_t w = raw_get_uv(c);
		if (c->bad || w == 0 || w > UINT32_MAX)
			return corrupt(r, "sample");
		s.weight = (uint32_t)w;
	}
	if (c->p < c->end) {
		/* 1.3: the CPU periods an on-CPU sample is charged */
		uint64_t w = raw_get_uv(c);
		if (c->bad || w > UINT32_MAX)
			return corrupt(r, "sample");
		s.cpu_weight = (uint32_t)w;
	}
	/* unsigned arithmetic: garbage wraps, it does not overflow */
	r->prev_time += (uint64_t)delta;
	s.time_ns = r->prev_time;
	s.pid = (int32_t)pid;
	s.tid = (int32_t)tid;
	s.flags = flags;
	int rc = profile_add_sample(r->p, &s);
	if (rc == LP_EINVAL)	/* its counts would wrap the profile's sums */
		return corrupt(r, "sample");
	return rc ? nomem(r) : LP_OK;
}

static int rec_agg(struct reader *r, struct raw_cursor *c)
{
	struct profile_agg a = { 0 };
	uint32_t pid, tid;
	uint64_t stack = raw_get_uv(c);
	if (c->bad || !map_id(&r->stacks, stack, &a.stack) ||
	    !get_u32(c, &pid) || !get_u32(c, &tid))
		return corrupt(r, "aggregate");
	uint64_t task = raw_get_uv(c);
	if (c->bad || !map_id(&r->strs, task, &a.task))
		return corrupt(r, "aggregate");
	a.pid = (int32_t)pid;
	a.tid = (int32_t)tid;
	a.samples = raw_get_uv(c);
	a.cpu_samples = raw_get_uv(c);
	a.gil_samples = raw_get_uv(c);
	a.idle_samples = raw_get_uv(c);
	a.cpu_ns = raw_get_uv(c);
	if (c->bad)
		return corrupt(r, "aggregate");
	int rc = profile_add_agg(r->p, &a);
	if (rc == LP_EINVAL)	/* counts that wrap the sums, or do not add up */
		return corrupt(r, "aggregate");
	return rc ? nomem(r) : LP_OK;
}

static int rec_span(struct reader *r, struct raw_cursor *c)
{
	struct profile_span sp = { 0 };
	uint32_t pid, tid;
	sp.start_ns = raw_get_uv(c);
	sp.dur_ns = raw_get_uv(c);
	if (c->bad || !get_u32(c, &pid) || !get_u32(c, &tid))
		return corrupt(r, "span");
	uint64_t cat = raw_get_uv(c), name = raw_get_uv(c),
		 detail = raw_get_uv(c);
	if (c->bad || !map_id(&r->strs, cat, &sp.cat) ||
	    !map_id(&r->strs, name, &sp.name) ||
	    !map_id(&r->strs, detail, &sp.detail))
		return corrupt(r, "span");
	sp.pid = (int32_t)pid;
	sp.tid = (int32_t)tid;
	return profile_add_span(r->p, &sp) ? nomem(r) : LP_OK;
}

static int read_records(struct reader *r, FILE *fp,
			struct raw_read_info *info)
{
	unsigned char *payload = NULL;
	size_t cap = 0;
	int rc = LP_OK;

	r->offset = RAW_HEADER_SIZE;
	/* bounded by the file: each turn consumes at least a record header */
	for (;;) {
		unsigned char h[RAW_RECORD_HEADER];
		size_t got = fread(h, 1, sizeof h, fp);
		if (got < sizeof h) {
			if (ferror(fp))
				goto io;
			if (got)
				info->truncated = true;
			break;
		}
		uint32_t len = raw_get_u32(h + 1);
		if (len > MAX_RECORD_LEN) {
			rc = corrupt(r, "oversized");
			break;
		}
		if (len > cap || !payload) {
			/* grows to the largest record, at most MAX_RECORD_LEN;
			 * there is always one (an empty record's cursor would
			 * be NULL + 0, undefined) */
			size_t ncap = cap ? cap : 4096;
			while (ncap < len)
				ncap *= 2;
			unsigned char *n = realloc(payload, ncap);
			if (!n) {
				rc = nomem(r);
				break;
			}
			payload = n;
			cap = ncap;
		}
		got = fread(payload, 1, len, fp);
		if (got < len) {
			if (ferror(fp))
				goto io;
			info->truncated = true;	/* cut inside the record */
			break;
		}
		struct raw_cursor c = { payload, payload + len, 0 };
		switch (h[0]) {
		case RAW_STRING: rc = rec_string(r, &c); break;
		case RAW_FRAME: rc = rec_frame(r, &c); break;
		case RAW_STACK: rc = rec_stack(r, &c); break;
		case RAW_THREAD: rc = rec_thread(r, &c); break;
		case RAW_META: rc = rec_meta(r, &c); break;
		case RAW_SAMPLE: rc = rec_sample(r, &c); break;
		case RAW_AGG: rc = rec_agg(r, &c); break;
		case RAW_SPAN: rc = rec_span(r, &c); break;
		case RAW_END: break;
		default: break;	/* a later minor version's record: skipped */
		}
		if (rc)
			break;
		info->records++;
		r->offset += RAW_RECORD_HEADER + (uint64_t)len;
		if (r->progress && r->offset - r->reported >= PROGRESS_STEP) {
			r->reported = r->offset;
			r->progress(r->progress_ctx, r->offset, r->size);
		}
	}
	free(payload);
	return rc;
io:
	free(payload);
	return lp_error_set(r->err, LP_EIO, "cannot read %s: %s", r->path,
			    strerror(errno ? errno : EIO));
}

/* The file to read: "-" or /dev/stdin is standard input (a pipe is read
 * as it comes); anything else must be a regular file.  Opened O_NONBLOCK
 * and examined before any read, so a FIFO (no writer: open and read block
 * for ever) or a device is refused at once. */
static int open_input(const char *path, FILE **out, lp_error *err)
{
	int fd;
	*out = NULL;
	if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdin") == 0) {
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	} else {
		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		struct stat sb;
		if (fd >= 0 && fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
			close(fd);
			return lp_error_set(err, LP_EINVAL, "cannot read %s: it is %s, not a recording file (give - to read standard input)",
					    path, S_ISDIR(sb.st_mode) ? "a directory" :
					    S_ISFIFO(sb.st_mode) ? "a FIFO" :
					    S_ISSOCK(sb.st_mode) ? "a socket" : "a device");
		}
		if (fd >= 0 && fcntl(fd, F_SETFL, 0) != 0) {
			int e = errno;
			close(fd);
			errno = e;
			fd = -1;
		}
	}
	FILE *fp = fd >= 0 ? fdopen(fd, "rb") : NULL;
	if (!fp) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return lp_error_set(err, lp_from_errno(e), "cannot read %s: %s",
				    path, strerror(e));
	}
	*out = fp;
	return LP_OK;
}

int raw_read_file(const char *path, profile *p, struct raw_read_info *info,
		  lp_error *err)
{
	return raw_read_file_progress(path, p, info, NULL, NULL, err);
}

int raw_read_file_progress(const char *path, profile *p,
			   struct raw_read_info *info, raw_progress_fn progress,
			   void *progress_ctx, lp_error *err)
{
	struct raw_read_info dummy;
	struct reader r = { .path = path, .p = p, .err = err,
			    .progress = progress,
			    .progress_ctx = progress_ctx };
	unsigned char h[RAW_HEADER_SIZE];
	int rc;

	if (!info)
		info = &dummy;
	memset(info, 0, sizeof *info);
	FILE *fp;
	rc = open_input(path, &fp, err);
	if (rc)
		return rc;
	size_t got = fread(h, 1, sizeof h, fp);
	if (ferror(fp)) {
		rc = lp_error_set(err, LP_EIO, "cannot read %s: %s", path,
				  strerror(errno ? errno : EIO));
		goto out_file;
	}
	/* a crash may leave a header cut short; anything else is not ours */
	if (got == 0 ||
	    memcmp(h, RAW_MAGIC, got < RAW_MAGIC_LEN ? got : RAW_MAGIC_LEN)) {
		rc = lp_error_set(err, LP_EFORMAT,
				  "%s is not a loupe recording", path);
		goto out_file;
	}
	if (got < RAW_HEADER_SIZE) {
		info->truncated = true;
		rc = LP_OK;
		goto out_file;
	}
	unsigned version = raw_get_u16(h + 6);
	info->version = version;
	if (version >> 8 != RAW_VERSION_MAJOR) {
		rc = lp_error_set(err, LP_EFORMAT,
				  "%s is not a loupe recording this version of "
				  "loupe reads (format %u.%u, this loupe reads "
				  "%u.x) — upgrade loupe",
				  path, version >> 8, version & 0xff,
				  RAW_VERSION_MAJOR);
		goto out_file;
	}
	struct stat sb;
	if (progress && fstat(fileno(fp), &sb) == 0 && sb.st_size > 0)
		r.size = (uint64_t)sb.st_size;
	if (!profile_start_ns(p))
		profile_set_start_ns(p, raw_get_u64(h + 10));

	rc = LP_ENOMEM;
	r.stack_buf = malloc(MAX_INTERN_STACK_LEN * sizeof *r.stack_buf);
	if (!r.stack_buf || idmap_add(&r.strs, 0) || idmap_add(&r.frames, 0) ||
	    idmap_add(&r.stacks, 0)) {
		rc = nomem(&r);
		goto out_maps;
	}
	rc = read_records(&r, fp, info);
	if (rc == LP_OK && progress)
		progress(progress_ctx, r.size ? r.size : r.offset, r.size);
out_maps:
	free(r.stack_buf);
	free(r.cut_buf);
	free(r.strs.ids);
	free(r.frames.ids);
	free(r.stacks.ids);
out_file:
	fclose(fp);
	return rc;
}
