/* Target of `loupe-bench native`: a thread 10 frames deep (main, depth_1 ..
 * depth_9, plus the leaf's own frame), built without frame pointers.
 *   loupe-bench-target MODE FD [IN_FD ITERATIONS]
 * MODE "spin" burns CPU in the leaf, "sleep" sleeps in nanosleep() from
 * it.  Writes "R" on FD once in the leaf.  MODE "work" (the slowdown
 * benchmark) waits in the leaf for a byte on IN_FD, then does a fixed work
 * of ITERATIONS steps and writes the wall time it took (u64 ns) on FD;
 * EOF on IN_FD ends it. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static int ready_fd = 1, spin, work, in_fd;
static unsigned long iterations;

static unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull +
	       (unsigned long long)ts.tv_nsec;
}

__attribute__((noinline)) void depth_leaf(void)
{
	ssize_t w = write(ready_fd, "R", 1);
	(void)w;
	while (work) {
		char c;
		if (read(in_fd, &c, 1) != 1)
			exit(0);
		unsigned long long t0 = now_ns();
		for (unsigned long i = 0; i < iterations; i++)
			sink = sink * 31 + 7;
		unsigned long long took = now_ns() - t0;
		if (write(ready_fd, &took, sizeof took) != sizeof took)
			exit(1);
	}
	for (;;) {
		if (spin) {
			sink = sink * 31 + 7;
		} else {
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
		}
	}
}

#define LEVEL(name, next)                                 \
	__attribute__((noinline)) void name(void)         \
	{                                                 \
		next();                                   \
		__asm__ volatile("" ::: "memory");        \
	}
LEVEL(depth_9, depth_leaf)
LEVEL(depth_8, depth_9)
LEVEL(depth_7, depth_8)
LEVEL(depth_6, depth_7)
LEVEL(depth_5, depth_6)
LEVEL(depth_4, depth_5)
LEVEL(depth_3, depth_4)
LEVEL(depth_2, depth_3)
LEVEL(depth_1, depth_2)

int main(int argc, char **argv)
{
	spin = argc > 1 && !strcmp(argv[1], "spin");
	if (argc > 2)
		ready_fd = atoi(argv[2]);
	work = argc > 4 && !strcmp(argv[1], "work");
	if (work) {
		in_fd = atoi(argv[3]);
		iterations = strtoul(argv[4], NULL, 10);
	}
	/* Never outlives the benchmark, however it ends. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	depth_1();
	return 0;
}
