/* Folds the stacks sampled during one stall into the few code paths that
 * held the loop: from the root, the deepest chain of functions that at
 * least half of the samples share; then the same over the samples that do
 * not run through it, while they are a large enough part of the stall. */
#ifndef LOUPE_FOLD_H
#define LOUPE_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Frames of a path shown, leaf-most (deeper callers are left out). */
#define FOLD_PATH_FRAMES 5

/* Paths found per stall at most, and the least share of the stall's
 * samples (in percent) a path after the first must hold. */
#define FOLD_MAX_PATHS 3
#define FOLD_MIN_SHARE 20

struct fold_path {
	uint32_t text;		/* string id in p: "caller → ... → callee
				 * (file:line)" */
	uint64_t held;		/* samples that run through its last function */
};

/* stacks[0..n) are stack ids of p.  Fills out[0..*nout), the dominant path
 * first; *nout is 0 when n is 0 or no function is shared by half the
 * samples.  LP_OK or LP_ENOMEM. */
int fold_stall(profile *p, const uint32_t *stacks, size_t n,
	       struct fold_path out[FOLD_MAX_PATHS], size_t *nout);

#endif
