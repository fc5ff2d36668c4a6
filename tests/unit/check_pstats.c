/* Unit tests of the pstats writer and its marshal encoder: the output is
 * read back with a small reader of the marshal types it uses, written here
 * from CPython's Python/marshal.c (pstats.Stats reads it in the functional
 * tests). */
#include <math.h>

#include "formats/marshal.h"
#include "viewer_fixture.h"
#include "unit.h"

struct mr {
	const unsigned char *p, *end;
};

static uint32_t mr_u32(struct mr *r)
{
	ck_assert_int_ge(r->end - r->p, 4);
	uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 |
		     (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
	r->p += 4;
	return v;
}

static char mr_type(struct mr *r)
{
	ck_assert(r->p < r->end);
	return (char)*r->p++;
}

static int64_t mr_int(struct mr *r)
{
	char t = mr_type(r);
	ck_assert_int_eq(t, 'i');
	return (int32_t)mr_u32(r);
}

static double mr_float(struct mr *r)
{
	ck_assert_int_eq(mr_type(r), 'g');
	uint64_t bits = 0;
	for (int i = 0; i < 8; i++)
		bits |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	double d;
	memcpy(&d, &bits, sizeof d);
	return d;
}

static void mr_str(struct mr *r, char *buf, size_t cap)
{
	ck_assert_int_eq(mr_type(r), 'u');
	uint32_t n = mr_u32(r);
	ck_assert_uint_lt(n, cap);
	memcpy(buf, r->p, n);
	buf[n] = 0;
	r->p += n;
}

static void mr_tuple(struct mr *r, uint32_t n)
{
	ck_assert_int_eq(mr_type(r), '(');
	ck_assert_uint_eq(mr_u32(r), n);
}

/* A (file, line, name) key as "file:line(name)", as pstats prints it. */
static void mr_key(struct mr *r, char *buf, size_t cap)
{
	char file[128], name[128];
	mr_tuple(r, 3);
	mr_str(r, file, sizeof file);
	int64_t line = mr_int(r);
	mr_str(r, name, sizeof name);
	snprintf(buf, cap, "%s:%lld(%s)", file, (long long)line, name);
}

/* At the end of a dict? (consumes the TYPE_NULL) */
static bool mr_dict_end(struct mr *r)
{
	ck_assert(r->p < r->end);
	if (*r->p == '0') {
		r->p++;
		return true;
	}
	return false;
}

START_TEST(test_marshal_types)
{
	char *s = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&s, &n);
	marshal_int(fp, 5);
	marshal_int(fp, -2);
	marshal_int(fp, (int64_t)1 << 40);
	marshal_int(fp, -((int64_t)1 << 40));
	marshal_float(fp, 1.5);
	marshal_str(fp, "ab", 2);
	marshal_tuple(fp, 0);
	marshal_dict_begin(fp);
	marshal_dict_end(fp);
	fclose(fp);
	/* bytes that CPython's marshal.loads maps to the same values */
	static const unsigned char want[] = {
		'i', 5, 0, 0, 0,
		'i', 0xfe, 0xff, 0xff, 0xff,
		'l', 3, 0, 0, 0, 0, 0, 0, 0, 0, 4,
		'l', 0xfd, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 4,
		'g', 0, 0, 0, 0, 0, 0, 0xf8, 0x3f,
		'u', 2, 0, 0, 0, 'a', 'b',
		'(', 0, 0, 0, 0,
		'{', '0',
	};
	ck_assert_uint_eq(n, sizeof want);
	ck_assert_mem_eq(s, want, sizeof want);
	free(s);
}
END_TEST

struct entry {
	char key[300];
	int64_t cc, nc;
	double tt, ct;
	char callers[4][300];
	double caller_ct[4];
	int ncallers;
};

static int read_stats(const char *buf, size_t len, struct entry *e, int max)
{
	struct mr r = { (const unsigned char *)buf, (const unsigned char *)buf + len };
	int n = 0;
	ck_assert_int_eq(mr_type(&r), '{');
	while (!mr_dict_end(&r)) {
		ck_assert_int_lt(n, max);
		struct entry *x = &e[n++];
		memset(x, 0, sizeof *x);
		mr_key(&r, x->key, sizeof x->key);
		mr_tuple(&r, 5);
		x->cc = mr_int(&r);
		x->nc = mr_int(&r);
		x->tt = mr_float(&r);
		x->ct = mr_float(&r);
		ck_assert_int_eq(mr_type(&r), '{');
		while (!mr_dict_end(&r)) {
			ck_assert_int_lt(x->ncallers, 4);
			mr_key(&r, x->callers[x->ncallers], sizeof x->callers[0]);
			mr_tuple(&r, 4);
			mr_int(&r);
			mr_int(&r);
			mr_float(&r);
			x->caller_ct[x->ncallers++] = mr_float(&r);
		}
	}
	ck_assert_ptr_eq(r.p, r.end);
	return n;
}

static const struct entry *find(const struct entry *e, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(e[i].key, key) == 0)
			return &e[i];
	ck_abort_msg("no entry %s", key);
	return NULL;
}

START_TEST(test_pstats_wall)
{
	profile *p = fx_profile(3);
	struct output_opts o = { .mode = MODE_WALL, .lines = true };
	size_t len;
	char *s = fx_write(pstats_write, p, &o, &len);
	struct entry e[8];
	int n = read_stats(s, len, e, 8);
	ck_assert_int_eq(n, 3);	/* main, work (lines merged), nanosleep */
	const struct entry *m = find(e, n, "m.py:1(main)");
	const struct entry *w = find(e, n, "m.py:10(work)");
	const struct entry *ns = find(e, n, "libc.so.6:0(nanosleep)");
	ck_assert_int_eq(m->nc, 10);
	ck_assert_double_eq_tol(m->tt, 0, 1e-9);
	ck_assert_double_eq_tol(m->ct, 0.10, 1e-9);	/* 10 x 10 ms */
	ck_assert_int_eq(m->ncallers, 0);
	ck_assert_int_eq(w->cc, 6);
	ck_assert_double_eq_tol(w->tt, 0.06, 1e-9);
	ck_assert_double_eq_tol(w->ct, 0.06, 1e-9);
	ck_assert_int_eq(w->ncallers, 1);
	ck_assert_str_eq(w->callers[0], "m.py:1(main)");
	ck_assert_double_eq_tol(w->caller_ct[0], 0.06, 1e-9);
	ck_assert_double_eq_tol(ns->tt, 0.04, 1e-9);
	free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_pstats_recursion)
{
	/* f > g > f > g (2 samples): f and g are twice on the stack */
	profile *p = profile_new();
	profile_set_meta(p, "rate", "10");
	uint32_t f = fx_frame(p, FRAME_PYTHON, "f", "r.py", NULL, 7);
	uint32_t g = fx_frame(p, FRAME_PYTHON, "g", "r.py", NULL, 9);
	uint32_t st[] = { f, g, f, g };
	fx_add(p, profile_intern_stack(p, st, 4), 1, SAMPLE_ON_CPU, 2, 0, 0);
	struct output_opts o = { .mode = MODE_CPU, .lines = true };
	size_t len;
	char *s = fx_write(pstats_write, p, &o, &len);
	struct entry e[4];
	int n = read_stats(s, len, e, 4);
	ck_assert_int_eq(n, 2);
	const struct entry *ef = find(e, n, "r.py:7(f)");
	const struct entry *eg = find(e, n, "r.py:9(g)");
	/* calls once per occurrence, primitive calls once per sample */
	ck_assert_int_eq(ef->nc, 4);
	ck_assert_int_eq(ef->cc, 2);
	ck_assert_double_eq_tol(ef->ct, 0.2, 1e-9);
	ck_assert_double_eq_tol(ef->tt, 0, 1e-9);
	ck_assert_double_eq_tol(eg->tt, 0.2, 1e-9);
	/* g is called by f; f by g (the recursive call) */
	ck_assert_int_eq(eg->ncallers, 1);
	ck_assert_str_eq(eg->callers[0], "r.py:7(f)");
	ck_assert_int_eq(ef->ncallers, 1);
	ck_assert_str_eq(ef->callers[0], "r.py:9(g)");
	free(s);
	profile_free(p);
}
END_TEST

/* Nothing counts (an empty recording; no GIL samples in gil mode): an
 * empty stats dict, and no qsort(NULL, 0), which UBSan flags. */
START_TEST(test_pstats_empty)
{
	profile *p = profile_new();
	struct output_opts o = { .mode = MODE_CPU, .lines = true };
	size_t len;
	char *s = fx_write(pstats_write, p, &o, &len);
	struct entry e[4];
	ck_assert_int_eq(read_stats(s, len, e, 4), 0);
	free(s);
	profile_free(p);
	/* samples on CPU without the GIL, in gil mode */
	p = profile_new();
	uint32_t st[] = { fx_frame(p, FRAME_PYTHON, "f", "r.py", NULL, 7),
			  fx_frame(p, FRAME_PYTHON, "g", "r.py", NULL, 9) };
	fx_add(p, profile_intern_stack(p, st, 2), 1, SAMPLE_ON_CPU, 5, 0, 0);
	o.mode = MODE_GIL;
	s = fx_write(pstats_write, p, &o, &len);
	ck_assert_int_eq(read_stats(s, len, e, 4), 0);
	free(s);
	profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pstats");
	TCase *tc = tcase_create("pstats");
	tcase_add_test(tc, test_marshal_types);
	tcase_add_test(tc, test_pstats_wall);
	tcase_add_test(tc, test_pstats_recursion);
	tcase_add_test(tc, test_pstats_empty);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
