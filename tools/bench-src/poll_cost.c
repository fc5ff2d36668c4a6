/* Target of tools/bench's trace section: an event loop of fixed work that
 * times itself.  Each iteration is an epoll_wait (timeout 0) and ten cheap
 * syscalls (getpid) around ~20 us of arithmetic, a tick of a busy server;
 * every ROUND iterations it prints the thread CPU time one iteration took,
 * in ns, so that the cost of a tracer attached meanwhile shows directly,
 * unaffected by whatever else the box runs (CPU time, not wall time).
 *   loupe-poll-cost      prints "ready", then "tick NS" lines until killed */
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUND 20000
#define SYSCALLS 10
#define WORK 4000

static volatile unsigned long sink;

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
	int ep = epoll_create1(0);
	if (ep < 0) {
		perror("loupe-poll-cost: epoll_create1");
		return 1;
	}
	struct epoll_event ev[4];
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		double c0 = cpu_s();
		for (int i = 0; i < ROUND; i++) {
			epoll_wait(ep, ev, 4, 0);
			for (int k = 0; k < SYSCALLS; k++)
				syscall(SYS_getpid);
			unsigned long x = sink;
			for (int k = 0; k < WORK; k++)
				x = x * 7 + (unsigned long)k;
			sink = x;
		}
		printf("tick %.0f\n", (cpu_s() - c0) / ROUND * 1e9);
		fflush(stdout);
	}
}
