/* dump --locals' reader (profiler/python/locals.c) over memory images: a
 * frame built from the generated 3.12 and 2.7-3.10 layouts with known
 * locals reads back as the values put there; the same image with random
 * words where names, kinds, values and objects are gives a bounded,
 * NUL-terminated rendering and never a crash. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "python/pyproc.h"

/* Addresses of the synthetic objects, each in its own page. */
#define A_META 0x10000ull	/* `type`: its flags say it is a type */
#define A_TINT 0x11000ull	/* int (3.x) */
#define A_TNONE 0x12000ull
#define A_TSTR 0x13000ull
#define A_TLIST 0x14000ull
#define A_NAMES 0x20000ull	/* the tuple of names */
#define A_KINDS 0x21000ull	/* bytes of kinds (3.11+) */
#define A_CODE 0x22000ull
#define A_FRAME 0x23000ull
#define A_STR0 0x30000ull	/* name strings, 0x100 apart */
#define A_INT 0x40000ull
#define A_NONE 0x41000ull
#define A_SVAL 0x42000ull
#define A_LIST 0x43000ull
#define A_TNAMES 0x50000ull	/* the types' tp_name strings */

static uint8_t mem[0x60000];

static void put64(uint64_t addr, uint64_t v)
{
	memcpy(mem + addr, &v, 8);
}

static void put32(uint64_t addr, uint32_t v)
{
	memcpy(mem + addr, &v, 4);
}

static void type_at(const struct py_layout *L, uint64_t t, const char *name,
		    uint64_t flags, int i)
{
	put64(t + L->ob_type, A_META);
	put64(t + L->tp_flags, flags);
	strcpy((char *)mem + A_TNAMES + 64 * i, name);
	put64(t + L->tp_name, A_TNAMES + 64 * i);
}

/* A compact ASCII str (3.x) or a PyStringObject (2.7) at a. */
static void str_at(const struct py_layout *L, uint64_t a, const char *s)
{
	size_t n = strlen(s);
	put64(a + L->ob_type, A_TSTR);
	if (L->py2_strings) {
		put64(a + L->bytes_len, n);
		memcpy(mem + a + L->bytes_data, s, n + 1);
		return;
	}
	put64(a + L->uni_len, n);
	put32(a + L->uni_state, (1u << L->uni_kind_shift) |
				(1u << L->uni_compact_bit) |
				(1u << L->uni_ascii_bit));
	memcpy(mem + a + L->uni_ascii_size, s, n + 1);
}

/* A frame running A_CODE whose locals are n, s, l, i, unbound. */
static void build(const struct py_layout *L)
{
	static const char *const names[] = { "n", "s", "l", "i", "unbound" };
	memset(mem, 0, sizeof mem);
	bool py2 = L->major == 2;
	put64(A_META + L->tp_flags, 1ull << 31);	/* a type's type */
	put64(A_META + L->ob_type, A_META);
	type_at(L, A_TINT, py2 ? "int" : "int", py2 ? 1ull << 23 : 1ull << 24, 0);
	type_at(L, A_TNONE, "NoneType", 0, 1);
	type_at(L, A_TSTR, "str", py2 ? 1ull << 27 : 1ull << 28, 2);
	type_at(L, A_TLIST, "list", 1ull << 25, 3);
	uint32_t names_off = L->co_localsplusnames ? L->co_localsplusnames :
						     L->co_varnames;
	put64(A_CODE + names_off, A_NAMES);
	if (L->co_localspluskinds) {
		put64(A_CODE + L->co_localspluskinds, A_KINDS);
		for (int k = 0; k < 5; k++)
			mem[A_KINDS + L->bytes_data + k] = 0x20;
	}
	if (L->co_cellvars) {
		put64(A_CODE + L->co_cellvars, A_NAMES + 0x800);
		put64(A_CODE + L->co_freevars, A_NAMES + 0x800);
	}
	put64(A_NAMES + L->ob_size, 5);
	for (int k = 0; k < 5; k++) {
		put64(A_NAMES + L->tuple_items + 8 * k, A_STR0 + 0x100 * k);
		str_at(L, A_STR0 + 0x100 * k, names[k]);
	}
	put64(A_FRAME + L->fr_code, A_CODE);
	uint64_t vals[5] = { A_NONE, A_SVAL, A_LIST, A_INT, 0 };
	for (int k = 0; k < 5; k++)
		put64(A_FRAME + L->fr_localsplus + 8 * k, vals[k]);
	put64(A_NONE + L->ob_type, A_TNONE);
	str_at(L, A_SVAL, "it's");
	put64(A_LIST + L->ob_type, A_TLIST);
	put64(A_LIST + L->ob_size, 3);
	put64(A_INT + L->ob_type, A_TINT);
	if (py2) {
		put64(A_INT + L->int_val, (uint64_t)-42);
	} else if (L->long_tagged) {
		put64(A_INT + L->long_size, (1ull << 3) | 2);	/* one digit, - */
		put32(A_INT + L->long_digit, 42);
	} else {
		put64(A_INT + L->long_size, (uint64_t)-1);
		put32(A_INT + L->long_digit, 42);
	}
}

static py_proc *proc_over(const struct py_layout *L, mem_image **img)
{
	*img = mem_image_new();
	ck_assert_ptr_nonnull(*img);
	ck_assert_int_eq(mem_image_add(*img, 0, mem, sizeof mem), LP_OK);
	py_proc *py = calloc(1, sizeof *py);
	ck_assert_ptr_nonnull(py);
	ck_assert_int_eq(py_proc_init(py, mem_image_reader(*img), L), LP_OK);
	return py;
}

static void check_layout(const struct py_layout *L)
{
	build(L);
	mem_image *img;
	py_proc *py = proc_over(L, &img);
	struct py_frame f = { .code_addr = A_CODE, .addr = A_FRAME };
	struct py_local out[8];
	size_t n = 0;
	bool changed = true;
	lp_error err = { 0 };
	ck_assert_int_eq(py_frame_locals(py, &f, out, 8, &n, &changed, &err),
			 LP_OK);
	ck_assert(!changed);
	ck_assert_uint_eq(n, 4);	/* the unbound one left out */
	ck_assert_str_eq(out[0].name, "n");
	ck_assert_str_eq(out[0].repr, "None");
	ck_assert_str_eq(out[1].name, "s");
	ck_assert_str_eq(out[1].repr, L->py2_strings ? "'it\\'s'" : "'it\\'s'");
	ck_assert_str_eq(out[2].type, "list");
	ck_assert_str_eq(out[2].repr, "<list len=3 at 0x43000>");
	ck_assert_str_eq(out[3].repr, "-42");
	/* the frame runs other code now */
	f.code_addr = A_CODE + 8;
	ck_assert_int_eq(py_frame_locals(py, &f, out, 8, &n, &changed, &err),
			 LP_OK);
	ck_assert(changed);
	ck_assert_uint_eq(n, 0);
	py_proc_fini(py);
	free(py);
	mem_image_free(img);
}

START_TEST(test_known)
{
	static const int versions[][2] = { { 2, 7 }, { 3, 6 }, { 3, 10 },
					    { 3, 11 }, { 3, 12 } };
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		const struct py_layout *L =
			py_layout_table(versions[i][0], versions[i][1]);
		if (!L) {
			printf("SKIP %d.%d: no generated table\n",
			       versions[i][0], versions[i][1]);
			continue;
		}
		check_layout(L);
	}
}
END_TEST

/* Random words over names, kinds, values and objects: bounded, no crash,
 * every string NUL-terminated. */
START_TEST(test_hostile)
{
	const struct py_layout *L = py_layout_table(3, 12);
	ck_assert_ptr_nonnull(L);
	srand(1234);
	static struct py_local out[MAX_PY_LOCALS];
	for (int round = 0; round < 2000; round++) {
		build(L);
		/* garble a few hundred words of the image, pointers into it
		 * or anywhere */
		for (int k = 0; k < 400; k++) {
			uint64_t at = ((uint64_t)rand() % (sizeof mem / 8)) * 8;
			uint64_t v = rand() % 3 ? (uint64_t)rand() % sizeof mem :
				     ((uint64_t)rand() << 33) ^ (uint64_t)rand();
			if (rand() % 4 == 0)
				v = (uint64_t)-1 - (uint64_t)rand();
			put64(at, v);
		}
		mem_image *img;
		py_proc *py = proc_over(L, &img);
		struct py_frame f = { .code_addr = A_CODE, .addr = A_FRAME };
		size_t n = 0;
		bool changed;
		lp_error err = { 0 };
		int rc = py_frame_locals(py, &f, out, MAX_PY_LOCALS, &n,
					 &changed, &err);
		ck_assert_int_eq(rc, LP_OK);
		ck_assert_uint_le(n, MAX_PY_LOCALS);
		for (size_t k = 0; k < n; k++) {
			ck_assert(memchr(out[k].name, 0, sizeof out[k].name));
			ck_assert(memchr(out[k].type, 0, sizeof out[k].type));
			ck_assert(memchr(out[k].repr, 0, sizeof out[k].repr));
		}
		py_proc_fini(py);
		free(py);
		mem_image_free(img);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("py_locals");
	TCase *tc = tcase_create("locals");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_known);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
