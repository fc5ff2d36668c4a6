/* check_symbols: the symbolizer on this very process, and on a fake JIT. */
#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "maps.h"
#include "symbols.h"
#include "unit.h"

__attribute__((noinline)) int check_symbols_probe(int x);
__attribute__((noinline)) int check_symbols_probe(int x)
{
	return x * 13 + 2;
}

struct self {
	int procfd;
	struct maps maps;
	symbolizer *s;
};

static void self_open(struct self *me)
{
	memset(me, 0, sizeof *me);
	me->procfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(me->procfd, 0);
	ck_assert_int_eq(maps_read(me->procfd, &me->maps), LP_OK);
	ck_assert_int_eq(symbolizer_new(&me->s, getpid(), me->procfd), LP_OK);
}

static void self_close(struct self *me)
{
	symbolizer_free(me->s);
	maps_fini(&me->maps);
	close(me->procfd);
}

START_TEST(test_self)
{
	struct self me;
	self_open(&me);
	struct symbol_info si;
	uint64_t addr = (uint64_t)(uintptr_t)&check_symbols_probe;
	ck_assert_int_eq(symbolizer_lookup(me.s, &me.maps, addr + 2, &si),
			 LP_OK);
	ck_assert_str_eq(si.func, "check_symbols_probe");
	ck_assert_uint_eq(si.func_offset, 2);
	ck_assert_str_eq(si.module, "check_symbols");
	const struct map_entry *e = maps_find(&me.maps, addr);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(si.module_offset, addr + 2 - e->start + e->offset);

	/* libc (getppid: not intercepted by ASan, unlike write). */
	addr = (uint64_t)(uintptr_t)&getppid;
	ck_assert_int_eq(symbolizer_lookup(me.s, &me.maps, addr, &si), LP_OK);
	ck_assert_msg(strstr(si.func, "getppid") != NULL, "%s", si.func);
	ck_assert_uint_eq(si.func_offset, 0);
	ck_assert_msg(strncmp(si.module, "libc.so", 7) == 0, "%s", si.module);

	elf_file *libc;
	uint64_t libc_bias;
	ck_assert_int_eq(symbolizer_elf(me.s, maps_find(&me.maps, addr), &libc,
					&libc_bias), LP_OK);
	printf("libc symbols: %s\n", elf_file_has_symtab(libc) ?
	       "full .symtab (detached debug file found by build-id)" :
	       ".dynsym only (no debug file)");

	if (elf_file_has_symtab(libc)) {
		/* A static function, only in the debug file's .symtab. */
		uint64_t scm;
		ck_assert_int_eq(symbolizer_find(me.s, &me.maps, "libc.so",
						 "__libc_start_call_main",
						 &scm, NULL), LP_OK);
		ck_assert_int_eq(symbolizer_lookup(me.s, &me.maps, scm + 4,
						   &si), LP_OK);
		ck_assert_str_eq(si.func, "__libc_start_call_main");
	}

	/* By name: in libc, and in the main executable (empty prefix). */
	uint64_t found, size;
	ck_assert_int_eq(symbolizer_find(me.s, &me.maps, "libc.so", "getppid",
					 &found, &size), LP_OK);
	ck_assert_uint_eq(found, addr);
	/* write has aliases (__write, __libc_write): any name will do. */
	ck_assert_int_eq(symbolizer_find(me.s, &me.maps, "libc.so", "write",
					 &found, &size), LP_OK);
	ck_assert_uint_gt(size, 0);
	ck_assert_int_eq(symbolizer_lookup(me.s, &me.maps, found + size - 1,
					   &si), LP_OK);
	ck_assert_msg(strstr(si.func, "write") != NULL, "%s", si.func);
	ck_assert_uint_eq(si.func_offset, size - 1);
	ck_assert_int_eq(symbolizer_find(me.s, &me.maps, "", "check_symbols_probe",
					 &found, &size), LP_OK);
	ck_assert_uint_eq(found, (uint64_t)(uintptr_t)&check_symbols_probe);
	ck_assert_int_eq(symbolizer_find(me.s, &me.maps, "libc.so",
					 "no_such_symbol_xyz", &found, &size),
			 LP_ENOTFOUND);
	ck_assert_int_eq(symbolizer_find(me.s, &me.maps, "libnothere",
					 "write", &found, &size),
			 LP_ENOTFOUND);

	/* No mapping: the module says so, nothing else. */
	ck_assert_int_eq(symbolizer_lookup(me.s, &me.maps, 16, &si),
			 LP_ENOTFOUND);
	ck_assert_ptr_null(si.func);
	ck_assert_str_eq(si.module, "[unknown]");

	/* A stack address: a module name, no function. */
	int local = 0;
	ck_assert_int_eq(symbolizer_lookup(me.s, &me.maps,
					   (uint64_t)(uintptr_t)&local, &si),
			 LP_OK);
	ck_assert_ptr_null(si.func);
	ck_assert_str_eq(si.module, "[stack]");

	/* [vdso]: named from our own copy of the kernel's image. */
	const struct map_entry *vdso = NULL;
	for (size_t i = 0; i < me.maps.n; i++)
		if (strcmp(me.maps.v[i].path, "[vdso]") == 0)
			vdso = &me.maps.v[i];
	if (!vdso) {
		printf("SKIP [vdso]: not mapped\n");
	} else {
		int named = 0, clock = 0;
		for (uint64_t a = vdso->start; a < vdso->end; a += 8) {
			ck_assert_int_eq(symbolizer_lookup(me.s, &me.maps, a,
							   &si), LP_OK);
			ck_assert_str_eq(si.module, "[vdso]");
			if (!si.func)
				continue;
			named++;
			clock += strstr(si.func, "clock_gettime") != NULL;
		}
		printf("[vdso]: %d of %d addresses named\n", named,
		       (int)((vdso->end - vdso->start) / 8));
		ck_assert_int_gt(clock, 0);
	}

	/* After maps_changed the same answers come back. */
	symbolizer_maps_changed(me.s);
	ck_assert_int_eq(symbolizer_lookup(me.s, &me.maps, addr, &si), LP_OK);
	ck_assert_msg(strstr(si.func, "getppid") != NULL, "%s", si.func);
	self_close(&me);
}
END_TEST

/* The cache shares one parsed file between symbolizers, between two paths
 * of one build-id, and map_files serves a mapping whose path is gone. */
START_TEST(test_cache)
{
	struct self me;
	self_open(&me);
	uint64_t addr = (uint64_t)(uintptr_t)&check_symbols_probe;
	const struct map_entry *e = maps_find(&me.maps, addr);
	ck_assert_ptr_nonnull(e);
	elf_file *f1, *f2, *f3, *f4;
	uint64_t b1, b2;
	ck_assert_int_eq(symbolizer_elf(me.s, e, &f1, &b1), LP_OK);

	elf_cache *cache;
	ck_assert_int_eq(elf_cache_new(&cache), LP_OK);
	symbolizer *a, *b;
	ck_assert_int_eq(symbolizer_new_cached(&a, getpid(), me.procfd, cache),
			 LP_OK);
	ck_assert_int_eq(symbolizer_new_cached(&b, getpid(), me.procfd, cache),
			 LP_OK);
	elf_cache_free(cache);	/* the symbolizers hold it */
	ck_assert_int_eq(symbolizer_elf(a, e, &f2, &b2), LP_OK);
	ck_assert_int_eq(symbolizer_elf(b, e, &f3, &b2), LP_OK);
	ck_assert_ptr_eq(f2, f3);
	ck_assert_uint_eq(b1, b2);

	/* A copy of the executable elsewhere: same build-id, same entry. */
	char self[4096], copy[] = "/tmp/check_symbols_copy_XXXXXX";
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	int out = mkstemp(copy);
	ck_assert_int_ge(out, 0);
	int in = open(self, O_RDONLY);
	ck_assert_int_ge(in, 0);
	char buf[65536];
	ssize_t r;
	while ((r = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)r), r);
	close(in);
	close(out);
	struct map_entry fake = *e;
	fake.path = copy;
	fake.inode = 0;	/* unknown: no identity check */
	ck_assert_int_eq(symbolizer_elf(a, &fake, &f4, &b2), LP_OK);
	ck_assert_ptr_eq(f4, f2);
	unlink(copy);

	/* Deleted on disk: read through map_files/START-END. */
	fake = *e;
	fake.path = "/gone/check_symbols (deleted)";
	ck_assert_int_eq(symbolizer_elf(b, &fake, &f4, &b2), LP_OK);
	ck_assert_ptr_eq(f4, f2);
	ck_assert_uint_eq(b2, b1);
	/* Replaced on disk (another inode) and no map_files for a range
	 * that is not mapped: refused rather than misnamed. */
	fake = *e;
	fake.start = 0x1000;
	fake.end = 0x2000;
	fake.inode = e->inode + 1;
	ck_assert_int_eq(symbolizer_elf(b, &fake, &f4, &b2), LP_EFORMAT);

	symbolizer_free(a);
	symbolizer_free(b);
	self_close(&me);
}
END_TEST

static void write_file(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_perf_map)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
	/* One JIT region, anonymous and executable, never really mapped. */
	const char maps_text[] =
		"7e0000000000-7e0000010000 r-xp 00000000 00:00 0 \n"
		"7e0000010000-7e0000020000 rw-p 00000000 00:00 0 \n";
	struct maps m = { 0 };
	ck_assert_int_eq(maps_parse(maps_text, sizeof maps_text - 1, &m), LP_OK);
	ck_assert_uint_eq(m.n, 2);
	write_file(path,
		   "7e0000000100 40 jit_alpha\n"
		   "0x7e0000000200 20 LazyCompile:~beta app.js:12\n"
		   "garbage line\n"
		   "7e0000000300 0 zero_size_ignored\n"
		   "7e0000000100 40 jit_alpha_recompiled\n",
		   "w");
	int procfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(procfd, 0);
	symbolizer *s;
	ck_assert_int_eq(symbolizer_new(&s, getpid(), procfd), LP_OK);
	struct symbol_info si;
	ck_assert_int_eq(symbolizer_lookup(s, &m, 0x7e0000000110, &si), LP_OK);
	ck_assert_str_eq(si.func, "jit_alpha_recompiled");
	ck_assert_uint_eq(si.func_offset, 0x10);
	ck_assert_str_eq(si.module, "[anon]");
	ck_assert_uint_eq(si.module_offset, 0x110);
	const char *first = si.func;
	ck_assert_int_eq(symbolizer_lookup(s, &m, 0x7e000000021f, &si), LP_OK);
	ck_assert_str_eq(si.func, "LazyCompile:~beta app.js:12");
	ck_assert_int_eq(symbolizer_lookup(s, &m, 0x7e0000000220, &si), LP_OK);
	ck_assert_ptr_null(si.func);
	ck_assert_int_eq(symbolizer_lookup(s, &m, 0x7e0000000300, &si), LP_OK);
	ck_assert_ptr_null(si.func);
	/* Not executable: no JIT lookup. */
	ck_assert_int_eq(symbolizer_lookup(s, &m, 0x7e0000010100, &si), LP_OK);
	ck_assert_ptr_null(si.func);
	ck_assert_str_eq(si.module, "[anon]");
	ck_assert_uint_eq(si.module_offset, 0x100);

	/* The JIT appends (the last line half written); the map is read
	 * again once the maps changed, the names handed out stay valid. */
	write_file(path, "7e0000000400 10 jit_gamma\n7e00000005", "a");
	symbolizer_maps_changed(s);
	ck_assert_int_eq(symbolizer_lookup(s, &m, 0x7e0000000405, &si), LP_OK);
	ck_assert_str_eq(si.func, "jit_gamma");
	ck_assert_str_eq(first, "jit_alpha_recompiled");
	write_file(path, "00 10 jit_delta\n", "a");
	symbolizer_maps_changed(s);
	ck_assert_int_eq(symbolizer_lookup(s, &m, 0x7e0000000501, &si), LP_OK);
	ck_assert_str_eq(si.func, "jit_delta");
	ck_assert_int_eq(symbolizer_lookup(s, &m, 0x7e0000000110, &si), LP_OK);
	ck_assert_str_eq(si.func, "jit_alpha_recompiled");

	/* Rewritten shorter: read from scratch. */
	write_file(path, "7e0000000100 8 jit_new\n", "w");
	symbolizer_maps_changed(s);
	ck_assert_int_eq(symbolizer_lookup(s, &m, 0x7e0000000101, &si), LP_OK);
	ck_assert_str_eq(si.func, "jit_new");
	ck_assert_int_eq(symbolizer_lookup(s, &m, 0x7e0000000405, &si), LP_OK);
	ck_assert_ptr_null(si.func);
	ck_assert_str_eq(first, "jit_alpha_recompiled");

	unlink(path);
	symbolizer_free(s);
	maps_fini(&m);
	close(procfd);
}
END_TEST

/* A live CPython tells us, through ctypes, where Py_Initialize and
 * _PyRuntime are; the symbolizer must find the same addresses from outside.
 * The child blocks on stdin, so it ends when we close the pipe or die. */
static bool check_python(const char *python, const char *prefix)
{
	if (access(python, X_OK) != 0) {
		printf("SKIP %s: not installed\n", python);
		return false;
	}
	static const char script[] =
		"import ctypes, sys\n"
		"api = ctypes.pythonapi\n"
		"f = ctypes.cast(api.Py_Initialize, ctypes.c_void_p).value\n"
		"r = 0\n"
		"if sys.version_info >= (3, 7):\n"
		"    r = ctypes.addressof(ctypes.c_char.in_dll(api, '_PyRuntime'))\n"
		"sys.stdout.write('%x %x\\n' % (f, r))\n"
		"sys.stdout.flush()\n"
		"sys.stdin.read()\n";
	int in[2], out[2];
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(python, python, "-c", script, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	char line[128] = "";
	FILE *f = fdopen(out[0], "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	unsigned long long want_fn, want_rt;
	ck_assert_int_eq(sscanf(line, "%llx %llx", &want_fn, &want_rt), 2);

	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
	int procfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(procfd, 0);
	struct maps m = { 0 };
	ck_assert_int_eq(maps_read(procfd, &m), LP_OK);
	symbolizer *s;
	ck_assert_int_eq(symbolizer_new(&s, pid, procfd), LP_OK);
	uint64_t addr, size;
	ck_assert_int_eq(symbolizer_find(s, &m, prefix, "Py_Initialize", &addr,
					 &size), LP_OK);
	ck_assert_uint_eq(addr, want_fn);
	if (want_rt) {
		ck_assert_int_eq(symbolizer_find(s, &m, prefix, "_PyRuntime",
						 &addr, &size), LP_OK);
		ck_assert_uint_eq(addr, want_rt);
	}
	struct symbol_info si;
	ck_assert_int_eq(symbolizer_lookup(s, &m, want_fn + 1, &si), LP_OK);
	ck_assert_str_eq(si.func, "Py_Initialize");
	ck_assert_uint_eq(si.func_offset, 1);
	printf("%s (pid %d): Py_Initialize %llx, _PyRuntime %llx in %s\n",
	       python, (int)pid, want_fn, want_rt, si.module);
	symbolizer_free(s);
	maps_fini(&m);
	close(procfd);
	close(in[1]);	/* EOF: the child exits */
	fclose(f);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return true;
}

START_TEST(test_python_targets)
{
	static const char *const versions[] = {
		"2.7.18", "3.6.15", "3.7.16", "3.8.18", "3.9.18",
		"3.10.13", "3.11.7", "3.12.1", "3.13.0",
	};
	int done = 0;
	for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
		char python[128];
		snprintf(python, sizeof python,
			 "/root/.pyenv/versions/%s/bin/python", versions[i]);
		done += check_python(python, "libpython");
	}
	/* Debian's: libpython linked in, stripped, only .dynsym. */
	done += check_python("/usr/bin/python3.11", "");
	if (!done)
		unit_skip("no interpreter installed");
}
END_TEST

/* An elf_target started with "wait": it prints its symbols' addresses
 * and blocks on stdin until we close it (or die), so it never outlives us. */
struct waiting_target {
	pid_t pid;
	int in;
	FILE *out;
	uint64_t alpha, beta, local;
};

static void target_start(struct waiting_target *t, const char *path)
{
	int tin[2], tout[2];
	ck_assert_int_eq(pipe(tin), 0);
	ck_assert_int_eq(pipe(tout), 0);
	t->pid = fork();
	ck_assert_int_ge(t->pid, 0);
	if (t->pid == 0) {
		dup2(tin[0], 0);
		dup2(tout[1], 1);
		close(tin[1]);
		close(tout[0]);
		execl(path, path, "wait", (char *)NULL);
		_exit(127);
	}
	close(tin[0]);
	close(tout[1]);
	t->in = tin[1];
	t->out = fdopen(tout[0], "r");
	ck_assert_ptr_nonnull(t->out);
	char line[8192], name[64];
	unsigned long long a;
	t->alpha = t->beta = t->local = 0;
	while (fgets(line, sizeof line, t->out) &&
	       strncmp(line, "map ", 4) != 0) {
		if (sscanf(line, "%63s %llx", name, &a) != 2)
			continue;
		if (strcmp(name, "elf_target_alpha") == 0)
			t->alpha = a;
		else if (strcmp(name, "elf_target_beta") == 0)
			t->beta = a;
		else if (strcmp(name, "elf_target_local") == 0)
			t->local = a;
	}
	ck_assert_uint_ne(t->alpha, 0);
	ck_assert_uint_ne(t->local, 0);
}

static void target_stop(struct waiting_target *t)
{
	char line[8192];
	close(t->in);	/* EOF: it exits */
	while (fgets(line, sizeof line, t->out))
		;
	fclose(t->out);
	int status;
	ck_assert_int_eq(waitpid(t->pid, &status, 0), t->pid);
}

static void copy_file(const char *from, const char *to_tmpl, char *to)
{
	strcpy(to, to_tmpl);
	int out = mkstemp(to);
	ck_assert_int_ge(out, 0);
	int in = open(from, O_RDONLY);
	ck_assert_int_ge(in, 0);
	char buf[65536];
	ssize_t r;
	while ((r = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)r), r);
	close(in);
	fchmod(out, 0700);
	close(out);
}

/* A target whose executable was deleted after it started (an upgrade):
 * read through map_files, named without " (deleted)". */
START_TEST(test_deleted_exe)
{
	char copy[64];
	copy_file(ELF_TARGET_PIE, "/tmp/check_symbols_target_XXXXXX", copy);
	struct waiting_target t;
	target_start(&t, copy);
	unlink(copy);

	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d", (int)t.pid);
	int procfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(procfd, 0);
	struct maps m = { 0 };
	ck_assert_int_eq(maps_read(procfd, &m), LP_OK);
	symbolizer *s;
	ck_assert_int_eq(symbolizer_new(&s, t.pid, procfd), LP_OK);
	struct symbol_info si;
	ck_assert_int_eq(symbolizer_lookup(s, &m, t.alpha + 1, &si), LP_OK);
	ck_assert_str_eq(si.func, "elf_target_alpha");
	ck_assert_str_eq(si.module, strrchr(copy, '/') + 1);
	uint64_t found;
	ck_assert_int_eq(symbolizer_find(s, &m, "", "elf_target_beta", &found,
					 NULL), LP_OK);
	ck_assert_uint_eq(found, t.beta);
	symbolizer_free(s);
	maps_fini(&m);
	close(procfd);
	target_stop(&t);
}
END_TEST

/* A stripped executable named through its detached debug file, found by
 * build-id under the cache's debug directory. */
START_TEST(test_debug_file)
{
	if (system("command -v objcopy >/dev/null && "
		   "command -v strip >/dev/null") != 0)
		unit_skip("objcopy or strip missing");
	elf_file *f;
	ck_assert_int_eq(elf_file_open(&f, ELF_TARGET_PIE, NULL), LP_OK);
	char id[160];
	snprintf(id, sizeof id, "%s", elf_file_build_id(f));
	elf_file_free(f);
	ck_assert_uint_gt(strlen(id), 4);
	char dir[] = "/tmp/check_symbols_dbg_XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char cmd[1024], stripped[128];
	snprintf(stripped, sizeof stripped, "%s/stripped", dir);
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s/.build-id/%.2s && "
		 "objcopy --only-keep-debug %s %s/.build-id/%.2s/%s.debug && "
		 "strip -o %s %s",
		 dir, id, ELF_TARGET_PIE, dir, id, id + 2, stripped,
		 ELF_TARGET_PIE);
	ck_assert_int_eq(system(cmd), 0);
	struct waiting_target t;
	target_start(&t, stripped);

	char pdir[64];
	snprintf(pdir, sizeof pdir, "/proc/%d", (int)t.pid);
	int procfd = open(pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(procfd, 0);
	struct maps m = { 0 };
	ck_assert_int_eq(maps_read(procfd, &m), LP_OK);
	struct symbol_info si;
	elf_cache *plain, *dbg;
	symbolizer *s1, *s2;
	ck_assert_int_eq(elf_cache_new(&plain), LP_OK);
	ck_assert_int_eq(elf_cache_set_debug_dir(plain, NULL), LP_OK);
	ck_assert_int_eq(symbolizer_new_cached(&s1, t.pid, procfd, plain),
			 LP_OK);
	ck_assert_int_eq(symbolizer_lookup(s1, &m, t.local, &si), LP_OK);
	ck_assert_ptr_null(si.func);
	ck_assert_str_eq(si.module, "stripped");
	ck_assert_int_eq(elf_cache_new(&dbg), LP_OK);
	ck_assert_int_eq(elf_cache_set_debug_dir(dbg, dir), LP_OK);
	ck_assert_int_eq(symbolizer_new_cached(&s2, t.pid, procfd, dbg),
			 LP_OK);
	ck_assert_int_eq(symbolizer_lookup(s2, &m, t.local + 2, &si), LP_OK);
	ck_assert_str_eq(si.func, "elf_target_local");
	ck_assert_uint_eq(si.func_offset, 2);
	ck_assert_str_eq(si.module, "stripped");
	/* The bias from the text mapping alone (the debug file's own program
	 * headers have p_filesz 0). */
	elf_file *ef;
	uint64_t bias, off;
	const char *name;
	ck_assert_int_eq(symbolizer_elf(s2, maps_find(&m, t.local), &ef, &bias),
			 LP_OK);
	ck_assert_int_eq(elf_file_lookup(ef, t.local - bias, &name, &off),
			 LP_OK);
	ck_assert_str_eq(name, "elf_target_local");
	symbolizer_free(s1);
	symbolizer_free(s2);
	elf_cache_free(plain);
	elf_cache_free(dbg);
	maps_fini(&m);
	close(procfd);
	target_stop(&t);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* A warm lookup must cost well under a microsecond: the sampler resolves
 * every native frame of every sample. */
START_TEST(test_speed)
{
	struct self me;
	self_open(&me);
	uint64_t addrs[] = {
		(uint64_t)(uintptr_t)&check_symbols_probe + 3,
		(uint64_t)(uintptr_t)&getppid + 1,
		(uint64_t)(uintptr_t)&printf + 7,
		(uint64_t)(uintptr_t)&malloc + 2,
		(uint64_t)(uintptr_t)&symbolizer_lookup + 9,
		(uint64_t)(uintptr_t)&srunner_run_all + 4,
		(uint64_t)(uintptr_t)&strtol + 1,
		(uint64_t)(uintptr_t)&qsort + 5,
	};
	const size_t na = sizeof addrs / sizeof *addrs;
	struct symbol_info si;
	double c0 = now_ns();
	for (size_t i = 0; i < na; i++)	/* warm up: open and parse */
		symbolizer_lookup(me.s, &me.maps, addrs[i], &si);
	printf("symbolizer cold: %.2f ms to open and index the files of %zu "
	       "addresses\n", (now_ns() - c0) / 1e6, na);
	const int rounds = 1000000;
	size_t hits = 0;
	double t0 = now_ns();
	for (int r = 0; r < rounds; r++)
		hits += symbolizer_lookup(me.s, &me.maps, addrs[r % na], &si) ==
				LP_OK && si.func;
	double per = (now_ns() - t0) / rounds;
	printf("symbolizer_lookup warm: %.1f ns per lookup (%zu maps, %d "
	       "lookups)\n", per, me.maps.n, rounds);
	ck_assert_uint_eq(hits, (size_t)rounds);
	ck_assert_msg(per < 1000.0, "warm lookup %.1f ns", per);
	self_close(&me);
}
END_TEST

static Suite *symbols_suite(void)
{
	Suite *s = suite_create("symbols");
	TCase *tc = tcase_create("symbols");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_self);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_perf_map);
	tcase_add_test(tc, test_speed);
	tcase_add_test(tc, test_python_targets);
	tcase_add_test(tc, test_deleted_exe);
	tcase_add_test(tc, test_debug_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(symbols_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
