/* The _Py_DebugOffsets loader (profiler/python/layout.c through
 * debug_offsets.c) on real blocks captured from 3.13, 3.14 and 3.15, and on
 * those blocks shuffled, truncated and marked free-threaded: a real block
 * gives its version's layout, anything else is refused, never a crash. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "python/debug_offsets.h"
#include "python/layout.h"
#include "debug_offsets_fixtures.h"

static const struct {
	int minor;
	const uint8_t *buf;
	size_t len;
	/* offsets a walker relies on, from the generated tables of earlier
	 * sessions and CPython's headers: thread_state.current_frame and
	 * code_object.qualname */
	uint32_t ts_frame, co_qualname;
} fixtures[] = {
	{ 13, fixture_dbg_313, sizeof fixture_dbg_313, 72, 128 },
	{ 14, fixture_dbg_314, sizeof fixture_dbg_314, 72, 128 },
	{ 15, fixture_dbg_315, sizeof fixture_dbg_315, 72, 128 },
};
#define NFIX (sizeof fixtures / sizeof fixtures[0])

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

START_TEST(test_real_blocks)
{
	for (size_t i = 0; i < NFIX; i++) {
		struct py_layout L;
		uint64_t hex = 0;
		lp_error err = { 0 };
		int rc = py_layout_from_debug_offsets(fixtures[i].buf,
						      fixtures[i].len, &L, &hex,
						      &err);
		ck_assert_msg(rc == LP_OK, "3.%d: %s", fixtures[i].minor, err.msg);
		ck_assert_int_eq(L.minor, fixtures[i].minor);
		ck_assert_int_eq((int)((hex >> 16) & 0xff), fixtures[i].minor);
		ck_assert_uint_eq(L.ts_frame, fixtures[i].ts_frame);
		ck_assert_uint_eq(L.co_qualname, fixtures[i].co_qualname);
		ck_assert_ptr_nonnull(dbg_shape_find(fixtures[i].minor));
	}
	/* 3.15 removed FRAME_OWNED_BY_CSTACK: its entry shim is owned by the
	 * interpreter (3), like 3.13's CSTACK, unlike 3.14's 4 */
	struct py_layout L;
	uint64_t hex;
	lp_error err;
	ck_assert_int_eq(py_layout_from_debug_offsets(fixture_dbg_315,
		sizeof fixture_dbg_315, &L, &hex, &err), LP_OK);
	ck_assert_int_eq(L.owner_cstack, 3);
	ck_assert(L.tagged_code);
}
END_TEST

/* A version no shape is known for is not read by position. */
START_TEST(test_unknown_version)
{
	uint8_t buf[1024];
	memcpy(buf, fixture_dbg_315, sizeof buf);
	uint64_t v = 0x031000f0;	/* 3.16.0 */
	memcpy(buf + 8, &v, 8);
	struct py_layout L;
	uint64_t hex;
	lp_error err;
	ck_assert_int_eq(py_layout_from_debug_offsets(buf, sizeof buf, &L,
						      &hex, &err), LP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "no known shape"));
	/* the inference path may read it through 3.15's shape (what the
	 * live validation then judges); 3.13's shape does not fit a 3.15
	 * block */
	ck_assert_int_eq(py_layout_from_debug_offsets_as(buf, sizeof buf,
		dbg_shape_find(15), &L, &hex, &err), LP_OK);
	ck_assert_int_eq(L.minor, 16);
	ck_assert_ptr_eq(dbg_shape_older(INT32_MAX), dbg_shape_find(15));
	ck_assert_ptr_eq(dbg_shape_older(15), dbg_shape_find(14));
	ck_assert_ptr_null(dbg_shape_older(13));
}
END_TEST

START_TEST(test_free_threaded)
{
	for (size_t i = 0; i < NFIX; i++) {
		uint8_t buf[1024];
		memcpy(buf, fixtures[i].buf, sizeof buf);
		uint64_t one = 1;
		memcpy(buf + 16, &one, 8);	/* free_threaded, after version */
		struct py_layout L;
		uint64_t hex;
		lp_error err;
		ck_assert_int_eq(py_layout_from_debug_offsets(buf, sizeof buf,
			&L, &hex, &err), LP_EUNSUPPORTED);
		ck_assert_msg(strstr(err.msg, "is a free-threaded build"), "%s",
			      err.msg);
		ck_assert_ptr_null(strstr(err.msg, "does not validate"));
	}
}
END_TEST

START_TEST(test_truncated_and_shuffled)
{
	for (size_t i = 0; i < NFIX; i++) {
		const struct dbg_shape *s = dbg_shape_find(fixtures[i].minor);
		size_t need = 8 + 8 * s->n;
		struct py_layout L;
		uint64_t hex;
		lp_error err;
		for (size_t len = 0; len < need; len += 1 + len / 8)
			ck_assert_int_ne(py_layout_from_debug_offsets(
				fixtures[i].buf, len, &L, &hex, &err), LP_OK);
		/* words swapped at random: refused, or a layout whose
		 * offsets still lie inside the sizes the block declares */
		int refused = 0;
		for (int c = 0; c < 5000; c++) {
			uint8_t buf[1024];
			memcpy(buf, fixtures[i].buf, sizeof buf);
			int swaps = 1 + (int)(rnd() % 4);
			for (int k = 0; k < swaps; k++) {
				size_t a = 3 + rnd() % (s->n - 2);
				size_t b = 3 + rnd() % (s->n - 2);
				uint64_t wa, wb;
				memcpy(&wa, buf + 8 * a, 8);
				memcpy(&wb, buf + 8 * b, 8);
				memcpy(buf + 8 * a, &wb, 8);
				memcpy(buf + 8 * b, &wa, 8);
			}
			int rc = py_layout_from_debug_offsets(buf, sizeof buf,
							      &L, &hex, &err);
			ck_assert(rc == LP_OK || rc == LP_EFORMAT ||
				  rc == LP_EUNSUPPORTED);
			if (rc != LP_OK) {
				refused++;
				continue;
			}
			ck_assert_uint_le(L.fr_size, 256);
			ck_assert_uint_le(L.co_code_adaptive, 1024);
		}
		ck_assert_int_gt(refused, 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("py_debug_offsets");
	TCase *tc = tcase_create("debug_offsets");
	tcase_add_test(tc, test_real_blocks);
	tcase_add_test(tc, test_unknown_version);
	tcase_add_test(tc, test_free_threaded);
	tcase_add_test(tc, test_truncated_and_shuffled);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
