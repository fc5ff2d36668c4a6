/* loupe report on a recording of several processes (--subprocesses): the
 * processes it holds, and one process's part of it (report -p PID). */
#ifndef LOUPE_UI_REPORT_PROCS_H
#define LOUPE_UI_REPORT_PROCS_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

struct report_proc {
	int32_t pid;
	const char *comm;	/* NULL when the recording names none */
	size_t nthreads;	/* threads with samples */
	uint64_t samples, cpu_samples, cpu_ns;
};

/* The processes of p (those of its aggregates, threads and spans), by
 * PID, in a malloc'ed array (caller frees).  LP_OK or LP_ENOMEM. */
int report_procs(const profile *p, struct report_proc **out, size_t *n);

/* Whether pid is among procs. */
int report_has_pid(const struct report_proc *procs, size_t n, int32_t pid);

/* "100, 101, 102" into buf (cut with "..." when too long). */
void report_pid_list(const struct report_proc *procs, size_t n, char *buf,
		     size_t len);

/* A copy of p with only pid's samples (its timeline when p keeps one,
 * else its aggregates), threads and spans, and all of p's metadata; NULL
 * when out of memory. */
profile *report_select_pid(const profile *p, int32_t pid);

/* The processes table of the summary, on stdout. */
void report_print_procs(const struct report_proc *procs, size_t n,
			uint64_t total_wall);

#endif
