/* tracefs: where the kernel's tracepoints are described (their ids and the
 * layout of their raw records), mounted when it is not. */
#ifndef LOUPE_TRACEFS_H
#define LOUPE_TRACEFS_H

#include <stddef.h>

#include "error.h"

/* One field of a tracepoint's raw record, from its format file. */
struct tracefs_field {
	int offset;
	int size;
};

/* Finds the tracefs events directory into dir (".../events"): the usual
 * mount points first; as root, mounts tracefs at /sys/kernel/tracing when
 * none is mounted.  LP_ENOTFOUND / LP_EPERM with a message otherwise. */
int tracefs_find(char *dir, size_t len, lp_error *err);

/* The id of tracepoint SYSTEM/NAME (its "id" file), for perf_event_attr's
 * config. */
int tracefs_event_id(const char *dir, const char *system, const char *name,
		     int *id, lp_error *err);

/* Offset and size of the field called field of SYSTEM/NAME's raw record. */
int tracefs_field(const char *dir, const char *system, const char *name,
		  const char *field, struct tracefs_field *out, lp_error *err);

#endif
