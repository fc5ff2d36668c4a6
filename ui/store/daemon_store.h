/* The daemon's recordings on disk: DIR/<name>-<pid>-<start>/<UTC start>.loupe,
 * one raw recording per window (e.g. t-4242-81234/20261125T221500Z.loupe),
 * where <start> is the process's start time (/proc/PID/stat field 22, clock
 * ticks after boot), so that a reused PID is another directory.
 * Directories closed to other users, retention by age and total size.
 *
 * The daemon's side (store_open ...) works through one directory fd of DIR,
 * opened once: every name under it is opened relative to that fd with
 * O_NOFOLLOW, modes are set with fchmod on such an fd, deletions are
 * unlinkat's, so a link planted in DIR is refused, never followed. */
#ifndef LOUPE_UI_DAEMON_STORE_H
#define LOUPE_UI_DAEMON_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"
#include "profile.h"

#define STORE_DIR_MODE 0750	/* the tree: the owner and its group only */
#define STORE_FILE_MODE 0640	/* a window */
#define STORE_WINDOW_NAME_LEN 23	/* "YYYYMMDDTHHMMSSZ.loupe" + NUL */
#define STORE_TARGET_NAME_MAX 128	/* "<name>-<pid>-<start>" + NUL */
#define STORE_MAX_WINDOWS (1u << 20)	/* files looked at in one listing */
#define STORE_TMP_STALE_S 60	/* a window's temporary older than this was
				 * left by a killed daemon */

struct store_window {
	char *path;
	time_t start;		/* from the name */
	time_t end;		/* last modification: when it was closed */
	uint64_t size;
	size_t target;		/* store_retain's: its directory's index */
};

/* A window's own counts, in its metadata ("samples", "missed",
 * "duration_ns", "ticks"): a merge of windows holds their sums.  Add each
 * window's after reading it (its metadata then replaces the merge's),
 * set the sums at the end (only the keys the merge holds). */
#define STORE_NCOUNTS 4
void store_counts_add(const profile *p, uint64_t sums[STORE_NCOUNTS]);
void store_counts_set(profile *p, const uint64_t sums[STORE_NCOUNTS]);

typedef struct store store;

/* Opens dir, creating it (and missing parents) with STORE_DIR_MODE.  dir
 * must be a directory (not a link to one) owned by root or by us, and not
 * writable by group or others unless sticky (as /tmp); one of ours that
 * others may read or enter is closed to them (fchmod).  Otherwise a
 * one-line error that names the fix. */
int store_open(store **out, const char *dir, lp_error *err);
void store_free(store *s);
const char *store_path(const store *s);
/* Windows refused or failed since store_open (a link in place of a
 * directory, a full disk...): each was also reported as an error. */
uint64_t store_errors(const store *s);

/* "<name>-<pid>-<start_time>" for a target, name made a safe file name
 * (never hidden, never "..", at most 64 bytes of it), into buf (at least
 * STORE_TARGET_NAME_MAX bytes). */
void store_target_name(const char *name, pid_t pid, uint64_t start_time,
		       char *buf, size_t len);
/* Creates DIR/<store_target_name> with STORE_DIR_MODE, or takes the one
 * there when it is a directory of ours (a restarted daemon); refuses a
 * link or another user's.  *out: its path, malloc'd. */
int store_target_dir(store *s, const char *name, pid_t pid,
		     uint64_t start_time, char **out, lp_error *err);

/* A window file being written: a temporary beside it, renamed into place
 * on commit.  All relative to the target directory's fd, never through a
 * link. */
typedef struct store_file {
	FILE *fp;
	int dirfd;
	char name[STORE_WINDOW_NAME_LEN];
	char tmp[STORE_WINDOW_NAME_LEN + 32];
	const char *path;	/* for messages: DIR/<target>/<name> */
	char path_buf[4096 + STORE_TARGET_NAME_MAX + STORE_WINDOW_NAME_LEN];
} store_file;
/* Begins window start of target (its directory's name under the store,
 * as store_target_dir made it).  On failure (a link planted in place of
 * the directory...) counted in store_errors, and f is not open. */
int store_window_open(store *s, const char *target, time_t start,
		      store_file *f, lp_error *err);
/* Flushes, fsyncs and renames it into place; closes f either way. */
int store_window_commit(store *s, store_file *f, lp_error *err);
/* Removes the temporary; closes f. */
void store_window_abort(store_file *f);

/* "20261125T221500Z.loupe" for start (UTC) into buf (at least
 * STORE_WINDOW_NAME_LEN bytes). */
void store_window_name(time_t start, char *buf, size_t len);
/* The start of a window file name; -1 for any other name (temporaries,
 * other files). */
int store_window_start(const char *fname, time_t *start);

/* The windows of target_dir (a path: loupe report DIR, which may name a
 * link; the windows in it must be regular files, not links) that overlap [since, until]
 * (end >= since and start <= until; since 0 / until 0: no bound), oldest
 * first.  *out and each path are malloc'd: store_windows_free. */
int store_list(const char *target_dir, time_t since, time_t until,
	       struct store_window **out, size_t *n, lp_error *err);
/* The same for a target of the store (its directory's name). */
int store_list_target(store *s, const char *target, time_t since,
		      time_t until, struct store_window **out, size_t *n,
		      lp_error *err);
void store_windows_free(struct store_window *w, size_t n);

struct store_retention {
	unsigned removed;	/* windows deleted */
	uint64_t removed_bytes;
	uint64_t kept_bytes;	/* what the tree holds after */
	unsigned kept;
	unsigned temporaries;	/* stale ones removed */
};
/* Deletes windows that ended more than max_age_s before now (0: no age
 * limit), then the oldest windows across all targets until the total is
 * at most max_bytes (0: no size limit); removes target directories left
 * empty, except those named in keep (the live targets': names or paths,
 * by their last component).  Also removes the windows' temporaries left
 * by a killed daemon (last written STORE_TMP_STALE_S before now).  Only directories of ours are looked in
 * (others' in a sticky DIR are theirs).  r may be NULL. */
int store_retain(store *s, time_t now, double max_age_s, uint64_t max_bytes,
		 const char *const *keep, size_t nkeep,
		 struct store_retention *r, lp_error *err);

/* Total bytes of window files in the store's directories (ctl status). */
uint64_t store_usage(store *s);

#endif
