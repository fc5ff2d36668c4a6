/* Self-unwind through noinline functions (as perf's tests/dwarf-unwind.c):
 * a child built with and without frame pointers is paused in its leaf
 * (spinning, blocked in read() inside libc, or on a second thread) and its
 * stack must read unwind_leaf, unwind_mid, unwind_top, main (or the thread
 * start) and end at the outermost frame, not truncated.  Symbols come from
 * the child's own .symtab, read here with libelf. */
#include <check.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "target.h"
#include "unwind.h"
#include "unit.h"

struct sym {
	uint64_t start, size;
	char name[64];
};

struct symtab {
	struct sym v[4096];
	size_t n;
	uint64_t bias;
};

static void load_symtab(const char *path, struct symtab *st)
{
	elf_version(EV_CURRENT);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	ck_assert_ptr_nonnull(elf);
	Elf_Scn *scn = NULL;
	st->n = 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t cnt = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < cnt && st->n < 4096; i++) {
			GElf_Sym s;
			gelf_getsym(d, (int)i, &s);
			if (GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value)
				continue;
			struct sym *o = &st->v[st->n++];
			o->start = s.st_value;
			o->size = s.st_size;
			snprintf(o->name, sizeof o->name, "%s",
				 elf_strptr(elf, sh.sh_link, s.st_name));
		}
	}
	elf_end(elf);
	close(fd);
	ck_assert_uint_gt(st->n, 0);
}

static const char *lookup(const struct symtab *st, uint64_t addr)
{
	addr -= st->bias;
	for (size_t i = 0; i < st->n; i++)
		if (addr >= st->v[i].start &&
		    addr < st->v[i].start + st->v[i].size)
			return st->v[i].name;
	return NULL;
}

static void child_path(const char *name, char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	snprintf(out, size, "%s/%s", self, name);
}

/* Starts the test child in mode and waits for the byte it writes once it
 * is where mode puts it; path receives the child's file. */
static target *spawn_child(const char *name, const char *mode, char *path,
			   size_t size)
{
	char fdarg[16];
	int p[2];
	child_path(name, path, size);
	ck_assert_int_eq(pipe(p), 0);
	snprintf(fdarg, sizeof fdarg, "%d", p[1]);
	char *argv[] = { path, (char *)mode, fdarg, NULL };
	target *t;
	lp_error err;
	ck_assert_msg(target_spawn(&t, argv, &err) == LP_OK, "%s", err.msg);
	close(p[1]);
	char c;
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	ck_assert_int_eq(target_refresh_maps(t), LP_OK);
	ck_assert_int_eq(target_refresh_threads(t), LP_OK);
	return t;
}

/* Runs the child in mode, unwinds the thread running the chain until the
 * leaf is where mode puts it, and checks the frames. */
static void unwind_child(const char *name, const char *mode)
{
	char path[PATH_MAX + 64];
	target *t = spawn_child(name, mode, path, sizeof path);

	struct symtab *st = calloc(1, sizeof *st);
	load_symtab(path, st);
	const struct map_entry *m = maps_find_file(target_maps(t), name);
	ck_assert_ptr_nonnull(m);
	st->bias = m->start - m->offset;	/* PIE: first PT_LOAD at 0 */

	unwinder *u;
	ck_assert_int_eq(unwinder_new(&u, t), LP_OK);
	struct target_thread *th = NULL;
	bool thread_mode = !strcmp(mode, "thread");
	for (size_t i = 0; i < target_nthreads(t); i++)
		if (!thread_mode || target_thread_at(t, i)->tid != target_pid(t))
			th = target_thread_at(t, i);
	ck_assert_ptr_nonnull(th);

	uint64_t ips[64];
	size_t n = 0;
	bool truncated = true;
	const char *names[64];
	bool ok = false;
	/* The leaf said "R" just before its loop or read: retry until the
	 * sample lands there, within a deadline. */
	for (int tries = 0; tries < 500 && !ok; tries++) {
		ck_assert_int_eq(target_thread_pause(t, th), LP_OK);
		int rc = unwind_thread(u, th, ips, 64, &n, &truncated);
		ck_assert_int_eq(target_thread_resume(t, th), LP_OK);
		ck_assert_int_eq(rc, LP_OK);
		for (size_t i = 0; i < n; i++)
			names[i] = lookup(st, i ? ips[i] - 1 : ips[i]);
		/* Where the chain starts: 0 when spinning in the leaf, after
		 * the libc frames of read() when blocked. */
		size_t k = 0;
		if (strcmp(mode, "spin")) {
			while (k < n && !names[k])
				k++;
			if (k == 0)
				goto retry;
		}
		if (k + 3 < n && names[k] && !strcmp(names[k], "unwind_leaf") &&
		    names[k + 1] && !strcmp(names[k + 1], "unwind_mid") &&
		    names[k + 2] && !strcmp(names[k + 2], "unwind_top")) {
			if (thread_mode)
				ok = !names[k + 3] ||
				     !strcmp(names[k + 3], "thread_main");
			else
				ok = names[k + 3] &&
				     !strcmp(names[k + 3], "main");
			/* Beyond main: libc's __libc_start_call_main and
			 * _start (or start_thread and clone3). */
			ok = ok && n > k + 4 && !truncated;
		}
retry:
		if (!ok) {
			struct timespec ts = { 0, 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	if (!ok || getenv("LOUPE_TEST_VERBOSE")) {
		fprintf(stderr, "%s %s:\n", name, mode);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "  #%zu %#llx %s\n", i,
				(unsigned long long)ips[i],
				names[i] ? names[i] : "?");
	}
	ck_assert_msg(ok, "%s %s: bad stack of %zu frames (truncated %d)",
		      name, mode, n, truncated);
	unwinder_free(u);
	free(st);
	target_free(t, true);
}

START_TEST(nofp_spin) { unwind_child("unwind_child_nofp", "spin"); }
END_TEST
START_TEST(nofp_block) { unwind_child("unwind_child_nofp", "block"); }
END_TEST
START_TEST(nofp_thread) { unwind_child("unwind_child_nofp", "thread"); }
END_TEST
START_TEST(fp_spin) { unwind_child("unwind_child_fp", "spin"); }
END_TEST
START_TEST(fp_block) { unwind_child("unwind_child_fp", "block"); }
END_TEST
START_TEST(fp_thread) { unwind_child("unwind_child_fp", "thread"); }
END_TEST

START_TEST(not_paused)
{
	char path[PATH_MAX + 64];
	target *t = spawn_child("unwind_child_nofp", "block", path, sizeof path);
	unwinder *u;
	ck_assert_int_eq(unwinder_new(&u, t), LP_OK);
	uint64_t ips[8];
	size_t n = 1;
	bool tr;
	ck_assert_int_eq(unwind_thread(u, target_thread_at(t, 0), ips, 8, &n,
				       &tr), LP_EINVAL);
	ck_assert_uint_eq(n, 0);
	/* A depth cap marks the stack truncated. */
	struct target_thread *th = target_thread_at(t, 0);
	ck_assert_int_eq(target_thread_pause(t, th), LP_OK);
	ck_assert_int_eq(unwind_thread(u, th, ips, 2, &n, &tr), LP_OK);
	ck_assert_int_eq(target_thread_resume(t, th), LP_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert(tr);
	/* After a maps refresh the cached tables are still right. */
	ck_assert_int_eq(target_refresh_maps(t), LP_OK);
	unwinder_maps_changed(u);
	ck_assert_int_eq(target_thread_pause(t, th), LP_OK);
	ck_assert_int_eq(unwind_thread(u, th, ips, 8, &n, &tr), LP_OK);
	ck_assert_int_eq(target_thread_resume(t, th), LP_OK);
	ck_assert_uint_eq(n, 8);
	unwinder_free(u);
	target_free(t, true);
}
END_TEST

/* A stack pointer into unmapped memory: a short, truncated stack, no
 * crash, no error. */
START_TEST(bad_stack)
{
	char path[PATH_MAX + 64];
	target *t = spawn_child("unwind_child_nofp", "badstack", path, sizeof path);
	unwinder *u;
	ck_assert_int_eq(unwinder_new(&u, t), LP_OK);
	struct target_thread *th = target_thread_at(t, 0);
	uint64_t ips[64];
	size_t n = 0;
	bool tr = false;
	/* "R" comes just before the jump: retry until the sample is in the
	 * loop, within a deadline. */
	for (int tries = 0; tries < 500; tries++) {
		ck_assert_int_eq(target_thread_pause(t, th), LP_OK);
		ck_assert_int_eq(unwind_thread(u, th, ips, 64, &n, &tr), LP_OK);
		ck_assert_int_eq(target_thread_resume(t, th), LP_OK);
		if (n <= 2 && tr)
			break;
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	ck_assert_uint_le(n, 2);
	ck_assert(tr);
	unwinder_free(u);
	target_free(t, true);
}
END_TEST

/* The library does not replace libc's sigprocmask: only a program that
 * lists profiler/unwind_sigmask.c in its sources (the loupe program) has
 * the override.  This one links the unwinder and keeps libc's, for its
 * own calls and for libunwind's; a mask it sets holds.  The definition in
 * effect is not this program's own (it is libc's, or a sanitizer
 * runtime's interceptor in front of it). */
START_TEST(libc_sigprocmask)
{
	Dl_info in_effect, ours_info, self;
	ck_assert(dladdr((void *)unwinder_free, &self));
	void *found = dlsym(RTLD_DEFAULT, "sigprocmask");
	ck_assert_ptr_nonnull(found);
	ck_assert(dladdr(found, &in_effect));
	ck_assert_msg(in_effect.dli_fbase != self.dli_fbase,
		      "this program defines sigprocmask (%s)", in_effect.dli_fname);
	int (*ours)(int, const sigset_t *, sigset_t *) = sigprocmask;
	ck_assert(dladdr((void *)ours, &ours_info));
	ck_assert_msg(ours_info.dli_fbase != self.dli_fbase,
		      "calls bind to this program's sigprocmask");
	ck_assert(!unwind_in_walk());
	sigset_t set, old, now;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &set, &old), 0);
	ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, NULL, &now), 0);
	ck_assert(sigismember(&now, SIGUSR2));
	ck_assert_int_eq(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("unwind");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, nofp_spin);
	tcase_add_test(tc, nofp_block);
	tcase_add_test(tc, nofp_thread);
	tcase_add_test(tc, fp_spin);
	tcase_add_test(tc, fp_block);
	tcase_add_test(tc, fp_thread);
	tcase_add_test(tc, not_paused);
	tcase_add_test(tc, bad_stack);
	tcase_add_test(tc, libc_sigprocmask);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
