/* loupe daemon's sampling backend over the engine: one sampler per target,
 * every one driven by the daemon's loop (daemon_backend.h's run), never
 * pausing a thread, one parsed-ELF cache for all. */
#ifndef LOUPE_UI_DAEMON_ENGINE_H
#define LOUPE_UI_DAEMON_ENGINE_H

#include "daemon_backend.h"
#include "error.h"

/* Fills be; LP_ENOMEM. */
int daemon_engine_backend(struct daemon_backend *be, lp_error *err);
/* Stops what is left and frees the backend (after daemon_free). */
void daemon_engine_free(struct daemon_backend *be);

#endif
