/* loupe-bench SUBCOMMAND [ARGS]: see bench.h. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

void bench_report(const char *name, uint64_t *ns, size_t n)
{
	if (!n) {
		printf("%-28s no samples\n", name);
		return;
	}
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (double)ns[i];
	qsort(ns, n, sizeof *ns, cmp_u64);
	printf("%-28s median %8.3f us  mean %8.3f us  p99 %8.3f us  (n=%zu)\n",
	       name, (double)ns[n / 2] / 1000.0, sum / (double)n / 1000.0,
	       (double)ns[n * 99 / 100] / 1000.0, n);
}

int bench_sibling(const char *name, char *out, size_t size)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return snprintf(out, size, "%s/%s", self, name) < (int)size ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: loupe-bench native [SAMPLES]\n"
		"       loupe-bench native-perf [-p PID] [-r HZ] [-d S] "
		"[-s STACK_BYTES]\n"
		"       loupe-bench native-slowdown [ROUNDS] [WORK_MS] [STACK_BYTES]\n"
		"       loupe-bench sleep-floor HZ SECONDS [PID PAGES]\n"
		"       loupe-bench spin-gaps PERIOD_US SECONDS\n"
		"       loupe-bench syscall-floor [PID]\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "native"))
		return bench_native(argc - 1, argv + 1);
	if (!strcmp(argv[1], "native-perf"))
		return bench_native_perf(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sleep-floor"))
		return bench_sleep_floor(argc - 1, argv + 1);
	if (!strcmp(argv[1], "syscall-floor"))
		return bench_syscall_floor(argc - 1, argv + 1);
	if (!strcmp(argv[1], "spin-gaps"))
		return bench_spin_gaps(argc - 1, argv + 1);
	if (!strcmp(argv[1], "native-slowdown"))
		return bench_native_slowdown(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "loupe-bench: unknown benchmark '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
