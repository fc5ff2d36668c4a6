/* loupe daemon's configuration file (loupe.conf(5)): global keys, then one
 * [target NAME] section per kind of process to profile.  Parsed strictly:
 * an unknown key, a bad value, a duplicate or an empty section is an error
 * "FILE:LINE: ..." naming the line. */
#ifndef LOUPE_UI_DAEMON_CONFIG_H
#define LOUPE_UI_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "formats/formats.h"

#define DAEMON_DEFAULT_CONFIG "/etc/loupe/loupe.conf"
#define DAEMON_DEFAULT_SOCKET "/run/loupe/loupe.sock"
#define DAEMON_DEFAULT_DIR "/var/lib/loupe"
#define DAEMON_DEFAULT_RATE 19.0
/* What a config file may hold: a bigger one is a mistake, not a config. */
#define DAEMON_CONFIG_MAX_BYTES (1u << 20)
#define DAEMON_CONFIG_MAX_LINE 4096
#define DAEMON_CONFIG_MAX_TARGETS 1024
#define DAEMON_CONFIG_MAX_PIDS 1024	/* per pid = line */
#define DAEMON_TARGET_NAME_MAX 64
#define DAEMON_SOCKET_GROUP "loupe"	/* the socket's group, if it exists */
#define DAEMON_SOCKET_MODE_DEFAULT 0xffffffffu	/* socket_mode not given */
/* What http_open must say for an HTTP endpoint without a token on a
 * loopback address: that every local user may read every profile. */
#define DAEMON_HTTP_OPEN_ACK "yes-any-local-user-may-read-all-profiles"

/* What names a section's targets in scrapes and metrics (service =):
 * the section's name, the process's systemd unit, or its cgroup's last
 * component (a container's scope); the section's name when the process
 * has no unit or cgroup. */
enum daemon_service_by { SERVICE_SECTION, SERVICE_UNIT, SERVICE_CGROUP };

/* One [target NAME] section.  A process matches when its PID is listed, or
 * (without pid) when every matcher given holds: python, exe, cmdline,
 * unit, cgroup. */
struct daemon_target_cfg {
	char name[DAEMON_TARGET_NAME_MAX + 1];
	int line;		/* of the section header */
	pid_t *pids;
	size_t npids;
	char *exe;		/* glob on the executable's name (on its
				 * path when the glob holds a '/') */
	char *cmdline;		/* glob on the command line, arguments
				 * joined by spaces; without * ? [ a
				 * substring */
	char *cgroup;		/* cgroup path as in /proc/PID/cgroup; the
				 * process is in it or below it */
	char *unit;		/* glob on the systemd unit (the last
				 * "NAME.service" of its cgroup path) */
	bool python;		/* only Python interpreters (python = yes;
				 * alone: every one on the host) */
	enum daemon_service_by service;	/* how its targets are named */
	double rate;		/* Hz, default 19 */
	enum sample_mode mode;	/* default cpu */
	bool native, tasks, subprocesses;
	/* Not from the file: a section added by 'loupe ctl add --match',
	 * matching only processes its owner may act on (kept over a
	 * reload, lost at a restart). */
	bool runtime;
	uid_t owner;
	gid_t owner_gid;
};

struct daemon_config {
	char *dir;		/* recordings: DIR/<name>-<pid>/<start>.loupe */
	double window_s;	/* length of a window, default 60 s */
	double retention_age_s;	/* 0: no limit; default 24 h */
	uint64_t retention_size;	/* bytes, 0: no limit; default 1 GiB */
	double max_cpu;		/* % of one core the daemon may use; 1 */
	unsigned max_targets;	/* processes profiled at once; 64 */
	uint64_t max_snapshot;	/* bytes of one ctl snapshot; 64 MiB */
	char *socket;		/* control socket path */
	unsigned socket_mode;	/* its mode; DAEMON_SOCKET_MODE_DEFAULT:
				 * 0660 with a group, else 0600 */
	char *socket_group;	/* its group, name or number; NULL: the
				 * group "loupe" if there is one */
	unsigned max_targets_per_user;	/* processes profiled at once for
					 * one user other than root; 8 */
	unsigned max_sections_per_user;	/* ctl add --match sections of one
					 * user other than root; 4 */
	char *http;		/* "ADDR:PORT", "unix:/PATH" or NULL (off) */
	char *http_token_file;	/* bearer token, root's file; NULL: none */
	bool http_open;		/* no token, acknowledged: DAEMON_HTTP_OPEN_ACK */
	char *http_tls_cert, *http_tls_key;	/* PEM files or NULL */
	struct daemon_target_cfg *targets;
	size_t ntargets;
};

/* Fills c with the defaults (no targets). */
int daemon_config_defaults(struct daemon_config *c);
/* Parses text (name is the file name used in messages) into c, which
 * starts from the defaults.  On error c is left empty (freed) and err says
 * "NAME:LINE: what is wrong". */
int daemon_config_parse(const char *text, size_t len, const char *name,
			struct daemon_config *c, lp_error *err);
/* Reads and parses the file at path. */
int daemon_config_load(const char *path, struct daemon_config *c,
		       lp_error *err);
void daemon_config_free(struct daemon_config *c);

/* The control socket's mode and group (-1: leave the daemon's) from
 * socket_mode and socket_group: by default group "loupe" and 0660 when
 * that group exists, else 0600.  LP_EINVAL for a socket_group that names
 * no group. */
int daemon_socket_access(const struct daemon_config *c, unsigned *mode,
			 gid_t *gid, lp_error *err);

/* "127.0.0.1:6060", "[::1]:6060", "localhost:6060" -> address text
 * (without brackets) and port.  0 or -1. */
int daemon_parse_listen(const char *s, char *host, size_t hostlen,
			unsigned *port);

#endif
