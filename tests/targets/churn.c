/* Threads that come and go: the main thread keeps starting short-lived
 * workers (a few ms each), so a recording sees threads appear and vanish
 * between and during its ticks. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

__attribute__((noinline)) static void *short_worker(void *arg)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		for (int i = 0; i < 10000; i++)
			sink += (unsigned long)arg * i;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < 3000000L);
	return NULL;
}

int main(void)
{
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (unsigned long n = 0;; n++) {
		pthread_t th[4];
		for (int i = 0; i < 4; i++)
			pthread_create(&th[i], NULL, short_worker, (void *)n);
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
	}
}
