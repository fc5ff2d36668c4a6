/* loupe record --mode memory (ui/cmd_record_memory.c). */
#ifndef LOUPE_UI_RECORD_MEMORY_H
#define LOUPE_UI_RECORD_MEMORY_H

#include "options.h"

/* Called by cmd_record once options are parsed; the exit status. */
int record_memory(struct cli_opts *o);

#endif
