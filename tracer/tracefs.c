#include "tracefs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* Where tracefs lives: its own mount point since Linux 4.1, and under
 * debugfs before that (Documentation/trace/ftrace.rst). */
static const char *const roots[] = {
	"/sys/kernel/tracing",
	"/sys/kernel/debug/tracing",
};

/* A format file is a few kB; anything longer is not one. */
#define MAX_FORMAT_LEN 65536

static int has_events(const char *root, char *dir, size_t len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/events/raw_syscalls", root);
	if (access(path, R_OK | X_OK) != 0)
		return 0;
	snprintf(dir, len, "%s/events", root);
	return 1;
}

int tracefs_find(char *dir, size_t len, lp_error *err)
{
	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		if (has_events(roots[i], dir, len))
			return LP_OK;
		/* mounted, but not for us (tracefs is root's, mode 700) */
		char path[512];
		snprintf(path, sizeof path, "%s/events", roots[i]);
		if (access(roots[i], F_OK) == 0 && access(path, F_OK) != 0 &&
		    (errno == EACCES || errno == EPERM))
			return lp_error_set(err, LP_EPERM,
					    "cannot read the tracepoints in %s: permission denied — run as root",
					    roots[i]);
	}
	/* Not mounted (containers, minimal systems): tracefs needs no
	 * device and mounting it changes nothing else. */
	if (mount("nodev", roots[0], "tracefs", 0, NULL) == 0 &&
	    has_events(roots[0], dir, len))
		return LP_OK;
	int e = errno;
	if (e == EPERM || e == EACCES)
		return lp_error_set(err, LP_EPERM,
				    "tracefs is not mounted and cannot be mounted here: run as root or mount it at %s",
				    roots[0]);
	return lp_error_set(err, LP_ENOTFOUND,
			    "no syscall tracepoints: tracefs is not available (%s)",
			    strerror(e));
}

static int read_small(const char *path, char *buf, size_t len, size_t *got)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == EACCES || errno == EPERM ? LP_EPERM : LP_ENOTFOUND;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	*got = n;
	return LP_OK;
}

int tracefs_event_id(const char *dir, const char *system, const char *name,
		     int *id, lp_error *err)
{
	char path[512], buf[32];
	size_t n;
	snprintf(path, sizeof path, "%s/%s/%s/id", dir, system, name);
	int rc = read_small(path, buf, sizeof buf, &n);
	if (rc != LP_OK)
		return lp_error_set(err, rc, "cannot read tracepoint %s:%s (%s): %s",
				    system, name, path, lp_strerror(rc));
	char *end;
	long v = strtol(buf, &end, 10);
	if (end == buf || v <= 0 || v > 1000000)
		return lp_error_set(err, LP_EFORMAT, "%s: not a tracepoint id", path);
	*id = (int)v;
	return LP_OK;
}

/* Lines look like
 *	field:long ret;	offset:16;	size:8;	signed:1;
 * the field's name is the last word before the ';' (arrays end in "[N]"). */
static int match_field(const char *line, const char *field,
		       struct tracefs_field *out)
{
	const char *f = strstr(line, "field:");
	const char *semi = f ? strchr(f, ';') : NULL;
	if (!semi)
		return 0;
	const char *end = semi;
	const char *br = memchr(f, '[', (size_t)(semi - f));
	if (br)
		end = br;
	const char *start = end;
	while (start > f && start[-1] != ' ' && start[-1] != '\t')
		start--;
	size_t flen = strlen(field);
	if ((size_t)(end - start) != flen || memcmp(start, field, flen) != 0)
		return 0;
	const char *o = strstr(semi, "offset:"), *s = strstr(semi, "size:");
	if (!o || !s)
		return 0;
	out->offset = atoi(o + 7);
	out->size = atoi(s + 5);
	return out->offset >= 0 && out->size > 0;
}

int tracefs_field(const char *dir, const char *system, const char *name,
		  const char *field, struct tracefs_field *out, lp_error *err)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s/%s/format", dir, system, name);
	char *buf = malloc(MAX_FORMAT_LEN);
	if (!buf)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	size_t n;
	int rc = read_small(path, buf, MAX_FORMAT_LEN, &n);
	if (rc != LP_OK) {
		free(buf);
		return lp_error_set(err, rc, "cannot read %s: %s", path, lp_strerror(rc));
	}
	rc = LP_ENOTFOUND;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (match_field(line, field, out)) {
			rc = LP_OK;
			break;
		}
	}
	free(buf);
	if (rc != LP_OK)
		return lp_error_set(err, rc, "%s has no field '%s'", path, field);
	return LP_OK;
}
