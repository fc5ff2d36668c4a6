/* /proc, read in one place: the directory of one process (opened once,
 * every later file of it read relative to it, so that a PID reused after
 * the process exits cannot answer for it: htop's linux/, STYLE.md), the
 * bounded read of one of its files, and the parsers of the lines loupe
 * takes from them (stat, status).  The parsers are pure: they are tested
 * on fixture text (tests/unit/check_procfs.c). */
#ifndef LOUPE_PROCFS_H
#define LOUPE_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Field numbers of /proc/PID/stat (proc(5)), as procfs_stat_parse counts
 * them: what a caller needs read is the last field it uses. */
enum {
	PROCFS_STAT_COMM = 2,
	PROCFS_STAT_STATE = 3,
	PROCFS_STAT_PPID = 4,
	PROCFS_STAT_FLAGS = 9,
	PROCFS_STAT_UTIME = 14,
	PROCFS_STAT_STIME = 15,
	PROCFS_STAT_NTHREADS = 20,
	PROCFS_STAT_STARTTIME = 22,
	PROCFS_STAT_STARTCODE = 26,
	PROCFS_STAT_ENDCODE = 27,
	PROCFS_STAT_STARTSTACK = 28,
};

/* What loupe takes from one stat line; fields past the last one read are
 * 0 ("" for comm). */
struct procfs_stat {
	char comm[64];		/* between the first '(' and the last ')',
				 * cut to fit (a kernel worker's may be
				 * longer than TASK_COMM_LEN) */
	char state;		/* R, S, D, Z, X, ... */
	pid_t ppid;
	unsigned long flags;	/* PF_* (include/linux/sched.h) */
	uint64_t utime, stime;	/* clock ticks */
	long nthreads;
	uint64_t starttime;	/* clock ticks after boot: with the pid, it
				 * names the process */
	uint64_t start_code, end_code, start_stack;
};

/* Parses a NUL-terminated stat line "PID (COMM) S PPID ..." up to field
 * upto (at most PROCFS_STAT_STARTSTACK).  COMM may hold spaces, ')' and
 * even newlines (prctl PR_SET_NAME), so the fields are counted from the
 * last ')'.  Returns the number of the last field read: below upto when
 * the line is cut short (a truncated read) or a field is not a number, 0
 * when the line has no "(COMM)" at all. */
int procfs_stat_parse(const char *line, int upto, struct procfs_stat *st);

/* The value of "Key:" in a /proc status text (after the colon and its
 * blanks), NULL when no line starts with that key. */
const char *procfs_status_field(const char *status, const char *key);
/* The last number of the NSpid line (the id in the innermost PID
 * namespace, the one the process knows itself by), or fallback when the
 * line is absent (a kernel before 4.1) or holds no valid id. */
pid_t procfs_status_nspid(const char *status, pid_t fallback);
/* The decimal value of a key (e.g. "Tgid"), or fallback. */
long procfs_status_long(const char *status, const char *key, long fallback);
/* The hexadecimal value of a key (e.g. "CapEff"), 0 when absent. */
unsigned long long procfs_status_hex(const char *status, const char *key);

/* /proc/PID as a directory fd (read-only, close-on-exec), or -1 and errno
 * (ENOENT: no such process).  proc is an fd of /proc, or AT_FDCWD. */
int procfs_open_pid(int proc, pid_t pid);

/* Every entry named by a decimal id (1 to INT_MAX) of a /proc directory:
 * /proc itself (processes) or /proc/PID/task (threads).  Calls fn(ctx,
 * id, inode) for each, in directory order from the fd's offset (a kept fd
 * is rewound by its owner, lseek to 0, so that one fd serves every
 * refresh), until fn returns non-zero, which is returned.  scratch is the
 * getdents64 buffer (8-byte aligned, a few KiB).  -1 and errno when the
 * directory cannot be read (ENOENT under /proc/PID: the process is gone).
 * fn must not return -1. */
typedef int (*procfs_id_fn)(void *ctx, pid_t id, uint64_t inode);
int procfs_each_id(int dirfd, void *scratch, size_t len, procfs_id_fn fn,
		   void *ctx);

/* Reads dirfd/name (dirfd may be AT_FDCWD with an absolute name) into buf,
 * at most size - 1 bytes, NUL-terminated: until EOF, a full buffer or a
 * short read (a /proc file gives what it has in one read when there is
 * room, so that is one read a file).  The length, or -1 and errno. */
ssize_t procfs_read(int dirfd, const char *name, char *buf, size_t size);
/* The same of a file kept open: one pread at offset 0. */
ssize_t procfs_pread(int fd, char *buf, size_t size);
/* The resident set of a statm line (its second field, pages; proc(5))
 * in bytes.  0 or -1 when the line is not one. */
int procfs_statm_rss(const char *line, uint64_t *bytes);
/* procfs_read of /proc/PID/name, for callers that keep no directory fd
 * (a scan of many processes, where one fd each would not fit). */
ssize_t procfs_read_pid(pid_t pid, const char *name, char *buf, size_t size);

/* A one-line name file (comm) into out, without its newline; "" when it
 * cannot be read. */
void procfs_read_line(int dirfd, const char *name, char *out, size_t size);
/* The command line (cmdline) of the process whose directory is dirfd, its
 * arguments joined by spaces, at most len - 1 bytes: its length, 0 for a
 * kernel thread, -1 when it cannot be read. */
ssize_t procfs_read_cmdline(int dirfd, char *buf, size_t len);

#endif
