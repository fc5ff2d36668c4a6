/* Which running processes the daemon's [target] sections mean: one scan of
 * /proc, reading per process only what the matchers need (stat, exe link,
 * cmdline, cgroup), skipping kernel threads and loupe itself. */
#ifndef LOUPE_UI_DAEMON_MATCH_H
#define LOUPE_UI_DAEMON_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon_config.h"
#include "error.h"

/* Bounds of one scan: what a process's files may hold that we look at. */
#define DAEMON_MATCH_MAX_CMDLINE 4096	/* bytes of /proc/PID/cmdline read */
#define DAEMON_MATCH_MAX_CGROUP 4096	/* bytes of /proc/PID/cgroup read */
#define DAEMON_MATCH_MAX_PROCS (1u << 22)	/* entries of /proc looked at
						 * (pid_max is at most 2^22) */

struct daemon_match {
	pid_t pid;
	size_t target;		/* index in the config's targets */
	uint64_t start_time;	/* /proc/PID/stat field 22, clock ticks
				 * after boot: with pid, names the process
				 * (a reused PID has another) */
	char comm[17];
	char service[DAEMON_TARGET_NAME_MAX + 1];	/* as its section's
						 * service = says */
};

/* The processes matching any target of c, each under the first target (in
 * file order) it matches, sorted by PID.  *out is malloc'd (free it); a
 * process that ends while it is read is left out. */
int daemon_match_scan(const struct daemon_target_cfg *targets, size_t ntargets,
		      struct daemon_match **out, size_t *n, lp_error *err);

/* Remembers each process's verdict between scans, so that a scan reads
 * the files of new processes only: a process is known by its PID and the
 * inode of its /proc directory (a reused PID gets a new one).  Every
 * DAEMON_MATCH_FULL_EVERY scans every process is read again (an exec
 * changes exe and cmdline under the same PID); clear it when the targets
 * change. */
#define DAEMON_MATCH_FULL_EVERY 30
typedef struct daemon_match_cache daemon_match_cache;
daemon_match_cache *daemon_match_cache_new(void);
void daemon_match_cache_clear(daemon_match_cache *c);
void daemon_match_cache_free(daemon_match_cache *c);
/* Forgets pid's verdict (it exec'd: another program under its PID), so
 * the next scan reads its files again. */
void daemon_match_cache_forget(daemon_match_cache *c, pid_t pid);
/* daemon_match_scan through cache c (which must have been used with the
 * same targets).  Statistics of the last scan in *read (processes whose
 * files were read) when read is not NULL. */
int daemon_match_scan_cached(daemon_match_cache *c,
			     const struct daemon_target_cfg *targets,
			     size_t ntargets, struct daemon_match **out,
			     size_t *n, size_t *read, lp_error *err);

/* Whether process pid matches t (reads its /proc files).  1 yes, 0 no or
 * gone; fills *m when m is given. */
int daemon_match_pid(const struct daemon_target_cfg *t, pid_t pid,
		     struct daemon_match *m);

/* The first of targets (in file order) that process pid matches, as a
 * scan would give it: 1 and *m filled, or 0 (none, gone, a kernel thread
 * or loupe itself).  For a process an event names. */
int daemon_match_pid_any(const struct daemon_target_cfg *targets,
			 size_t ntargets, pid_t pid, struct daemon_match *m);
/* The command line of the process whose /proc directory is procfd, its
 * arguments joined by spaces, into buf (at most len - 1 bytes of it):
 * its length, 0 for a kernel thread, -1 when it cannot be read. */
ssize_t daemon_read_cmdline(int procfd, char *buf, size_t len);
/* Its start time (stat field 22, clock ticks after boot): 0, or -1 when
 * it cannot be read. */
int daemon_read_start_time(int procfd, uint64_t *start_time);

/* Whether the process pid that started at start_time has ended (gone,
 * its PID another's, or a zombie: its files read empty then). */
bool daemon_proc_ended(pid_t pid, uint64_t start_time);

/* Pure matchers, for the tests: a glob on an executable path (on its base
 * name unless the glob holds '/'); a glob or substring on a command line;
 * a cgroup file's text against a cgroup path. */
int daemon_match_exe(const char *glob, const char *exe_path);
int daemon_match_cmdline(const char *pattern, const char *cmdline);
int daemon_match_cgroup(const char *want, const char *cgroup_file);
/* Whether an executable is a Python interpreter by its name: python,
 * python3, python3.13, python3.13t, python3.14d ... */
int daemon_match_python(const char *exe_path);
/* From a cgroup file's text: the process's systemd unit (the last path
 * component "NAME.service" of its unified or name=systemd hierarchy),
 * or (unit false) its cgroup's last component, into buf.  Only names of
 * [A-Za-z0-9:_.@-] (what systemd writes, escapes included as '_'), at
 * most len - 1 bytes: hostile text gives no name or a cut one.  1 found,
 * 0 none. */
int daemon_cgroup_name(const char *cgroup_file, bool unit, char *buf,
		       size_t len);

#endif
