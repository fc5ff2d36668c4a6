/* The daemon's window files: naming, writing, listing, retention, all
 * relative to the store's directory fd (OpenSSH's safe_path and git's
 * lockfiles do the same).  Only names of the exact form
 * YYYYMMDDTHHMMSSZ.loupe are windows; anything else in the tree (the
 * writer's temporaries, a user's notes) is never listed nor deleted. */
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

struct store {
	int fd;			/* DIR, opened once: every name is under it */
	char *path;		/* for messages */
	uint64_t errors;
};

/* Why name (under dirfd) could not be opened as a directory, for a
 * message.  O_NOFOLLOW | O_DIRECTORY on a link fails with ENOTDIR (or
 * ELOOP): a link is named as such. */
static const char *open_why(int e, int dirfd, const char *name)
{
	struct stat st;
	if (e == ELOOP || (e == ENOTDIR && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			   S_ISLNK(st.st_mode)))
		return "it is a symbolic link (not followed)";
	if (e == ENOTDIR)
		return "it is not a directory";
	return strerror(e);
}

static int open_code(int e)
{
	return e == ELOOP || e == ENOTDIR ? LP_EPERM : lp_from_errno(e);
}

/* The store's rule for its own directory (OpenSSH's safe_path asks the
 * same): root's or ours, and nobody else may add or rename entries in it
 * (a sticky directory only lets them do so with their own). */
static int check_store_dir(int fd, const char *dir, bool created, lp_error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return lp_error_set(err, lp_from_errno(errno), "cannot use %s: %s", dir, strerror(errno));
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return lp_error_set(err, LP_EPERM,
				    "%s belongs to uid %u, who could plant links in it: chown root %s, or choose another dir",
				    dir, (unsigned)st.st_uid, dir);
	if ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX))
		return lp_error_set(err, LP_EPERM,
				    "%s is writable by other users, who could plant links in it: chmod go-w %s, or choose another dir",
				    dir, dir);
	mode_t want = st.st_mode & 07777;
	if (created)
		want = STORE_DIR_MODE;	/* mkdir's mode went through the umask */
	else if (st.st_uid == geteuid() && !(st.st_mode & S_ISVTX))
		want &= ~(mode_t)0027;	/* ours: close it to other users */
	if (want != (st.st_mode & 07777) && fchmod(fd, want) != 0)
		return lp_error_set(err, lp_from_errno(errno), "cannot restrict %s to mode %04o: %s",
				    dir, (unsigned)want, strerror(errno));
	return LP_OK;
}

int store_open(store **out, const char *dir, lp_error *err)
{
	*out = NULL;
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
	/* "DIR/" would follow a link: the name without trailing slashes */
	for (size_t l = strlen(p); l > 1 && p[l - 1] == '/'; l--)
		p[l - 1] = '\0';
	bool created = mkdir(p, STORE_DIR_MODE) == 0;
	if (!created && errno != EEXIST) {
		int e = errno;
		free(p);
		return lp_error_set(err, lp_from_errno(e), "cannot create %s: %s", dir, strerror(e));
	}
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		const char *why = open_why(e, AT_FDCWD, p);
		free(p);
		return lp_error_set(err, open_code(e), "cannot use %s as the recordings directory: %s%s",
				    dir, why, strstr(why, "link") ? ": give the directory itself" : "");
	}
	int rc = check_store_dir(fd, dir, created, err);
	store *s = rc ? NULL : calloc(1, sizeof *s);
	if (!rc && !s)
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
	if (rc) {
		close(fd);
		free(p);
		return rc;
	}
	s->fd = fd;
	s->path = p;
	*out = s;
	return LP_OK;
}

void store_free(store *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s->path);
	free(s);
}

const char *store_path(const store *s)
{
	return s->path;
}

uint64_t store_errors(const store *s)
{
	return s->errors;
}

void store_target_name(const char *name, pid_t pid, uint64_t start_time,
		       char *buf, size_t len)
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
	snprintf(buf, len, "%s-%d-%llu", safe, (int)pid, (unsigned long long)start_time);
}

/* Opens target under the store into *fd, never through a link, and
 * checks it is a directory of ours; counted in errors otherwise. */
static int open_target(store *s, const char *target, const char *what, int *fd,
		       lp_error *err)
{
	*fd = openat(s->fd, target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;
		s->errors++;
		return lp_error_set(err, open_code(e), "cannot %s %s/%s: %s", what, s->path, target,
				    open_why(e, s->fd, target));
	}
	struct stat st;
	int e = fstat(*fd, &st) != 0 ? errno : 0;
	if (e || st.st_uid != geteuid()) {
		close(*fd);
		*fd = -1;
		s->errors++;
		if (e)
			return lp_error_set(err, lp_from_errno(e), "cannot %s %s/%s: %s", what, s->path,
					    target, strerror(e));
		return lp_error_set(err, LP_EPERM, "cannot %s %s/%s: it belongs to uid %u, not to us",
				    what, s->path, target, (unsigned)st.st_uid);
	}
	return LP_OK;
}

int store_target_dir(store *s, const char *name, pid_t pid,
		     uint64_t start_time, char **out, lp_error *err)
{
	char target[STORE_TARGET_NAME_MAX];
	store_target_name(name, pid, start_time, target, sizeof target);
	*out = NULL;
	if (mkdirat(s->fd, target, STORE_DIR_MODE) != 0 && errno != EEXIST) {
		s->errors++;
		return lp_error_set(err, lp_from_errno(errno), "cannot create %s/%s: %s",
				    s->path, target, strerror(errno));
	}
	int fd, rc = open_target(s, target, "use", &fd, err);
	if (rc)
		return rc;
	/* mkdirat's mode went through the umask, and an old one may have
	 * been opened: set it exactly, on the fd */
	struct stat st;
	if (fstat(fd, &st) != 0 ||
	    ((st.st_mode & 07777) != STORE_DIR_MODE && fchmod(fd, STORE_DIR_MODE) != 0)) {
		int e = errno;
		close(fd);
		s->errors++;
		return lp_error_set(err, lp_from_errno(e), "cannot set the mode of %s/%s: %s",
				    s->path, target, strerror(e));
	}
	close(fd);
	if (asprintf(out, "%s/%s", s->path, target) < 0) {
		*out = NULL;
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	return LP_OK;
}

int store_window_open(store *s, const char *target, time_t start,
		      store_file *f, lp_error *err)
{
	memset(f, 0, sizeof *f);
	f->dirfd = -1;
	store_window_name(start, f->name, sizeof f->name);
	snprintf(f->tmp, sizeof f->tmp, "%s.tmp.%ld", f->name, (long)getpid());
	snprintf(f->path_buf, sizeof f->path_buf, "%s/%s/%s", s->path, target, f->name);
	f->path = f->path_buf;
	char what[64];
	snprintf(what, sizeof what, "write window %s in", f->name);
	int rc = open_target(s, target, what, &f->dirfd, err);
	if (rc)
		return rc;
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(f->dirfd, f->tmp, flags, STORE_FILE_MODE);
	if (fd < 0 && errno == EEXIST) {
		/* left by a killed daemon whose pid we now hold: ours */
		unlinkat(f->dirfd, f->tmp, 0);
		fd = openat(f->dirfd, f->tmp, flags, STORE_FILE_MODE);
	}
	if (fd < 0 || !(f->fp = fdopen(fd, "w"))) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
			unlinkat(f->dirfd, f->tmp, 0);
		}
		close(f->dirfd);
		f->dirfd = -1;
		s->errors++;
		return lp_error_set(err, lp_from_errno(e), "cannot write %s: %s", f->path, strerror(e));
	}
	return LP_OK;
}

int store_window_commit(store *s, store_file *f, lp_error *err)
{
	int e = 0, rc = LP_OK;
	errno = 0;
	if (fflush(f->fp) != 0 || ferror(f->fp))
		e = errno ? errno : EIO;
	if (!e && fsync(fileno(f->fp)) != 0)
		e = errno;
	if (fclose(f->fp) != 0 && !e)
		e = errno ? errno : EIO;
	f->fp = NULL;
	/* within the directory we opened: a name of ours in it is replaced
	 * (a link there too, never what it points at) */
	if (!e && renameat(f->dirfd, f->tmp, f->dirfd, f->name) != 0)
		e = errno;
	if (e) {
		unlinkat(f->dirfd, f->tmp, 0);
		s->errors++;
		rc = lp_error_set(err, lp_from_errno(e), "cannot write %s: %s", f->path, strerror(e));
	} else {
		fsync(f->dirfd);	/* the rename, durable; best effort */
	}
	close(f->dirfd);
	f->dirfd = -1;
	return rc;
}

void store_window_abort(store_file *f)
{
	if (f->fp)
		fclose(f->fp);
	f->fp = NULL;
	if (f->dirfd >= 0) {
		unlinkat(f->dirfd, f->tmp, 0);
		close(f->dirfd);
	}
	f->dirfd = -1;
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

/* Whether fname is a window's temporary ("<window>.tmp.<pid>"). */
static bool is_temporary(const char *fname)
{
	size_t l = STORE_WINDOW_NAME_LEN - 1;
	char win[STORE_WINDOW_NAME_LEN];
	time_t start;
	if (strlen(fname) <= l + 5 || strncmp(fname + l, ".tmp.", 5) != 0)
		return false;
	memcpy(win, fname, l);
	win[l] = '\0';
	if (store_window_start(win, &start) != 0)
		return false;
	for (const char *p = fname + l + 5; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

/* Appends the windows of the directory open at fd (closed here), named
 * prefix in paths, to a growing array.  With sweep (a time), removes the
 * temporaries last written before it: a window is written in one go, so
 * an old one was left by a daemon killed while writing. */
static int collect(int fd, const char *prefix, size_t target, time_t since,
		   time_t until, struct store_window **w, size_t *n, size_t *cap,
		   time_t sweep, unsigned *swept, lp_error *err)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return lp_error_set(err, lp_from_errno(e), "cannot list %s: %s", prefix, strerror(e));
	}
	struct dirent *de;
	int rc = LP_OK;
	for (unsigned seen = 0; (de = readdir(d)) && seen < STORE_MAX_WINDOWS; seen++) {
		time_t start;
		struct stat st;
		if (sweep && is_temporary(de->d_name) &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_mtime < sweep && unlinkat(dirfd(d), de->d_name, 0) == 0) {
			(*swept)++;
			continue;
		}
		if (store_window_start(de->d_name, &start) != 0)
			continue;
		/* a window is a regular file: a link is never read nor
		 * counted */
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
		if (asprintf(&x->path, "%s/%s", prefix, de->d_name) < 0) {
			rc = lp_error_set(err, LP_ENOMEM, "out of memory");
			break;
		}
		x->start = start;
		x->end = end;
		x->size = (uint64_t)st.st_size;
		x->target = target;
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

/* The windows of the directory open at fd, sorted by start. */
static int list_fd(int fd, const char *prefix, time_t since, time_t until,
		   struct store_window **out, size_t *n, lp_error *err)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	int rc = collect(fd, prefix, 0, since, until, out, n, &cap, 0, NULL, err);
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

int store_list(const char *target_dir, time_t since, time_t until,
	       struct store_window **out, size_t *n, lp_error *err)
{
	*out = NULL;
	*n = 0;
	int fd = open(target_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return lp_error_set(err, lp_from_errno(errno), "cannot list %s: %s", target_dir,
				    strerror(errno));
	return list_fd(fd, target_dir, since, until, out, n, err);
}

int store_list_target(store *s, const char *target, time_t since,
		      time_t until, struct store_window **out, size_t *n,
		      lp_error *err)
{
	*out = NULL;
	*n = 0;
	char prefix[4096 + STORE_TARGET_NAME_MAX];
	snprintf(prefix, sizeof prefix, "%s/%s", s->path, target);
	int fd, rc = open_target(s, target, "list", &fd, err);
	if (rc)
		return rc;
	return list_fd(fd, prefix, since, until, out, n, err);
}

/* Every window of every target directory of ours in the store; *subdirs:
 * their names (a window's target indexes them).  sweep: as collect's. */
static int collect_all(store *s, struct store_window **w, size_t *n,
		       char ***subdirs, size_t *nsub, time_t sweep,
		       unsigned *swept, lp_error *err)
{
	size_t cap = 0, subcap = 0;
	*w = NULL;
	*n = 0;
	*subdirs = NULL;
	*nsub = 0;
	/* a description of its own: readdir's position is not s->fd's */
	int fd = openat(s->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return lp_error_set(err, lp_from_errno(e), "cannot list %s: %s", s->path, strerror(e));
	}
	struct dirent *de;
	int rc = LP_OK;
	uid_t me = geteuid();
	for (unsigned seen = 0; (de = readdir(d)) && seen < STORE_MAX_WINDOWS; seen++) {
		if (de->d_name[0] == '.')
			continue;
		/* our directories only: a link is not one, and another
		 * user's (in a sticky DIR) is theirs to keep */
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode) || st.st_uid != me)
			continue;
		int sfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			continue;
		char *sub = strdup(de->d_name), *prefix = NULL;
		if (!sub || asprintf(&prefix, "%s/%s", s->path, sub) < 0) {
			free(sub);
			close(sfd);
			rc = lp_error_set(err, LP_ENOMEM, "out of memory");
			break;
		}
		if (*nsub == subcap) {
			size_t nc = subcap ? subcap * 2 : 16;
			char **ns = realloc(*subdirs, nc * sizeof *ns);
			if (!ns) {
				free(sub);
				free(prefix);
				close(sfd);
				rc = lp_error_set(err, LP_ENOMEM, "out of memory");
				break;
			}
			*subdirs = ns;
			subcap = nc;
		}
		(*subdirs)[(*nsub)++] = sub;
		rc = collect(sfd, prefix, *nsub - 1, 0, 0, w, n, &cap, sweep, swept, err);
		free(prefix);
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

static bool kept(const char *name, const char *const *keep, size_t nkeep)
{
	for (size_t i = 0; i < nkeep; i++) {
		const char *k = strrchr(keep[i], '/');
		k = k ? k + 1 : keep[i];
		if (strcmp(name, k) == 0)
			return true;
	}
	return false;
}

/* Deletes window w of collect_all's listing: relative to its directory,
 * opened again without following a link. */
static int remove_window(store *s, const struct store_window *w, char **subs)
{
	int fd = openat(s->fd, subs[w->target], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	const char *base = strrchr(w->path, '/');
	int rc = unlinkat(fd, base ? base + 1 : w->path, 0);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

int store_retain(store *s, time_t now, double max_age_s, uint64_t max_bytes,
		 const char *const *keep, size_t nkeep,
		 struct store_retention *r, lp_error *err)
{
	struct store_retention res = { 0 };
	struct store_window *w;
	size_t n, nsub;
	char **subs;
	/* temporaries older than a minute are of a killed daemon (this one
	 * writes windows in the loop that runs retention) */
	int rc = collect_all(s, &w, &n, &subs, &nsub, now - STORE_TMP_STALE_S, &res.temporaries, err);
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
			if (remove_window(s, &w[i], subs) != 0 && errno != ENOENT) {
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
				unlinkat(s->fd, subs[i], AT_REMOVEDIR);	/* only when empty */
	}
	store_windows_free(w, n);
	for (size_t i = 0; i < nsub; i++)
		free(subs[i]);
	free(subs);
	if (r)
		*r = res;
	return rc;
}

uint64_t store_usage(store *s)
{
	struct store_window *w;
	size_t n, nsub;
	char **subs;
	uint64_t total = 0;
	if (collect_all(s, &w, &n, &subs, &nsub, 0, NULL, NULL) == LP_OK)
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
