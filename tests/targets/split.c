/* A native target with a known CPU split: hot_three() burns three times as
 * long as hot_one(), each reached through a few frames from main.  Prints
 * "ready <pid>" once running.  Arguments BUSY SLEEPING start that many extra
 * threads spinning in the same loop ("busy-N") or sleeping ("sleep-N"). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

__attribute__((noinline)) static void burn(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i * 2654435761u;
}

__attribute__((noinline)) void hot_three(void)
{
	burn(3000000);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void hot_one(void)
{
	burn(1000000);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void level3(void)
{
	hot_three();
	hot_one();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void level2(void)
{
	level3();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void level1(void)
{
	level2();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void *spinner(void *arg)
{
	(void)arg;
	for (;;)
		level1();
	return NULL;
}

__attribute__((noinline)) static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		sleep(1);
	return NULL;
}

static void start_threads(int n, void *(*fn)(void *), const char *prefix)
{
	for (int i = 0; i < n; i++) {
		pthread_t th;
		char name[16];
		pthread_create(&th, NULL, fn, NULL);
		snprintf(name, sizeof name, "%s-%d", prefix, i + 1);
		pthread_setname_np(th, name);
	}
}

int main(int argc, char **argv)
{
	start_threads(argc > 1 ? atoi(argv[1]) : 0, spinner, "busy");
	start_threads(argc > 2 ? atoi(argv[2]) : 0, sleeper, "sleep");
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;)
		level1();
	return 0;
}
