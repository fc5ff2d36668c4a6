/* What loupe report reads: one .loupe recording, or a directory of the
 * daemon's windows (DIR/<name>-<pid>-<start>, or an older loupe's
 * DIR/<name>-<pid>), whose windows of a time range are merged into one
 * profile. */
#ifndef LOUPE_UI_REPORT_INPUT_H
#define LOUPE_UI_REPORT_INPUT_H

#include <stdbool.h>

#include "error.h"
#include "profile.h"

struct report_input {
	unsigned files;		/* recordings read */
	const char *truncated;	/* the last one that ended inside a record
				 * (NULL: none); points into a static copy */
	/* A directory whose windows are of more than one process (an older
	 * loupe named directories by PID only, so a reused PID shared one):
	 * how many, and their command lines "A; B" (static); 1 and NULL
	 * otherwise. */
	unsigned processes;
	const char *cmdlines;
};

/* Reads path into p: a file whatever since says, a directory's windows
 * that ended at most since_s seconds ago (0: all of them), oldest first.
 * A progress bar on stderr unless quiet.  LP_ENOTFOUND with a message for
 * a directory without windows in the range. */
int report_input_read(const char *path, double since_s, profile *p,
		      bool quiet, struct report_input *info, lp_error *err);

#endif
