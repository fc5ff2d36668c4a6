/* The interim sampling backend of loupe daemon: a 'loupe record' child per
 * target (daemon_spawn.c says what it cannot do). */
#ifndef LOUPE_UI_DAEMON_SPAWN_H
#define LOUPE_UI_DAEMON_SPAWN_H

#include "daemon_backend.h"

void daemon_spawn_backend(struct daemon_backend *be);

#endif
