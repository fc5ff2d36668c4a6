/* check_elf: the ELF reader on programs whose addresses we know. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "demangle.h"
#include "elf.h"
#include "error.h"
#include "unit.h"

#define PY311_STATIC "/usr/bin/python3.11"

__attribute__((noinline)) int check_elf_probe(int x);
__attribute__((noinline)) int check_elf_probe(int x)
{
	return x * 11 + 1;
}

/* Parses one /proc/PID/maps line; the test must not depend on maps.c. */
static int parse_map_line(const char *line, struct map_entry *e)
{
	unsigned long long start, end, off, ino;
	unsigned maj, min;
	char perms[5];
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu", &start, &end, perms,
		   &off, &maj, &min, &ino) != 7)
		return -1;
	memset(e, 0, sizeof *e);
	e->start = start;
	e->end = end;
	e->offset = off;
	e->inode = ino;
	e->dev_major = maj;
	e->dev_minor = min;
	e->perms = (perms[0] == 'r' ? MAP_PERM_R : 0) |
		   (perms[1] == 'w' ? MAP_PERM_W : 0) |
		   (perms[2] == 'x' ? MAP_PERM_X : 0) |
		   (perms[3] == 'p' ? MAP_PERM_P : 0);
	e->path = "";
	return 0;
}

/* The first mapping (lowest address) of the running test's executable. */
static int self_exe_maps(struct map_entry *v, int max)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	FILE *f = fopen("/proc/self/maps", "r");
	ck_assert_ptr_nonnull(f);
	char line[8192];
	int k = 0;
	while (k < max && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		size_t len = strlen(line);
		if (len < (size_t)n || strcmp(line + len - n, exe) != 0)
			continue;
		if (parse_map_line(line, &v[k]) == 0)
			k++;
	}
	fclose(f);
	return k;
}

START_TEST(test_self_lookup)
{
	elf_file *f;
	lp_error err = { 0 };
	ck_assert_int_eq(elf_file_open(&f, "/proc/self/exe", &err), LP_OK);
	struct map_entry maps[16];
	int n = self_exe_maps(maps, 16);
	ck_assert_int_gt(n, 0);
	uint64_t bias0;
	ck_assert_int_eq(elf_file_load_bias(f, &maps[0], &bias0), LP_OK);
	/* The text mapping gives the same bias (a read-only one may be
	 * ambiguous, see elf.h). */
	for (int i = 1; i < n; i++) {
		uint64_t b;
		if ((maps[i].perms & MAP_PERM_X) &&
		    elf_file_load_bias(f, &maps[i], &b) == LP_OK)
			ck_assert_uint_eq(b, bias0);
	}
	uint64_t addr = (uint64_t)(uintptr_t)&check_elf_probe;
	const char *name;
	uint64_t off;
	ck_assert_int_eq(elf_file_lookup(f, addr - bias0 + 5, &name, &off),
			 LP_OK);
	ck_assert_str_eq(name, "check_elf_probe");
	ck_assert_uint_eq(off, 5);
	uint64_t vaddr, size;
	ck_assert_int_eq(elf_file_find_symbol(f, "check_elf_probe", &vaddr,
					      &size), LP_OK);
	ck_assert_uint_eq(vaddr + bias0, addr);
	ck_assert_uint_gt(size, 0);
	ck_assert_int_eq(elf_file_is_dyn(f), 1);	/* Debian builds PIE */
	ck_assert_int_eq(elf_file_find_symbol(f, "no_such_symbol_xyz", &vaddr,
					      &size), LP_ENOTFOUND);
	ck_assert_int_eq(elf_file_lookup(f, 0, &name, &off), LP_ENOTFOUND);
	elf_file_free(f);
}
END_TEST

/* Runs an elf_target, checks every printed address against the lookup
 * after the bias computed from the printed maps. */
static void check_target(const char *path, int want_dyn)
{
	if (access(path, X_OK) != 0)
		unit_skip("%s: not built (%s)", path, strerror(errno));
	elf_file *f;
	lp_error err = { 0 };
	ck_assert_msg(elf_file_open(&f, path, &err) == LP_OK, "%s", err.msg);
	ck_assert_int_eq(elf_file_is_dyn(f), want_dyn);
	FILE *p = popen(path, "r");
	ck_assert_ptr_nonnull(p);
	char line[8192], names[8][64];
	uint64_t addrs[8];
	int nsym = 0, nmaps = 0;
	struct map_entry maps[16];
	while (fgets(line, sizeof line, p)) {
		unsigned long long a;
		if (strncmp(line, "map ", 4) == 0) {
			if (nmaps < 16 && parse_map_line(line + 4,
							 &maps[nmaps]) == 0)
				nmaps++;
		} else if (nsym < 8 &&
			   sscanf(line, "%63s %llx", names[nsym], &a) == 2) {
			addrs[nsym++] = a;
		}
	}
	pclose(p);
	ck_assert_int_eq(nsym, 6);
	ck_assert_int_gt(nmaps, 1);
	uint64_t bias;
	ck_assert_int_eq(elf_file_load_bias(f, &maps[0], &bias), LP_OK);
	if (!want_dyn)
		ck_assert_uint_eq(bias, 0);
	for (int i = 1; i < nmaps; i++) {
		uint64_t b;
		if (((maps[i].perms & MAP_PERM_X) || !want_dyn) &&
		    elf_file_load_bias(f, &maps[i], &b) == LP_OK)
			ck_assert_msg(b == bias, "%s map %d bias %" PRIx64
				      " != %" PRIx64, path, i, b, bias);
	}
	for (int i = 0; i < nsym; i++) {
		const char *name;
		uint64_t off, vaddr, size;
		ck_assert_int_eq(elf_file_lookup(f, addrs[i] - bias, &name,
						 &off), LP_OK);
		ck_assert_str_eq(name, names[i]);
		ck_assert_uint_eq(off, 0);
		ck_assert_int_eq(elf_file_find_symbol(f, names[i], &vaddr,
						      &size), LP_OK);
		ck_assert_uint_eq(vaddr + bias, addrs[i]);
	}
	/* The size-0 function covers its 4 bytes (3 nops and ret) and up to
	 * the next symbol, not its neighbours. */
	const char *name;
	uint64_t off, zaddr = 0, size;
	ck_assert_int_eq(elf_file_find_symbol(f, "elf_target_zero_size",
					      &zaddr, &size), LP_OK);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(elf_file_lookup(f, zaddr + 3, &name, &off), LP_OK);
	ck_assert_str_eq(name, "elf_target_zero_size");
	ck_assert_uint_eq(off, 3);
	/* Inside a sized function. */
	ck_assert_int_eq(elf_file_find_symbol(f, "elf_target_beta", &zaddr,
					      &size), LP_OK);
	ck_assert_int_eq(elf_file_lookup(f, zaddr + size - 1, &name, &off),
			 LP_OK);
	ck_assert_str_eq(name, "elf_target_beta");
	uint64_t sv, ss;
	ck_assert_int_eq(elf_file_section(f, ".eh_frame_hdr", &sv, &ss), LP_OK);
	ck_assert_uint_gt(ss, 0);
	ck_assert_int_eq(elf_file_section(f, ".no_such", &sv, &ss),
			 LP_ENOTFOUND);
	elf_file_free(f);
}

START_TEST(test_target_pie)
{
	check_target(ELF_TARGET_PIE, 1);
}
END_TEST

START_TEST(test_target_nopie)
{
	check_target(ELF_TARGET_NOPIE, 0);
}
END_TEST

/* The build-id as readelf -n prints it. */
static int readelf_build_id(const char *path, char *out, size_t len)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "readelf -n '%s' 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[512];
	int found = -1;
	while (fgets(line, sizeof line, p)) {
		char *b = strstr(line, "Build ID: ");
		if (b && found < 0) {
			snprintf(out, len, "%s", b + 10);
			out[strcspn(out, " \n")] = '\0';
			found = 0;
		}
	}
	pclose(p);
	return found;
}

START_TEST(test_build_id)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	const char *paths[] = { ELF_TARGET_PIE, ELF_TARGET_NOPIE, self,
				PY311_STATIC };
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		char want[256];
		if (readelf_build_id(paths[i], want, sizeof want) != 0) {
			printf("skip build-id of %s: readelf gave none\n",
			       paths[i]);
			continue;
		}
		elf_file *f;
		ck_assert_int_eq(elf_file_open(&f, paths[i], NULL), LP_OK);
		ck_assert_str_eq(elf_file_build_id(f), want);
		elf_file_free(f);
	}
}
END_TEST

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int open_bytes(const void *data, size_t len)
{
	char tmp[] = "/tmp/check_elf_XXXXXX";
	int fd = mkstemp(tmp);
	ck_assert_int_ge(fd, 0);
	unlink(tmp);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	elf_file *f = NULL;
	lp_error err = { 0 };
	int rc = elf_file_open_fd(&f, fd, "copy", &err);
	close(fd);
	if (rc == LP_OK)
		elf_file_free(f);
	else
		ck_assert_int_eq(err.code, rc);	/* a message was given */
	return rc;
}

START_TEST(test_reject_bad)
{
	size_t len;
	char *buf = slurp("/proc/self/exe", &len);
	ck_assert_int_eq(open_bytes(buf, len), LP_OK);
	size_t cuts[] = { 0, 4, 16, 63, 64, 1000, len / 2, len - 100,
			  len - 1 };
	for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
		ck_assert_msg(open_bytes(buf, cuts[i]) == LP_EFORMAT,
			      "cut at %zu of %zu accepted", cuts[i], len);
	/* Section headers said to be past the end (e_shoff at byte 40 of an
	 * ELF64 header, System V gABI). */
	char *bad = malloc(len);
	ck_assert_ptr_nonnull(bad);
	memcpy(bad, buf, len);
	uint64_t shoff = len + 4096;
	memcpy(bad + 40, &shoff, 8);
	ck_assert_int_eq(open_bytes(bad, len), LP_EFORMAT);
	free(bad);
	/* Every cut point, coarsely: never accepted, never a crash. */
	for (size_t cut = 1; cut < len; cut += len / 97 + 1)
		ck_assert_msg(open_bytes(buf, cut) == LP_EFORMAT,
			      "cut at %zu of %zu accepted", cut, len);
	const char text[] = "#!/bin/sh\necho this is not an ELF file\n";
	ck_assert_int_eq(open_bytes(text, sizeof text - 1), LP_EFORMAT);
	free(buf);
	elf_file *f;
	ck_assert_int_eq(elf_file_open(&f, "/nonexistent/loupe", NULL),
			 LP_ENOTFOUND);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(elf_file_open(&f, "/tmp", NULL), LP_EFORMAT);
}
END_TEST

START_TEST(test_python_static)
{
	if (access(PY311_STATIC, R_OK) != 0)
		unit_skip("%s: %s", PY311_STATIC, strerror(errno));
	elf_file *f;
	lp_error err = { 0 };
	ck_assert_msg(elf_file_open(&f, PY311_STATIC, &err) == LP_OK, "%s",
		      err.msg);
	uint64_t rt, rtsize, sec, secsize, ver, versize;
	/* Stripped: only .dynsym, which exports _PyRuntime (an OBJECT) and
	 * Py_Version (Include/pylifecycle.h, 3.11+). */
	ck_assert_int_eq(elf_file_find_symbol(f, "_PyRuntime", &rt, &rtsize),
			 LP_OK);
	ck_assert_uint_gt(rtsize, 0);
	ck_assert_int_eq(elf_file_find_symbol(f, "Py_Version", &ver, &versize),
			 LP_OK);
	ck_assert_uint_ge(versize, 4);	/* unsigned long in 3.11 */
	/* _PyRuntime lives in its own section (Python/pylifecycle.c). */
	ck_assert_int_eq(elf_file_section(f, ".PyRuntime", &sec, &secsize),
			 LP_OK);
	ck_assert_uint_eq(sec, rt);
	const char *name;
	uint64_t off;
	ck_assert_int_eq(elf_file_lookup(f, rt + 100, &name, &off), LP_OK);
	ck_assert_str_eq(name, "_PyRuntime");
	ck_assert_uint_eq(off, 100);
	uint64_t ev;
	ck_assert_int_eq(elf_file_find_symbol(f, "PyEval_EvalCode", &ev, NULL),
			 LP_OK);
	ck_assert_int_eq(elf_file_lookup(f, ev + 1, &name, &off), LP_OK);
	ck_assert_str_eq(name, "PyEval_EvalCode");
	ck_assert_int_eq(elf_file_is_dyn(f), 0);
	elf_file_free(f);
}
END_TEST

/* Flipped bytes in the headers and the tables: any answer but a crash
 * (run it under ASan to mean something). */
START_TEST(test_corrupt)
{
	size_t len;
	char *buf = slurp(ELF_TARGET_PIE, &len);
	char *copy = malloc(len);
	ck_assert_ptr_nonnull(copy);
	unsigned seed = 12345;
	int ok = 0, rejected = 0;
	for (int round = 0; round < 300; round++) {
		memcpy(copy, buf, len);
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245u + 12345u;
			/* Half in the first 4 KiB (headers, dynsym), half in
			 * the last part (symtab, strtab, section headers). */
			size_t where = (seed >> 8) % 4096;
			if (k & 1)
				where = len - 1 - (seed >> 8) % (len < 8192 ?
								 len : 8192);
			if (where < len)
				copy[where] ^= (char)(1u << ((seed >> 4) & 7));
		}
		int rc = open_bytes(copy, len);
		ck_assert_msg(rc == LP_OK || rc == LP_EFORMAT, "rc %d", rc);
		if (rc == LP_OK)
			ok++;
		else
			rejected++;
	}
	printf("corrupt copies: %d opened, %d rejected\n", ok, rejected);
	free(copy);
	free(buf);
}
END_TEST

/* Every pyenv libpython: the symbol each version is found by. */
START_TEST(test_pyenv_libs)
{
	static const struct {
		const char *lib, *sym;
	} libs[] = {
		{ "2.7.18/lib/libpython2.7.so.1.0", "interp_head" },
		{ "3.6.15/lib/libpython3.6m.so.1.0", "_PyThreadState_Current" },
		{ "3.7.16/lib/libpython3.7m.so.1.0", "_PyRuntime" },
		{ "3.8.18/lib/libpython3.8.so.1.0", "_PyRuntime" },
		{ "3.9.18/lib/libpython3.9.so.1.0", "_PyRuntime" },
		{ "3.10.13/lib/libpython3.10.so.1.0", "_PyRuntime" },
		{ "3.11.7/lib/libpython3.11.so.1.0", "_PyRuntime" },
		{ "3.12.1/lib/libpython3.12.so.1.0", "_PyRuntime" },
		{ "3.13.0/lib/libpython3.13.so.1.0", "_PyRuntime" },
	};
	int done = 0;
	for (size_t i = 0; i < sizeof libs / sizeof *libs; i++) {
		char path[256];
		snprintf(path, sizeof path, "/root/.pyenv/versions/%s",
			 libs[i].lib);
		if (access(path, R_OK) != 0) {
			printf("SKIP %s: %s\n", path, strerror(errno));
			continue;
		}
		done++;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		elf_file *f;
		lp_error err = { 0 };
		ck_assert_msg(elf_file_open(&f, path, &err) == LP_OK, "%s",
			      err.msg);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		uint64_t v, sz, sv, ss;
		ck_assert_msg(elf_file_find_symbol(f, libs[i].sym, &v, &sz) ==
				      LP_OK, "%s: no %s", path, libs[i].sym);
		ck_assert_int_eq(elf_file_is_dyn(f), 1);
		/* 3.11+ put _PyRuntime in its own .PyRuntime section
		 * (Python/pylifecycle.c, GENERATE_DEBUG_SECTION). */
		if (elf_file_section(f, ".PyRuntime", &sv, &ss) == LP_OK)
			ck_assert_uint_eq(sv, v);
		const char *name;
		uint64_t off;
		ck_assert_int_eq(elf_file_find_symbol(f, "PyObject_Repr", &v,
						      &sz), LP_OK);
		ck_assert_int_eq(elf_file_lookup(f, v + sz - 1, &name, &off),
				 LP_OK);
		ck_assert_str_eq(name, "PyObject_Repr");
		printf("%s: opened and indexed in %.2f ms, build-id %s\n",
		       path, (t1.tv_sec - t0.tv_sec) * 1e3 +
				     (t1.tv_nsec - t0.tv_nsec) / 1e6,
		       elf_file_build_id(f));
		elf_file_free(f);
	}
	if (!done)
		unit_skip("no libpython under /root/.pyenv/versions");
}
END_TEST

/* Names as perf shows them: C++ with its parameters, Rust legacy without
 * its hash, Rust v0; C names and names cut at the bound stay as they are
 * (NULL).  "_Z" alone, a truncated mangling, does not demangle either. */
START_TEST(test_demangle)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "_ZN2ns3HotIiE3runEi", "ns::Hot<int>::run(int)" },
		{ "_ZNK3foo3barEv", "foo::bar() const" },
		{ "_ZN6hot_rs4work4spin17h50e67c1ce373448bE", "hot_rs::work::spin" },
		{ "_RNvNtCs1hFClO6GvMZ_6hot_rs4work4spin", "hot_rs::work::spin" },
		{ "main", NULL }, { "_DYNAMIC", NULL }, { "_Z", NULL },
		{ "_ZN2ns3HotIiE3ru", NULL }, { "_PyEval_EvalFrameDefault", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *d = lp_demangle(cases[i].in);
		if (cases[i].out)
			ck_assert_str_eq(d ? d : "(null)", cases[i].out);
		else
			ck_assert_msg(d == NULL, "%s -> %s", cases[i].in, d);
		free(d);
	}
	/* a name the symbol reader cut at its bound is not demangled */
	char *longname = malloc(MAX_SYMBOL_NAME_LEN + 1);
	ck_assert_ptr_nonnull(longname);
	memset(longname, 'a', MAX_SYMBOL_NAME_LEN);
	memcpy(longname, "_ZN", 3);
	longname[MAX_SYMBOL_NAME_LEN] = '\0';
	ck_assert_ptr_null(lp_demangle(longname));
	free(longname);
}
END_TEST

static Suite *elf_suite(void)
{
	Suite *s = suite_create("elf");
	TCase *tc = tcase_create("elf");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_self_lookup);
	tcase_add_test(tc, test_target_pie);
	tcase_add_test(tc, test_target_nopie);
	tcase_add_test(tc, test_build_id);
	tcase_add_test(tc, test_reject_bad);
	tcase_add_test(tc, test_python_static);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_pyenv_libs);
	tcase_add_test(tc, test_demangle);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(elf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
