/* loupe report's input: a recording or a directory of daemon windows. */
#include "report_input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon_store.h"
#include "formats/formats.h"
#include "progress.h"

#define MAX_PROCESSES 8	/* processes of one directory told apart */

/* The processes a directory's windows were taken of: a window names its
 * process by PID and start time (and, before loupe wrote the start time,
 * by its command line). */
struct procs_seen {
	unsigned n;
	char id[MAX_PROCESSES][64];
	char cmdlines[4096];
};

static void note_process(struct procs_seen *ps, const profile *p)
{
	const char *pid = profile_meta(p, "target.pid");
	const char *start = profile_meta(p, "target.start_time");
	const char *cmd = profile_meta(p, "target.cmdline");
	char id[64];
	if (start && strcmp(start, "0") != 0)
		snprintf(id, sizeof id, "%s/%s", pid ? pid : "?", start);
	else	/* no start time: the command line tells them apart */
		snprintf(id, sizeof id, "%s//%.40s%zu", pid ? pid : "?", cmd ? cmd : "",
			 cmd ? strlen(cmd) : 0);
	for (unsigned i = 0; i < ps->n && i < MAX_PROCESSES; i++)
		if (strcmp(ps->id[i], id) == 0)
			return;
	if (ps->n < MAX_PROCESSES) {
		memcpy(ps->id[ps->n], id, sizeof id);
		size_t l = strlen(ps->cmdlines);
		snprintf(ps->cmdlines + l, sizeof ps->cmdlines - l, "%s%s", l ? "; " : "",
			 cmd && *cmd ? cmd : "?");
	}
	ps->n++;
}

/* For a directory without windows: one of its subdirectories that has
 * some (it is the daemon's store, not one of its targets), into buf. */
static bool store_example(const char *path, char *buf, size_t len)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	struct dirent *de;
	bool found = false;
	for (unsigned seen = 0; !found && (de = readdir(d)) && seen < 4096; seen++) {
		struct stat st;
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		char sub[4096];
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		struct store_window *w;
		size_t n;
		if (store_list(sub, 0, 0, &w, &n, NULL) == LP_OK && n) {
			snprintf(buf, len, "%s", sub);
			found = true;
		}
		store_windows_free(w, n);
	}
	closedir(d);
	return found;
}

int report_input_read(const char *path, double since_s, profile *p,
		      bool quiet, struct report_input *info, lp_error *err)
{
	static char truncated[4096];
	struct stat st;
	struct raw_read_info ri;
	struct progress pg;
	static struct procs_seen ps;
	info->files = 0;
	info->truncated = NULL;
	info->processes = 1;
	info->cmdlines = NULL;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		progress_init(&pg, "loupe report: reading", progress_file_size(path), quiet);
		int rc = raw_read_file_progress(path, p, &ri, progress_update, &pg, err);
		progress_end(&pg);
		if (rc == LP_OK) {
			info->files = 1;
			if (ri.truncated) {
				snprintf(truncated, sizeof truncated, "%s", path);
				info->truncated = truncated;
			}
		}
		return rc;
	}
	time_t since = since_s > 0 ? time(NULL) - (time_t)since_s : 0;
	struct store_window *w;
	size_t n;
	int rc = store_list(path, since, 0, &w, &n, err);
	if (rc)
		return rc;
	if (!n) {
		store_windows_free(w, n);
		char sub[4096];
		if (store_example(path, sub, sizeof sub))
			return lp_error_set(err, LP_ENOTFOUND, "%s holds no window itself: it is the daemon's store; report one of its targets' directories, e.g. %s",
					    path, sub);
		return lp_error_set(err, LP_ENOTFOUND, "%s holds no window%s (files named like 20261125T221500Z.loupe)",
				    path, since_s > 0 ? " that ended in that time" : "");
	}
	memset(&ps, 0, sizeof ps);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += w[i].size;
	uint64_t sums[STORE_NCOUNTS] = { 0 };
	progress_init(&pg, "loupe report: reading", total, quiet);
	for (size_t i = 0; i < n && rc == LP_OK; i++) {
		rc = raw_read_file_progress(w[i].path, p, &ri, progress_update, &pg, err);
		progress_next(&pg, w[i].size);
		if (rc == LP_OK) {
			info->files++;
			store_counts_add(p, sums);
			note_process(&ps, p);
			if (ri.truncated) {
				snprintf(truncated, sizeof truncated, "%s", w[i].path);
				info->truncated = truncated;
			}
		}
	}
	progress_end(&pg);
	store_counts_set(p, sums);
	store_windows_free(w, n);
	if (ps.n > 1) {
		info->processes = ps.n;
		info->cmdlines = ps.cmdlines;
	}
	return rc;
}
