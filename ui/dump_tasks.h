/* loupe dump --tasks / --format json: the asyncio task tree and the
 * threads' stacks, as text (like `python -m asyncio pstree`) or JSON. */
#ifndef LOUPE_UI_DUMP_TASKS_H
#define LOUPE_UI_DUMP_TASKS_H

#include <stdbool.h>

#include "profile.h"
#include "sampler.h"
#include "target.h"

/* Takes one snapshot and prints it; returns the exit status. */
int dump_tasks(sampler *s, target *t, profile *p, bool tasks, bool json);

#endif
