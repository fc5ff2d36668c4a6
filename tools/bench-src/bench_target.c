/* Target of `loupe-bench native`: a thread 10 frames deep (main, depth_1 ..
 * depth_9, plus the leaf's own frame), built without frame pointers.
 *   loupe-bench-target MODE FD
 * MODE "spin" burns CPU in the leaf, "sleep" sleeps in nanosleep() from
 * it.  Writes "R" on FD once in the leaf. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static int ready_fd = 1, spin;

__attribute__((noinline)) void depth_leaf(void)
{
	ssize_t w = write(ready_fd, "R", 1);
	(void)w;
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
	/* Never outlives the benchmark, however it ends. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	depth_1();
	return 0;
}
