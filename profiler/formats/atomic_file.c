/* Output files: where an output path may be written, and how.
 *
 * A path names one of (DESIGN.md: an output is written only where a file of
 * the user's own is meant, never a device or a link's target replaced):
 *  - standard output: "-" and "/dev/stdout"; "/dev/stderr", "/dev/fd/N" and
 *    "/proc/self/fd/N" that descriptor: written directly (no open of the
 *    /proc link, which fails for a socket);
 *  - a character device, FIFO or Unix socket (/dev/null, a pipe a reader
 *    waits on): written directly, never replaced;
 *  - a regular file, or nothing yet: replaced atomically: the data goes to
 *    "<name>.tmp.<pid>" in the same directory (created O_EXCL|O_NOFOLLOW),
 *    is fsynced, and renamed over the name only once complete (a recording
 *    is never lost, never half-written);
 *  - a symbolic link: refused, unless OUTPUT_FOLLOW, which applies the
 *    rules above to its target (the link stays);
 *  - anything else (a directory, a block device): refused.
 * The directory is opened once and the name examined (fstatat with
 * AT_SYMLINK_NOFOLLOW), created and renamed relative to it, so a link
 * planted between the check and the rename cannot redirect the write
 * (OpenSSH's safe_path, git's lockfile code). */
#include "formats/formats.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "atomic_util.h"
#include "bounds.h"
#include "raw_format.h"

int atomic_errno_code(int errnum)
{
	return lp_errno_class(errnum, LP_USE_WRITE);
}

int atomic_write_error(lp_error *err, const char *path, int errnum)
{
	if (!errnum)
		errnum = EIO;
	return lp_error_set(err, atomic_errno_code(errnum), "cannot write %s: %s",
			    path, strerror(errnum));
}

/* The descriptor a path stands for ("-", "/dev/stdout", ...), or -1. */
static int std_fd(const char *path)
{
	if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0)
		return STDOUT_FILENO;
	if (strcmp(path, "/dev/stderr") == 0)
		return STDERR_FILENO;
	const char *n = NULL;
	if (strncmp(path, "/dev/fd/", 8) == 0)
		n = path + 8;
	else if (strncmp(path, "/proc/self/fd/", 14) == 0)
		n = path + 14;
	if (!n || *n < '0' || *n > '9')
		return -1;
	char *end;
	long v = strtol(n, &end, 10);
	if (*end || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

static void dest_clear(atomic_file *af)
{
	free(af->path);
	free(af->tmp);
	free(af->name);
	free(af->tmpname);
	if (af->dirfd >= 0)
		close(af->dirfd);
	af->fp = NULL;
	af->path = af->tmp = af->name = af->tmpname = NULL;
	af->dirfd = -1;
}

/* Whether a stale temporary is a raw recording holding samples: what a
 * killed `record -o X.loupe` left is its recording, kept (the reader opens
 * it under any name). */
static bool holds_raw_samples(int dirfd, const char *name,
			      const struct stat *st)
{
	if (st->st_size <= RAW_HEADER_SIZE)
		return false;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					     O_CLOEXEC);
	if (fd < 0)
		return true;	/* unsure: keep it */
	char magic[RAW_MAGIC_LEN];
	ssize_t n = read(fd, magic, sizeof magic);
	close(fd);
	return n == (ssize_t)sizeof magic &&
	       memcmp(magic, RAW_MAGIC, RAW_MAGIC_LEN) == 0;
}

/* Removes from the directory the temporaries "<X>.tmp.<PID>" of runs that
 * are gone (no process PID): X is name, or a name with one of loupe's
 * output extensions; only regular files of our own user; never a raw
 * recording with samples (above).  Bounded by MAX_STALE_SCAN entries. */
static void clean_stale(int dirfd, const char *name)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	size_t namelen = strlen(name);
	struct dirent *e;
	for (unsigned seen = 0; seen < MAX_STALE_SCAN && (e = readdir(d)); seen++) {
		const char *t = NULL, *s = e->d_name;
		while ((s = strstr(s, ".tmp.")))
			t = s++;
		if (!t || t == e->d_name || t[5] < '1' || t[5] > '9')
			continue;
		char *end;
		errno = 0;
		long pid = strtol(t + 5, &end, 10);
		if (*end || errno || pid > INT_MAX || pid == (long)getpid())
			continue;
		size_t plen = (size_t)(t - e->d_name);
		char prefix[NAME_MAX + 1];
		memcpy(prefix, e->d_name, plen);
		prefix[plen] = '\0';
		if (!(plen == namelen && memcmp(prefix, name, plen) == 0) &&
		    format_from_path(prefix) == FORMAT_NONE)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;	/* alive, or not ours to judge */
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    holds_raw_samples(dirfd, e->d_name, &st))
			continue;
		unlinkat(dirfd, e->d_name, 0);
	}
	closedir(d);
}

/* Connects to the Unix stream socket NAME in dirfd (through the directory's
 * /proc link, so the path's length is bounded and the directory the one
 * examined). */
static int connect_socket(int dirfd, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s",
			 dirfd, name);
	if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Splits cur into its directory (opened into af->dirfd) and its last
 * component (af->name); examines the name without following it. */
static int open_dir(atomic_file *af, const char *cur, struct stat *st,
		    bool *exists, lp_error *err)
{
	const char *slash = strrchr(cur, '/');
	const char *base = slash ? slash + 1 : cur;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return atomic_write_error(err, af->path, EISDIR);
	char *dir = slash ? strndup(cur, slash == cur ? 1 : (size_t)(slash - cur))
			  : strdup(".");
	free(af->name);
	af->name = strdup(base);
	if (!dir || !af->name) {
		free(dir);
		return atomic_write_error(err, af->path, ENOMEM);
	}
	if (af->dirfd >= 0)
		close(af->dirfd);
	af->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e = errno;
	free(dir);
	if (af->dirfd < 0)
		return atomic_write_error(err, af->path, e);
	*exists = fstatat(af->dirfd, af->name, st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!*exists && errno != ENOENT)
		return atomic_write_error(err, af->path, errno);
	return LP_OK;
}

/* What the path is, links followed when flags allow: fills af->dirfd and
 * af->name, *st and *exists; *resolved is the path reached (malloc'ed). */
static int resolve(atomic_file *af, unsigned flags, struct stat *st,
		   bool *exists, char **resolved, lp_error *err)
{
	char *cur = strdup(af->path);
	if (!cur)
		return atomic_write_error(err, af->path, ENOMEM);
	for (int hops = 0;; hops++) {
		int rc = open_dir(af, cur, st, exists, err);
		if (rc || !*exists || !S_ISLNK(st->st_mode)) {
			if (rc)
				free(cur);
			else
				*resolved = cur;
			return rc;
		}
		if (!(flags & OUTPUT_FOLLOW)) {
			free(cur);
			return lp_error_set(err, LP_EPERM, "refusing to write %s: it is a symbolic link (give --follow to write to its target)",
					    af->path);
		}
		char target[MAX_PATH_LEN];
		ssize_t n = readlinkat(af->dirfd, af->name, target,
				       sizeof target - 1);
		if (n < 0 || hops >= MAX_LINK_HOPS) {
			int e = n < 0 ? errno : ELOOP;
			free(cur);
			return atomic_write_error(err, af->path, e);
		}
		target[n] = '\0';
		char *next = NULL;
		const char *slash = strrchr(cur, '/');
		if (target[0] == '/' || !slash)
			next = strdup(target);
		else if (asprintf(&next, "%.*s/%s", (int)(slash - cur), cur,
				  target) < 0)
			next = NULL;
		free(cur);
		if (!next)
			return atomic_write_error(err, af->path, ENOMEM);
		cur = next;
	}
}

/* Opens the thing a direct path names into af->fd; the type seen by fstatat
 * must still be there (same inode) once opened. */
static int open_direct(atomic_file *af, const struct stat *st, lp_error *err)
{
	int fd;
	if (S_ISSOCK(st->st_mode)) {
		fd = connect_socket(af->dirfd, af->name);
	} else {
		fd = openat(af->dirfd, af->name, O_WRONLY | O_NOFOLLOW |
						    O_NOCTTY | O_CLOEXEC);
	}
	if (fd < 0)
		return atomic_write_error(err, af->path, errno);
	struct stat now;
	if (!S_ISSOCK(st->st_mode) &&
	    (fstat(fd, &now) != 0 || now.st_dev != st->st_dev ||
	     now.st_ino != st->st_ino)) {
		close(fd);
		return lp_error_set(err, LP_EPERM, "refusing to write %s: it changed while it was opened", af->path);
	}
	af->fd = fd;
	af->direct = true;
	return LP_OK;
}

static bool direct_kind(mode_t m)
{
	return S_ISCHR(m) || S_ISFIFO(m) || S_ISSOCK(m);
}

static int not_a_file(const atomic_file *af, mode_t m, lp_error *err)
{
	if (S_ISDIR(m))
		return atomic_write_error(err, af->path, EISDIR);
	return lp_error_set(err, LP_EPERM, "refusing to write %s: it is a %s, not a regular file, character device, FIFO or socket",
			    af->path, S_ISBLK(m) ? "block device" : "special file");
}

static int create_tmp(atomic_file *af)
{
	int fl = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(af->dirfd, af->tmpname, fl, 0644);
	if (fd < 0 && errno == EEXIST) {
		/* left by a crashed run whose pid we now hold: it is ours */
		unlinkat(af->dirfd, af->tmpname, 0);
		fd = openat(af->dirfd, af->tmpname, fl, 0644);
	}
	return fd;
}

/* Examines path and prepares it: af->dirfd/name, and for a file to be
 * replaced af->tmpname and af->tmp.  With create, opens af->fd (the
 * temporary, or the direct target); without, only checks. */
static int dest_open(atomic_file *af, const char *path, unsigned flags,
		     bool create, lp_error *err)
{
	memset(af, 0, sizeof *af);
	af->fd = af->dirfd = -1;
	af->path = strdup(path);
	if (!af->path)
		return lp_error_set(err, LP_ENOMEM, "cannot write %s: out of memory", path);
	int rc, sfd = std_fd(path);
	if (sfd >= 0) {
		af->direct = true;
		int fl = fcntl(sfd, F_GETFL);
		if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
			rc = atomic_write_error(err, path, fl < 0 ? errno : EBADF);
			goto fail;
		}
		if (create && (af->fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3)) < 0) {
			rc = atomic_write_error(err, path, errno);
			goto fail;
		}
		return LP_OK;
	}
	struct stat st;
	bool exists;
	char *resolved = NULL;
	rc = resolve(af, flags, &st, &exists, &resolved, err);
	if (rc)
		goto fail;
	if (exists && direct_kind(st.st_mode)) {
		free(resolved);
		af->direct = true;
		if (create)
			rc = open_direct(af, &st, err);
		else if (faccessat(af->dirfd, af->name, W_OK, AT_EACCESS) != 0)
			rc = atomic_write_error(err, path, errno);
		if (rc)
			goto fail;
		return LP_OK;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		free(resolved);
		rc = not_a_file(af, st.st_mode, err);
		goto fail;
	}
	if (asprintf(&af->tmpname, "%s.tmp.%ld", af->name, (long)getpid()) < 0)
		af->tmpname = NULL;
	if (!af->tmpname || asprintf(&af->tmp, "%s.tmp.%ld", resolved,
				     (long)getpid()) < 0)
		af->tmp = NULL;
	free(resolved);
	if (!af->tmp) {
		rc = lp_error_set(err, LP_ENOMEM, "cannot write %s: out of memory", path);
		goto fail;
	}
	clean_stale(af->dirfd, af->name);
	af->fd = create_tmp(af);
	if (af->fd < 0) {
		rc = atomic_write_error(err, path, errno);
		goto fail;
	}
	if (!create) {
		close(af->fd);
		af->fd = -1;
		unlinkat(af->dirfd, af->tmpname, 0);
	}
	return LP_OK;
fail:
	dest_clear(af);
	return rc;
}

int output_check(const char *path, unsigned flags, lp_error *err)
{
	atomic_file af;
	int rc = dest_open(&af, path, flags, false, err);
	if (rc == LP_OK)
		dest_clear(&af);
	return rc;
}

int atomic_dest_open(atomic_file *af, const char *path, unsigned flags,
		     lp_error *err)
{
	return dest_open(af, path, flags, true, err);
}

int atomic_dest_finish(atomic_file *af)
{
	int e = 0;
	if (af->fd >= 0) {
		if (!af->direct && fsync(af->fd) != 0)
			e = errno;
		if (close(af->fd) != 0 && !e)
			e = errno;
		af->fd = -1;
	}
	if (e || af->direct)
		return e;
	/* the name must still be a regular file, or nothing: a link or a
	 * device planted since the check is not replaced */
	struct stat st;
	if (fstatat(af->dirfd, af->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? EISDIR : S_ISLNK(st.st_mode) ? ELOOP : EEXIST;
	if (renameat(af->dirfd, af->tmpname, af->dirfd, af->name) != 0)
		return errno;
	/* make the rename itself durable; best effort (some file systems
	 * refuse fsync on a directory) */
	fsync(af->dirfd);
	return 0;
}

void atomic_dest_discard(atomic_file *af)
{
	if (af->fp)
		fclose(af->fp);
	else if (af->fd >= 0)
		close(af->fd);
	af->fd = -1;
	if (af->tmpname && af->dirfd >= 0)
		unlinkat(af->dirfd, af->tmpname, 0);
	dest_clear(af);
}

void atomic_dest_free(atomic_file *af)
{
	if (af->fd >= 0)
		close(af->fd);
	af->fd = -1;
	dest_clear(af);
}

int atomic_file_open_flags(atomic_file *af, const char *path, unsigned flags,
			   lp_error *err)
{
	int rc = dest_open(af, path, flags, true, err);
	if (rc)
		return rc;
	af->fp = fdopen(af->fd, "w");
	if (!af->fp) {
		int e = errno;
		atomic_dest_discard(af);
		return atomic_write_error(err, path, e);
	}
	return LP_OK;
}

int atomic_file_open(atomic_file *af, const char *path, lp_error *err)
{
	return atomic_file_open_flags(af, path, 0, err);
}

int atomic_file_commit(atomic_file *af, lp_error *err)
{
	int e = 0;
	if (!af->fp)
		return lp_error_set(err, LP_EINVAL, "atomic file not open");
	errno = 0;
	if (fflush(af->fp) != 0 || ferror(af->fp))
		e = errno ? errno : EIO;
	/* fclose closes af->fd: the fsync must come first */
	if (!e && !af->direct && fsync(af->fd) != 0)
		e = errno;
	if (fclose(af->fp) != 0 && !e)
		e = errno ? errno : EIO;
	af->fp = NULL;
	af->fd = -1;
	if (!e)
		e = atomic_dest_finish(af);
	if (e) {
		int rc = atomic_write_error(err, af->path, e);
		atomic_dest_discard(af);
		return rc;
	}
	dest_clear(af);
	return LP_OK;
}

void atomic_file_abort(atomic_file *af)
{
	atomic_dest_discard(af);
}
