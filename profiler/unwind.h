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

/* The stack pointer of each frame of the last unwind_thread, in the order of
 * its ips: frame i's locals lie in [sps[i], sps[i + 1]). */
const uint64_t *unwind_last_sps(const unwinder *u);

/* The bounds [start, end) of the function containing ip, from its module's
 * unwind table (its FDE): names a function where no symbol does. */
int unwind_proc_bounds(unwinder *u, uint64_t ip, uint64_t *start,
		       uint64_t *end);

#endif
