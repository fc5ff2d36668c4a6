/* Unit tests of the .loupe format: streaming writer and reader round trip,
 * whole-profile writes, files cut at every byte, garbage and mutations. */
#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "formats/formats.h"
#include "formats/raw_format.h"
#include "unit.h"

static char tmpdir[64];

static void setup_dir(void)
{
	unit_tmpdir_make(tmpdir, sizeof tmpdir, "check_raw");
}

static void teardown_dir(void)
{
	unit_tmpdir_remove(tmpdir);
}

static char *path_in(const char *name)
{
	/* a few at once may be live in one test */
	static char paths[4][160];
	static int next;
	char *path = paths[next++ % 4];
	snprintf(path, sizeof paths[0], "%s/%s", tmpdir, name);
	return path;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return b;
}

static void spit(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

static char *collapsed(const profile *p, enum sample_mode mode, bool threads)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	struct output_opts o = { .mode = mode, .lines = true,
				 .threads = threads };
	ck_assert_int_eq(collapsed_write(p, fp, &o), LP_OK);
	fclose(fp);
	return text;
}

static void same_output(const profile *a, const profile *b)
{
	static const enum sample_mode modes[] = { MODE_WALL, MODE_CPU,
						  MODE_GIL };
	for (int m = 0; m < 3; m++) {
		for (int t = 0; t < 2; t++) {
			char *x = collapsed(a, modes[m], t), *y =
				collapsed(b, modes[m], t);
			ck_assert_str_eq(x, y);
			free(x);
			free(y);
		}
	}
}

static uint32_t pyframe(profile *p, const char *func, const char *file,
			int line)
{
	struct frame f = { .kind = FRAME_PYTHON,
			   .func = profile_intern_cstr(p, func),
			   .file = profile_intern_cstr(p, file),
			   .line = line };
	return profile_intern_frame(p, &f);
}

/* A sampler's life in miniature: stacks, threads and metadata appear while
 * samples stream out. */
static profile *record(const char *path, int nsamples)
{
	profile *p = profile_new();
	raw_writer *w;
	lp_error err = { 0 };
	profile_keep_timeline(p, true);
	ck_assert_int_eq(raw_writer_open(&w, path, &err), LP_OK);
	profile_set_meta(p, "mode", "cpu");
	uint32_t root = pyframe(p, "<module>", "app.py", 1);
	struct frame nat = { .kind = FRAME_NATIVE,
			     .module = profile_intern_cstr(p, "libc.so.6"),
			     .offset = 0xdeadbeefULL };
	uint32_t natid = profile_intern_frame(p, &nat);
	uint64_t t = 1000;
	for (int i = 0; i < nsamples; i++) {
		char fn[32];
		snprintf(fn, sizeof fn, "handler_%d", i % 13);
		uint32_t fr[3] = { root, pyframe(p, fn, "app.py", 10 + i % 5),
				   natid };
		uint32_t st = i % 17 == 16 ? 0 :
			profile_intern_stack(p, fr, 1 + (size_t)(i % 3));
		char task[32];
		snprintf(task, sizeof task, "Task-%d", i % 4);
		struct sample s = {
			.time_ns = t, .pid = 4000, .tid = 4000 + i % 3,
			.stack = st,
			.flags = (uint32_t)(i % 5 ? SAMPLE_ON_CPU : SAMPLE_IDLE) |
				 (i % 2 ? SAMPLE_GIL : 0),
			.cpu_ns = (uint64_t)(i % 7) * 1000,
			.task = i % 4 ? profile_intern_cstr(p, task) : 0,
		};
		/* time may go back a little (threads sampled out of order) */
		t += i % 11 == 10 ? (uint64_t)-500 : 10007;
		if (i == nsamples / 3)
			profile_set_thread(p, 4000, 4000, "MainThread");
		if (i == nsamples / 2) {
			profile_set_thread(p, 4000, 4001, "worker;1");
			profile_set_meta(p, "rate", "100");
			ck_assert_int_eq(raw_writer_flush(w, p), LP_OK);
			profile_set_thread(p, 4000, 4000, "Main");
			profile_set_meta(p, "rate", "250");
		}
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
		ck_assert_int_eq(raw_writer_sample(w, p, &s), LP_OK);
	}
	ck_assert_int_eq(raw_writer_close(w, p, &err), LP_OK);
	return p;
}

static void same_timeline(const profile *a, const profile *b)
{
	size_t na, nb;
	const struct sample *x = profile_timeline(a, &na);
	const struct sample *y = profile_timeline(b, &nb);
	ck_assert_uint_eq(na, nb);
	for (size_t i = 0; i < na; i++) {
		ck_assert_uint_eq(x[i].time_ns, y[i].time_ns);
		ck_assert_int_eq(x[i].pid, y[i].pid);
		ck_assert_int_eq(x[i].tid, y[i].tid);
		ck_assert_uint_eq(x[i].flags, y[i].flags);
		ck_assert_uint_eq(x[i].cpu_ns, y[i].cpu_ns);
		ck_assert_uint_eq(x[i].weight ? x[i].weight : 1,
				  y[i].weight ? y[i].weight : 1);
		ck_assert_str_eq(profile_str(a, x[i].task),
				 profile_str(b, y[i].task));
	}
}

START_TEST(test_stream_round_trip)
{
	const char *path = path_in("rec.loupe");
	profile *p = record(path, 2000);
	ck_assert_int_eq(access(path, F_OK), 0);
	char cmd[200];	/* no temporary left beside it */
	snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) = 1", tmpdir);
	ck_assert_int_eq(system(cmd), 0);

	profile *q = profile_new();
	profile_keep_timeline(q, true);
	struct raw_read_info info;
	lp_error err = { 0 };
	ck_assert_int_eq(raw_read_file(path, q, &info, &err), LP_OK);
	ck_assert(!info.truncated);
	ck_assert_uint_eq(info.version,
			  RAW_VERSION_MAJOR << 8 | RAW_VERSION_MINOR);
	ck_assert_uint_eq(profile_total_samples(q), 2000);
	same_output(p, q);
	same_timeline(p, q);
	ck_assert_str_eq(profile_meta(q, "rate"), "250");
	ck_assert_str_eq(profile_meta(q, "mode"), "cpu");
	ck_assert_str_eq(profile_str(q, profile_thread_name(q, 4000, 4000)),
			 "Main");
	ck_assert_str_eq(profile_str(q, profile_thread_name(q, 4000, 4001)),
			 "worker;1");
	ck_assert_uint_ne(profile_start_ns(q), 0);

	/* a profile holding other data already: ids are translated */
	profile *r = profile_new();
	pyframe(r, "zzz", "other.py", 99);
	profile_intern_cstr(r, "Task-3");
	ck_assert_int_eq(raw_read_file(path, r, &info, &err), LP_OK);
	same_output(p, r);
	/* read twice: every count doubles, nothing else changes */
	ck_assert_int_eq(raw_read_file(path, r, &info, &err), LP_OK);
	ck_assert_uint_eq(profile_total_samples(r), 4000);
	profile_free(r);
	profile_free(q);
	profile_free(p);
}
END_TEST

/* A sample taken after missed deadlines weighs the periods it stands for
 * (format 1.1); one without the field (1.0, or weight 1) weighs one. */
START_TEST(test_weight_round_trip)
{
	const char *path = path_in("weight.loupe");
	profile *p = profile_new();
	raw_writer *w;
	lp_error err = { 0 };
	ck_assert_int_eq(raw_writer_open(&w, path, &err), LP_OK);
	uint32_t fr = pyframe(p, "late", "app.py", 3);
	uint32_t st = profile_intern_stack(p, &fr, 1);
	uint32_t weights[] = { 0, 1, 5, 300 };
	for (size_t i = 0; i < 4; i++) {
		struct sample s = { .time_ns = 1000 * (i + 1), .pid = 7,
				    .tid = 7, .stack = st,
				    .flags = SAMPLE_ON_CPU,
				    .weight = weights[i] };
		ck_assert_int_eq(profile_add_sample(p, &s), LP_OK);
		ck_assert_int_eq(raw_writer_sample(w, p, &s), LP_OK);
	}
	ck_assert_int_eq(raw_writer_close(w, p, &err), LP_OK);
	ck_assert_uint_eq(profile_total_samples(p), 1 + 1 + 5 + 300);
	profile *q = profile_new();
	profile_keep_timeline(q, true);
	struct raw_read_info info;
	ck_assert_int_eq(raw_read_file(path, q, &info, &err), LP_OK);
	ck_assert_uint_eq(profile_total_samples(q), 307);
	size_t na;
	const struct profile_agg *a = profile_aggs(q, &na);
	ck_assert_uint_eq(na, 1);
	ck_assert_uint_eq(a[0].cpu_samples, 307);
	size_t nt;
	const struct sample *t = profile_timeline(q, &nt);
	ck_assert_uint_eq(nt, 4);
	ck_assert_uint_eq(t[2].weight, 5);
	ck_assert_uint_eq(t[3].weight, 300);
	profile_free(p);
	profile_free(q);
}
END_TEST

START_TEST(test_profile_round_trip)
{
	const char *path = path_in("rec.loupe");
	profile *p = record(path, 500);
	lp_error err = { 0 };
	struct raw_read_info info;
	struct output_opts o = { 0 };

	/* with the timeline: SAMPLE records */
	const char *p2 = path_in("whole.loupe");
	ck_assert_int_eq(format_write_file(p, FORMAT_RAW, p2, &o, &err), LP_OK);
	profile *q = profile_new();
	profile_keep_timeline(q, true);
	ck_assert_int_eq(raw_read_file(p2, q, &info, &err), LP_OK);
	same_output(p, q);
	same_timeline(p, q);
	ck_assert_str_eq(profile_meta(q, "rate"), "250");

	/* without: AGG records, same aggregates */
	profile *r = profile_new();
	ck_assert_int_eq(raw_read_file(path, r, &info, &err), LP_OK);
	const char *p3 = path_in("agg.loupe");
	ck_assert_int_eq(format_write_file(r, FORMAT_RAW, p3, &o, &err), LP_OK);
	profile *s = profile_new();
	ck_assert_int_eq(raw_read_file(p3, s, &info, &err), LP_OK);
	same_output(p, s);
	size_t na, nb;
	profile_aggs(r, &na);
	profile_aggs(s, &nb);
	ck_assert_uint_eq(na, nb);
	size_t la, lb;
	free(slurp(p2, &la));
	free(slurp(p3, &lb));
	ck_assert_uint_lt(lb, la);	/* aggregates are smaller */
	profile_free(s);
	profile_free(r);
	profile_free(q);
	profile_free(p);
}
END_TEST

/* Offsets where records end, and how many SAMPLE records end at or before
 * each of them. */
struct layout {
	size_t n;
	size_t end[8192];
	size_t samples[8192];
};

static void parse_layout(const unsigned char *b, size_t len, struct layout *l)
{
	size_t off = RAW_HEADER_SIZE, ns = 0;
	l->n = 0;
	while (off + RAW_RECORD_HEADER <= len && l->n < 8192) {
		uint32_t rl = raw_get_u32(b + off + 1);
		if (b[off] == RAW_SAMPLE)
			ns++;
		off += RAW_RECORD_HEADER + rl;
		ck_assert_uint_le(off, len);
		l->end[l->n] = off;
		l->samples[l->n++] = ns;
	}
	ck_assert_uint_eq(off, len);
}

START_TEST(test_cut_everywhere)
{
	const char *path = path_in("rec.loupe");
	profile_free(record(path, 300));
	size_t len;
	unsigned char *b = slurp(path, &len);
	static struct layout l;
	parse_layout(b, len, &l);
	const char *cut = path_in("cut.loupe");
	lp_error err = { 0 };

	/* every byte of the file: a cut inside a record keeps what came
	 * before it */
	for (size_t at = 1; at < len; at++) {
		spit(cut, b, at);
		profile *q = profile_new();
		struct raw_read_info info;
		int rc = raw_read_file(cut, q, &info, &err);
		if (rc != LP_OK)
			ck_abort_msg("cut at %zu of %zu: %s", at, len, err.msg);
		size_t want = 0;
		bool boundary = at == RAW_HEADER_SIZE;
		for (size_t i = 0; i < l.n && l.end[i] <= at; i++) {
			want = l.samples[i];
			boundary = boundary || l.end[i] == at;
		}
		ck_assert_uint_eq(profile_total_samples(q), want);
		if (info.truncated == boundary)
			ck_abort_msg("cut at %zu: truncated %d", at,
				     info.truncated);
		profile_free(q);
	}
	/* an empty file is not a recording */
	spit(cut, b, 0);
	profile *q = profile_new();
	ck_assert_int_eq(raw_read_file(cut, q, NULL, &err), LP_EFORMAT);
	profile_free(q);
	free(b);
}
END_TEST

START_TEST(test_bad_header)
{
	const char *path = path_in("bad.loupe");
	lp_error err = { 0 };
	char want[256];
	profile *q = profile_new();
	spit(path, "#!/bin/sh\necho this is a script\n", 32);
	ck_assert_int_eq(raw_read_file(path, q, NULL, &err), LP_EFORMAT);
	snprintf(want, sizeof want, "%s is not a loupe recording", path);
	ck_assert_str_eq(err.msg, want);

	unsigned char h[RAW_HEADER_SIZE] = "LOUPE";
	raw_put_u16(h + 6, 2 << 8);
	spit(path, h, sizeof h);
	ck_assert_int_eq(raw_read_file(path, q, NULL, &err), LP_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not a loupe recording"));
	ck_assert_ptr_nonnull(strstr(err.msg, "2.0"));

	ck_assert_int_eq(raw_read_file(path_in("missing.loupe"), q, NULL, &err),
			 LP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot read"));
	profile_free(q);
}
END_TEST

/* A later minor version: unknown records and extra fields are skipped. */
START_TEST(test_forward_compatible)
{
	unsigned char b[256];
	size_t n = 0;
	memcpy(b, RAW_MAGIC, RAW_MAGIC_LEN);
	raw_put_u16(b + 6, 1 << 8 | 7);
	raw_put_u16(b + 8, 0x8000);
	raw_put_u64(b + 10, 123);
	n = RAW_HEADER_SIZE;
	/* unknown type 200, 3 bytes */
	b[n] = 200;
	raw_put_u32(b + n + 1, 3);
	n += RAW_RECORD_HEADER + 3;
	/* STRING 1 = "f" */
	b[n] = RAW_STRING;
	raw_put_u32(b + n + 1, 2);
	b[n + 5] = 1;
	b[n + 6] = 'f';
	n += RAW_RECORD_HEADER + 2;
	/* FRAME 1: python f, line -1 (zigzag 1), and one byte more */
	unsigned char fr[] = { 1, FRAME_PYTHON, 1, 0, 0, 1, 0, 0x55 };
	b[n] = RAW_FRAME;
	raw_put_u32(b + n + 1, sizeof fr);
	memcpy(b + n + 5, fr, sizeof fr);
	n += RAW_RECORD_HEADER + sizeof fr;
	/* STACK 1 = [1] */
	unsigned char st[] = { 1, 1, 1 };
	b[n] = RAW_STACK;
	raw_put_u32(b + n + 1, sizeof st);
	memcpy(b + n + 5, st, sizeof st);
	n += RAW_RECORD_HEADER + sizeof st;
	/* SAMPLE on stack 1, time 5, pid 7, tid 8, on cpu */
	unsigned char sa[] = { 10, 7, 8, 1, SAMPLE_ON_CPU, 0, 0 };
	b[n] = RAW_SAMPLE;
	raw_put_u32(b + n + 1, sizeof sa);
	memcpy(b + n + 5, sa, sizeof sa);
	n += RAW_RECORD_HEADER + sizeof sa;

	const char *path = path_in("fwd.loupe");
	spit(path, b, n);
	profile *q = profile_new();
	profile_keep_timeline(q, true);
	struct raw_read_info info;
	lp_error err = { 0 };
	ck_assert_int_eq(raw_read_file(path, q, &info, &err), LP_OK);
	ck_assert(!info.truncated);
	ck_assert_uint_eq(info.records, 5);
	ck_assert_uint_eq(profile_start_ns(q), 123);
	size_t nt;
	const struct sample *tl = profile_timeline(q, &nt);
	ck_assert_uint_eq(nt, 1);
	ck_assert_uint_eq(tl[0].time_ns, 5);
	ck_assert_int_eq(tl[0].tid, 8);
	char *text = collapsed(q, MODE_CPU, false);
	ck_assert_str_eq(text, "f 1\n");
	free(text);

	/* a sample naming a stack the file never defined */
	sa[3] = 2;
	memcpy(b + n - sizeof sa, sa, sizeof sa);
	spit(path, b, n);
	ck_assert_int_eq(raw_read_file(path, q, &info, &err), LP_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "corrupt sample record"));
	/* an oversized record */
	raw_put_u32(b + n - sizeof sa - 4, MAX_RECORD_LEN + 1);
	spit(path, b, n);
	ck_assert_int_eq(raw_read_file(path, q, &info, &err), LP_EFORMAT);
	profile_free(q);
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible, good enough for fuzzing */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

START_TEST(test_garbage)
{
	const char *path = path_in("rec.loupe");
	profile_free(record(path, 200));
	size_t len;
	unsigned char *orig = slurp(path, &len);
	unsigned char *b = malloc(len + 64);
	const char *mut = path_in("mut.loupe");
	lp_error err;
	int ok = 0, bad = 0;
	clock_t t0 = clock();

	/* LOUPE_FUZZ_ITERS runs a longer campaign by hand */
	const char *env = getenv("LOUPE_FUZZ_ITERS");
	int iters = env ? atoi(env) : 3000;
	/* mutations of a real recording */
	for (int iter = 0; iter < iters; iter++) {
		memcpy(b, orig, len);
		size_t n = len;
		int edits = 1 + (int)(rnd() % 8);
		for (int e = 0; e < edits; e++) {
			size_t at = rnd() % n;
			switch (rnd() % 4) {
			case 0:	/* flip a bit */
				b[at] ^= (unsigned char)(1u << (rnd() % 8));
				break;
			case 1:	/* a random byte */
				b[at] = (unsigned char)rnd();
				break;
			case 2:	/* a wild length somewhere */
				if (at + 4 <= n)
					raw_put_u32(b + at, rnd());
				break;
			case 3:	/* cut */
				n = at + 1;
				break;
			}
		}
		/* keep the header most of the time, or the reader stops at
		 * once */
		if (iter % 10)
			memcpy(b, orig, RAW_HEADER_SIZE);
		spit(mut, b, n);
		profile *q = profile_new();
		profile_keep_timeline(q, iter % 2);
		struct raw_read_info info;
		int rc = raw_read_file(mut, q, &info, &err);
		ck_assert(rc == LP_OK || rc == LP_EFORMAT);
		rc == LP_OK ? ok++ : bad++;
		/* whatever was read is a consistent profile */
		char *text = collapsed(q, MODE_WALL, true);
		free(text);
		profile_free(q);
	}
	/* pure garbage after a valid header */
	for (int iter = 0; iter < 1000; iter++) {
		size_t n = RAW_HEADER_SIZE + rnd() % 64;
		memcpy(b, orig, RAW_HEADER_SIZE);
		for (size_t i = RAW_HEADER_SIZE; i < n; i++)
			b[i] = (unsigned char)rnd();
		/* small types make the records parse as known ones */
		if (n > RAW_HEADER_SIZE)
			b[RAW_HEADER_SIZE] = (unsigned char)(1 + rnd() % 8);
		spit(mut, b, n);
		profile *q = profile_new();
		int rc = raw_read_file(mut, q, NULL, &err);
		ck_assert(rc == LP_OK || rc == LP_EFORMAT);
		profile_free(q);
	}
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	printf("garbage: %d files in %.2f s (%d mutants read OK, %d "
	       "refused as corrupt)\n", iters + 1000, secs, ok, bad);
	free(b);
	free(orig);
}
END_TEST

START_TEST(test_writer_errors)
{
	raw_writer *w;
	lp_error err = { 0 };
	char path[200];
	snprintf(path, sizeof path, "%s/nodir/x.loupe", tmpdir);
	int rc = raw_writer_open(&w, path, &err);
	ck_assert(rc == LP_EIO || rc == LP_EPERM);
	char want[256];
	snprintf(want, sizeof want, "cannot write %s: %s", path,
		 strerror(ENOENT));
	ck_assert_str_eq(err.msg, want);

	/* abort removes the temporary and leaves nothing */
	ck_assert_int_eq(raw_writer_open(&w, path_in("a.loupe"), &err), LP_OK);
	profile *p = profile_new();
	struct sample s = { .pid = 1, .tid = 1 };
	ck_assert_int_eq(raw_writer_sample(w, p, &s), LP_OK);
	s.stack = 5;
	ck_assert_int_eq(raw_writer_sample(w, p, &s), LP_EINVAL);
	raw_writer_abort(w);
	snprintf(want, sizeof want, "ls -A %s | grep -q .", tmpdir);
	ck_assert_int_ne(system(want), 0);

	/* a directory at the name is refused at once */
	const char *dir = path_in("adir");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_ne(raw_writer_open(&w, dir, &err), LP_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, strerror(EISDIR)));
	ck_assert_int_eq(rmdir(dir), 0);
	/* close fails (the name became a directory while sampling), the
	 * samples on disk stay in the temporary, named in the message */
	ck_assert_int_eq(raw_writer_open(&w, dir, &err), LP_OK);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	s.stack = 0;
	profile_add_sample(p, &s);
	ck_assert_int_eq(raw_writer_sample(w, p, &s), LP_OK);
	rc = raw_writer_close(w, p, &err);
	ck_assert_int_eq(rc, LP_EIO);
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dir, (long)getpid());
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot write"));
	ck_assert_ptr_nonnull(strstr(err.msg, tmp));
	profile *q = profile_new();
	struct raw_read_info info;
	ck_assert_int_eq(raw_read_file(tmp, q, &info, &err), LP_OK);
	ck_assert_uint_eq(profile_total_samples(q), 1);
	profile_free(q);
	profile_free(p);
}
END_TEST

/* A writer that dies before close leaves "<path>.tmp.<pid>": it opens, with
 * everything flushed before the crash. */
START_TEST(test_crashed_writer)
{
	const char *path = path_in("crash.loupe");
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	raw_writer *w;
	lp_error err = { 0 };
	profile *p = profile_new();
	ck_assert_int_eq(raw_writer_open(&w, path, &err), LP_OK);

	/* killed before the first flush: the header is there already */
	profile *q = profile_new();
	struct raw_read_info info;
	ck_assert_int_eq(raw_read_file(tmp, q, &info, &err), LP_OK);
	ck_assert_uint_eq(info.records, 0);
	profile_free(q);

	uint32_t fr = pyframe(p, "main", "m.py", 1);
	struct sample s = { .pid = 1, .tid = 1, .flags = SAMPLE_ON_CPU,
			    .stack = profile_intern_stack(p, &fr, 1) };
	for (int i = 0; i < 100; i++) {
		profile_add_sample(p, &s);
		raw_writer_sample(w, p, &s);
	}
	ck_assert_int_eq(raw_writer_flush(w, p), LP_OK);
	for (int i = 0; i < 10; i++)
		raw_writer_sample(w, p, &s);	/* still in the buffer */
	q = profile_new();
	ck_assert_int_eq(raw_read_file(tmp, q, &info, &err), LP_OK);
	ck_assert(!info.truncated);
	ck_assert_uint_eq(profile_total_samples(q), 100);
	same_output(p, q);
	profile_free(q);
	raw_writer_abort(w);
	ck_assert_int_ne(access(tmp, F_OK), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	profile_free(p);
}
END_TEST

/* What streaming costs: time and bytes per sample, in the steady state. */
START_TEST(test_writer_speed)
{
	enum { N = 1000000 };
	profile *p = profile_new();
	raw_writer *w;
	lp_error err = { 0 };
	const char *path = path_in("speed.loupe");
	uint32_t stacks[64];
	for (int i = 0; i < 64; i++) {
		char fn[16];
		snprintf(fn, sizeof fn, "f%d", i);
		uint32_t fr[2] = { pyframe(p, "main", "m.py", 1),
				   pyframe(p, fn, "m.py", i) };
		stacks[i] = profile_intern_stack(p, fr, 2);
	}
	ck_assert_int_eq(raw_writer_open(&w, path, &err), LP_OK);
	clock_t t0 = clock();
	struct sample s = { .pid = 1234, .tid = 1234, .flags = SAMPLE_ON_CPU };
	struct mallinfo2 m0 = { 0 };
	for (int i = 0; i < N; i++) {
		/* after every (stack, thread) was seen once, neither the
		 * profile nor the writer allocates (glibc's counters; zero
		 * under ASan, where the check is void) */
		if (i == 1000)
			m0 = mallinfo2();
		s.time_ns += 5000 + i % 100;
		s.tid = 1234 + i % 8;
		s.stack = stacks[i % 64];
		s.cpu_ns = 4000 + i % 1000;
		profile_add_sample(p, &s);
		if (raw_writer_sample(w, p, &s) != LP_OK)
			ck_abort_msg("sample %d", i);
	}
	struct mallinfo2 m1 = mallinfo2();
	ck_assert_uint_eq(m1.uordblks, m0.uordblks);
	ck_assert_uint_eq(m1.hblkhd, m0.hblkhd);
	ck_assert_int_eq(raw_writer_close(w, p, &err), LP_OK);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	printf("writer: %d samples in %.2f s (%.0f ns/sample with "
	       "aggregation), %.1f bytes/sample\n",
	       N, secs, secs * 1e9 / N, (double)st.st_size / N);
	profile *q = profile_new();
	ck_assert_int_eq(raw_read_file(path, q, NULL, &err), LP_OK);
	ck_assert_uint_eq(profile_total_samples(q), N);
	same_output(p, q);
	profile_free(q);
	profile_free(p);
}
END_TEST

static Suite *raw_suite(void)
{
	Suite *s = suite_create("raw");
	TCase *tc = tcase_create("raw");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, test_stream_round_trip);
	tcase_add_test(tc, test_profile_round_trip);
	tcase_add_test(tc, test_weight_round_trip);
	tcase_add_test(tc, test_cut_everywhere);
	tcase_add_test(tc, test_bad_header);
	tcase_add_test(tc, test_forward_compatible);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_writer_errors);
	tcase_add_test(tc, test_crashed_writer);
	tcase_add_test(tc, test_writer_speed);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(raw_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
