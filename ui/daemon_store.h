/* The daemon's recordings on disk: DIR/<name>-<pid>/<UTC start>.loupe, one
 * raw recording per window (e.g. 20261125T221500Z.loupe), directories
 * closed to other users, retention by age and total size. */
#ifndef LOUPE_UI_DAEMON_STORE_H
#define LOUPE_UI_DAEMON_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"
#include "profile.h"

#define STORE_DIR_MODE 0750	/* the tree: the owner and its group only */
#define STORE_WINDOW_NAME_LEN 23	/* "YYYYMMDDTHHMMSSZ.loupe" + NUL */
#define STORE_MAX_WINDOWS (1u << 20)	/* files looked at in one listing */

struct store_window {
	char *path;
	time_t start;		/* from the name */
	time_t end;		/* last modification: when it was closed */
	uint64_t size;
};

/* A window's own counts, in its metadata ("samples", "missed",
 * "duration_ns", "ticks"): a merge of windows holds their sums.  Add each
 * window's after reading it (its metadata then replaces the merge's),
 * set the sums at the end (only the keys the merge holds). */
#define STORE_NCOUNTS 4
void store_counts_add(const profile *p, uint64_t sums[STORE_NCOUNTS]);
void store_counts_set(profile *p, const uint64_t sums[STORE_NCOUNTS]);

/* Creates dir (and missing parents) with STORE_DIR_MODE; an existing dir
 * must be a directory that other users cannot write. */
int store_init(const char *dir, lp_error *err);
/* DIR/<name>-<pid>, created with STORE_DIR_MODE; *out malloc'd. */
int store_target_dir(const char *dir, const char *name, pid_t pid,
		     char **out, lp_error *err);
/* "20261125T221500Z.loupe" for start (UTC) into buf (at least
 * STORE_WINDOW_NAME_LEN bytes). */
void store_window_name(time_t start, char *buf, size_t len);
/* The start of a window file name; -1 for any other name (temporaries,
 * other files). */
int store_window_start(const char *fname, time_t *start);

/* The windows of target_dir that overlap [since, until] (end >= since and
 * start <= until; since 0 / until 0: no bound), oldest first.  *out and
 * each path are malloc'd: store_windows_free. */
int store_list(const char *target_dir, time_t since, time_t until,
	       struct store_window **out, size_t *n, lp_error *err);
void store_windows_free(struct store_window *w, size_t n);

struct store_retention {
	unsigned removed;	/* windows deleted */
	uint64_t removed_bytes;
	uint64_t kept_bytes;	/* what the tree holds after */
	unsigned kept;
};
/* Deletes windows that ended more than max_age_s before now (0: no age
 * limit), then the oldest windows across all targets until the total is
 * at most max_bytes (0: no size limit); removes target directories left
 * empty, except those named in keep (the live targets').  r may be NULL. */
int store_retain(const char *dir, time_t now, double max_age_s,
		 uint64_t max_bytes, const char *const *keep, size_t nkeep,
		 struct store_retention *r, lp_error *err);

/* Total bytes of window files under dir (ctl status). */
uint64_t store_usage(const char *dir);

#endif
