/* libc_cond: glibc's version from its banner, where its pthread_cond_t
 * counts waiters, and the count read from a live cond of this process
 * (two threads in pthread_cond_timedwait) at the place chosen for this
 * process's own glibc, found through /proc/self as for a target. */
#include <check.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libc_cond.h"
#include "maps.h"
#include "unit.h"

START_TEST(banner_version)
{
	static const char deb[] = "\x01junk GNU C Library (Debian GLIBC 2.36-9+deb12u14) "
				  "stable release version 2.36.\nCopyright";
	static const char dev[] = "GNU C Library (GNU libc) development release "
				  "version 2.41.9000.";
	int a = 0, b = 0;
	ck_assert(libc_version_in(deb, sizeof deb - 1, &a, &b));
	ck_assert_int_eq(a, 2);
	ck_assert_int_eq(b, 36);
	ck_assert(libc_version_in(dev, sizeof dev - 1, &a, &b));
	ck_assert_int_eq(b, 41);
	/* no banner, or one cut before its version */
	ck_assert(!libc_version_in("musl libc (x86_64)", 18, &a, &b));
	ck_assert(!libc_version_in(dev, 40, &a, &b));
}
END_TEST

START_TEST(wrefs_place)
{
	ck_assert_int_eq(libc_cond_wrefs_for(2, 24), -1);	/* old condvar */
	ck_assert_int_eq(libc_cond_wrefs_for(2, 25), 36);
	ck_assert_int_eq(libc_cond_wrefs_for(2, 40), 36);
	ck_assert_int_eq(libc_cond_wrefs_for(2, 41), 28);	/* __g_refs gone */
	ck_assert_int_eq(libc_cond_wrefs_for(2, 43), 28);
	ck_assert_int_eq(libc_cond_wrefs_for(3, 0), -1);
	uint32_t w = 99;
	ck_assert(libc_cond_waiters(3 << 3 | 2, 8, &w));	/* monotonic */
	ck_assert_uint_eq(w, 3);
	ck_assert(!libc_cond_waiters(3 << 3 | 1, 8, &w));	/* pshared */
	ck_assert(!libc_cond_waiters(9 << 3, 8, &w));		/* > threads */
}
END_TEST

static pthread_cond_t cond;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int go;

static void *waiter(void *arg)
{
	(void)arg;
	struct timespec ts;
	pthread_mutex_lock(&mu);
	while (!go) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 5;
		pthread_cond_timedwait(&cond, &mu, &ts);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

START_TEST(live_cond)
{
	int maj = 0, min = 0;
	ck_assert_int_eq(sscanf(gnu_get_libc_version(), "%d.%d", &maj, &min), 2);
	int off = libc_cond_wrefs_for(maj, min);
	if (off < 0)
		unit_skip("glibc %d.%d keeps no waiter count", maj, min);
	/* the place found from the library this process maps */
	int procfd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(procfd, 0);
	struct maps m = { 0 };
	ck_assert_int_eq(maps_read(procfd, &m), 0);
	ck_assert_int_eq(libc_cond_wrefs_offset(procfd, &m), off);
	maps_fini(&m);
	close(procfd);
	/* CPython's conds use the monotonic clock (Python/thread_pthread.h) */
	pthread_condattr_t at;
	pthread_condattr_init(&at);
	pthread_condattr_setclock(&at, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &at);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, waiter, NULL), 0);
	uint32_t w = 0, word = 0;
	for (int i = 0; i < 500 && w != 2; i++) {
		usleep(2000);
		memcpy(&word, (const char *)&cond + off, sizeof word);
		ck_assert(libc_cond_waiters(word, 16, &w));
	}
	ck_assert_uint_eq(w, 2);
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	memcpy(&word, (const char *)&cond + off, sizeof word);
	ck_assert(libc_cond_waiters(word, 16, &w));
	ck_assert_uint_eq(w, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("libc_cond");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, banner_version);
	tcase_add_test(tc, wrefs_place);
	tcase_add_test(tc, live_cond);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
