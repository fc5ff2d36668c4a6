/* Atomic replacement of an output file: the data goes to "<path>.tmp.<pid>"
 * beside path (same directory, so rename(2) cannot cross file systems) and
 * is renamed over path only once it is complete and on disk (DESIGN.md: a
 * recording is never lost, never half-written). */
#include "formats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_util.h"

int atomic_errno_code(int errnum)
{
	switch (errnum) {
	case EACCES:
	case EPERM:
	case EROFS:
		return LP_EPERM;
	case ENOMEM:
		return LP_ENOMEM;
	default:
		return LP_EIO;
	}
}

int atomic_write_error(lp_error *err, const char *path, int errnum)
{
	if (!errnum)
		errnum = EIO;
	return lp_error_set(err, atomic_errno_code(errnum), "cannot write %s: %s",
			    path, strerror(errnum));
}

char *atomic_tmp_name(const char *path)
{
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
		return NULL;
	return tmp;
}

int atomic_create(const char *tmp)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST) {
		/* left by a crashed run whose pid we now hold: it is ours */
		unlink(tmp);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	}
	return fd;
}

void atomic_sync_dir(const char *path)
{
	/* make the rename itself durable; best effort (some file systems
	 * refuse fsync on a directory) */
	char *dir = strdup(path);
	if (!dir)
		return;
	char *slash = strrchr(dir, '/');
	const char *d = dir;
	if (!slash)
		d = ".";
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

static void atomic_clear(atomic_file *af)
{
	free(af->path);
	free(af->tmp);
	af->fp = NULL;
	af->path = NULL;
	af->tmp = NULL;
}

int atomic_file_open(atomic_file *af, const char *path, lp_error *err)
{
	af->fp = NULL;
	af->path = strdup(path);
	af->tmp = atomic_tmp_name(path);
	if (!af->path || !af->tmp) {
		atomic_clear(af);
		return lp_error_set(err, LP_ENOMEM, "cannot write %s: out of memory",
				    path);
	}
	int fd = atomic_create(af->tmp);
	if (fd < 0) {
		int e = errno;
		atomic_clear(af);
		return atomic_write_error(err, path, e);
	}
	af->fp = fdopen(fd, "w");
	if (!af->fp) {
		int e = errno;
		close(fd);
		unlink(af->tmp);
		atomic_clear(af);
		return atomic_write_error(err, path, e);
	}
	return LP_OK;
}

int atomic_file_commit(atomic_file *af, lp_error *err)
{
	int e = 0;
	if (!af->fp)
		return lp_error_set(err, LP_EINVAL, "atomic file not open");
	errno = 0;
	if (fflush(af->fp) != 0 || ferror(af->fp))
		e = errno ? errno : EIO;
	if (!e && fsync(fileno(af->fp)) != 0)
		e = errno;
	if (fclose(af->fp) != 0 && !e)
		e = errno ? errno : EIO;
	af->fp = NULL;
	if (!e && rename(af->tmp, af->path) != 0)
		e = errno;
	if (e) {
		unlink(af->tmp);
		int rc = atomic_write_error(err, af->path, e);
		atomic_clear(af);
		return rc;
	}
	atomic_sync_dir(af->path);
	atomic_clear(af);
	return LP_OK;
}

void atomic_file_abort(atomic_file *af)
{
	if (af->fp)
		fclose(af->fp);
	if (af->tmp)
		unlink(af->tmp);
	atomic_clear(af);
}
