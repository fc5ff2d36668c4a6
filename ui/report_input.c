/* loupe report's input: a recording or a directory of daemon windows. */
#include "report_input.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon_store.h"
#include "formats/formats.h"
#include "progress.h"

int report_input_read(const char *path, double since_s, profile *p,
		      bool quiet, struct report_input *info, lp_error *err)
{
	static char truncated[4096];
	struct stat st;
	struct raw_read_info ri;
	struct progress pg;
	info->files = 0;
	info->truncated = NULL;
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
		return lp_error_set(err, LP_ENOTFOUND, "%s holds no window%s (files named like 20261125T221500Z.loupe)",
				    path, since_s > 0 ? " that ended in that time" : "");
	}
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
			if (ri.truncated) {
				snprintf(truncated, sizeof truncated, "%s", w[i].path);
				info->truncated = truncated;
			}
		}
	}
	progress_end(&pg);
	store_counts_set(p, sums);
	store_windows_free(w, n);
	return rc;
}
