/* Unit tests of the pprof writer and its protobuf encoder: the output is
 * gunzipped and walked field by field with a small decoder written here
 * from the wire format (go tool pprof reads it in the functional tests). */
#include <zlib.h>

#include "formats/pb.h"
#include "viewer_fixture.h"
#include "unit.h"

struct rd {
	const unsigned char *p, *end;
};

static uint64_t rd_varint(struct rd *r)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		ck_assert_msg(r->p < r->end, "varint past the end");
		unsigned char b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	ck_abort_msg("varint too long");
	return 0;
}

/* Next field: its number, wire type, value (type 0) or bytes (type 2). */
static int rd_field(struct rd *r, uint32_t *field, uint64_t *v, struct rd *sub)
{
	if (r->p >= r->end)
		return 0;
	uint64_t key = rd_varint(r);
	*field = (uint32_t)(key >> 3);
	int wt = (int)(key & 7);
	ck_assert_msg(wt == 0 || wt == 2, "wire type %d", wt);
	if (wt == 0) {
		*v = rd_varint(r);
		sub->p = sub->end = NULL;
	} else {
		uint64_t len = rd_varint(r);
		ck_assert_uint_le(len, (uint64_t)(r->end - r->p));
		sub->p = r->p;
		sub->end = r->p + len;
		r->p += len;
		*v = len;
	}
	return 1;
}

static unsigned char *gunzip(const char *data, size_t len, size_t *out_len)
{
	size_t cap = 1 << 20;
	unsigned char *out = malloc(cap);
	z_stream zs = { 0 };
	ck_assert_int_eq(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	ck_assert_int_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	inflateEnd(&zs);
	return out;
}

START_TEST(test_pb_encoder)
{
	struct pb m = { 0 }, sub = { 0 };
	pb_uint(&sub, 1, 300);
	pb_msg(&m, 2, &sub);
	uint64_t v[] = { 1, 150 };
	pb_packed(&m, 3, v, 2);
	pb_int(&m, 4, -1);
	pb_bytes(&m, 5, "hi", 2);
	static const unsigned char want[] = {
		0x12, 0x03, 0x08, 0xac, 0x02,		/* 2: {1: 300} */
		0x1a, 0x03, 0x01, 0x96, 0x01,		/* 3: packed [1, 150] */
		0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
		0x2a, 0x02, 'h', 'i',
	};
	ck_assert_int_eq(m.err, 0);
	ck_assert_uint_eq(m.len, sizeof want);
	ck_assert_mem_eq(m.b, want, sizeof want);
	pb_free(&m);
	pb_free(&sub);
}
END_TEST

START_TEST(test_pprof_profile)
{
	profile *p = fx_profile(3);
	profile_set_meta(p, "target.exe", "/usr/bin/python3");
	struct output_opts o = { .mode = MODE_CPU, .lines = true };
	size_t zlen, len;
	char *gz = fx_write(pprof_write, p, &o, &zlen);
	ck_assert_uint_gt(zlen, 18);
	ck_assert_int_eq((unsigned char)gz[0], 0x1f);	/* gzip magic */
	ck_assert_int_eq((unsigned char)gz[1], 0x8b);
	unsigned char *buf = gunzip(gz, zlen, &len);

	const char *strs[64];
	size_t nstrs = 0, nsamples = 0, nlocs = 0, nfns = 0, ntypes = 0;
	uint64_t sums[4] = { 0 }, period = 0, default_type = 0;
	uint64_t type_names[8] = { 0 };
	struct rd r = { buf, buf + len }, sub;
	uint32_t field;
	uint64_t v;
	/* strings first: they come last in the file */
	while (rd_field(&r, &field, &v, &sub)) {
		if (field == 6) {
			ck_assert_uint_lt(nstrs, 64);
			strs[nstrs++] = strndup((const char *)sub.p, v);
		}
	}
	ck_assert_str_eq(strs[0], "");
	r = (struct rd){ buf, buf + len };
	while (rd_field(&r, &field, &v, &sub)) {
		struct rd in = sub, in2;
		uint32_t f2;
		uint64_t v2;
		switch (field) {
		case 1:	/* sample_type */
			while (rd_field(&in, &f2, &v2, &in2))
				if (f2 == 1)
					type_names[ntypes] = v2;
			ntypes++;
			break;
		case 2: {	/* sample */
			nsamples++;
			while (rd_field(&in, &f2, &v2, &in2)) {
				if (f2 == 2) {	/* packed values */
					for (int k = 0; in2.p < in2.end; k++) {
						ck_assert_int_lt(k, 4);
						sums[k] += rd_varint(&in2);
					}
				}
			}
			break;
		}
		case 4: nlocs++; break;
		case 5: nfns++; break;
		case 12: period = v; break;
		case 14: default_type = v; break;
		default: break;
		}
	}
	ck_assert_uint_eq(ntypes, 4);
	ck_assert_str_eq(strs[type_names[0]], "wall_samples");
	ck_assert_str_eq(strs[type_names[1]], "cpu_samples");
	ck_assert_str_eq(strs[type_names[2]], "gil_samples");
	ck_assert_str_eq(strs[type_names[3]], "cpu");
	ck_assert_str_eq(strs[default_type], "cpu_samples");
	/* one sample per (stack, thread): 3; values as in the fixture */
	ck_assert_uint_eq(nsamples, 3);
	ck_assert_uint_eq(sums[0], 10);
	ck_assert_uint_eq(sums[1], 5);
	ck_assert_uint_eq(sums[2], 3);
	ck_assert_uint_eq(sums[3], 10 * 1000);
	/* locations per line: main, work:10, work:11, nanosleep; functions
	 * per name: main, work, nanosleep */
	ck_assert_uint_eq(nlocs, 4);
	ck_assert_uint_eq(nfns, 3);
	ck_assert_uint_eq(period, 10000000);	/* 100 Hz */
	bool seen_work = false, seen_exe = false;
	for (size_t i = 0; i < nstrs; i++) {
		seen_work |= strcmp(strs[i], "work") == 0;
		seen_exe |= strcmp(strs[i], "/usr/bin/python3") == 0;
		free((char *)strs[i]);
	}
	ck_assert(seen_work && seen_exe);
	free(buf);
	free(gz);
	profile_free(p);
}
END_TEST

/* A decoded pprof: strings, each function's name, each location's
 * function, and per sample its location ids (leaf first) and labels. */
#define PX_MAX 64
struct px_sample {
	uint64_t locs[16];
	size_t nlocs;
	int64_t pid;		/* -1: no pid label */
	const char *process;	/* "process" label, NULL: none */
	bool tid_label;
};
struct px {
	char *strs[PX_MAX];
	size_t nstrs;
	uint64_t fn_name[PX_MAX];	/* by function id */
	uint64_t loc_fn[PX_MAX];	/* by location id */
	struct px_sample smp[PX_MAX];
	size_t nsmp;
};

static void px_decode(const profile *p, const struct output_opts *o,
		      struct px *x)
{
	size_t zlen, len;
	char *gz = fx_write(pprof_write, p, o, &zlen);
	unsigned char *buf = gunzip(gz, zlen, &len);
	memset(x, 0, sizeof *x);
	struct rd r = { buf, buf + len }, sub;
	uint32_t field;
	uint64_t v;
	while (rd_field(&r, &field, &v, &sub))
		if (field == 6) {
			ck_assert_uint_lt(x->nstrs, PX_MAX);
			x->strs[x->nstrs++] = strndup((const char *)sub.p, v);
		}
	r = (struct rd){ buf, buf + len };
	while (rd_field(&r, &field, &v, &sub)) {
		struct rd in = sub, in2, in3;
		uint32_t f2, f3;
		uint64_t v2, v3, id = 0, ref = 0;
		if (field == 2) {
			ck_assert_uint_lt(x->nsmp, PX_MAX);
			struct px_sample *sm = &x->smp[x->nsmp++];
			sm->pid = -1;
			while (rd_field(&in, &f2, &v2, &in2)) {
				if (f2 == 1) {
					while (in2.p < in2.end) {
						ck_assert_uint_lt(sm->nlocs, 16);
						sm->locs[sm->nlocs++] = rd_varint(&in2);
					}
				} else if (f2 == 3) {
					uint64_t key = 0, str = 0, num = 0;
					while (rd_field(&in2, &f3, &v3, &in3))
						if (f3 == 1) key = v3;
						else if (f3 == 2) str = v3;
						else if (f3 == 3) num = v3;
					const char *k = x->strs[key];
					if (strcmp(k, "pid") == 0)
						sm->pid = (int64_t)num;
					else if (strcmp(k, "process") == 0)
						sm->process = x->strs[str];
					else if (strcmp(k, "thread_id") == 0)
						sm->tid_label = true;
				}
			}
		} else if (field == 4 || field == 5) {
			while (rd_field(&in, &f2, &v2, &in2)) {
				if (f2 == 1)
					id = v2;
				else if (field == 5 && f2 == 2)
					ref = v2;
				else if (field == 4 && f2 == 4)
					while (rd_field(&in2, &f3, &v3, &in3))
						if (f3 == 1)
							ref = v3;
			}
			ck_assert_uint_lt(id, PX_MAX);
			(field == 4 ? x->loc_fn : x->fn_name)[id] = ref;
		}
	}
	free(buf);
	free(gz);
}

static void px_free(struct px *x)
{
	for (size_t i = 0; i < x->nstrs; i++)
		free(x->strs[i]);
}

static const char *px_loc_name(const struct px *x, uint64_t loc)
{
	return x->strs[x->fn_name[x->loc_fn[loc]]];
}

START_TEST(test_pprof_processes)
{
	profile *p = fx_tree_profile(true);
	struct output_opts o = { .mode = MODE_WALL, .threads = true };
	struct px x;
	px_decode(p, &o, &x);
	/* one sample per (stack, thread): 4, each labelled with its pid and
	 * tid, the root its process, the thread below it */
	ck_assert_uint_eq(x.nsmp, 4);
	for (size_t i = 0; i < x.nsmp; i++) {
		const struct px_sample *sm = &x.smp[i];
		char want[64];
		ck_assert(sm->pid == 100 || sm->pid == 200 || sm->pid == 300);
		ck_assert(sm->tid_label);
		ck_assert_uint_eq(sm->nlocs, 4);
		const char *comm = sm->pid == 100 ? "parent" : sm->pid == 200 ? "worker" : "w3";
		snprintf(want, sizeof want, "process %d (%s)", (int)sm->pid, comm);
		ck_assert_str_eq(px_loc_name(&x, sm->locs[3]), want);
		ck_assert_ptr_nonnull(strstr(px_loc_name(&x, sm->locs[2]), "thread "));
		ck_assert_str_eq(px_loc_name(&x, sm->locs[1]), "main");
		ck_assert_str_eq(sm->process, comm);
	}
	px_free(&x);
	/* merged: no process root, the pid labels stay */
	o.merge_processes = true;
	o.threads = false;
	px_decode(p, &o, &x);
	ck_assert_uint_eq(x.nsmp, 4);
	for (size_t i = 0; i < x.nsmp; i++) {
		ck_assert_uint_eq(x.smp[i].nlocs, 2);
		ck_assert_int_ge(x.smp[i].pid, 100);
		ck_assert_ptr_nonnull(x.smp[i].process);
	}
	for (size_t i = 0; i < x.nstrs; i++)
		ck_assert_ptr_null(strstr(x.strs[i], "process "));
	px_free(&x);
	/* one process */
	o.merge_processes = false;
	o.pid = 300;
	px_decode(p, &o, &x);
	ck_assert_uint_eq(x.nsmp, 2);
	for (size_t i = 0; i < x.nsmp; i++)
		ck_assert_int_eq(x.smp[i].pid, 300);
	px_free(&x);
	profile_free(p);
	/* without the metadata: pid labels, no root, no process label */
	p = fx_tree_profile(false);
	o.pid = 0;
	px_decode(p, &o, &x);
	ck_assert_uint_eq(x.nsmp, 4);
	for (size_t i = 0; i < x.nsmp; i++) {
		ck_assert_uint_eq(x.smp[i].nlocs, 2);
		ck_assert_int_ge(x.smp[i].pid, 100);
		ck_assert_ptr_null(x.smp[i].process);
	}
	px_free(&x);
	profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pprof");
	TCase *tc = tcase_create("pprof");
	tcase_add_test(tc, test_pb_encoder);
	tcase_add_test(tc, test_pprof_profile);
	tcase_add_test(tc, test_pprof_processes);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
