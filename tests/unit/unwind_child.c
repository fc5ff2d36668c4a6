/* The process check_unwind unwinds: main -> unwind_top -> unwind_mid ->
 * unwind_leaf, built with and without frame pointers.
 *   unwind_child MODE FD
 * MODE "spin": the leaf spins; "block": the leaf blocks in read() on a pipe
 * nobody writes; "thread": a second thread runs the chain (blocking) while
 * main waits in pthread_join; "badstack": the leaf points its stack
 * and frame pointers at unmapped memory and spins.  Writes "R" on FD once in the
 * leaf. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static volatile unsigned long sink;
static int ready_fd = 1;
static int block_fd[2];
static int spin, badstack;

__attribute__((noinline)) void unwind_leaf(void)
{
	ssize_t w = write(ready_fd, "R", 1);
	(void)w;
	if (badstack)	/* never returns: no stack to return with */
		__asm__ volatile("xor %%ebp, %%ebp\n"
				 "mov $0x1000, %%rsp\n"
				 "1: jmp 1b" ::: "memory");
	if (spin) {
		for (;;)
			sink = sink * 31 + 7;
	}
	char c;
	ssize_t r = read(block_fd[0], &c, 1);
	sink += (unsigned long)r;
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void unwind_mid(void)
{
	unwind_leaf();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void unwind_top(void)
{
	unwind_mid();
	__asm__ volatile("" ::: "memory");
}

static void *thread_main(void *arg)
{
	unwind_top();
	return arg;
}

int main(int argc, char **argv)
{
	if (argc > 2)
		ready_fd = atoi(argv[2]);
	/* Dies with the test, even when a failed assertion skips cleanup. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (pipe(block_fd))
		return 1;
	const char *mode = argc > 1 ? argv[1] : "block";
	spin = !strcmp(mode, "spin");
	badstack = !strcmp(mode, "badstack");
	if (!strcmp(mode, "thread")) {
		pthread_t th;
		if (pthread_create(&th, NULL, thread_main, NULL))
			return 1;
		pthread_join(th, NULL);
		return 0;
	}
	unwind_top();
	__asm__ volatile("" ::: "memory");
	return 0;
}
