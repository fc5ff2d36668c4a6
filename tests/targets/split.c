/* A native target with a known CPU split: hot_three() burns three times as
 * long as hot_one(), each reached through a few frames from main.  Prints
 * "ready <pid>" once running.  With an argument N > 0 it starts N extra
 * threads: the even ones spin in the same loop, the odd ones sleep. */
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

int main(int argc, char **argv)
{
	int extra = argc > 1 ? atoi(argv[1]) : 0;
	for (int i = 0; i < extra; i++) {
		pthread_t th;
		pthread_create(&th, NULL, i % 2 == 0 ? spinner : sleeper, NULL);
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;)
		level1();
	return 0;
}
