/* The heap census's search for pymalloc's pools where neither a layout
 * nor a symbol names them (profiler/python/heap_census.c pools_find),
 * over a built memory image with the 3.11 layout and no symbols: the
 * usedpools array in the binary's data names a pool of floats, its
 * arenas vector is a static variable beside maxarenas.  Then hostile
 * variants (a vector that repeats its arena, a pool that does not point
 * back, a free list that loops, a maxarenas too large) end in a count or
 * a plain "not counted", never a hang or a crash. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "python/heap.h"
#include "python/pyproc.h"

#define DATA 0x400000u		/* the binary's .data */
#define IHEAD (DATA + 0x200)	/* holds the interpreter's address */
#define U (DATA + 0x1000)	/* usedpools */
#define MAXA (DATA + 0x1ff0)	/* maxarenas (uint) */
#define AVAR (DATA + 0x2000)	/* arenas */
#define TYPES 0x600000u
#define FLOAT TYPES
#define META (TYPES + 0x400)
#define NAME (TYPES + 0x800)
#define INTERP 0x700000u
#define VEC 0x800000u		/* the arenas vector: 1024 entries */
#define ARENA 0x7f0000000000ull	/* 2 pools of 16 KiB carved */
#define POOL 16384u
#define NFLOAT 100u

static uint8_t data[0x4000], types[0x1000], interp[0x1000];
static uint8_t vec[1024 * 48], arena[2 * POOL];

static void put(uint8_t *m, uint64_t base, uint64_t a, uint64_t v, int n)
{
	memcpy(m + (a - base), &v, (size_t)n);
}

static void build(void)
{
	const struct py_layout *L = py_layout_table(3, 11);
	memset(data, 0, sizeof data);
	memset(types, 0, sizeof types);
	memset(interp, 0, sizeof interp);
	memset(vec, 0, sizeof vec);
	memset(arena, 0, sizeof arena);
	put(data, DATA, IHEAD, INTERP, 8);
	/* empty GC lists: each head points at itself */
	uint32_t heads[4] = { L->gc_head0, L->gc_head1, L->gc_head2,
			      L->gc_head3 };
	for (int i = 0; i < 4; i++) {
		put(interp, INTERP, INTERP + heads[i], INTERP + heads[i], 8);
		put(interp, INTERP, INTERP + heads[i] + 8, INTERP + heads[i], 8);
	}
	/* float and its metatype */
	put(types, TYPES, FLOAT + L->ob_type, META, 8);
	put(types, TYPES, FLOAT + L->tp_flags, 1ul << 12, 8);
	put(types, TYPES, FLOAT + L->tp_name, NAME, 8);
	put(types, TYPES, FLOAT + L->tp_basicsize, 24, 8);
	put(types, TYPES, META + L->tp_flags, (1ul << 31) | (1ul << 12), 8);
	memcpy(types + (NAME - TYPES), "float", 6);
	/* usedpools: class 1 (32-byte blocks) holds the first pool, the
	 * others are empty (point 2 words before their pair) */
	for (uint32_t i = 0; i < 32; i++) {
		uint64_t head = U + 16 * i - 16;
		put(data, DATA, U + 16 * i, i == 1 ? ARENA : head, 8);
		put(data, DATA, U + 16 * i + 8, i == 1 ? ARENA : head, 8);
	}
	put(data, DATA, AVAR, VEC, 8);
	put(data, DATA, MAXA, 16, 4);
	/* arena 0: its two pools carved */
	put(vec, VEC, VEC, ARENA, 8);
	put(vec, VEC, VEC + 8, ARENA + 2 * POOL, 8);
	put(vec, VEC, VEC + 20, 64, 4);
	/* the pool: count, freeblock, next/prev, arenaindex, szidx,
	 * nextoffset, maxnextoffset */
	put(arena, ARENA, ARENA, NFLOAT, 4);
	put(arena, ARENA, ARENA + 16, U, 8);
	put(arena, ARENA, ARENA + 24, U, 8);
	put(arena, ARENA, ARENA + 36, 1, 4);
	put(arena, ARENA, ARENA + 40, 48 + NFLOAT * 32, 4);
	put(arena, ARENA, ARENA + 44, POOL - 32, 4);
	for (uint32_t k = 0; k < NFLOAT; k++) {
		uint64_t b = ARENA + 48 + 32 * k;
		put(arena, ARENA, b, 1, 8);
		put(arena, ARENA, b + L->ob_type, FLOAT, 8);
	}
}

static const char MAPS[] =
	"400000-404000 rw-p 00000000 08:01 1234 /usr/bin/python3.11\n"
	"600000-601000 rw-p 00000000 00:00 0 \n"
	"700000-701000 rw-p 00000000 00:00 0 \n"
	"800000-80c000 rw-p 00000000 00:00 0 \n"
	"7f0000000000-7f0000100000 rw-p 00000000 00:00 0 \n";

static int census(struct py_heap_census *c)
{
	const struct py_layout *L = py_layout_table(3, 11);
	ck_assert_ptr_nonnull(L);
	mem_image *img = mem_image_new();
	ck_assert_ptr_nonnull(img);
	ck_assert_int_eq(mem_image_add(img, DATA, data, sizeof data), LP_OK);
	ck_assert_int_eq(mem_image_add(img, TYPES, types, sizeof types), LP_OK);
	ck_assert_int_eq(mem_image_add(img, INTERP, interp, sizeof interp),
			 LP_OK);
	ck_assert_int_eq(mem_image_add(img, VEC, vec, sizeof vec), LP_OK);
	ck_assert_int_eq(mem_image_add(img, ARENA, arena, sizeof arena), LP_OK);
	py_proc *py = calloc(1, sizeof *py);
	ck_assert_ptr_nonnull(py);
	ck_assert_int_eq(py_proc_init(py, mem_image_reader(img), L), LP_OK);
	py->interp_head_addr = IHEAD;
	py->runtime = DATA + 0x100;
	struct maps m;
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(maps_parse(MAPS, sizeof MAPS - 1, &m), LP_OK);
	lp_error err = { 0 };
	int rc = py_heap_census_maps(py, NULL, &m, c, &err);
	maps_fini(&m);
	py_proc_fini(py);
	free(py);
	mem_image_free(img);
	return rc;
}

static uint64_t floats(const struct py_heap_census *c)
{
	for (size_t i = 0; i < c->ntypes; i++)
		if (!strcmp(c->types[i].name, "float"))
			return c->types[i].count;
	return 0;
}

START_TEST(test_found)
{
	struct py_heap_census c;
	build();
	ck_assert_int_eq(census(&c), LP_OK);
	ck_assert_uint_eq(c.small_objects, NFLOAT);
	ck_assert_uint_eq(floats(&c), NFLOAT);
	ck_assert_uint_eq(c.changed, 0);
	ck_assert_ptr_nonnull(strstr(c.pools, "found by their shape"));
	ck_assert_ptr_nonnull(strstr(c.pools, "arenas vector at 0x402000"));
	py_heap_census_fini(&c);
}
END_TEST

START_TEST(test_hostile)
{
	struct py_heap_census c;
	/* a vector of 1024 entries, all the same arena: read once */
	build();
	put(data, DATA, MAXA, 1024, 4);
	for (uint32_t a = 1; a < 1024; a++)
		memcpy(vec + 48 * a, vec, 48);
	ck_assert_int_eq(census(&c), LP_OK);
	ck_assert_uint_eq(c.small_objects, NFLOAT);
	ck_assert_uint_eq(c.changed, 1023);
	py_heap_census_fini(&c);

	/* the pool does not point back at its class's head: no pools */
	build();
	put(arena, ARENA, ARENA + 24, ARENA, 8);
	ck_assert_int_eq(census(&c), LP_OK);
	ck_assert_uint_eq(c.small_objects, 0);
	ck_assert_str_eq(c.pools, "");
	ck_assert_ptr_nonnull(strstr(c.unseen, "are not counted"));
	ck_assert_ptr_nonnull(strstr(c.unseen, "usedpools"));
	py_heap_census_fini(&c);

	/* a free list that loops on its block: that block is free, the
	 * walk ends */
	build();
	put(arena, ARENA, ARENA + 8, ARENA + 48 + 32, 8);
	put(arena, ARENA, ARENA + 48 + 32, ARENA + 48 + 32, 8);
	ck_assert_int_eq(census(&c), LP_OK);
	ck_assert_uint_eq(c.small_objects, NFLOAT - 1);
	py_heap_census_fini(&c);

	/* maxarenas beyond any bound, and nothing else near the vector's
	 * variable: the vector is not used */
	build();
	put(data, DATA, MAXA, 1u << 30, 4);
	ck_assert_int_eq(census(&c), LP_OK);
	ck_assert_uint_eq(c.small_objects, 0);
	ck_assert_ptr_nonnull(strstr(c.unseen, "arenas vector"));
	py_heap_census_fini(&c);

	/* a maxnextoffset that is not the pool's end less a block */
	build();
	put(arena, ARENA, ARENA + 44, POOL - 48, 4);
	ck_assert_int_eq(census(&c), LP_OK);
	ck_assert_uint_eq(c.small_objects, 0);
	py_heap_census_fini(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("py_heap_pools");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_found);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
