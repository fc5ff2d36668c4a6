/* maps_parse on literal /proc/PID/maps text: odd paths, anonymous and
 * special mappings, unsorted input, garbage lines, lookups. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "maps.h"
#include "unit.h"

static const char text[] =
	"55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1312   /usr/bin/my prog\n"
	"55d0c0a02000-55d0c0a05000 r-xp 00002000 08:01 1312   /usr/bin/my prog\n"
	"55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0      [heap]\n"
	"7f0000000000-7f0000001000 r-xp 00000000 fd:00 99     /tmp/lib (x).so (deleted)\n"
	"7f0000001000-7f0000002000 rw-p 00000000 00:00 0 \n"
	"7f0000002000-7f0000003000 ---p 00000000 00:00 0\n"
	"7f1000000000-7f1000020000 r-xp 00028000 103:02 4242 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"this line is garbage\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
	"7ffd000f0000-7ffd000f2000 r-xp 00000000 00:00 0                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]";

START_TEST(parses_fields)
{
	struct maps m;
	ck_assert_int_eq(maps_parse(text, strlen(text), &m), LP_OK);
	ck_assert_uint_eq(m.n, 10);
	ck_assert_uint_eq(m.v[0].start, 0x55d0c0a00000ull);
	ck_assert_uint_eq(m.v[0].end, 0x55d0c0a02000ull);
	ck_assert_str_eq(m.v[0].path, "/usr/bin/my prog");
	ck_assert_uint_eq(m.v[1].perms, MAP_PERM_R | MAP_PERM_X | MAP_PERM_P);
	ck_assert_uint_eq(m.v[1].offset, 0x2000);
	ck_assert_uint_eq(m.v[1].inode, 1312);
	ck_assert_uint_eq(m.v[1].dev_major, 8);
	ck_assert_str_eq(m.v[2].path, "[heap]");
	ck_assert_uint_eq(m.v[2].perms, MAP_PERM_R | MAP_PERM_W | MAP_PERM_P);
	ck_assert_str_eq(m.v[3].path, "/tmp/lib (x).so");
	ck_assert_int_eq(m.v[3].deleted, 1);
	ck_assert_int_eq(m.v[0].deleted, 0);
	ck_assert_str_eq(m.v[4].path, "");
	ck_assert_str_eq(m.v[5].path, "");
	ck_assert_uint_eq(m.v[5].perms, MAP_PERM_P);
	ck_assert_uint_eq(m.v[6].dev_major, 0x103);
	ck_assert_uint_eq(m.v[6].dev_minor, 2);
	ck_assert_uint_eq(m.v[6].offset, 0x28000);
	ck_assert_str_eq(m.v[7].path, "[stack]");
	ck_assert_str_eq(m.v[8].path, "[vdso]");
	ck_assert_uint_eq(m.v[9].start, 0xffffffffff600000ull);
	ck_assert_str_eq(m.v[9].path, "[vsyscall]");
	maps_fini(&m);
}
END_TEST

START_TEST(find_by_address)
{
	struct maps m;
	ck_assert_int_eq(maps_parse(text, strlen(text), &m), LP_OK);
	ck_assert_ptr_null(maps_find(&m, 0));
	ck_assert_ptr_null(maps_find(&m, 0x55d0c09fffffull));
	ck_assert_ptr_eq(maps_find(&m, 0x55d0c0a00000ull), &m.v[0]);
	ck_assert_ptr_eq(maps_find(&m, 0x55d0c0a01fffull), &m.v[0]);
	ck_assert_ptr_eq(maps_find(&m, 0x55d0c0a02000ull), &m.v[1]);
	ck_assert_ptr_null(maps_find(&m, 0x55d0c0a05000ull));
	ck_assert_ptr_eq(maps_find(&m, 0x7ffd00020fffull), &m.v[7]);
	ck_assert_ptr_eq(maps_find(&m, 0xffffffffff600fffull), &m.v[9]);
	ck_assert_ptr_null(maps_find(&m, ~0ull));
	maps_fini(&m);
}
END_TEST

START_TEST(find_by_basename)
{
	struct maps m;
	ck_assert_int_eq(maps_parse(text, strlen(text), &m), LP_OK);
	ck_assert_ptr_eq(maps_find_file(&m, "libc.so"), &m.v[6]);
	ck_assert_ptr_eq(maps_find_file(&m, "my"), &m.v[0]);
	ck_assert_ptr_eq(maps_find_file(&m, "lib ("), &m.v[3]);
	ck_assert_ptr_null(maps_find_file(&m, "vdso"));
	ck_assert_ptr_null(maps_find_file(&m, "libpython"));
	maps_fini(&m);
}
END_TEST

START_TEST(unsorted_and_garbage)
{
	static const char t2[] =
		"2000-3000 r-xp 00000000 00:00 0 /b\n"
		"\n"
		"zz-yy r-xp 0 0:0 0 /bad\n"
		"5000-4000 r-xp 00000000 00:00 0 /reversed\n"
		"1000-2000 r--p 00000000 00:00 0 /a\n"
		"4000-5000 r--p 00000000 00:00 0";	/* no newline, no path */
	struct maps m;
	ck_assert_int_eq(maps_parse(t2, strlen(t2), &m), LP_OK);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_str_eq(m.v[0].path, "/a");
	ck_assert_str_eq(m.v[1].path, "/b");
	ck_assert_uint_eq(m.v[2].start, 0x4000);
	ck_assert_ptr_eq(maps_find(&m, 0x2800), &m.v[1]);
	ck_assert_ptr_null(maps_find(&m, 0x3800));
	maps_fini(&m);
	ck_assert_int_eq(maps_parse("", 0, &m), LP_OK);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_ptr_null(maps_find(&m, 0x1000));
	maps_fini(&m);
}
END_TEST

START_TEST(reads_own_maps)
{
	int fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	struct maps m;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(maps_read(fd, &m), LP_OK);
	const struct map_entry *e = maps_find(&m, (uint64_t)(uintptr_t)&maps_parse);
	ck_assert_ptr_nonnull(e);
	ck_assert(e->perms & MAP_PERM_X);
	ck_assert_ptr_nonnull(maps_find_file(&m, "libc"));
	int local;
	e = maps_find(&m, (uint64_t)(uintptr_t)&local);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->path, "[stack]");
	maps_fini(&m);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("maps");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, parses_fields);
	tcase_add_test(tc, find_by_address);
	tcase_add_test(tc, find_by_basename);
	tcase_add_test(tc, unsorted_and_garbage);
	tcase_add_test(tc, reads_own_maps);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
