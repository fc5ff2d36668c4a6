/* loupe-bench sleep-floor HZ SECONDS [PID PAGES]: what waking up HZ times
 * a second costs a process that does nothing else, on the same absolute
 * deadlines as the sampler.  Any sampler pays it; on a virtual machine it
 * is most of loupe's cost at 100 Hz, so tools/bench prints it beside
 * loupe's.  With PID and PAGES, each wake-up also makes one
 * process_vm_readv of PAGES small pieces, each in another mapping of PID
 * (read_pages): the least a sampler that reads memory pays a tick, where
 * the kernel's walk of the target's page tables is cold. */
#include "bench.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <time.h>

enum { READ_PIECE = 144, MAX_PAGES = 32 };

/* Up to want pieces of PID's memory, each in a mapping of its own, where
 * a Python sample finds what it reads: the first page of the heap and of
 * anonymous writable mappings (thread states, frame chunks, object
 * arenas), and the last of the stack (the C stack's entry frames).
 * Returns how many. */
static int read_pages(pid_t pid, struct iovec *remote, int want)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = 0;
	while (n < want && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char perms[8], name[256] = "";
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms,
			   name) < 3 || perms[0] != 'r' || perms[1] != 'w')
			continue;
		bool stack = !strcmp(name, "[stack]");
		if (name[0] && !stack && strcmp(name, "[heap]"))
			continue;
		remote[n].iov_base = (void *)(stack ? hi - 4096 : lo);
		remote[n].iov_len = READ_PIECE;
		n++;
	}
	fclose(f);
	return n;
}

int bench_sleep_floor(int argc, char **argv)
{
	double hz = argc > 1 ? atof(argv[1]) : 100;
	double secs = argc > 2 ? atof(argv[2]) : 5;
	pid_t pid = argc > 3 ? (pid_t)atoi(argv[3]) : 0;
	int pages = argc > 4 ? atoi(argv[4]) : 0;
	if (hz <= 0 || hz > 1e6 || secs <= 0 || secs > 3600 ||
	    (argc > 3 && (pid <= 0 || pages < 1 || pages > MAX_PAGES))) {
		fprintf(stderr, "usage: loupe-bench sleep-floor HZ SECONDS "
				"[PID PAGES]\n");
		return 2;
	}
	static char buf[MAX_PAGES][READ_PIECE];
	struct iovec local[MAX_PAGES], remote[MAX_PAGES];
	int npieces = pid ? read_pages(pid, remote, pages) : 0;
	if (pid && npieces < pages) {
		fprintf(stderr, "sleep-floor: PID %d has %d mappings to read, "
				"not %d\n", (int)pid, npieces, pages);
		return 1;
	}
	for (int i = 0; i < npieces; i++) {
		local[i].iov_base = buf[i];
		local[i].iov_len = READ_PIECE;
	}
	uint64_t period = (uint64_t)(1e9 / hz), t = bench_now_ns();
	uint64_t n = (uint64_t)(hz * secs), failed = 0;
	for (uint64_t i = 0; i < n; i++) {
		t += period;
		struct timespec ts = { (time_t)(t / 1000000000u),
				       (long)(t % 1000000000u) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		if (npieces && process_vm_readv(pid, local, (unsigned long)npieces,
						remote, (unsigned long)npieces,
						0) < 0)
			failed++;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (failed) {
		fprintf(stderr, "sleep-floor: %llu of %llu reads of PID %d "
				"failed\n", (unsigned long long)failed,
			(unsigned long long)n, (int)pid);
		return 1;
	}
	if (npieces)
		printf("sleep-floor %.0f Hz and a read of %d pages: CPU %.3f%% "
		       "of one core, %.1f us per wake-up\n", hz, npieces,
		       100.0 * cpu / secs, 1e6 * cpu / (double)n);
	else
		printf("sleep-floor %.0f Hz: CPU %.3f%% of one core, %.1f us "
		       "per wake-up\n", hz, 100.0 * cpu / secs,
		       1e6 * cpu / (double)n);
	return 0;
}

/* loupe-bench spin-gaps PERIOD_US SECONDS: a thread that does nothing but
 * read the clock, counting the gaps between two readings longer than
 * PERIOD_US (interrupts, the hypervisor, other tasks).  A sampler that
 * spins between deadlines PERIOD_US apart misses at least the deadlines
 * inside those gaps, whatever its own work: tools/bench prints this
 * floor beside loupe's missed share at the top rate. */
int bench_spin_gaps(int argc, char **argv)
{
	double period_us = argc > 1 ? atof(argv[1]) : 5;
	double secs = argc > 2 ? atof(argv[2]) : 3;
	if (period_us <= 0 || period_us > 1e6 || secs <= 0 || secs > 3600) {
		fprintf(stderr, "usage: loupe-bench spin-gaps PERIOD_US SECONDS\n");
		return 2;
	}
	uint64_t period = (uint64_t)(period_us * 1000), start = bench_now_ns();
	uint64_t end = start + (uint64_t)(secs * 1e9), prev = start, gaps = 0;
	uint64_t lost = 0, missed = 0, longest = 0;
	for (uint64_t now = start; now < end; prev = now) {
		now = bench_now_ns();
		uint64_t gap = now - prev;
		if (gap < period)
			continue;
		gaps++;
		lost += gap;
		missed += gap / period;
		if (gap > longest)
			longest = gap;
	}
	double dur = (double)(prev - start);
	printf("spin-gaps %.0f us: %.0f gaps/s, %.2f%% of the time in them, "
	       "%.2f%% of %.0f kHz deadlines inside them, longest %.0f us\n",
	       period_us, (double)gaps / (dur / 1e9), 100.0 * (double)lost / dur,
	       100.0 * (double)missed * (double)period / dur, 1e6 / (double)period,
	       (double)longest / 1e3);
	return 0;
}

/* loupe-bench syscall-floor PID: what the calls every sample makes cost
 * on this machine, beside any work of loupe's own: a bare system call
 * (getppid), one process_vm_readv of 64 bytes from PID and one of eight
 * 64-byte iovecs.  tools/bench prints them beside the daemon's CPU per
 * sample: a sample of a Python stack is a handful of such reads. */
int bench_syscall_floor(int argc, char **argv)
{
	pid_t pid = argc > 1 ? (pid_t)atoi(argv[1]) : getpid();
	enum { N = 20000 };
	static char buf[8][64];
	struct iovec local[8], remote[8];
	for (int i = 0; i < 8; i++) {
		local[i].iov_base = buf[i];
		local[i].iov_len = 64;
		/* our own buffer when PID is ours */
		remote[i].iov_base = buf[i];
		remote[i].iov_len = 64;
	}
	if (pid != getpid()) {
		/* any readable address of the target: the start of its
		 * first mapping, from /proc/PID/maps */
		char path[64], line[256];
		snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
		FILE *f = fopen(path, "r");
		unsigned long lo = 0;
		if (!f || !fgets(line, sizeof line, f) || sscanf(line, "%lx", &lo) != 1) {
			fprintf(stderr, "syscall-floor: cannot read %s\n", path);
			if (f)
				fclose(f);
			return 1;
		}
		fclose(f);
		for (int i = 0; i < 8; i++)
			remote[i].iov_base = (void *)(lo + 64u * (unsigned)i);
	}
	uint64_t t[3];
	uint64_t s = bench_now_ns();
	for (int i = 0; i < N; i++)
		(void)syscall(SYS_getppid);
	t[0] = bench_now_ns() - s;
	s = bench_now_ns();
	for (int i = 0; i < N; i++)
		if (process_vm_readv(pid, local, 1, remote, 1, 0) != 64) {
			perror("syscall-floor: process_vm_readv");
			return 1;
		}
	t[1] = bench_now_ns() - s;
	s = bench_now_ns();
	for (int i = 0; i < N; i++)
		if (process_vm_readv(pid, local, 8, remote, 8, 0) != 512) {
			perror("syscall-floor: process_vm_readv");
			return 1;
		}
	t[2] = bench_now_ns() - s;
	printf("syscall-floor: syscall %.2f us, process_vm_readv 64 B %.2f us, "
	       "8 x 64 B in one call %.2f us\n", (double)t[0] / N / 1e3,
	       (double)t[1] / N / 1e3, (double)t[2] / N / 1e3);
	return 0;
}
