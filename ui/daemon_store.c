/* The daemon's window files: naming, listing, retention.  Only names of
 * the exact form YYYYMMDDTHHMMSSZ.loupe are windows; anything else in the
 * tree (the raw writer's temporaries, a user's notes) is never listed nor
 * deleted. */
#include "daemon_store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_dir(const char *dir, lp_error *err)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return lp_error_set(err, lp_from_errno(errno), "cannot use %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return lp_error_set(err, LP_EINVAL, "%s is not a directory", dir);
	if (st.st_uid == geteuid()) {
		/* ours: close it to other users if someone opened it */
		if ((st.st_mode & 0027) && chmod(dir, st.st_mode & 0750) != 0)
			return lp_error_set(err, lp_from_errno(errno), "cannot restrict %s to mode 0750: %s",
					    dir, strerror(errno));
	} else if (st.st_mode & 0002) {
		return lp_error_set(err, LP_EPERM, "%s is writable by every user and not ours: choose another dir", dir);
	}
	return LP_OK;
}

static int make_dir(const char *dir, mode_t mode, lp_error *err)
{
	if (mkdir(dir, mode) == 0) {
		/* mkdir's mode goes through the umask: set it exactly */
		if (chmod(dir, mode) != 0)
			return lp_error_set(err, lp_from_errno(errno), "cannot set the mode of %s: %s", dir, strerror(errno));
		return LP_OK;
	}
	if (errno != EEXIST)
		return lp_error_set(err, lp_from_errno(errno), "cannot create %s: %s", dir, strerror(errno));
	return check_dir(dir, err);
}

int store_init(const char *dir, lp_error *err)
{
	if (!*dir)
		return lp_error_set(err, LP_EINVAL, "empty recordings directory");
	char *p = strdup(dir);
	if (!p)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	/* missing parents as mkdir -p makes them (0755): only the leaf is
	 * the store */
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			return lp_error_set(err, lp_from_errno(e), "cannot create %s: %s", dir, strerror(e));
		}
		*s = '/';
	}
	free(p);
	return make_dir(dir, STORE_DIR_MODE, err);
}

int store_target_dir(const char *dir, const char *name, pid_t pid,
		     char **out, lp_error *err)
{
	/* a command name may hold anything: keep it to a safe file name */
	char safe[65];
	size_t i = 0;
	for (; name[i] && i < sizeof safe - 1; i++) {
		char ch = name[i];
		safe[i] = isalnum((unsigned char)ch) || ch == '_' || ch == '-' || ch == '.' ? ch : '_';
	}
	safe[i] = '\0';
	if (!i)
		safe[i++] = '_', safe[i] = '\0';
	if (safe[0] == '.')
		safe[0] = '_';	/* never a hidden (or "..") directory */
	if (asprintf(out, "%s/%s-%d", dir, safe, (int)pid) < 0) {
		*out = NULL;
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	int rc = make_dir(*out, STORE_DIR_MODE, err);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

void store_window_name(time_t start, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&start, &tm);
	if (!strftime(buf, len, "%Y%m%dT%H%M%SZ.loupe", &tm) && len)
		buf[0] = '\0';
}

int store_window_start(const char *fname, time_t *start)
{
	/* exactly 8 digits, T, 6 digits, Z.loupe */
	if (strlen(fname) != STORE_WINDOW_NAME_LEN - 1 || fname[8] != 'T' ||
	    strcmp(fname + 15, "Z.loupe") != 0)
		return -1;
	for (int i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)fname[i]))
			return -1;
	struct tm tm = { 0 };
	int y, mo, d, h, mi, s;
	if (sscanf(fname, "%4d%2d%2dT%2d%2d%2d", &y, &mo, &d, &h, &mi, &s) != 6)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	*start = timegm(&tm);
	return 0;
}

void store_windows_free(struct store_window *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].path);
	free(w);
}

/* Appends the windows of one directory to a growing array. */
static int collect(const char *dirpath, time_t since, time_t until,
		   struct store_window **w, size_t *n, size_t *cap, lp_error *err)
{
	DIR *d = opendir(dirpath);
	if (!d)
		return lp_error_set(err, lp_from_errno(errno), "cannot list %s: %s", dirpath, strerror(errno));
	struct dirent *de;
	int rc = LP_OK;
	for (unsigned seen = 0; (de = readdir(d)) && seen < STORE_MAX_WINDOWS; seen++) {
		time_t start;
		if (store_window_start(de->d_name, &start) != 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		time_t end = st.st_mtime > start ? st.st_mtime : start;
		if ((since && end < since) || (until && start > until))
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 32;
			struct store_window *nw = realloc(*w, nc * sizeof *nw);
			if (!nw) {
				rc = lp_error_set(err, LP_ENOMEM, "out of memory");
				break;
			}
			*w = nw;
			*cap = nc;
		}
		struct store_window *x = &(*w)[*n];
		if (asprintf(&x->path, "%s/%s", dirpath, de->d_name) < 0) {
			rc = lp_error_set(err, LP_ENOMEM, "out of memory");
			break;
		}
		x->start = start;
		x->end = end;
		x->size = (uint64_t)st.st_size;
		(*n)++;
	}
	closedir(d);
	return rc;
}

static int cmp_start(const void *a, const void *b)
{
	const struct store_window *x = a, *y = b;
	if (x->start != y->start)
		return (x->start > y->start) - (x->start < y->start);
	return strcmp(x->path, y->path);
}

static int cmp_end(const void *a, const void *b)
{
	const struct store_window *x = a, *y = b;
	if (x->end != y->end)
		return (x->end > y->end) - (x->end < y->end);
	return cmp_start(a, b);
}

int store_list(const char *target_dir, time_t since, time_t until,
	       struct store_window **out, size_t *n, lp_error *err)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	int rc = collect(target_dir, since, until, out, n, &cap, err);
	if (rc) {
		store_windows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	if (*n)
		qsort(*out, *n, sizeof **out, cmp_start);
	return LP_OK;
}

/* Every window of every target directory under dir. */
static int collect_all(const char *dir, struct store_window **w, size_t *n,
		       char ***subdirs, size_t *nsub, lp_error *err)
{
	size_t cap = 0, subcap = 0;
	*w = NULL;
	*n = 0;
	*subdirs = NULL;
	*nsub = 0;
	DIR *d = opendir(dir);
	if (!d)
		return lp_error_set(err, lp_from_errno(errno), "cannot list %s: %s", dir, strerror(errno));
	struct dirent *de;
	int rc = LP_OK;
	for (unsigned seen = 0; (de = readdir(d)) && seen < STORE_MAX_WINDOWS; seen++) {
		if (de->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		char *sub;
		if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0) {
			rc = lp_error_set(err, LP_ENOMEM, "out of memory");
			break;
		}
		if (*nsub == subcap) {
			size_t nc = subcap ? subcap * 2 : 16;
			char **ns = realloc(*subdirs, nc * sizeof *ns);
			if (!ns) {
				free(sub);
				rc = lp_error_set(err, LP_ENOMEM, "out of memory");
				break;
			}
			*subdirs = ns;
			subcap = nc;
		}
		(*subdirs)[(*nsub)++] = sub;
		rc = collect(sub, 0, 0, w, n, &cap, err);
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

static bool kept(const char *path, const char *const *keep, size_t nkeep)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < nkeep; i++) {
		const char *k = strrchr(keep[i], '/');
		k = k ? k + 1 : keep[i];
		if (strcmp(base, k) == 0)
			return true;
	}
	return false;
}

int store_retain(const char *dir, time_t now, double max_age_s,
		 uint64_t max_bytes, const char *const *keep, size_t nkeep,
		 struct store_retention *r, lp_error *err)
{
	struct store_retention res = { 0 };
	struct store_window *w;
	size_t n, nsub;
	char **subs;
	int rc = collect_all(dir, &w, &n, &subs, &nsub, err);
	if (rc == LP_OK) {
		if (n)
			qsort(w, n, sizeof *w, cmp_end);
		uint64_t total = 0;
		for (size_t i = 0; i < n; i++)
			total += w[i].size;
		for (size_t i = 0; i < n; i++) {
			bool old = max_age_s > 0 && (double)(now - w[i].end) > max_age_s;
			bool over = max_bytes && total > max_bytes;
			if (!old && !over) {
				res.kept++;
				continue;
			}
			if (unlink(w[i].path) != 0 && errno != ENOENT) {
				res.kept++;	/* counted, tried again next time */
				continue;
			}
			total -= w[i].size;
			res.removed++;
			res.removed_bytes += w[i].size;
		}
		res.kept_bytes = total;
		for (size_t i = 0; i < nsub; i++)
			if (!kept(subs[i], keep, nkeep))
				rmdir(subs[i]);	/* only succeeds when empty */
	}
	store_windows_free(w, n);
	for (size_t i = 0; i < nsub; i++)
		free(subs[i]);
	free(subs);
	if (r)
		*r = res;
	return rc;
}

uint64_t store_usage(const char *dir)
{
	struct store_window *w;
	size_t n, nsub;
	char **subs;
	uint64_t total = 0;
	if (collect_all(dir, &w, &n, &subs, &nsub, NULL) == LP_OK)
		for (size_t i = 0; i < n; i++)
			total += w[i].size;
	store_windows_free(w, n);
	for (size_t i = 0; i < nsub; i++)
		free(subs[i]);
	free(subs);
	return total;
}

static const char *const counted[STORE_NCOUNTS] = {
	"samples", "missed", "duration_ns", "ticks",
};

void store_counts_add(const profile *p, uint64_t sums[STORE_NCOUNTS])
{
	for (size_t k = 0; k < STORE_NCOUNTS; k++) {
		const char *v = profile_meta(p, counted[k]);
		if (v)
			sums[k] += strtoull(v, NULL, 10);
	}
}

void store_counts_set(profile *p, const uint64_t sums[STORE_NCOUNTS])
{
	for (size_t k = 0; k < STORE_NCOUNTS; k++) {
		char buf[32];
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)sums[k]);
		if (profile_meta(p, counted[k]))
			profile_set_meta(p, counted[k], buf);
	}
}
