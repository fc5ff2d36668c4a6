/* Native stacks of a paused thread, unwound with libunwind through our own
 * accessors (memory through the target's reader, unwind tables cached per
 * module), so binaries without frame pointers unwind to main. */
#ifndef LOUPE_UNWIND_H
#define LOUPE_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target.h"

typedef struct unwinder unwinder;

int unwinder_new(unwinder **out, target *t);
void unwinder_free(unwinder *u);
/* Call after target_refresh_maps: drops cached tables of unmapped modules. */
void unwinder_maps_changed(unwinder *u);

/* Unwinds thread th, which must be paused (target_thread_pause).  ips[0] is
 * the leaf's pc; callers' return addresses follow as they are (the caller
 * decrements before symbol lookup).  *truncated is set when the walk ended
 * anywhere but the outermost frame (depth cap, bad read, no unwind info). */
int unwind_thread(unwinder *u, struct target_thread *th, uint64_t *ips,
		  size_t max, size_t *n, bool *truncated);

/* Registers of an x86-64 thread at a sample (those libunwind reads: the
 * callee-saved ones, SP, IP, and the rest for frames that save them). */
struct unwind_regs {
	uint64_t ax, bx, cx, dx, si, di, bp, sp, ip;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* Unwinds a thread that is not stopped, from a copy of its registers and
 * of its stack taken at one instant (a perf_event sample): the copy holds
 * [regs->sp, regs->sp + stack_len).  Same accessors and cached tables as
 * unwind_thread; a read past the copy falls back to live memory (the outer
 * frames, read once as one window).  No system call when the copy covers
 * the walk and the tables are warm. */
int unwind_from_snapshot(unwinder *u, const struct unwind_regs *regs,
			 const void *stack, size_t stack_len,
			 uint64_t *ips, size_t max, size_t *n,
			 bool *truncated);

/* The stack pointer of each frame of the last unwind, in the order of
 * its ips: frame i's locals lie in [sps[i], sps[i + 1]). */
const uint64_t *unwind_last_sps(const unwinder *u);

/* The bounds [start, end) of the function containing ip, from its module's
 * unwind table (its FDE): names a function where no symbol does. */
int unwind_proc_bounds(unwinder *u, uint64_t ip, uint64_t *start,
		       uint64_t *end);

/* Whether the calling thread is inside libunwind for one of our walks (see
 * profiler/unwind_sigmask.c, which is not part of libloupe.a). */
bool unwind_in_walk(void);

#endif
